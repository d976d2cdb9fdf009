/**
 * Differential properties of the engine's fast paths (spec iis-request-filtering.md §5.3, §6): the facts the
 * canonicalization pass records (canonical.pathFacts) and the path it returns equal what the plain definitions give
 * (decode once, then normalize; indexOf/lastIndexOf), on random raw paths — clean ones and escaped ones alike.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadServer } from "../../src/config/load.js";
import {
  canonicalizePath,
  decodeOnce,
  normalizePath,
  pathFacts,
  pathSlashes,
} from "../../src/engine/canonical.js";
import {
  candidatesFor,
  compile,
  couldServe,
  keyFilter,
  mayBeKey,
  patternMatches,
} from "../../src/engine/compiled.js";
import { evaluate, evaluateMethods, setNameFromPass } from "../../src/engine/evaluate.js";
import type { Server, Verdict } from "../../src/engine/types.js";
import { addVerb, handler, p1Handlers, server } from "./build.js";

// characters that exercise every branch of the scan: separators, dots, escapes, '+', non-ASCII, refused ones
const pieces = [
  "a",
  "B",
  "z",
  "0",
  "9",
  "-",
  "_",
  "~",
  ",",
  "$",
  "!",
  "(",
  ";",
  "=",
  "@",
  "+",
  ".",
  "..",
  "/",
  "//",
  "\\",
  "%20",
  "%2B",
  "%2b",
  "%2F",
  "%2e",
  "%5C",
  "%25",
  "%41",
  "%C3%A9",
  "%FF",
  "%C0%AF",
  "%E2%82",
  "%",
  "%4",
  "%zz",
  "é",
  "\u212a",
  "\ud83d\ude00",
  "\ud800",
  " ",
  "#",
  "\u007f",
  "\t",
  ".exe",
  ".config",
  "bin",
  "App_Data",
];
const rawPath = fc.array(fc.constantFrom(...pieces), { maxLength: 24 }).map((parts) => `/${parts.join("")}`);

function expectedFacts(p: string) {
  return {
    highBit: /[^\x00-\x7f]/.test(p),
    plus: p.includes("+"),
    percent: p.includes("%"),
    lastSlash: p.lastIndexOf("/"),
    firstDot: p.indexOf("."),
    lastDot: p.lastIndexOf("."),
    slashCount: slashesOf(p).length,
  };
}

/** Indexes of the '/' after the first character. */
function slashesOf(p: string): number[] {
  const out: number[] = [];
  for (let i = p.indexOf("/", 1); i >= 0; i = p.indexOf("/", i + 1)) out.push(i);
  return out;
}

describe("canonicalization fast paths agree with the definitions (§5.3)", () => {
  it("canonical path = normalizePath(decodeOnce(raw)) and pathFacts describe it", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const canon = canonicalizePath(raw);
        if (typeof canon !== "string") return;
        assert.equal(canon, normalizePath(decodeOnce(raw)));
        assert.deepEqual({ ...pathFacts }, expectedFacts(canon));
        assert.deepEqual([...pathSlashes.subarray(0, pathFacts.slashCount)], slashesOf(canon));
      }),
      { numRuns: 3000 },
    );
  });
  it("simple escapes (decoding to ASCII other than '/', '.', '\\'): decoded path, facts and segment limits in decoded characters (§5.2, §13.10)", () => {
    // the scan's decoded-position fast path, against the definitions; long runs reach the 260/255 limits
    const simple = fc.constantFrom(
      "a",
      "/",
      ".exe",
      "+",
      "%20",
      "%2B",
      "%25",
      "%41",
      "%7e",
      "%23",
      "%3F",
      "%01",
    );
    const runs = fc
      .array(fc.tuple(simple, fc.integer({ min: 1, max: 140 })), { maxLength: 6 })
      .map((xs) => `/${xs.map(([p, k]) => p.repeat(k)).join("")}`);
    fc.assert(
      fc.property(runs, (raw) => {
        const canon = canonicalizePath(raw);
        const decoded = decodeOnce(raw);
        const segs = decoded.split("/").filter((x) => x.length > 0);
        const tooLong = segs.some((x) => x.length > 260);
        if (typeof canon !== "string") {
          assert.ok(tooLong || segs.length > 255 || decoded.includes("//"), `refused ${raw.slice(0, 40)}…`);
          if (tooLong) assert.equal(canon.check, "httpsys.segmentTooLong");
          return;
        }
        assert.ok(!tooLong && segs.length <= 255);
        assert.equal(canon, normalizePath(decoded));
        assert.deepEqual({ ...pathFacts }, expectedFacts(canon));
        assert.deepEqual([...pathSlashes.subarray(0, pathFacts.slashCount)], slashesOf(canon));
      }),
      { numRuns: 1500 },
    );
  });
  it("a clean path is returned as is, with its facts", () => {
    const raw = "/SMS_DP_SMSPKG$/Content_0a1b.1/x64/Contoso+Core.dll";
    assert.equal(canonicalizePath(raw), raw);
    assert.deepEqual({ ...pathFacts }, expectedFacts(raw));
  });
});

