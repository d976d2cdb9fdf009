/**
 * The verdict memo (src/engine/evaluate.ts MemoEntry, memoHit; canonical.ts plainNamePrefix) is invisible: over random
 * runs of requests in folders — names with every case, dots (none, several, leading, trailing), '+', escapes (simple
 * ones anywhere in the name — first, in the extension, spelling a hidden segment or handler name —, %2B, %25, %2e,
 * %2F, %00, bad ones, non-ASCII ones), raw spaces and non-ASCII characters, hidden-segment names (bin,
 * web.config), handler names (trace.axd, *.aspx), names near the segment limit, paths near maxUrl and queries near
 * maxQueryString — in all three DP URL forms (§10.1), every verdict (and evaluateMethods' HEAD/GET sharing) with the
 * memo on and warm deep-equals, key order included, the verdict with the memo off, on both profiles, corpus
 * configurations, and configurations whose folders carry denyUrlSequences, filteringRules, alwaysAllowedUrls, query
 * rules, exact/glob/GET-only handler mappings, low length limits, extra hidden segments, staticContent errors or
 * web.configs. Spec iis-request-filtering.md §5.2, §5.3, §6, §8.1, §9, §10.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { loadServer, loadServerFromText } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";
import { plainNamePrefix, setPrefixCache } from "../../src/engine/canonical.js";
import {
  evaluate,
  evaluateMethods,
  FolderVerdicts,
  memoVerdict,
  setVerdictMemo,
} from "../../src/engine/evaluate.js";
import type { HttpRequest, Server, Verdict } from "../../src/engine/types.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));
const aspnetProfile = fileURLToPath(new URL("../../profiles/aspnet/applicationHost.config", import.meta.url));
const aspnetText = readFileSync(aspnetProfile, "utf8");

after(() => {
  setVerdictMemo(true);
  setPrefixCache(true);
});

const CONTENT = "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1";
const CONTENT2 = "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000002.1";
const PACKAGE = "/SMS_DP_SMSPKGC$/PKG00001";

function serverOf(config: ServerConfig, siteName = config.defaultSiteName): Server {
  return { config, siteName };
}
/** The aspnet profile with `xml` (location elements) added at its end, and web.configs. */
function aspnetWith(xml: string, webConfigs: { urlPath: string; text: string }[] = []): Server {
  const text = aspnetText.replace(/<\/configuration>\s*$/, `${xml}\n</configuration>\n`);
  return serverOf(
    loadServerFromText(
      { file: "applicationHost.config", text },
      webConfigs.map((w) => ({ ...w, file: `${w.urlPath}/web.config` })),
    ),
  );
}
const rf = (inner: string) =>
  `<system.webServer><security><requestFiltering>${inner}</requestFiltering></security></system.webServer>`;
const at = (path: string, inner: string) => `<location path="Default Web Site${path}">${inner}</location>`;

/**
 * Servers, each with the folders where its rules live and names its rules tell apart: a share of the generated runs
 * goes there, with those names.
 */
