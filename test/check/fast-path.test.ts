/**
 * runCheck's fast path (src/check/run.ts judgeFile, Tally.addJudged: a file is judged from the engine's memo entries
 * through FolderVerdicts, served or refused, and counted in a FileClass without a FileResult) is invisible: over random
 * trees — plain names, spaces, '+', '%', '#', non-ASCII characters, hidden segments (bin, App_Data), denied
 * extensions (.mdb, .ldf), dots first, last and several, names near the 260-character segment limit, deep folders —
 * on several configurations (both profiles, a verb deny, GET denied, high-bit characters denied,
 * allowUnlisted="false", a web.config with its own rules below the package, corpus configurations), in random sets of
 * URL forms, with and without hidden files (the Windows facts), with the engine's memo cold or warmed by GET and HEAD
 * of every file, the tally (counts per package and form, causes with their samples, vdirs and fixes, notes) and the
 * text report are byte for byte those of the slow path, where every file is evaluated and tallied from its
 * FileResult (what a sink listing every file gets). Spec iis-request-filtering.md §5.2, §6, §9.2, §10.1;
 * configmgr-dp-bits.md §2.4 (HEAD then GET).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { type CheckSettings, packagePrefixes, runCheck, type Tally } from "../../src/check/run.js";
import type { PackageSpec, WalkedFolder } from "../../src/check/source.js";
import { loadServer, loadServerFromText } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";
import { encodeFileName, encodeFolderPrefix } from "../../src/dp/url-prefix.js";
import { URL_FORMS } from "../../src/dp/urlforms.js";
import { evaluate } from "../../src/engine/evaluate.js";
import type { UrlForm } from "../../src/logs/records.js";
import { renderCheckText } from "../../src/render/check-text.js";
import { corpus } from "./helpers.js";

const rf = (inner: string) =>
  `<system.webServer><security><requestFiltering>${inner}</requestFiltering></security></system.webServer>`;

const aspnetText = readFileSync(
  fileURLToPath(new URL("../../profiles/aspnet/applicationHost.config", import.meta.url)),
  "utf8",
);
/** The aspnet profile with `xml` (location elements) added at its end. */
function withXml(xml: string): ServerConfig {
  return loadServerFromText({
    file: "applicationHost.config",
    text: aspnetText.replace(/<\/configuration>\s*$/, `${xml}\n</configuration>\n`),
  });
}

const configs: [string, ServerConfig][] = [
  ["aspnet profile", loadServer({ profile: "aspnet" })],
  ["iis profile", loadServer({ profile: "iis" })],
  [
    "corpus verb deny (HEAD denied)",
    loadServer({ config: `${corpus}iis-config/apphost-iis10-aspnet-asp-verbdeny.config` }),
  ],
  [
    "aspnet profile + a web.config with its own rules below the package",
    loadServer({
      profile: "aspnet",
      webConfigs: [
        {
          urlPath: "/SMS_DP_SMSPKG$/ABC00123/Deploy",
          file: `${corpus}iis-config/webconfig-bonobo-clear-ext-seg.config`,
        },
      ],
    }),
  ],
  [
    'aspnet profile + allowHighBitCharacters="false", allowUnlisted="false" with .exe allowed, below the package',
    withXml(
      `<location path="Default Web Site/SMS_DP_SMSPKG$/ABC00123">${rf(`<fileExtensions allowUnlisted="false"><add fileExtension=".exe" allowed="true" /></fileExtensions>`)}</location>` +
        `<location path="Default Web Site">${rf("")}</location>`.replace(
          "<requestFiltering>",
          '<requestFiltering allowHighBitCharacters="false">',
        ),
    ),
  ],
  [
    "aspnet profile + GET denied below a folder of the package (HEAD passes there, GET does not: §6.6)",
    withXml(
      `<location path="Default Web Site/SMS_DP_SMSPKG$/ABC00123/Deploy">${rf(`<verbs><add verb="GET" allowed="false" /></verbs>`)}</location>`,
    ),
  ],
];
for (const f of readdirSync(`${corpus}iis-config`).filter((n) =>
  /^apphost-(hardened|doubleescape|iis10-container-aspnet-webdav).*\.config$/.test(n),
))
  configs.push([`corpus: ${f}`, loadServer({ config: `${corpus}iis-config/${f}` })]);

const folderNames = [
  "Deploy",
  "x64",
  "bin",
  "App_Data",
  "a b",
  "C++",
  "été",
  "q.",
  "50%",
  "d#1",
  "f".repeat(240),
];
const stems = [
  "setup",
  "Setup",
  "a",
  "file 1",
  "readme",
  "web",
  "bin",
  "App_Data",
  "trace",
  "sccm",
  "x+y",
  "50%",
  "é",
  "a#b",
  "[1]",
  "~x",
];
const exts = [
  ".exe",
  ".EXE",
  ".msi",
  ".cab",
  ".config",
  ".mdb",
  ".ldf",
  ".resx",
  ".axd",
  ".txt",
  ".dll",
  ".tar.gz",
  ".",
  "",
  ".e x",
];
const fileName = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.constantFrom(...stems), fc.constantFrom(...exts)).map(([a, b]) => a + b),
  },
  { weight: 1, arbitrary: fc.constantFrom(".hidden", "web.config", "bin", "x", "..x", "a.b.c") },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 262 }).map((n) => `${"n".repeat(n - 4)}.exe`) },
);
const folder = fc.array(fc.constantFrom(...folderNames), { maxLength: 3 }).map((xs) => xs.join("/"));
const tree = fc.array(fc.tuple(folder, fc.uniqueArray(fileName, { minLength: 1, maxLength: 12 })), {
  minLength: 1,
  maxLength: 6,
});
const formSet = fc.subarray([...URL_FORMS], { minLength: 1 });