describe("evaluateMethods shares work across methods and equals evaluate per method (§6.6, §9.1)", () => {
  const aspnet = loadServer({ profile: "aspnet" });
  const servers: [string, Server][] = [
    ["aspnet profile", { config: aspnet, siteName: aspnet.defaultSiteName }],
    ["P0", server("P0")],
    ["P1", server("P1")],
    // GET and HEAD differ: HEAD denied by verbs under /v, a GET-only handler under /h
    [
      "GET/HEAD differ",
      server(
        "P1",
        { prefix: "/v", rf: (rf) => addVerb(rf, "HEAD", false) },
        { prefix: "/h", handlers: [handler("GetOnly", "*", "GET", "StaticFileModule")] },
      ),
    ],
  ];
  const prefixes = ["/", "/v/", "/h/", "/SMS_DP_SMSPKG$/Content_1.1/", "/SMS_DP_SMSPKGC$/PKG00001/"];
  const target = fc
    .tuple(
      fc.constantFrom(...prefixes),
      rawPath,
      fc.option(fc.constantFrom("", "a=1", "/x.ldf"), { nil: undefined }),
    )
    .map(([p, raw, q]) => `${p}${raw.slice(1)}${q === undefined ? "" : `?${q}`}`);
  const methods = fc.constantFrom<string[]>(
    ["HEAD", "GET"],
    ["GET", "HEAD"],
    ["HEAD", "GET", "PUT"],
    ["GET"],
  );
  const file = fc.option(
    fc.record(
      { exists: fc.boolean(), hidden: fc.boolean(), isDirectory: fc.boolean() },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  );
  for (const [name, srv] of servers)
    it(`${name}: same verdicts as evaluate() per method, same stop`, () => {
      fc.assert(
        fc.property(target, methods, file, fc.boolean(), (t, ms, f, stopOnRefusal) => {
          const until = stopOnRefusal ? (v: Verdict) => v.status >= 400 : undefined;
          const got = evaluateMethods({ method: ms[0], target: t, file: f }, ms, srv, until);
          const want: Verdict[] = [];
          for (const m of ms) {
            const v = evaluate({ method: m, target: t, file: f }, srv);
            want.push(v);
            if (until?.(v)) break;
          }
          assert.deepEqual(got, want);
        }),
        { numRuns: 400 },
      );
    });
  it("the configuration decides: HEAD refused by verbs, GET passes (no sharing)", () => {
    const srv = servers[3][1];
    const [head, get] = evaluateMethods({ method: "HEAD", target: "/v/a.txt" }, ["HEAD", "GET"], srv);
    assert.equal(`${head.status}.${head.substatus}`, "404.6");
    assert.equal(get.status, 200);
  });
});

describe("script path split (§5.4) from the pass's '/' positions equals the indexOf definition", () => {
  // reference: the first non-final segment whose last dot starts an extension a "*.ext" Unspecified mapping claims
  // for the method (the definition the engine used before it walked pathSlashes)
  const aspnet = loadServer({ profile: "aspnet" });
  const srv: Server = { config: aspnet, siteName: aspnet.defaultSiteName };
  function referenceScriptPath(canon: string, method: string): string {
    const c = compile(aspnet.effective(aspnet.defaultSiteName, canon));
    for (let dot = canon.indexOf(".", 1); dot >= 0; ) {
      const end = canon.indexOf("/", dot);
      if (end < 0) return canon;
      const next = canon.indexOf(".", dot + 1);
      if ((next < 0 || next > end) && end > dot + 1) {
        const claimers = c.pathInfoClaimers.get(canon.slice(dot, end).toLowerCase());
        if (claimers?.some((h) => h.verbs === null || h.verbs.has(method))) return canon.slice(0, end);
      }
      dot = next;
    }
    return canon;
  }
  const segment = fc.constantFrom(
    "a",
    "b.c",
    "Setup.aspx",
    "x.ASPX",
    "y.asmx",
    "z.aspx.txt",
    "Content_1.1",
    ".",
    "..x",
    "q.",
  );
  const path = fc
    .tuple(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.boolean())
    .map(([segs, trailing]) => `/${segs.join("/")}${trailing ? "/" : ""}`);
  it("aspnet profile: the path-info note names the reference script path (or there is none)", () => {
    fc.assert(
      fc.property(path, fc.constantFrom("GET", "HEAD", "POST"), (raw, method) => {
        const v = evaluate({ method, target: raw }, srv);
        const canon = v.canonicalPath ?? normalizePath(decodeOnce(raw));
        if (canon === null) return assert.equal(v.status, 403); // '..' above the root (§5.3)
        const expected = referenceScriptPath(canon, method);
        const note = v.notes?.find((n) => n.startsWith("handler mapping claims "));
        if (expected === canon) assert.equal(note, undefined);
        else assert.ok(note?.startsWith(`handler mapping claims ${expected}: the rest`), `${raw}: ${note}`);
      }),
      { numRuns: 1500 },
    );
  });
});

describe("key pre-filter (fileExtensions §6.10, path-info claimers §5.4) never rejects a listed key", () => {
  const ch = fc.constantFrom(..."aBcDlLmMxX019._-~+".split(""));
  const word = fc.array(ch, { minLength: 1, maxLength: 8 }).map((xs) => xs.join(""));
  const ext = word.map((w) => `.${w}`);
  it("a name whose lower-cased form is a key passes mayBeKey (any case, at any offset)", () => {
    fc.assert(
      fc.property(fc.array(ext, { maxLength: 12 }), ext, word, fc.boolean(), (keys, name, before, listed) => {
        const lower = keys.map((k) => k.toLowerCase());
        if (listed) lower.push(name.toLowerCase());
        const f = keyFilter(lower);
        const s = `${before}${name}/x`;
        const hit = mayBeKey(f, s, before.length, before.length + name.length);
        if (lower.includes(name.toLowerCase())) assert.equal(hit, true, `${name} in ${lower.join(" ")}`);
      }),
      { numRuns: 2000 },
    );
  });
  it("it does reject names that differ from every key in length, last or second character", () => {
    const f = keyFilter([".jsl", ".mdb", ".ldf", ".config"]);
    for (const name of [".dll", ".xml", ".cab", ".inf", ".exe", ".cfg"])
      assert.equal(mayBeKey(f, name, 0, name.length), false, name);
    for (const name of [".JSL", ".Mdb", ".LDF", ".CONFIG"])
      assert.equal(mayBeKey(f, name, 0, name.length), true, name);
  });
  it("a non-ASCII key admits every name", () => {
    const f = keyFilter([".caf\u00e9"]);
    assert.equal(mayBeKey(f, ".exe", 0, 4), true);
  });
});

describe("static file handler: the name's extension from the pass's last '.' equals the lastIndexOf definition (§9.2, §13.16)", () => {
  const aspnet = loadServer({ profile: "aspnet" });
  const srv: Server = { config: aspnet, siteName: aspnet.defaultSiteName };
  const part = fc.constantFrom(
    "setup",
    "A",
    "x.y",
    ".",
    "..",
    "exe",
    "EXE",
    "Dll",
    "config",
    "txt",
    "tar",
    "gz",
    "-1",
  );
  const name = fc.array(part, { minLength: 1, maxLength: 5 }).map((xs) => xs.join(""));
  const folder = fc.constantFrom("", "x64/", "a.b/", "Deploy.1/", "A%20B/", "é/");
  it("mimeMap verdicts name the last-dot extension of the lower-cased name; multi-dot names get the §13.16 inference", () => {
    const seen = { refused: 0, served: 0 };
    fc.assert(
      fc.property(folder, name, fc.constantFrom("GET", "HEAD"), (dir, n, method) => {
        const v = evaluate({ method, target: `/SMS_DP_SMSPKGC$/PKG00001/${dir}${n}` }, srv);
        const canon = v.canonicalPath;
        if (canon === undefined || v.layer === "request-filtering" || v.layer === "httpsys") return;
        const lowerName = canon.slice(canon.lastIndexOf("/") + 1).toLowerCase();
        const dot = lowerName.lastIndexOf(".");
        const ext = dot < 0 || dot === lowerName.length - 1 ? "." : lowerName.slice(dot);
        const multiDot = lowerName.indexOf(".") !== dot;
        const mimeRefusal = v.reasons.find((r) => r.check === "static.mimeMap");
        const mime = aspnet.effective(aspnet.defaultSiteName, canon).staticContent.index.get(ext);
        if (mimeRefusal) {
          seen.refused++;
          assert.equal(mime, undefined, canon);
          assert.ok(
            ext === "."
              ? mimeRefusal.message.includes("no extension")
              : mimeRefusal.message.includes(` ${ext}:`),
            `${canon}: ${mimeRefusal.message}`,
          );
          assert.equal(mimeRefusal.inferred !== undefined, multiDot, canon);
        } else if (v.handler === "StaticFile" && v.status === 200) {
          seen.served++;
          assert.ok(mime, canon);
          const chosen = (v.notes ?? []).some((x) =>
            x.startsWith(`mimeMap chosen by the last dot (${ext} → `),
          );
          assert.equal(chosen, multiDot, canon);
        }
      }),
      { numRuns: 1500 },
    );
    assert.ok(seen.refused > 0 && seen.served > 0, JSON.stringify(seen));
  });
});

describe("static file handler: the name taken from the pass's positions (lower-cased only when needed) equals the definition (§9.1, §9.2, §13.16)", () => {
  const aspnet = loadServer({ profile: "aspnet" });
  // exact and glob handler patterns (they need the lower-cased name), a GET-only one (HEAD/GET differ), extensions
  const servers: [string, Server][] = [
    ["aspnet profile", { config: aspnet, siteName: aspnet.defaultSiteName }],
    [
      "P1 + exact, glob and GET-only mappings",
      server("P1", {
        prefix: "/",
        handlers: [
          handler("Exact", "Setup.EXE", "GET,HEAD", "ManagedPipelineHandler"),
          handler("Glob", "a*.t?t", "GET,HEAD", "ManagedPipelineHandler"),
          handler("GetOnlyExt", "*.msi", "GET", "StaticFileModule"),
          ...p1Handlers(),
        ],
      }),
    ],
    ["P0 (no mimeMap fallback)", server("P0")],
  ];
  const part = fc.constantFrom(
    "setup",
    "Setup",
    ".",
    "EXE",
    ".exe",
    ".Msi",
    "a",
    "A",
    "t",
    "x",
    ".txt",
    ".TXT",
    "é",
  );
  const name = fc.oneof(
    fc.constantFrom("Setup.EXE", "setup.exe", "SETUP.exe", "abc.TXT", "A.b.Msi", "x.MSI", "Setup.EXE.config"),
    fc.array(part, { minLength: 0, maxLength: 4 }).map((xs) => xs.join("")),
  );
  const folder = fc.constantFrom("", "x64/", "a.b/", "A%20B/", "é/", "Deploy.aspx/");
  const root = fc.constantFrom("/SMS_DP_SMSPKGC$/PKG00001/", "/", "/SMS_DP_SMSPKG$/Content_1.1/");
  const file = fc.option(
    fc.record({ exists: fc.boolean(), isDirectory: fc.boolean() }, { requiredKeys: [] }),
    { nil: undefined },
  );
  for (const [label, srv] of servers)
    it(`${label}: same verdicts (and HEAD/GET sharing) with the name from the pass and from lastIndexOf`, () => {
      fc.assert(
        fc.property(
          root,
          folder,
          name,
          fc.boolean(),
          file,
          fc.constantFrom("GET", "HEAD", "PUT"),
          (r, d, n, slash, f, method) => {
            const req = { method, target: `${r}${d}${n}${slash ? "/" : ""}`, file: f };
            const pair = ["HEAD", "GET"];
            try {
              setNameFromPass(false);
              const want = [evaluate(req, srv), evaluateMethods(req, pair, srv)];
              setNameFromPass(true);
              assert.deepEqual([evaluate(req, srv), evaluateMethods(req, pair, srv)], want);
            } finally {
              setNameFromPass(true);
            }
          },
        ),
        { numRuns: 800 },
      );
    });
});

describe("handler candidates (§9.1): an exact mapping is kept only for names with its extension, and that loses no match", () => {
  const seg = fc.constantFrom("trace", "Trace", "web", "a", "É", "é", "x", "");
  const dotExt = fc.constantFrom("", ".", ".axd", ".AXD", ".exe", ".a.b", ".É");
  const word = fc.tuple(seg, dotExt, fc.constantFrom("", "", ".")).map(([a, b, c]) => `${a}${b}${c}`);
  const mapping = fc.tuple(
    fc.constantFrom("exact", "exact", "glob", "ext", "any", "noext"),
    word,
    fc.constantFrom("GET,HEAD", "GET", "*"),
    fc.constantFrom("File", "Directory", "Either", "Unspecified"),
  );
  it("the first matching handler equals the first over every mapping (exact patterns tested whatever the extension)", () => {
    fc.assert(
      fc.property(
        fc.array(mapping, { minLength: 1, maxLength: 6 }),
        word,
        fc.boolean(),
        (ms, name, directory) => {
          const srv = server("P1", {
            prefix: "/",
            handlers: ms.map(([kind, w, verb, rt], i) =>
              handler(
                `H${i}`,
                kind === "exact"
                  ? w || "x"
                  : kind === "glob"
                    ? `*${w}*`
                    : kind === "ext"
                      ? `*${w.replace(/\./g, "") ? `.${w.replace(/\./g, "")}` : ".x"}`
                      : kind === "any"
                        ? "*"
                        : "*.",
                verb,
                "StaticFileModule",
                rt,
              ),
            ),
          });
          const c = compile(srv.config.effective(srv.siteName, `/${name}`));
          const lowerName = name.toLowerCase();
          const dot = lowerName.lastIndexOf(".");
          const lowerExt = dot < 0 || dot === lowerName.length - 1 ? "." : lowerName.slice(dot);
          const ext = directory ? "" : lowerExt;
          const matches = (h: (typeof c.handlers)[number]) =>
            h.kind === "exact" || h.kind === "glob" ? patternMatches(h, lowerName) : true;
          for (const verb of ["GET", "HEAD", "PUT"]) {
            const got = candidatesFor(c, verb, ext, directory).find(matches);
            // the definition: every mapping for the verb and resource type, exact ones whatever their extension
            const want = c.handlers.find(
              (h) =>
                (h.verbs === null || h.verbs.has(verb)) &&
                (h.kind === "exact"
                  ? directory
                    ? h.resourceType !== "file"
                    : h.resourceType !== "directory"
                  : couldServe(h, ext, directory)) &&
                matches(h),
            );
            assert.equal(got, want, `${verb} ${name} ${directory}`);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe("verdicts built field by field keep the keys (and their order) of the object spreads they replace", () => {
  const aspnet = loadServer({ profile: "aspnet" });
  const servers: Server[] = [
    { config: aspnet, siteName: aspnet.defaultSiteName },
    server("P0"),
    server("P1", {
      prefix: "/",
      handlers: [
        handler("Exec", "*.exe", "GET,HEAD", "IsapiModule", "File", "Execute"),
        handler("Dyn", "*.aspx", "*", "ManagedPipelineHandler"),
        handler("NoExt", "*.", "GET", "ManagedPipelineHandler"),
        ...p1Handlers(),
      ],
    }),
  ];
  const name = fc.constantFrom(
    "a.exe",
    "a.txt",
    "a.msu",
    "b.x.msu",
    "noext",
    "a.aspx",
    "a.mdb",
    "x.b.mdb",
    "",
    "bin/a.txt",
  );
  const root = fc.constantFrom("/SMS_DP_SMSPKGC$/PKG00001/", "/", "/SMS_DP_SMSPKG$/Content_1.1/", "/app/");
  const file = fc.option(
    fc.record(
      { exists: fc.boolean(), hidden: fc.boolean(), isDirectory: fc.boolean() },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  );
  const verdictKeys = ["status", "substatus", "layer", "reasons", "orderInferred"];
  it("handler-layer refusals: status … orderInferred, canonicalPath, handler (not for handler.none), notes; reasons: inferred last, only when set", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom(...servers),
        root,
        name,
        fc.boolean(),
        file,
        fc.constantFrom("GET", "HEAD", "PUT", "DELETE"),
        (srv, r, n, slash, f, method) => {
          const v = evaluate({ method, target: `${r}${n}${slash ? "/" : ""}`, file: f }, srv);
          for (const reason of v.reasons) {
            const keys = Object.keys(reason);
            assert.ok(!("inferred" in reason) || reason.inferred !== undefined, JSON.stringify(reason));
            assert.ok(!keys.includes("inferred") || keys.at(-1) === "inferred", keys.join());
          }
          if (v.layer !== "handler" || v.status < 300) return;
          seen.add(v.reasons[0]?.check ?? "");
          const want =
            v.reasons[0]?.check === "handler.none"
              ? [...verdictKeys, "canonicalPath", "notes"]
              : [...verdictKeys, "canonicalPath", "handler", "notes"];
          assert.deepEqual(Object.keys(v), want, JSON.stringify(v));
        },
      ),
      { numRuns: 1500 },
    );
    // the refusals of §9.1, §9.2 and §10.3 all came up
    for (const check of ["static.notFound", "static.mimeMap", "static.directory", "handler.dynamic"])
      assert.ok(seen.has(check), `${check} not seen: ${[...seen].join(", ")}`);
  });
});