const servers: [string, Server, string[], string[]][] = [
  ["aspnet profile", serverOf(loadServer({ profile: "aspnet" })), [], []],
  ["iis profile", serverOf(loadServer({ profile: "iis" })), [], []],
  [
    "aspnet profile + corpus web.configs under a content, a package and a folder",
    serverOf(
      loadServer({
        profile: "aspnet",
        webConfigs: [
          { urlPath: `${CONTENT}/Deploy`, file: `${corpus}webconfig-bonobo-clear-ext-seg.config` },
          { urlPath: `${PACKAGE}/x64`, file: `${corpus}webconfig-fuget-clear-ext-doubleesc.config` },
          { urlPath: `${CONTENT2}/x64`, file: `${corpus}webconfig-opserver-denyseq-config.config` },
          { urlPath: "/app", file: `${corpus}webconfig-h5bp-mvc5.config` },
        ],
      }),
    ),
    [`${CONTENT}/Deploy/`, `${PACKAGE}/x64/`, `${CONTENT2}/x64/`, "/app/"],
    ["a.config", "web.config", "a.exe", "a+b.exe", "a%25.exe", "App_Data"],
  ],
  [
    "aspnet profile + one folder each with denyUrlSequences, filteringRules, alwaysAllowedUrls (with and without '/'), denyQueryStringSequences, alwaysAllowedQueryStrings (§6.1, §6.11-§6.13)",
    aspnetWith(
      [
        at(`${CONTENT}/Deploy`, rf(`<denyUrlSequences><add sequence="tup" /></denyUrlSequences>`)),
        at(
          `${CONTENT}/Files`,
          rf(`<filteringRules><filteringRule name="NoReadme" scanUrl="true" scanQueryString="true">
<appliesTo><add fileExtension=".txt" /></appliesTo><denyStrings><add string="readme" /></denyStrings></filteringRule></filteringRules>`),
        ),
        at(
          `${CONTENT}/a.b`,
          rf(`<alwaysAllowedUrls><add url="${CONTENT}/a.b/setup.config" /></alwaysAllowedUrls>`),
        ),
        at(
          `${PACKAGE}/a.b`,
          rf(`<alwaysAllowedUrls><add url="${PACKAGE.slice(1)}/a.b/setup.config" /></alwaysAllowedUrls>`),
        ),
        at(
          `${CONTENT2}/x64`,
          rf(`<denyQueryStringSequences><add sequence="zz" /></denyQueryStringSequences>`),
        ),
        at(
          `${CONTENT2}/Deploy`,
          rf(`<alwaysAllowedQueryStrings><add queryString="a=1" /></alwaysAllowedQueryStrings>`),
        ),
        at(`${PACKAGE}/Files`, rf(`<requestLimits maxQueryString="100000" />`)),
        at(
          `${PACKAGE}/Deploy`,
          rf(
            `<fileExtensions applyToWebDAV="false" /><hiddenSegments applyToWebDAV="false" /><verbs applyToWebDAV="false" />`,
          ),
        ),
      ].join("\n"),
    ),
    [
      `${CONTENT}/Deploy/`,
      `${CONTENT}/Files/`,
      `${CONTENT}/a.b/`,
      `${PACKAGE}/a.b/`,
      `${CONTENT2}/x64/`,
      `${CONTENT2}/Deploy/`,
      `${PACKAGE}/Deploy/`,
    ],
    [
      "setup.exe",
      "a.exe",
      "readme.txt",
      "a.txt",
      "setup.config",
      "x.config",
      "a.config",
      "web.config",
      "bin",
    ],
  ],
  [
    "aspnet profile + folders with exact, glob and GET-only handler mappings, other mimeMaps, no handler for HEAD (§9.1, §9.2)",
    aspnetWith(
      at(
        `${PACKAGE}/x64`,
        `<system.webServer><handlers>
<add name="ExactTrace" path="Trace.AXD" verb="GET,HEAD" modules="ManagedPipelineHandler" />
<add name="GlobA" path="a*.t?t" verb="GET,HEAD" modules="ManagedPipelineHandler" />
<add name="GlobTool" path="tool*.exe" verb="GET,HEAD" modules="ManagedPipelineHandler" />
<add name="GetOnlyMsi" path="*.msi" verb="GET" modules="StaticFileModule" resourceType="File" requireAccess="Read" />
</handlers><staticContent><remove fileExtension=".cab" /><mimeMap fileExtension=".*" mimeType="application/octet-stream" /></staticContent></system.webServer>`,
      ) +
        at(
          `${PACKAGE}/Deploy`,
          `<system.webServer><handlers><add name="GlobNoExt" path="set*" verb="GET" modules="ManagedPipelineHandler" />
<add name="ExactExe" path="setup.exe" verb="HEAD" modules="ManagedPipelineHandler" /></handlers></system.webServer>`,
        ) +
        at(
          `${PACKAGE}/Files`,
          `<system.webServer><handlers><clear /><add name="OnlyGet" path="*" verb="GET" modules="StaticFileModule" resourceType="Either" requireAccess="Read" /></handlers></system.webServer>`,
        ),
    ),
    [`${PACKAGE}/x64/`, `${PACKAGE}/Deploy/`, `${PACKAGE}/Files/`],
    ["Trace.axd", "x.axd", "a.msi", "b.msi", "setup.exe", "x.exe", "settle", "a", "a1.t1t", "b.t1t", "a.cab"],
  ],
  [
    "aspnet profile + site-wide low maxUrl/maxQueryString, more hidden segments, high-bit denied, double escaping allowed",
    aspnetWith(
      at(
        "",
        rf(`<requestLimits maxUrl="200" maxQueryString="90" />
<hiddenSegments><add segment="Setup.exe" /><add segment="readme" /><add segment="x64" /></hiddenSegments>`),
      ) +
        at(
          "",
          `<system.webServer><security><requestFiltering allowHighBitCharacters="false" allowDoubleEscaping="true" /></security></system.webServer>`,
        ),
    ),
    [`${CONTENT}/`, `${PACKAGE}/été/`],
    ["Setup.exe", "setup.exe", "Setup.exf", "readme", "readmf", "x64", "a.exe", `${"n".repeat(120)}.exe`],
  ],
  [
    "aspnet profile + a staticContent error below a folder and RequestFilteringModule removed below another (§8.4, §1)",
    aspnetWith("", [
      {
        urlPath: `${PACKAGE}/x64`,
        text: `<configuration><system.webServer><staticContent><mimeMap fileExtension=".exe" mimeType="a/b" /></staticContent></system.webServer></configuration>`,
      },
      {
        urlPath: `${CONTENT}/Deploy`,
        text: `<configuration><system.webServer><modules><remove name="RequestFilteringModule" /></modules></system.webServer></configuration>`,
      },
    ]),
    [`${PACKAGE}/x64/`, `${CONTENT}/Deploy/`],
    ["a.exe", "a.config", "web.config"],
  ],
];
// every corpus applicationHost (locations, two sites, no RequestFilteringModule, WebDAV, other mimeMaps…)
for (const f of readdirSync(corpus).filter((n) => /^(apphost|iisexpress).*\.config$/.test(n))) {
  const config = loadServer({ config: `${corpus}${f}` });
  servers.push([`corpus: ${f}`, serverOf(config), [], []]);
  for (const site of config.sites ?? [])
    if (site.name !== config.defaultSiteName)
      servers.push([`corpus: ${f} (site ${site.name})`, serverOf(config, site.name), [], []]);
}

