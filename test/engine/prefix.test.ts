/**
 * The directory-prefix cache (canonical.ts PathPrefix, and the facts evaluate.ts keeps on it: DP classification,
 * hidden segments of the prefix, path-info claimers) is invisible: over random sequences of URLs that share
 * prefixes, every result with the cache warm (whatever was evaluated before, tiny caches that evict all the time
 * included) deep-equals the result of the full pass with the cache off. Spec iis-request-filtering.md §5.3 (the
 * canonical path and its facts), §5.4, §6.9, §10.1 (the three DP URL forms), §10.3.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { loadServer, loadServerFromText } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";
import * as canonical from "../../src/engine/canonical.js";
import { canonicalizePath, pathFacts, pathSlashes, setPrefixCache } from "../../src/engine/canonical.js";
import { evaluate, evaluateMethods } from "../../src/engine/evaluate.js";
import type { HttpRequest, Server, Verdict } from "../../src/engine/types.js";
import { addSegment, addVerb, handler, p0Handlers, server } from "./build.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));
const aspnetProfile = fileURLToPath(new URL("../../profiles/aspnet/applicationHost.config", import.meta.url));

after(() => setPrefixCache(true));

// directory prefixes: the DP vdirs (all three URL forms, NOCERT_, other case), an application, the site root
const roots = [
  "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/",
  "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000002.1/",
  "/sms_dp_smspkg$/content_0a1b2c3d-0000-4000-8000-000000000001.1/",
  "/NOCERT_SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/",
  "/SMS_DP_SMSPKGC$/PKG00001/",
  "/SMS_DP_SMSPKGD$/PKG00002/",
  "/SMS_DP_SMSSIG$/PKG00001.1/",
  "/app/",
  "/v/",
  "/h/",
  "/",
];
// folder names: plain, escaped (simple and not), dots, '+', non-ASCII, hidden segments, path-info claimers, odd
const folders = [
  "x64",
  "Deploy",
  "Files",
  "bin",
  "App_Data",
  "BIN",
  "Setup.aspx",
  "x.ASPX",
  "y.asmx",
  "b.c",
  "Content_1.1",
  "a%20b",
  "C%2B%2B",
  "C++",
  "%41pp",
  "%25x",
  "%C3%A9t%C3%A9",
  "été",
  "a%2Fb",
  "%2e%2e",
  "..",
  ".",
  "",
  "a\\b",
  ".git",
  "q.",
  "web.config",
  "a".repeat(261),
  "%41".repeat(259),
  "sccm",
];
const names = [
  "setup.exe",
  "Setup.EXE",
  "a.config",
  "db.mdb",
  "x.ldf",
  "noext",
  "",
  "a+b.txt",
  "x%20y.msi",
  "%E2%82%AC.txt",
  "%FF.bin",
  "%",
  "%zz",
  "a b",
  "#x",
  "é.txt",
  ".hidden",
  "trailing.",
  "bin",
  "sccm",
  "web.config",
  "page.aspx",
  "b".repeat(262),
  // names that are configured folders (web.config / hidden segment below): the effective configuration of the whole
  // path differs from its prefix's
  "Deploy",
  "x64",
  "app",
];
const dirs = fc
  .array(fc.constantFrom(...folders), { maxLength: 3 })
  .map((xs) => xs.map((x) => `${x}/`).join(""));
const query = fc.option(
  fc.constantFrom("", "a=1", "/x64/setup.exe", "/bin/a.dll", "/a%20b/x.ldf", "a b", "%zz"),
  {
    nil: undefined,
  },
);
/** One URL: a root, folders, a file name, maybe a query; the sccm? form puts the folders and name in the query. */
const target = fc
  .tuple(fc.constantFrom(...roots), dirs, fc.constantFrom(...names), query, fc.boolean())
  .map(([root, d, name, q, sccm]) =>
    sccm ? `${root}sccm?/${d}${name}` : `${root}${d}${name}${q === undefined ? "" : `?${q}`}`,
  );