/**
 * Ask the engine for GET and HEAD of every file in every form first (as `dpdoctor url` or an earlier package would):
 * the memo then holds entries check itself does not fill — GET where HEAD is refused (BITS stops at HEAD).
 */
function warmUp(folders: [string, string[]][], s: CheckSettings): void {
  const pkg: PackageSpec = { id: "ABC00123", contentId: "ABC00123", root: "", source: "folder" };
  for (const [rel, names] of folders)
    for (const [, prefix] of packagePrefixes(pkg, s))
      for (const n of names) {
        const name = encodeFileName(n);
        if (name === undefined) continue;
        for (const method of ["GET", "HEAD"])
          evaluate({ method, target: prefix + encodeFolderPrefix(rel) + name }, s.server);
      }
}

async function tallyOf(
  folders: [string, string[]][],
  s: CheckSettings,
  hidden: Set<string> | undefined,
  everyFile: boolean,
): Promise<Tally> {
  const pkg: PackageSpec = {
    id: "ABC00123",
    contentId: "ABC00123",
    root: path.join(tmpdir(), "ABC00123"),
    source: "folder",
  };
  async function* walkFolders(): AsyncIterable<WalkedFolder> {
    for (const [rel, names] of folders)
      yield { rel, abs: path.join(pkg.root, ...rel.split("/").filter(Boolean)), names, diskNames: names };
  }
  const facts = hidden && (() => (abs: string) => ({ hidden: hidden.has(path.basename(abs)) }));
  let listed = 0;
  const t = await runCheck(
    {
      packages: [pkg],
      walk: () => {
        throw new Error("walks by folders");
      },
      walkFolders,
      facts,
    },
    s,
    everyFile ? { file: () => void listed++ } : {},
  );
  if (everyFile) assert.equal(listed, t.files);
  return t;
}

function view(t: Tally, s: CheckSettings): string {
  return JSON.stringify({
    partial: t.toPartial(),
    causes: t.causeList("Default Web Site").map((c) => ({ ...c, vdirs: [...c.vdirs], forms: [...c.forms] })),
    text: renderCheckText(t, {
      inputPath: "ABC00123",
      inputKind: "package source folder",
      site: "Default Web Site",
      configOrigin: "test",
      forms: s.forms,
      formVdirs: {},
      notes: [],
      color: false,
    }),
  });
}

describe("check's fast path == every file evaluated and tallied from its result", () => {
  for (const [label, config] of configs)
    it(`${label}: same tally, causes, notes and text report`, async () => {
      await fc.assert(
        fc.asyncProperty(
          tree,
          formSet,
          fc.boolean(),
          fc.boolean(),
          fc.boolean(),
          async (folders, forms, withFacts, slowFirst, warm) => {
            const s: CheckSettings = {
              server: { config, siteName: config.defaultSiteName },
              forms: forms as UrlForm[],
              drive: "C",
              vdir: "SMS_DP_SMSPKG$",
            };
            // a few names are hidden files when the platform can tell (404.9 on the 2007 form)
            const hidden = withFacts
              ? new Set(folders.flatMap(([, ns]) => ns.filter((_, i) => i % 3 === 1)))
              : undefined;
            if (warm) warmUp(folders, s);
            const slow = async () => view(await tallyOf(folders, s, hidden, true), s);
            const fast = async () => view(await tallyOf(folders, s, hidden, false), s);
            if (slowFirst) {
              const want = await slow();
              assert.equal(await fast(), want);
            } else {
              const got = await fast();
              assert.equal(got, await slow());
            }
          },
        ),
        { numRuns: 60 },
      );
    });

  it("the fast path is taken (else this file tests nothing): a folder of plain names is counted without results", async () => {
    const config = configs[0][1];
    const s: CheckSettings = {
      server: { config, siteName: config.defaultSiteName },
      forms: [...URL_FORMS],
      drive: "C",
      vdir: "SMS_DP_SMSPKG$",
    };
    const names = Array.from({ length: 50 }, (_, i) => `file ${i}.exe`);
    const results: string[] = [];
    const pkg: PackageSpec = {
      id: "ABC00123",
      contentId: "ABC00123",
      root: path.join(tmpdir(), "ABC00123"),
      source: "folder",
    };
    const t = await runCheck(
      {
        packages: [pkg],
        walk: () => {
          throw new Error("walks by folders");
        },
        async *walkFolders() {
          yield {
            rel: "Drivers",
            abs: path.join(pkg.root, "Drivers"),
            names: [...names, "db.mdb"],
            diskNames: [...names, "db.mdb"],
          };
        },
      },
      s,
      { refusedOnly: true, file: (_p, r) => void results.push(r.path) },
    );
    assert.equal(t.files, 51);
    // the refused file is listed; the files every form serves are not (their results were never built)
    assert.deepEqual(results, ["Drivers/db.mdb"]);
    assert.equal(t.packages[0].forms.get("client")?.ok, 51);
    assert.equal(t.packages[0].forms.get("direct")?.refused, 1);
  });
});