// ---------------------------------------------------------------------------------------------------------------
// requests

const roots = [
  `${CONTENT}/`,
  `${CONTENT2}/`,
  `${PACKAGE}/`,
  "/NOCERT_SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/",
  "/sms_dp_smspkgc$/pkg00001/",
  "/app/",
  "/",
];
const folders = [
  "x64",
  "X64",
  "Deploy",
  "Files",
  "bin",
  "App_Data",
  "Setup.aspx",
  "y.asmx",
  "a.b",
  "a%20b",
  "C++",
  "C%2B%2B",
  "%25x",
  "été",
  "%C3%A9t%C3%A9",
  "%2e%2e",
  "q.",
  "f".repeat(60),
  "g".repeat(255),
];
const stems = [
  "setup",
  "Setup",
  "SETUP",
  "a",
  "readme",
  "bin",
  "BIN",
  "web",
  "trace",
  "Trace",
  "WebResource",
  "sccm",
  "SCCM",
  "App_Data",
  "x64",
  "noext",
  "set",
  // simple escapes in the stem (canonical.ts plainNamePrefix takes them): hidden segments, handler and sccm names
  // spelled with escapes, escapes first
  "b%69n",
  "%62IN",
  "w%65b",
  "s%63cm",
  "%20lead",
  "App%5FData",
  "tr%61ce",
];
const seps = [
  "",
  "",
  "-",
  "_",
  ".",
  "%20",
  "+",
  "%2B",
  "%25",
  "%41",
  "%2e",
  "%2F",
  "%C3%A9",
  "é",
  "~",
  " ",
  "%zz",
];
const exts = [
  ".exe",
  ".EXE",
  ".Exe",
  ".msi",
  ".cab",
  ".config",
  ".mdb",
  ".ldf",
  ".axd",
  ".AXD",
  ".aspx",
  ".txt",
  ".t1t",
  ".dll",
  ".x",
  ".",
  "",
  ".tar.gz",
  ".exe.config",
  // escapes in the extension (the memo's key is the extension as decoded)
  ".e%78e",
  ".%63onfig",
  ".ax%64",
  ".m%44b",
  ".%3F",
  ".a%20b",
  ".tar%2Egz",
];
const name = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...stems),
        fc.constantFrom(...seps),
        fc.constantFrom("", "1", "Data"),
        fc.constantFrom(...exts),
      )
      .map((xs) => xs.join("")),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "setup.config",
      "x.config",
      "a.msi",
      "setup.msi",
      "a.txt",
      "a.cab",
      "x.exe",
      "web.config",
      "Web.Config",
      "trace.axd",
      "Trace.AXD",
      "WebResource.axd",
      "bin",
      ".hidden",
      ".exe",
      "dot.",
      "..",
      ".",
      "",
      "sccm",
      "Setup.exe",
      "readme",
      "readme.txt",
      "a1.t1t",
      "set",
      "setup.exe",
      "%20",
      "%41",
      "a%20",
      "%2e",
      "%2E%2E",
      "a%2",
      "a%",
      "%%41",
      "%4%41",
      "%2541.exe",
      "%00.exe",
      "a%7F.exe",
      "a%0A.exe",
      "a%23b.exe",
      "a%3Fb.exe",
    ),
  },
  // near the segment limit (§5.2: 260) and, with the folders, near maxUrl
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 60, max: 262 }), fc.constantFrom(".exe", ".config", ""))
      .map(([n, e]) => `${"n".repeat(n - e.length)}${e}`),
  },
  // the same decoded lengths spelled with escapes (longer as sent than once decoded, §13.10)
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 60, max: 262 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(".exe", ""))
      .map(([n, k, e]) => `${"n".repeat(Math.max(0, n - e.length - k))}${"%20".repeat(k)}${e}`),
  },
);
const query = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom("", "a=1", "zz", "a b", "%zz") },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 700 }).map((n) => "q".repeat(n)) },
);
const file = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<HttpRequest["file"]>(
      Object.freeze({ exists: true }),
      { exists: false },
      { hidden: true },
      { exists: true, hidden: false },
      { isDirectory: true },
      { isDirectory: false },
    ),
  },
);
const extras = fc.oneof(
  { weight: 8, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Partial<HttpRequest>>(
      { headers: { Translate: "f" } },
      { headers: { "Content-Length": "99999999999" } },
      { headers: {} },
      { isWebDav: false },
      { isWebDav: true },
    ),
  },
);
const method = fc.constantFrom("GET", "HEAD", "GET", "HEAD", "GET", "HEAD", "PUT", "OPTIONS", "get");
const form = fc.constantFrom("path", "path", "sccm");
const anyFolder = fc
  .tuple(fc.constantFrom(...roots), fc.array(fc.constantFrom(...folders), { maxLength: 3 }))
  .map(([root, dirs]) => `${root}${dirs.map((d) => `${d}/`).join("")}`);