const request: fc.Arbitrary<HttpRequest> = fc.record(
  {
    method: fc.constantFrom("GET", "HEAD", "GET", "HEAD", "PUT", "PROPFIND", "get", "BAD VERB"),
    target,
    headers: fc.constantFrom<Record<string, string>>(
      { Translate: "f" },
      { "Content-Length": "99999999999" },
      {},
    ),
    file: fc.record(
      { exists: fc.boolean(), hidden: fc.boolean(), isDirectory: fc.boolean() },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["method", "target"] },
);
/** Runs of requests in one folder (as `check` and BITS downloads do), interleaved with others. */
const requests = fc
  .array(fc.tuple(request, fc.array(fc.constantFrom(...names), { maxLength: 4 })), {
    minLength: 1,
    maxLength: 30,
  })
  .map((xs) =>
    xs.flatMap(([r, siblings]) => [
      r,
      ...siblings.map((n) => ({ ...r, target: r.target.replace(/[^/?]*(\?.*)?$/, n) })),
    ]),
  );

function loadCorpus(file: string, webConfigs?: { urlPath: string; file: string }[]): ServerConfig {
  return loadServer({ config: `${corpus}${file}`, webConfigs });
}
function serverOf(config: ServerConfig): Server {
  return { config, siteName: config.defaultSiteName };
}
const aspnet = loadServer({ profile: "aspnet" });
const servers: [string, Server][] = [
  ["aspnet profile", serverOf(aspnet)],
  ["iis profile", serverOf(loadServer({ profile: "iis" }))],
  [
    "aspnet profile + web.configs under a content and a package",
    serverOf(
      loadServer({
        profile: "aspnet",
        webConfigs: [
          {
            urlPath: "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/Deploy",
            file: `${corpus}webconfig-bonobo-clear-ext-seg.config`,
          },
          {
            urlPath: "/SMS_DP_SMSPKGC$/PKG00001/x64",
            file: `${corpus}webconfig-fuget-clear-ext-doubleesc.config`,
          },
          { urlPath: "/app", file: `${corpus}webconfig-h5bp-mvc5.config` },
        ],
      }),
    ),
  ],
  ["corpus: locations (Citrix Director)", serverOf(loadCorpus("apphost-citrix-director-locations.config"))],
  ["corpus: locations (IRIS CSP)", serverOf(loadCorpus("apphost-iris-csp-locations.config"))],
  ["corpus: hardened, high-bit denied", serverOf(loadCorpus("apphost-hardened-highbit-trace.config"))],
  ["corpus: double escaping allowed", serverOf(loadCorpus("apphost-doubleescape-custommime.config"))],
  ["corpus: HEAD denied", serverOf(loadCorpus("apphost-iis10-aspnet-asp-verbdeny.config"))],
  ["corpus: no RequestFilteringModule", serverOf(loadCorpus("apphost-hwc-no-rfmodule.config"))],
  [
    "P1 + hidden 'Deploy' under /v, GET-only handler under /h",
    server(
      "P1",
      {
        prefix: "/v",
        rf: (rf) => {
          addSegment(rf, "Deploy");
          addVerb(rf, "HEAD", false);
        },
      },
      { prefix: "/h", handlers: [handler("GetOnly", "*", "GET", "StaticFileModule")] },
    ),
  ],
  [
    "P1 where only *.asmx claims path info (§5.4)",
    server("P1", {
      prefix: "/",
      handlers: [handler("ASMX", "*.asmx", "GET,HEAD,POST", "ManagedPipelineHandler"), ...p0Handlers()],
    }),
  ],
];

/** Verdicts of the requests in order, with the cache on (`sets` sets, warm from `warmup`) or off. */
function run(
  reqs: HttpRequest[],
  srv: Server,
  cache: boolean,
  sets?: number,
  warmup: HttpRequest[] = [],
): Verdict[] {
  setPrefixCache(cache, sets);
  for (const r of warmup) evaluate(r, srv);
  return reqs.map((r) => evaluate(r, srv));
}

describe("prefix cache: evaluate() with the cache warm equals the full pass (§5.3, §5.4, §6.9, §10.3)", () => {
  for (const [name, srv] of servers)
    it(`${name}: same verdicts, whatever came before and whatever the cache size`, () => {
      fc.assert(
        fc.property(requests, requests, fc.constantFrom(1, 2, 512), (reqs, warmup, sets) => {
          const want = run(reqs, srv, false);
          assert.deepEqual(run(reqs, srv, true, sets, warmup), want);
          // twice in a row: the second run only hits
          setPrefixCache(true, sets);
          for (const r of reqs) evaluate(r, srv);
          assert.deepEqual(
            reqs.map((r) => evaluate(r, srv)),
            want,
          );
        }),
        { numRuns: 60 },
      );
    });
  it("one cache across configurations (fix proves before/after on the same URLs): per-configuration facts stay apart", () => {
    // aspnet (hidden bin, *.aspx claimers) against the iis profile (neither) and against web.configs that change
    // them below a content; the same prefixes alternate between the two
    const pairs: [Server, Server][] = [
      [servers[0][1], servers[1][1]],
      [servers[1][1], servers[0][1]],
      [servers[0][1], servers[2][1]],
      [servers[1][1], servers[5][1]],
      [servers[10][1], servers[0][1]], // .asmx claims under the first, .aspx too under the second
    ];
    fc.assert(
      fc.property(requests, fc.constantFrom(1, 2, 512), fc.nat(4), (reqs, sets, k) => {
        const [a, b] = pairs[k] as [Server, Server];
        setPrefixCache(false);
        const want = reqs.flatMap((r) => [evaluate(r, a), evaluate(r, b)]);
        setPrefixCache(true, sets);
        assert.deepEqual(
          reqs.flatMap((r) => [evaluate(r, a), evaluate(r, b)]),
          want,
        );
      }),
      { numRuns: 150 },
    );
  });
  it("a web.config or location at a file's own path: that file's configuration is not its folder's (§2, §3, §8.1)", () => {
    const appHost = { file: "applicationHost.config", text: readFileSync(aspnetProfile, "utf8") };
    const dir = "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/x64/";
    const denyExe = `<configuration><system.webServer><security><requestFiltering><fileExtensions>
<add fileExtension=".exe" allowed="false" /></fileExtensions></requestFiltering></security></system.webServer></configuration>`;
    const config = loadServerFromText(appHost, [
      { urlPath: `${dir}setup.exe`, text: denyExe, file: "web.config" },
    ]);
    const srv = serverOf(config);
    const reqs = ["a.exe", "setup.exe", "SETUP.EXE", "b.exe", "setup.exe"].map((n) => ({
      method: "GET",
      target: `${dir}${n}`,
    }));
    setPrefixCache(false);
    const want = reqs.map((r) => evaluate(r, srv));
    assert.notDeepEqual(want[0], want[1]);
    setPrefixCache(true);
    assert.deepEqual(
      reqs.map((r) => evaluate(r, srv)),
      want,
    );
  });
  it("one configuration, two sites whose configurations differ (a location per site): the folder's configuration is kept per site (§8.1)", () => {
    const config = loadCorpus("apphost-iis10-aspnet-asp-verbdeny.config");
    const a: Server = { config, siteName: "Default Web Site" };
    const b: Server = { config, siteName: "deneme.com" };
    const php = "/SMS_DP_SMSPKGC$/PKG00001/x64/lib.php";
    setPrefixCache(false);
    assert.notDeepEqual(
      evaluate({ method: "GET", target: php }, a),
      evaluate({ method: "GET", target: php }, b),
    );
    fc.assert(
      fc.property(requests, fc.constantFrom(1, 2, 512), (reqs, sets) => {
        const all = reqs.flatMap((r) => [r, { ...r, target: r.target.replace(/[^/?]*(\?.*)?$/, "lib.php") }]);
        setPrefixCache(false);
        const want = all.flatMap((r) => [evaluate(r, a), evaluate(r, b)]);
        setPrefixCache(true, sets);
        assert.deepEqual(
          all.flatMap((r) => [evaluate(r, a), evaluate(r, b)]),
          want,
        );
      }),
      { numRuns: 100 },
    );
  });
  it("evaluateMethods (HEAD then GET, as check sends them) agrees with the cache on and off", () => {
    const srv = servers[0][1];
    const pair = ["HEAD", "GET"];
    const until = (v: Verdict) => v.status >= 400;
    fc.assert(
      fc.property(requests, (reqs) => {
        setPrefixCache(false);
        const want = reqs.map((r) => evaluateMethods(r, pair, srv, until));
        setPrefixCache(true, 2);
        assert.deepEqual(
          reqs.map((r) => evaluateMethods(r, pair, srv, until)),
          want,
        );
      }),
      { numRuns: 100 },
    );
  });
  it("the prefix really is reused (else this file tests nothing): a second file in a folder resumes after it", () => {
    setPrefixCache(true);
    const dir = "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/x64/";
    canonicalizePath(`${dir}a.exe`);
    assert.equal(canonical.pathPrefix?.raw, dir);
    const first = canonical.pathPrefix;
    canonicalizePath(`${dir}b.msi`);
    assert.equal(canonical.pathPrefix, first);
    setPrefixCache(false);
    canonicalizePath(`${dir}b.msi`);
    assert.equal(canonical.pathPrefix, null);
  });
});

describe("prefix cache: canonicalizePath() result and facts equal the full pass (§5.2, §5.3, §13.10)", () => {
  const rawPath = fc
    .tuple(fc.constantFrom(...roots), dirs, fc.constantFrom(...names))
    .map(([root, d, name]) => `${root}${d}${name}`);
  function facts(raw: string) {
    const canon = canonicalizePath(raw);
    if (typeof canon !== "string") return { canon };
    return {
      canon,
      facts: { ...pathFacts },
      slashes: [...pathSlashes.subarray(0, pathFacts.slashCount)],
      fallback: canon !== raw && canonical.lastDecodeUsedFallback,
    };
  }
  it("same canonical path or refusal, same pathFacts, '/' positions and decode fallback", () => {
    fc.assert(
      fc.property(
        fc.array(rawPath, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(1, 4, 512),
        (paths, sets) => {
          setPrefixCache(false);
          const want = paths.map(facts);
          setPrefixCache(true, sets);
          assert.deepEqual(paths.map(facts), want);
          assert.deepEqual(paths.map(facts), want); // warm
        },
      ),
      { numRuns: 400 },
    );
  });
});
