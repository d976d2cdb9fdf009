/**
 * Differential property of the per-extension record (src/engine/compiled.ts extRecordFor): a static-form verdict
 * that takes its handler candidates (§9.1) and mimeMap (§9.2, §13.16 [INF] last dot then ".*") from the one record
 * per (extension as spelled, compiled configuration) equals the verdict from candidatesFor and the mimeMap index
 * (the definition), over random names — case, no extension, trailing dots, several dots, *.axd-style exact
 * mappings — on both profiles, corpus configurations and locations that change handlers or mimeMaps below a folder.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { loadServer } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";
import { evaluate, evaluateMethods, setExtRecords } from "../../src/engine/evaluate.js";
import type { HttpRequest, Server, Verdict } from "../../src/engine/types.js";
import { handler, mimeMaps, p1Handlers, server } from "./build.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));
function serverOf(config: ServerConfig): Server {
  return { config, siteName: config.defaultSiteName };
}
function loadCorpus(file: string): Server {
  return serverOf(loadServer({ config: `${corpus}${file}` }));
}

const servers: [string, Server][] = [
  ["aspnet profile (three *.axd exact mappings)", serverOf(loadServer({ profile: "aspnet" }))],
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
        ],
      }),
    ),
  ],
  ["corpus: locations (Citrix Director)", loadCorpus("apphost-citrix-director-locations.config")],
  ["corpus: locations (IRIS CSP)", loadCorpus("apphost-iris-csp-locations.config")],
  ["corpus: double escaping allowed, custom mimeMaps", loadCorpus("apphost-doubleescape-custommime.config")],
  ["corpus: HEAD denied", loadCorpus("apphost-iis10-aspnet-asp-verbdeny.config")],
  [
    "P1 + locations: exact, glob and GET-only mappings below x64/, other mimeMaps (with '.*') below a.b/",
    server(
      "P1",
      {
        prefix: "/SMS_DP_SMSPKGC$/PKG00001/x64",
        handlers: [
          handler("Exact", "Trace.AXD", "GET,HEAD", "ManagedPipelineHandler"),
          handler("Glob", "a*.t?t", "GET,HEAD", "ManagedPipelineHandler"),
          handler("GetOnlyExt", "*.msi", "GET", "StaticFileModule"),
          ...p1Handlers(),
        ],
      },
      {
        prefix: "/SMS_DP_SMSPKGC$/PKG00001/a.b",
        mime: () => mimeMaps([".*", ".EXE", ".txt", "."]),
      },
    ),
  ],
  ["P0 (no mimeMap fallback)", server("P0")],
];

const part = fc.constantFrom(
  "setup",
  "Trace",
  "trace",
  "a",
  "A",
  "t",
  "x",
  ".",
  ".exe",
  ".EXE",
  ".Msi",
  ".txt",
  ".TXT",
  ".axd",
  ".AxD",
  ".config",
  ".ldf",
  ".x",
  "é",
);
const name = fc.oneof(
  fc.constantFrom(
    "Trace.axd",
    "TRACE.AXD",
    "setup.exe",
    "Setup.EXE.config",
    "a.b.Msi",
    "noext",
    "dot.",
    "..",
    "a.t1t",
  ),
  fc.array(part, { minLength: 0, maxLength: 4 }).map((xs) => xs.join("")),
);
const folder = fc.constantFrom("", "x64/", "X64/sub/", "a.b/", "A%20B/", "é/");
const root = fc.constantFrom(
  "/SMS_DP_SMSPKGC$/PKG00001/",
  "/SMS_DP_SMSPKGC$/PKG00001/",
  "/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/",
  "/",
);
const file = fc.option(
  fc.record({ exists: fc.boolean(), isDirectory: fc.boolean(), hidden: fc.boolean() }, { requiredKeys: [] }),
  { nil: undefined },
);
const request = fc
  .tuple(
    root,
    folder,
    name,
    fc.constantFrom("", "", "", "/"),
    file,
    fc.constantFrom("GET", "HEAD", "HEAD", "PUT", "OPTIONS"),
  )
  .map(([r, d, n, slash, f, method]): HttpRequest => ({ method, target: `${r}${d}${n}${slash}`, file: f }));

function verdicts(reqs: HttpRequest[], srv: Server, records: boolean): (Verdict | Verdict[])[] {
  setExtRecords(records);
  try {
    return reqs.flatMap((r) => [evaluate(r, srv), evaluateMethods(r, ["HEAD", "GET"], srv)]);
  } finally {
    setExtRecords(true);
  }
}

describe("extension records (§9.1, §9.2): verdicts equal those from candidatesFor and the mimeMap index", () => {
  for (const [label, srv] of servers)
    it(`${label}: same verdicts with the record on and off, in any order`, () => {
      fc.assert(
        fc.property(fc.array(request, { minLength: 1, maxLength: 12 }), (reqs) => {
          const want = verdicts(reqs, srv, false);
          assert.deepEqual(verdicts(reqs, srv, true), want);
          // again: every record is now warm
          assert.deepEqual(verdicts(reqs, srv, true), want);
        }),
        { numRuns: 150 },
      );
    });
  it("one extension spelled in several cases gets the lower-cased extension's handler and mimeMap", () => {
    const srv = servers[7][1];
    const dir = "/SMS_DP_SMSPKGC$/PKG00001/a.b/";
    const statuses = ["x.exe", "x.EXE", "x.Exe", "x.ldf", "x.LDF", "x.unknown", "x", "x."].map(
      (n) => evaluate({ method: "GET", target: `${dir}${n}` }, srv).status,
    );
    setExtRecords(false);
    const want = ["x.exe", "x.EXE", "x.Exe", "x.ldf", "x.LDF", "x.unknown", "x", "x."].map(
      (n) => evaluate({ method: "GET", target: `${dir}${n}` }, srv).status,
    );
    setExtRecords(true);
    assert.deepEqual(statuses, want);
    assert.equal(statuses[0], 200);
    assert.equal(statuses[3], 404); // .ldf denied by request filtering (P1)
  });
});