/**
 * Runs of requests in one folder (as check and BITS download a folder) in one URL form (the sccm? form puts the path
 * in the query), each with its name, method, query, file facts and headers; half of the folders are `focus` ones.
 */
function runs(focus: string[], focusNames: string[]): fc.Arbitrary<HttpRequest[]> {
  const folder = focus.length === 0 ? anyFolder : fc.oneof(anyFolder, fc.constantFrom(...focus));
  const names = focusNames.length === 0 ? name : fc.oneof(name, fc.constantFrom(...focusNames));
  const run = fc
    .tuple(
      folder,
      form,
      fc.array(fc.tuple(names, method, query, file, extras), { minLength: 1, maxLength: 8 }),
    )
    .map(([dir, f, files]) =>
      files.map(([n, m, q, fl, x]): HttpRequest => {
        let target = `${dir}${n}${q === undefined ? "" : `?${q}`}`;
        if (f === "sccm") {
          // root/sccm?/rest: the folder's first two segments (the vdir and the content) stay in the path
          const third = dir.indexOf("/", dir.indexOf("/", 1) + 1);
          target = third > 0 ? `${dir.slice(0, third + 1)}sccm?${dir.slice(third)}${n}` : `${dir}sccm?/${n}`;
        }
        const r: HttpRequest = { method: m, target, ...x };
        if (fl !== undefined) r.file = fl;
        return r;
      }),
    );
  return fc.array(run, { minLength: 1, maxLength: 6 }).map((xs) => xs.flat());
}

// ---------------------------------------------------------------------------------------------------------------

/** Each verdict with evaluateMethods' HEAD→GET and GET→HEAD sequences, as JSON (key order matters) and as values. */
function verdicts(reqs: HttpRequest[], srv: Server): { values: unknown[]; json: string[] } {
  const values: unknown[] = [];
  for (const r of reqs) {
    values.push(evaluate(r, srv));
    values.push(evaluateMethods(r, ["HEAD", "GET"], srv, (v: Verdict) => v.status >= 400));
    values.push(evaluateMethods(r, ["GET", "HEAD"], srv));
  }
  return { values, json: values.map((v) => JSON.stringify(v)) };
}

