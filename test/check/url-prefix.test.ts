/**
 * Fast paths of `check` against their reference: the per-folder encoded URL prefix + encoded file name must equal
 * `buildDpUrl` of the whole path (src/dp/url-prefix.ts), and the walk by folders must give the same file results and
 * tally as the walk file by file (src/check/run.ts, src/check/source.ts).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type FileResult, runCheck } from "../../src/check/run.js";
import { type PackageSpec, walkFolders, walkPackage } from "../../src/check/source.js";
import { encodeFileName, encodeFolderPrefix } from "../../src/dp/url-prefix.js";
import { buildDpUrl, dpUrlPrefix, encodeSegment, URL_FORMS } from "../../src/dp/urlforms.js";
import { fileJson, summaryJson } from "../../src/render/check-json.js";
import { settings, tempDir, writeTree } from "./helpers.js";

// Characters the wire encoding treats specially (urlforms.ts module comment): space, '+', '%', '#', '?', '\', '/',
// dots, '$', controls, non-ASCII (2-, 3- and 4-byte UTF-8), a lone surrogate.
const special = [
  " ",
  "+",
  "%",
  "#",
  "?",
  ".",
  "..",
  "$",
  "\\",
  "/",
  "\t",
  "é",
  "ü",
  "中",
  "😀",
  "\ud800",
  "%41",
  "~",
];
const nameArb = fc
  .array(fc.oneof(fc.constantFrom(...special), fc.string({ minLength: 1, maxLength: 4 })), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => parts.join(""));
const folderArb = fc.array(nameArb, { maxLength: 4 }).map((names) => names.join("/"));

describe("per-folder URL prefix (src/dp/url-prefix.ts)", () => {
  test("prefix + encodeFolderPrefix(folder) + encodeFileName(name) === buildDpUrl(folder/name), every form", () => {
    fc.assert(
      fc.property(folderArb, nameArb, fc.constantFrom(...URL_FORMS), (folder, name, form) => {
        const p = { contentId: "ABC00123", vdir: form === "direct2007" ? "SMS_DP_SMSPKGE$" : undefined };
        const rel = folder === "" ? name : `${folder}/${name}`;
        const whole = buildDpUrl(form, { ...p, relativePath: rel });
        const enc = encodeFileName(name);
        if (enc === undefined) {
          // only names a separator splits fall back to the whole-path encoder
          assert.ok(name.includes("\\") || name.includes("/") || name === "", JSON.stringify(name));
          return;
        }
        if (!/[^\\/]/.test(rel)) return; // nothing but separators: buildDpUrl gives the package root
        assert.equal(dpUrlPrefix(form, p) + encodeFolderPrefix(folder) + enc, whole, JSON.stringify(rel));
      }),
      { numRuns: 3000 },
    );
  });

  test("encodeFileName === encodeSegment for names without separators (ASCII table derived from it)", () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        if (name.includes("\\") || name.includes("/")) assert.equal(encodeFileName(name), undefined);
        else assert.equal(encodeFileName(name), encodeSegment(name));
      }),
      { numRuns: 3000 },
    );
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      assert.equal(
        encodeFileName(`a${ch}b`),
        ch === "\\" || ch === "/" ? undefined : encodeSegment(`a${ch}b`),
      );
    }
  });
});

describe("walk by folders == walk file by file", () => {
  const root = path.join(tempDir("walkfolders"), "ABC00123");
  const names = [
    "setup.exe",
    "Program Files/a b.txt",
    "Program Files/Visual C++/vc+redist.exe",
    "blah/file.ldf",
    "blah/100%41.txt",
    "blah/#1.txt",
    "bin/x.dll",
    "App_Data/db.mdb",
    "naïve/résumé.docx",
    "中文/文件.txt",
    "dots/..x/.y.",
    "back\\slash.txt", // a file name with '\' (possible on Linux): a folder separator on the wire
    "deep/a/b/c/d/e/f/g/h.resx",
  ];
  writeTree(root, names);
  const pkg: PackageSpec = { id: "ABC00123", contentId: "ABC00123", root, source: "folder" };

  test("walkPackage lists what walkFolders lists, in the same order", async () => {
    const a: string[] = [];
    for await (const f of walkPackage(root, { dataLib: false, onWarning: () => {} }))
      a.push(`${f.rel} ${f.abs}`);
    const b: string[] = [];
    for await (const d of walkFolders(root, { dataLib: false, onWarning: () => {} }))
      for (let i = 0; i < d.names.length; i++)
        b.push(
          `${d.rel === "" ? d.names[i] : `${d.rel}/${d.names[i]}`} ${d.abs}${path.sep}${d.diskNames[i]}`,
        );
    assert.deepEqual(b, a);
    assert.equal(a.length, names.length);
  });

  test("runCheck: identical file results (URLs, verdicts) and summary either way", async () => {
    const s = settings();
    const run = async (byFolder: boolean) => {
      const files: FileResult[] = [];
      const opts = { dataLib: false, onWarning: () => {} };
      const tally = await runCheck(
        {
          packages: [pkg],
          walk: (p) => walkPackage(p.root, opts),
          walkFolders: byFolder ? (p) => walkFolders(p.root, opts) : undefined,
        },
        s,
        { file: (_p, r) => void files.push(r) },
      );
      return {
        files: files.map((r) => JSON.stringify(fileJson(r))),
        summary: summaryJson(tally, "Default Web Site"),
      };
    };
    const slow = await run(false);
    const fast = await run(true);
    assert.deepEqual(fast.files, slow.files);
    assert.deepEqual(fast.summary, slow.summary);
    assert.ok(slow.summary.refusedFiles >= 4, "the tree has refusals (bin/, .ldf, App_Data, .mdb, .resx)");
    assert.ok(fast.files.some((f) => f.includes("Visual%20C++/vc+redist.exe")));
  });
});
