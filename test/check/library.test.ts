/**
 * Content library (SCCMContentLib) fixtures written by the test: PkgLib/DataLib/FileLib with ANSI, UTF-8-BOM and
 * UTF-16LE INIs (configmgr-dp-bits.md §3.1–§3.3) must give back the packages' original relative paths.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeIniBytes, iniSection, parseIni } from "../../src/check/ini.js";
import {
  type CheckWarning,
  detectInput,
  folderPackage,
  libraryPackages,
  urlIdForContent,
  walkPackage,
} from "../../src/check/source.js";
import { UsageError } from "../../src/errors.js";
import { type Enc, encode, tempDir, writeLibrary, writeTree } from "./helpers.js";

async function walkAll(root: string, dataLib: boolean, warnings: CheckWarning[] = []): Promise<string[]> {
  const out: string[] = [];
  for await (const f of walkPackage(root, { dataLib, onWarning: (w) => warnings.push(w) })) out.push(f.rel);
  return out;
}

describe("content library round trip (§3.3)", () => {
  const APP = "Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1";
  const UPD = "9c93cbee-aabc-4daf-996a-4580daa09c87.1";
  const pkgs = {
    ABC00123: {
      enc: "ansi" as Enc,
      contents: { "ABC00123.1": ["blah/file.ldf", "setup.exe", "x86/MigApp.xml", "Program Files/a b.txt"] },
    },
    ABC00200: {
      enc: "utf16le" as Enc,
      contents: { [APP]: ["ConfigMgrTools.msi", "bin/Contoso.Core.dll", "déjà vu/ü.txt"] },
    },
    ABC00300: { enc: "utf8bom" as Enc, contents: { [UPD]: ["debcf2da_1.cab"] } },
  };
  const root = path.join(tempDir("lib"), "SCCMContentLib");
  writeLibrary(root, pkgs);

  test("detected as a content library", () => {
    assert.equal(detectInput(root).kind, "content-library");
  });

  test("ANSI, UTF-8-BOM and UTF-16LE PkgLib INIs give every package, content ID and original relative path", async () => {
    const d = detectInput(root);
    const { packages, warnings } = libraryPackages(
      { root, pkgLib: d.pkgLib as string, dataLib: d.dataLib as string },
      [],
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      packages.map((p) => [p.id, p.libraryContentId, p.contentId]),
      [
        ["ABC00123", "ABC00123.1", "ABC00123"], // legacy package: the URL carries the bare package ID (§2.2)
        ["ABC00200", APP, APP], // application: Content_<guid>.<ver> as is
        ["ABC00300", UPD, UPD.slice(0, -2)], // software update: <guid> without version
      ],
    );
    for (const p of packages) {
      const expected = Object.values(pkgs[p.id as keyof typeof pkgs].contents)[0];
      assert.deepEqual((await walkAll(p.root, true)).sort(), [...expected].sort(), p.id);
    }
  });

  test("a DataLib\\<ContentID> folder given directly is that content alone, not a folder of .INI files", () => {
    const single = detectInput(path.join(root, "DataLib", "ABC00123.1"));
    assert.equal(single.kind, "content-library");
    assert.deepEqual(
      [single.single?.id, single.single?.contentId, single.single?.libraryContentId],
      ["ABC00123", "ABC00123", "ABC00123.1"],
    );
    assert.equal(detectInput(path.join(root, "DataLib", APP)).single?.contentId, APP);
  });

  test("--package selects, case-insensitively; an unknown package is a usage error", () => {
    const d = detectInput(root);
    const lib = { root, pkgLib: d.pkgLib as string, dataLib: d.dataLib as string };
    assert.deepEqual(
      libraryPackages(lib, ["abc00200"]).packages.map((p) => p.id),
      ["ABC00200"],
    );
    assert.throws(() => libraryPackages(lib, ["XYZ00001"]), UsageError);
  });

  test("a broken PkgLib INI is a positioned warning, not a crash; DataLib folders are the fallback", () => {
    const broken = path.join(tempDir("libbad"), "lib");
    writeLibrary(broken, { ABC00999: { enc: "ansi", contents: { "ABC00999.1": ["a.txt"] } } });
    writeFileSync(
      path.join(broken, "PkgLib", "ABC00999.INI"),
      Buffer.from("garbage line\r\n[Packages\r\n\u0000\u0001"),
    );
    const d = detectInput(broken);
    const { packages, warnings } = libraryPackages(
      { root: broken, pkgLib: d.pkgLib as string, dataLib: d.dataLib as string },
      [],
    );
    assert.ok(warnings.some((w) => w.line === 1 && w.column === 1 && /expected key=value/.test(w.message)));
    assert.ok(warnings.some((w) => w.line === 2 && /without '\]'/.test(w.message)));
    assert.deepEqual(
      packages.map((p) => p.libraryContentId),
      ["ABC00999.1"],
    );
  });
});

describe("content library round trip, property (fast-check)", () => {
  // NTFS-legal names (no \\ / : * ? " < > |, no controls, no trailing dot/space), possibly ending in .ini themselves
  const name = fc
    .string({ unit: "grapheme", minLength: 1, maxLength: 10 })
    .filter((s) => !/[\\/:*?"<>|\u0000-\u001f]/.test(s) && !/[. ]$/.test(s) && Buffer.byteLength(s) < 100)
    .chain((s) => fc.constantFrom(s, `${s}.ini`, `${s}.INI`, `${s}.ldf`));
  test("random relative paths survive DataLib and come back", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.array(name, { minLength: 1, maxLength: 3 }).map((a) => a.join("/")),
          {
            minLength: 1,
            maxLength: 5,
            selector: (p) => p.toLowerCase(),
          },
        ),
        fc.constantFrom<Enc>("ansi", "utf16le"),
        async (rels, enc) => {
          // a path that is a prefix folder of another cannot also be a file
          fc.pre(!rels.some((a) => rels.some((b) => b.toLowerCase().startsWith(`${a.toLowerCase()}/`))));
          const lib = path.join(tempDir(`prop${n++}`), "lib");
          writeLibrary(lib, { ABC00042: { enc, contents: { "ABC00042.1": rels } } });
          const d = detectInput(lib);
          const { packages } = libraryPackages(
            { root: lib, pkgLib: d.pkgLib as string, dataLib: d.dataLib as string },
            [],
          );
          assert.deepEqual((await walkAll(packages[0].root, true)).sort(), [...rels].sort());
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("package source folders", () => {
  test("walk gives '/'-separated relative paths in name order; not a content library", async () => {
    const root = path.join(tempDir("src"), "ABC00123");
    writeTree(root, ["b/2.txt", "a.txt", "b/1.txt", "c/d/e.txt"]);
    assert.equal(detectInput(root).kind, "folder");
    assert.deepEqual(await walkAll(root, false), ["a.txt", "b/1.txt", "b/2.txt", "c/d/e.txt"]);
  });
  test("symbolic links are not followed (no loops) and are counted as skipped", async (t) => {
    const { symlinkSync } = await import("node:fs");
    const root = path.join(tempDir("links"), "ABC00123");
    writeTree(root, ["a/x.txt"]);
    try {
      symlinkSync(root, path.join(root, "a", "loop"), "dir");
      symlinkSync(path.join(root, "a", "x.txt"), path.join(root, "link.txt"), "file");
    } catch {
      t.skip("this platform does not allow creating symbolic links");
      return;
    }
    let skipped = 0;
    const rels: string[] = [];
    for await (const f of walkPackage(root, { dataLib: false, onWarning: () => {}, onSkip: () => skipped++ }))
      rels.push(f.rel);
    assert.deepEqual(rels, ["a/x.txt"]);
    assert.equal(skipped, 2);
  });

  test("package ID: --package-id, else the folder name (with a note when it does not look like one)", () => {
    assert.equal(folderPackage("/x/ABC00123", {}).pkg.id, "ABC00123");
    assert.deepEqual(folderPackage("/x/ABC00123", {}).notes, []);
    const named = folderPackage("/x/Office 2016", {});
    assert.equal(named.pkg.id, "Office 2016");
    assert.equal(named.notes.length, 1);
    const given = folderPackage("/x/Office 2016", { packageId: "ABC00077", contentId: "Content_1.1" });
    assert.deepEqual([given.pkg.id, given.pkg.contentId], ["ABC00077", "Content_1.1"]);
  });
  test("missing path or a file is an input error naming it", () => {
    assert.throws(() => detectInput("/no/such/dir/x"), /no such folder/);
  });
  test("urlIdForContent (§2.2)", () => {
    assert.equal(urlIdForContent("P010000A", "P010000A.2"), "P010000A");
    assert.equal(urlIdForContent("X", "Content_abc.3"), "Content_abc.3");
  });
});

describe("INI reader (§3.2)", () => {
  test("BOM sniffing", () => {
    assert.equal(decodeIniBytes(encode("[a]", "utf16le")).encoding, "utf-16le");
    assert.equal(decodeIniBytes(encode("[a]", "utf8bom")).encoding, "utf-8-bom");
    assert.equal(decodeIniBytes(encode("[a]", "ansi")).encoding, "ansi");
    const be = Buffer.from([0xfe, 0xff, 0, 0x5b, 0, 0x61, 0, 0x5d]);
    assert.deepEqual(decodeIniBytes(be), { text: "[a]", encoding: "utf-16be" });
  });
  test("mixed line ends and comments", () => {
    const ini = parseIni(Buffer.from("; c\r\n[File]\rHash=AB\nSize = 12\r\n"), "f.INI");
    assert.deepEqual(
      iniSection(ini, "file")?.entries.map((e) => [e.key, e.value, e.line]),
      [
        ["Hash", "AB", 3],
        ["Size", "12", 4],
      ],
    );
    assert.deepEqual(ini.warnings, []);
  });
  test("property: any key=value set survives each encoding; arbitrary bytes never throw", () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,15}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9 ._-]{0,20}$/).map((s) => s.trim());
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, value), { selector: (t) => t[0], maxLength: 8 }),
        fc.constantFrom<Enc>("ansi", "utf8bom", "utf16le"),
        fc.constantFrom("\r\n", "\n", "\r"),
        (entries, enc, eol) => {
          const text = `[Packages]${eol}${entries.map(([k, v]) => `${k}=${v}`).join(eol)}${eol}`;
          const ini = parseIni(encode(text, enc), "p.INI");
          assert.deepEqual(ini.warnings, []);
          assert.deepEqual(
            iniSection(ini, "packages")?.entries.map((e) => [e.key, e.value]),
            entries,
          );
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const ini = parseIni(Buffer.from(bytes), "junk.INI");
        for (const w of ini.warnings) assert.ok(w.line >= 1 && w.column >= 1);
      }),
    );
  });
});