function compare(reqs: HttpRequest[], warmup: HttpRequest[], srv: Server, sets: number): void {
  setVerdictMemo(false);
  setPrefixCache(true, sets);
  const want = verdicts(reqs, srv);
  setVerdictMemo(true);
  setPrefixCache(true, sets);
  for (const r of warmup) evaluate(r, srv);
  for (let pass = 0; pass < 2; pass++) {
    // the second pass finds every memo entry filled
    const got = verdicts(reqs, srv);
    assert.deepEqual(got.values, want.values);
    assert.deepEqual(got.json, want.json);
  }
}

describe("verdict memo: evaluate() with the memo on and warm equals the full evaluation (§5, §6, §8.1, §9, §10)", () => {
  for (const [label, srv, focus, focusNames] of servers)
    it(`${label}: same verdicts, key order included, whatever came before`, () => {
      fc.assert(
        fc.property(
          runs(focus, focusNames),
          runs(focus, focusNames),
          fc.constantFrom(2, 512),
          (reqs, warmup, sets) => compare(reqs, warmup, srv, sets),
        ),
        { numRuns: 40 },
      );
    });

  it("one memo across configurations and sites (fix proves before/after on the same URLs): classes stay apart", () => {
    const pairs: [Server, Server][] = [
      [servers[0][1], servers[1][1]],
      [servers[0][1], servers[3][1]],
      [servers[0][1], servers[4][1]],
      [servers[5][1], servers[0][1]],
    ];
    fc.assert(
      fc.property(runs([], []), fc.nat(pairs.length - 1), fc.constantFrom(2, 512), (reqs, k, sets) => {
        const [a, b] = pairs[k] as [Server, Server];
        const both = (): string[] =>
          reqs.flatMap((r) => [JSON.stringify(evaluate(r, a)), JSON.stringify(evaluate(r, b))]);
        setVerdictMemo(false);
        setPrefixCache(true, sets);
        const want = both();
        setVerdictMemo(true);
        setPrefixCache(true, sets);
        assert.deepEqual(both(), want);
        assert.deepEqual(both(), want);
      }),
      { numRuns: 100 },
    );
  });

  // named cases: a request, then one the memo must not answer with the first's entry (each guard of MemoEntry)
  const [aspnet, rules, handlers, limits] = [servers[0][1], servers[3][1], servers[4][1], servers[5][1]];
  const get = (target: string, x: Partial<HttpRequest> = {}): HttpRequest => ({
    method: "GET",
    target,
    ...x,
  });
  const head = (target: string): HttpRequest => ({ method: "HEAD", target });
  const deep = `/${"x/".repeat(255)}`; // 255 segments (§5.2: at most 255), a name is one too many
  const cases: [string, Server, HttpRequest[]][] = [
    ["§6.11 denyUrlSequences", rules, [get(`${CONTENT}/Deploy/a.exe`), get(`${CONTENT}/Deploy/setup.exe`)]],
    ["§6.13 filteringRules", rules, [get(`${CONTENT}/Files/a.txt`), get(`${CONTENT}/Files/readme.txt`)]],
    ["§6.1 alwaysAllowedUrls", rules, [get(`${CONTENT}/a.b/x.config`), get(`${CONTENT}/a.b/setup.config`)]],
    [
      "§6.1 alwaysAllowedUrls without '/'",
      rules,
      [get(`${PACKAGE}/a.b/x.config`), get(`${PACKAGE}/a.b/setup.config`)],
    ],
    [
      "§6.12 denyQueryStringSequences",
      rules,
      [get(`${CONTENT2}/x64/a.exe?a=1`), get(`${CONTENT2}/x64/b.exe?zz`)],
    ],
    [
      "§13.7 alwaysAllowedQueryStrings",
      rules,
      [get(`${CONTENT2}/Deploy/a.exe?zz`), get(`${CONTENT2}/Deploy/b.exe?a=1`)],
    ],
    [
      "§6.14 WebDAV exemptions",
      rules,
      [
        get(`${PACKAGE}/Deploy/a.config`),
        get(`${PACKAGE}/Deploy/b.config`, { isWebDav: true }),
        get(`${PACKAGE}/Deploy/c.config`, { headers: { Translate: "f" } }),
      ],
    ],
    ["§9.1 exact mapping", handlers, [get(`${PACKAGE}/x64/x.axd`), get(`${PACKAGE}/x64/Trace.axd`)]],
    ["§9.1 glob mapping", handlers, [get(`${PACKAGE}/x64/x.exe`), get(`${PACKAGE}/x64/tool1.exe`)]],
    [
      "§9.1 GET-only glob mapping",
      handlers,
      [head(`${PACKAGE}/Deploy/x`), get(`${PACKAGE}/Deploy/x`), get(`${PACKAGE}/Deploy/settle`)],
    ],
    ["§9.1 GET-only mapping", handlers, [head(`${PACKAGE}/x64/a.msi`), get(`${PACKAGE}/x64/b.msi`)]],
    [
      "§9.1 no mapping: 404.4 names the file",
      handlers,
      [head(`${PACKAGE}/Files/a.exe`), head(`${PACKAGE}/Files/b.exe`)],
    ],
    [
      "§6.9 hidden name",
      aspnet,
      [get(`${PACKAGE}/x64/bim`), get(`${PACKAGE}/x64/bin`), get(`${PACKAGE}/x64/BIN`)],
    ],
    [
      "§6.9 hidden name with an extension",
      aspnet,
      [get(`${PACKAGE}/x64/wxb.config`), get(`${PACKAGE}/x64/web.config`)],
    ],
    ["§13.16 several dots", aspnet, [get(`${PACKAGE}/x64/a.ps1`), get(`${PACKAGE}/x64/a.b.ps1`)]],
    [
      "§13.12 dots first and last",
      aspnet,
      [get(`${PACKAGE}/x64/a.`), get(`${PACKAGE}/x64/b.`), get(`${PACKAGE}/x64/.b`)],
    ],
    [
      "§13.12 dots first and last, §13.16 several dots, §6.9 hidden names: spelled with escapes",
      aspnet,
      [
        get(`${PACKAGE}/x64/a`),
        get(`${PACKAGE}/x64/a%20.`),
        get(`${PACKAGE}/x64/b%20.`),
        get(`${PACKAGE}/x64/a.b.c%6Fnfig`),
        get(`${PACKAGE}/x64/a.config`),
        get(`${PACKAGE}/x64/a%2Ebin`),
        get(`${PACKAGE}/x64/b%69n`),
        get(`${PACKAGE}/x64/w%65b.config`),
        get(`${PACKAGE}/x64/t%20.%20`),
      ],
    ],
    [
      "§10.1 sccm? form",
      aspnet,
      [get(`${CONTENT}/sccx?/a.exe`), get(`${CONTENT}/sccm?/a.exe`), get(`${CONTENT}/SCCM?/b`)],
    ],
    ["§6.3 maxUrl", limits, [get(`${CONTENT}/a.exe`), get(`${CONTENT}/${"n".repeat(140)}.exe`)]],
    ["§6.4 maxQueryString", limits, [get(`${CONTENT}/a.exe?a`), get(`${CONTENT}/b.exe?${"q".repeat(91)}`)]],
    [
      "§5.2 URL length",
      rules,
      [get(`${PACKAGE}/Files/x.config?a`), get(`${PACKAGE}/Files/y.config?${"q".repeat(17000)}`)],
    ],
    ["§5.2 segment count", aspnet, [get("/x/a.exe"), get(deep), get(`${deep}a.exe`), get(`${deep}b.exe`)]],
    ["§5.2 segment length", aspnet, [get(`${CONTENT}/a.exe`), get(`${CONTENT}/${"n".repeat(257)}.exe`)]],
    [
      "§9.2 file facts",
      aspnet,
      [
        get(`${PACKAGE}/x64/a.exe`),
        get(`${PACKAGE}/x64/b.exe`, { file: { exists: false } }),
        get(`${PACKAGE}/x64/c.exe`, { file: { hidden: true } }),
        get(`${PACKAGE}/x64/d.exe`, { file: { isDirectory: true } }),
      ],
    ],
    [
      "§6.2 Content-Length",
      aspnet,
      [get(`${CONTENT}/a.exe`), get(`${CONTENT}/b.exe`, { headers: { "Content-Length": "9999999999" } })],
    ],
    [
      "§6.7, §6.8 '+', escapes, non-ASCII characters in the name",
      limits,
      [
        get(`${CONTENT}/a.exe`),
        get(`${CONTENT}/a+b.exe`),
        get(`${CONTENT}/a%2Bb.exe`),
        get(`${CONTENT}/a%2541.exe`),
        get(`${CONTENT}/a%20b.exe`),
        get(`${CONTENT}/é.exe`),
        get(`${CONTENT}/%C3%A9.exe`),
      ],
    ],
    [
      "folders of other classes (§6.7, §6.9, §10.3)",
      aspnet,
      [
        get(`${CONTENT}/x64/a.exe`),
        get(`${CONTENT}/C++/b.exe`),
        get(`${CONTENT}/bin/c.exe`),
        get(`${PACKAGE}/x64/d.exe`),
      ],
    ],
  ];
  for (const [label, srv, reqs] of cases)
    it(`${label}: the memo tells the requests apart`, () => {
      setVerdictMemo(false);
      setPrefixCache(true);
      const want = verdicts([...reqs, ...reqs], srv);
      // the requests get different verdicts but for their paths (else the case tests nothing)
      const kinds = new Set(reqs.map((r) => JSON.stringify({ ...evaluate(r, srv), canonicalPath: "" })));
      assert.ok(kinds.size > 1, `${label}: one verdict for all`);
      setVerdictMemo(true);
      setPrefixCache(true);
      const got = verdicts([...reqs, ...reqs], srv);
      assert.deepEqual(got.values, want.values);
      assert.deepEqual(got.json, want.json);
    });

  it("the memo really answers (else this file tests nothing): a second plain name with the same extension in a folder", () => {
    const srv = servers[0][1];
    setVerdictMemo(true);
    setPrefixCache(true);
    const dir = `${CONTENT}/x64/`;
    const first = evaluate({ method: "GET", target: `${dir}a.config` }, srv);
    const second = evaluate({ method: "GET", target: `${dir}b.config` }, srv);
    assert.equal(second.status, 404);
    assert.equal(second.substatus, 7);
    assert.equal(second.canonicalPath, `${dir}b.config`);
    // the memo's reasons are shared and frozen; the full evaluation builds its own
    assert.equal(Object.isFrozen(first.reasons), false);
    assert.equal(Object.isFrozen(second.reasons), true);
    // another folder of the same class shares the entry, without a canonicalization pass (plainNamePrefix)
    const third = evaluate({ method: "GET", target: `${CONTENT2}/x64/c.config` }, srv);
    evaluate({ method: "GET", target: `${CONTENT2}/x64/d.config` }, srv);
    assert.equal(third.reasons, second.reasons);
    assert.notEqual(plainNamePrefix(`${CONTENT2}/x64/e.config`, 60), null);
    assert.equal(plainNamePrefix(`${CONTENT2}/x64/.e`, 60), null);
    // simple escapes too (%20…), but not those decoding to '+', '%', '.', '/', '\\', NUL or non-ASCII bytes
    assert.notEqual(plainNamePrefix(`${CONTENT2}/x64/a%20b.exe`, 60), null);
    for (const n of ["a%2Bb", "a%25b", "a%2eb", "a%2Fb", "a%5Cb", "a%00b", "a%C3%A9", "a%2", "%%41", "a%zz"])
      assert.equal(plainNamePrefix(`${CONTENT2}/x64/${n}.exe`, 60), null, n);
    // and the memo answers them with the canonical path decoded
    const fourth = evaluate({ method: "GET", target: `${CONTENT2}/x64/f%20g.config` }, srv);
    assert.equal(fourth.reasons, second.reasons);
    assert.equal(fourth.canonicalPath, `${CONTENT2}/x64/f g.config`);
    const fifth = evaluate({ method: "GET", target: `${CONTENT2}/x64/h.c%6Fnfig` }, srv);
    assert.equal(fifth.reasons, second.reasons);
    assert.equal(fifth.canonicalPath, `${CONTENT2}/x64/h.config`);
    setVerdictMemo(false);
    assert.equal(Object.isFrozen(evaluate({ method: "GET", target: `${dir}c.config` }, srv).reasons), false);
    setVerdictMemo(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// FolderVerdicts: memoHit's answers per folder (what `dpdoctor check` asks, src/check/run.ts)

describe("FolderVerdicts: an entry for prefix + name is the verdict evaluate() gives it (§5.2, §5.3, §6, §10.1)", () => {
  const fileFacts = fc.constantFrom<HttpRequest["file"]>(
    undefined,
    Object.freeze({ exists: true }),
    Object.freeze({ exists: true, hidden: true }),
    Object.freeze({ exists: true, hidden: false }),
    { exists: false },
    { isDirectory: true },
  );
  /** Runs of names in one folder prefix: a folder (direct forms) or the sccm? form's path and query. */
  const folderRuns = (focus: string[], focusNames: string[]) => {
    const folder = focus.length === 0 ? anyFolder : fc.oneof(anyFolder, fc.constantFrom(...focus));
    const names = focusNames.length === 0 ? name : fc.oneof(name, fc.constantFrom(...focusNames));
    return fc.array(
      fc.tuple(
        folder,
        form,
        fc.array(fc.tuple(names, fc.constantFrom<"GET" | "HEAD">("GET", "HEAD"), fileFacts), {
          minLength: 1,
          maxLength: 10,
        }),
      ),
      { minLength: 1, maxLength: 4 },
    );
  };
  const prefixOf = (dir: string, f: string): string => {
    if (f !== "sccm") return dir;
    const third = dir.indexOf("/", dir.indexOf("/", 1) + 1);
    return third > 0 ? `${dir.slice(0, third + 1)}sccm?${dir.slice(third)}` : `${dir}sccm?/`;
  };
  let answered = 0;
  for (const [label, srv, focus, focusNames] of servers)
    it(`${label}: every entry given equals the full evaluation (HEAD→GET sharing included)`, () => {
      fc.assert(
        fc.property(folderRuns(focus, focusNames), fc.constantFrom(2, 512), (runs, sets) => {
          setVerdictMemo(true);
          setPrefixCache(true, sets);
          for (const [dir, f, files] of runs) {
            const fv = new FolderVerdicts(srv, prefixOf(dir, f));
            for (const [n, method, file] of files) {
              const req: HttpRequest = { method, target: fv.prefix + n };
              if (file !== undefined) req.file = file;
              let e = fv.entry(n, method, file);
              if (e === null) {
                evaluate(req, srv); // fills the memo, as check's slow path does
                e = fv.entry(n, method, file);
              }
              if (e === null) continue;
              answered++;
              setVerdictMemo(false);
              const want = evaluate(req, srv);
              const pair = evaluateMethods({ ...req, method: "HEAD" }, ["HEAD", "GET"], srv);
              setVerdictMemo(true);
              const got = memoVerdict(e, want.canonicalPath as string);
              assert.deepEqual(got, want, req.target);
              assert.equal(JSON.stringify(got), JSON.stringify(want), req.target);
              if (method === "HEAD" && e.status < 400)
                // evaluateMethods shares HEAD's verdict with GET exactly when the entry says the method does not matter
                assert.equal(pair[1] === pair[0], !e.methodMatters, req.target);
            }
          }
        }),
        { numRuns: 40 },
      );
    });
  after(() =>
    assert.ok(answered > 1000, `FolderVerdicts answered only ${answered} times: the test tests little`),
  );

  it("answers without a URL string per name: the folder's first name fills the memo, the next ones are found", () => {
    const srv = servers[0][1];
    setVerdictMemo(true);
    setPrefixCache(true);
    const folder = new FolderVerdicts(srv, `${CONTENT}/Drivers/x64/`);
    // the folder is known before any of its files is evaluated, but the memo holds nothing for an extension yet
    assert.equal(folder.entry("a.qz7", "HEAD", undefined), null);
    evaluate({ method: "HEAD", target: `${CONTENT}/Drivers/x64/a.ldf` }, srv);
    const e = folder.entry("b%20c.ldf", "HEAD", undefined);
    assert.ok(e);
    assert.equal(`${e.status}.${e.substatus}`, "404.7");
    assert.equal(folder.entry("d.LDF", "HEAD", undefined), null); // the extension as spelled is the key
    assert.equal(folder.entry("a+b.ldf", "HEAD", undefined), null); // not a plain name (§6.7)
    const sccm = new FolderVerdicts(srv, `${CONTENT}/sccm?/Drivers/x64/`);
    evaluate({ method: "HEAD", target: `${CONTENT}/sccm?/Drivers/x64/a.ldf` }, srv);
    const q = sccm.entry("zz.ldf", "HEAD", undefined);
    assert.ok(q);
    assert.equal(q.status < 400, true); // the sccm? form: the path travels in the query (§10.1)
    assert.equal(sccm.entry("a b.ldf", "HEAD", undefined), null); // a raw space: http.sys's 400 (§5.1)
  });
});
