/**
 * Check-by-check rules of spec iis-request-filtering.md §6 and the §7 order, beyond the §12 vectors:
 * all reasons in table order, alwaysAllowed* scopes (§6.1, §13.6, §13.7), applyToWebDAV (§6.14, §13.15),
 * filteringRules (§6.13, §13.14), odd names (§13.12), DP vdir classification (§10.1, §13.3).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { FilteringRule, RequestFilteringConfig } from "../../src/config/types.js";
import { classifyDpPath } from "../../src/engine/dp.js";
import { evaluate } from "../../src/engine/evaluate.js";
import type { HttpRequest } from "../../src/engine/types.js";
import { addExtension, addSegment, addVerb, server, set, src } from "./build.js";

const rule = (over: Partial<FilteringRule>): FilteringRule => ({
  name: "r",
  scanUrl: false,
  scanQueryString: false,
  scanAllRaw: false,
  denyUnescapedPercent: false,
  scanHeaders: [],
  appliesTo: [],
  denyStrings: [],
  source: src(`<filteringRule name="r">`),
  ...over,
});
const deny = (...strings: string[]) =>
  strings.map((s) => ({ string: s, source: src(`<add string="${s}" />`) }));
const withRf = (f: (rf: RequestFilteringConfig) => void) => server("P0", { prefix: "/", rf: f });
/** Reasons from http.sys and request filtering (the handler layer that may follow is not what these tests are about). */
const codes = (req: HttpRequest, s = server("P0")) => {
  const v = evaluate(req, s);
  return v.layer === "handler" ? [] : v.reasons.map((r) => `${r.status}.${r.substatus}`);
};

describe("§7 order: every check fires, reasons come in table order", () => {
  const everything = withRf((rf) => {
    set(rf.requestLimits.maxAllowedContentLength, 10, `<requestLimits maxAllowedContentLength="10" />`);
    set(rf.requestLimits.maxUrl, 10, `<requestLimits maxUrl="10" />`);
    set(rf.requestLimits.maxQueryString, 5, `<requestLimits maxQueryString="5" />`);
    rf.requestLimits.headerLimits.push({
      header: "X-Big",
      sizeLimit: 1,
      source: src(`<add header="X-Big" sizeLimit="1" />`),
    });
    addVerb(rf, "POST", false);
    set(rf.allowHighBitCharacters, false, `<requestFiltering allowHighBitCharacters="false">`);
    addSegment(rf, "bin");
    addExtension(rf, ".ldf", false);
    rf.denyUrlSequences.push({ sequence: "zz", source: src(`<add sequence="zz" />`) });
    rf.denyQueryStringSequences.push({ sequence: "qq", source: src(`<add sequence="qq" />`) });
    rf.filteringRules.push(rule({ scanUrl: true, denyStrings: deny("yy") }));
  });
  it("POST /bin/zz+%C3%A9/yy.ldf?qqqqqq → 413.1 404.14 404.15 431 404.6 404.11 404.12 404.8 404.7 404.5 404.18 404.19", () => {
    const v = evaluate(
      {
        method: "POST",
        target: "/bin/zz+%C3%A9/yy.ldf?qqqqqq",
        headers: { "Content-Length": "100", "x-big": "long" },
      },
      everything,
    );
    assert.deepEqual(
      v.reasons.map((r) => `${r.status}.${r.substatus}`),
      [
        "413.1",
        "404.14",
        "404.15",
        "431.0",
        "404.6",
        "404.11",
        "404.12",
        "404.8",
        "404.7",
        "404.5",
        "404.18",
        "404.19",
      ],
    );
    assert.equal(`${v.status}.${v.substatus}`, "413.1");
    assert.equal(v.orderInferred, true);
    for (const r of v.reasons)
      if (r.check !== "doubleEscaping") assert.ok(r.source, `${r.check} names its config line`);
    // allowDoubleEscaping is not written: the schema default decides, so no line is named
    assert.equal(v.reasons.find((r) => r.check === "doubleEscaping")?.source, null);
  });
  it("a single check is never flagged as an inferred order", () => {
    const v = evaluate({ method: "GET", target: "/a/yy.txt" }, everything);
    assert.deepEqual(
      v.reasons.map((r) => r.check),
      ["filteringRules"],
    );
    assert.equal(v.orderInferred, false);
  });
});

describe("§6.1 alwaysAllowedUrls / §6.12 alwaysAllowedQueryStrings", () => {
  const s = withRf((rf) => {
    rf.alwaysAllowedUrls.push({ url: "/Bin/Setup.LDF", source: src(`<add url="/Bin/Setup.LDF" />`) });
    addSegment(rf, "bin");
    addExtension(rf, ".ldf", false);
    addVerb(rf, "DELETE", false);
    set(rf.requestLimits.maxQueryString, 3, `<requestLimits maxQueryString="3" />`);
    rf.alwaysAllowedQueryStrings.push({ queryString: "a=<b", source: src(`<add queryString="a=&lt;b" />`) });
    rf.denyQueryStringSequences.push({ sequence: "<", source: src(`<add sequence="&lt;" />`) });
  });
  it("exact, case-insensitive match skips URL checks only", () => {
    assert.deepEqual(codes({ method: "GET", target: "/bin/setup.ldf" }, s), []);
    assert.deepEqual(codes({ method: "DELETE", target: "/bin/setup.ldf" }, s), ["404.6"]);
    // not the listed URL (trailing /): URL checks apply; a folder URL has the extension "." (§6.10, MH29)
    assert.deepEqual(codes({ method: "GET", target: "/bin/setup.ldf/" }, s), ["404.8"]);
    assert.deepEqual(codes({ method: "GET", target: "/bin/other.ldf" }, s), ["404.8", "404.7"]);
  });
  it("an allowed query string skips denyQueryStringSequences but not maxQueryString (§13.7)", () => {
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?a=<b" }, s), ["404.15"]);
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?a<" }, s), ["404.18"]);
  });
});

describe("§6.14 applyToWebDAV", () => {
  const s = withRf((rf) => {
    set(rf.fileExtensions.applyToWebDAV, false, `<fileExtensions applyToWebDAV="false">`);
    addExtension(rf, ".ldf", false);
    set(rf.verbs.applyToWebDAV, false, `<verbs applyToWebDAV="false">`);
    addVerb(rf, "PROPFIND", false);
  });
  it("WebDAV verbs and GET with Translate: f are exempt (§13.15); a plain GET is not", () => {
    assert.deepEqual(codes({ method: "PROPFIND", target: "/x.ldf" }, s), []);
    assert.deepEqual(codes({ method: "GET", target: "/x.ldf", headers: { translate: "F" } }, s), []);
    assert.deepEqual(codes({ method: "GET", target: "/x.ldf" }, s), ["404.7"]);
    assert.deepEqual(codes({ method: "GET", target: "/x.ldf", isWebDav: true }, s), []);
    const v = evaluate({ method: "PROPFIND", target: "/x.ldf" }, s);
    assert.ok(v.notes?.some((n) => n.includes("applyToWebDAV")));
  });
});

describe("§6.6 verbs are case-sensitive", () => {
  const s = withRf((rf) => addVerb(rf, "HEAD", false));
  it("HEAD denied, head not", () => {
    assert.deepEqual(codes({ method: "HEAD", target: "/x.txt" }, s), ["404.6"]);
    assert.deepEqual(codes({ method: "head", target: "/x.txt" }, s), []);
  });
});

describe("§6.13 filteringRules", () => {
  it("scanHeaders scans 'Name: value', case-insensitively [INF §13.8]", () => {
    const s = withRf((rf) =>
      rf.filteringRules.push(rule({ scanHeaders: ["User-Agent"], denyStrings: deny("agent: evil") })),
    );
    assert.deepEqual(codes({ method: "GET", target: "/x.txt", headers: { "user-agent": "EVIL bot" } }, s), [
      "404.19",
    ]);
    assert.deepEqual(codes({ method: "GET", target: "/x.txt", headers: { "user-agent": "BITS" } }, s), []);
  });
  it("appliesTo limits a rule to listed extensions (case-insensitive)", () => {
    const s = withRf((rf) =>
      rf.filteringRules.push(rule({ scanUrl: true, appliesTo: [".ASP"], denyStrings: deny("x") })),
    );
    assert.deepEqual(codes({ method: "GET", target: "/x.asp" }, s), ["404.19"]);
    assert.deepEqual(codes({ method: "GET", target: "/x.txt" }, s), []);
  });
  it("denyUnescapedPercent refuses a bare % in a scanned query (UrlScan semantics, §13.14 inferred)", () => {
    const s = withRf((rf) =>
      rf.filteringRules.push(
        rule({ scanQueryString: true, denyUnescapedPercent: true, denyStrings: deny("zzz") }),
      ),
    );
    const v = evaluate({ method: "GET", target: "/x.txt?50%off" }, s);
    assert.deepEqual(
      v.reasons.map((r) => r.check),
      ["filteringRules"],
    );
    assert.match(v.reasons[0].inferred ?? "", /§13\.14/);
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?50%25off" }, s), []);
  });
  it("the query is scanned raw and unescaped (unescapeQueryString)", () => {
    const s = withRf((rf) =>
      rf.filteringRules.push(rule({ scanQueryString: true, denyStrings: deny("<script") })),
    );
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?%3Cscript" }, s), ["404.19"]);
  });
});

describe("§13.12 odd names and §6.10 extension derivation", () => {
  const s = withRf((rf) => {
    set(rf.fileExtensions.allowUnlisted, false, `<fileExtensions allowUnlisted="false">`);
    addExtension(rf, ".txt", true);
  });
  it("a trailing dot gives '.', a leading-dot name its own extension (inferred)", () => {
    const v = evaluate({ method: "GET", target: "/x.txt." }, s);
    assert.equal(`${v.status}.${v.substatus}`, "404.7");
    assert.match(v.reasons[0].inferred ?? "", /§13\.12/);
    const w = evaluate({ method: "GET", target: "/.gitignore" }, s);
    assert.match(w.reasons[0].message, /\.gitignore/);
  });
  it("dots in folder names do not matter", () => {
    assert.deepEqual(codes({ method: "GET", target: "/v1.2/readme.txt" }, s), []);
  });
});

describe("http.sys: the query string", () => {
  it("a raw space in the query → 400; escapes and bare % in the query are opaque to http.sys", () => {
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?a b" }), ["400.0"]);
    assert.deepEqual(codes({ method: "GET", target: "/x.txt?50%" }), []);
  });
  it("a method that is not an HTTP token → 400", () => {
    assert.deepEqual(codes({ method: "GE T", target: "/x.txt" }), ["400.0"]);
  });
});

describe("§10.1 DP virtual directories", () => {
  const rows: [string, string][] = [
    ["/SMS_DP_SMSPKG$/PS100012/a.cab", "content"],
    ["/sms_dp_smspkg$/PS100012/a.cab", "content"],
    ["/SMS_DP_SMSSIG$/PS100012.tar", "content"],
    ["/NOCERT_SMS_DP_SMSPKG$/Content_1.1/a", "content"],
    ["/CCMTOKENAUTH_SMS_DP_SMSPKG$/Content_1.1/a", "content"],
    ["/SMS_DP_SMSPKGE$/ABC00123/a.ldf", "static2007"],
    ["/sms_dp_smspkgc$/ABC00123/a.ldf", "static2007"],
    ["/NOCERT_SMS_DP_SMSPKGD$/ABC00123/a", "static2007"],
    ["/SMS_MP/.sms_aut", "other"],
    ["/CCM_Client/ccmsetup.exe", "other"],
    ["/", "other"],
  ];
  for (const [path, kind] of rows)
    it(`${path} → ${kind}`, () => {
      assert.equal(classifyDpPath(path), kind);
    });
});

describe("§5.3 invalid UTF-8 escapes", () => {
  it("are decoded byte by byte and the verdict says so (inferred); valid UTF-8 carries no such note", () => {
    const v = evaluate({ method: "GET", target: "/pkg/%FF.txt" }, server("P0"));
    assert.equal(v.canonicalPath, "/pkg/\u00ff.txt");
    assert.ok(v.notes?.some((n) => n.includes("not valid UTF-8")));
    const w = evaluate({ method: "GET", target: "/pkg/a\\b.txt" }, server("P0"));
    assert.ok(!w.notes?.some((n) => n.includes("not valid UTF-8")));
    const x = evaluate({ method: "GET", target: "/pkg/r%C3%A9.txt" }, server("P0"));
    assert.ok(!x.notes?.some((n) => n.includes("not valid UTF-8")));
  });
});

describe("§10.3 DP content and file facts", () => {
  it("a missing file in DP content is 404.0 from the content handler; Hidden does not matter there", () => {
    const s = server("P1");
    const missing = evaluate(
      { method: "HEAD", target: "/SMS_DP_SMSPKG$/PS100012/a.cab", file: { exists: false } },
      s,
    );
    assert.equal(`${missing.status}.${missing.substatus}`, "404.0");
    assert.equal(missing.handler, "configmgr-content");
    const hidden = evaluate(
      { method: "HEAD", target: "/SMS_DP_SMSPKG$/PS100012/a.cab", file: { hidden: true } },
      s,
    );
    assert.equal(hidden.layer, "pass");
  });
});

describe("property: reasons always follow the §7 table order", () => {
  const ORDER = [
    "maxAllowedContentLength",
    "maxUrl",
    "maxQueryString",
    "headerLimits",
    "verbs",
    "doubleEscaping",
    "highBitCharacters",
    "hiddenSegments",
    "fileExtensions",
    "denyUrlSequences",
    "denyQueryStringSequences",
    "filteringRules",
  ];
  const s = withRf((rf) => {
    set(rf.requestLimits.maxAllowedContentLength, 10, `<requestLimits maxAllowedContentLength="10" />`);
    set(rf.requestLimits.maxUrl, 12, `<requestLimits maxUrl="12" />`);
    set(rf.requestLimits.maxQueryString, 4, `<requestLimits maxQueryString="4" />`);
    rf.requestLimits.headerLimits.push({
      header: "X-Big",
      sizeLimit: 1,
      source: src(`<add header="X-Big" sizeLimit="1" />`),
    });
    addVerb(rf, "POST", false);
    set(rf.allowHighBitCharacters, false, `<requestFiltering allowHighBitCharacters="false">`);
    addSegment(rf, "bin");
    addExtension(rf, ".ldf", false);
    rf.denyUrlSequences.push({ sequence: "zz", source: src(`<add sequence="zz" />`) });
    rf.denyQueryStringSequences.push({ sequence: "qq", source: src(`<add sequence="qq" />`) });
    rf.filteringRules.push(rule({ scanUrl: true, denyStrings: deny("yy") }));
  });
  const part = fc.constantFrom(
    "bin",
    "zz",
    "yy",
    "a+b",
    "%C3%A9",
    "x.ldf",
    "ok",
    "long-segment-name",
    "%2e",
    "%252e",
  );
  it("for random combinations of violations", () => {
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 5 }),
        fc.option(fc.constantFrom("qq", "q", "qqqqqq")),
        fc.constantFrom("GET", "POST", "HEAD"),
        fc.boolean(),
        fc.boolean(),
        (parts, q, method, big, body) => {
          const headers: Record<string, string> = {};
          if (big) headers["X-Big"] = "long";
          if (body) headers["Content-Length"] = "100";
          const v = evaluate(
            { method, target: `/${parts.join("/")}${q === null ? "" : `?${q}`}`, headers },
            s,
          );
          if (v.layer !== "request-filtering") return;
          const idx = v.reasons.map((r) => ORDER.indexOf(r.check));
          assert.ok(idx.every((i) => i >= 0));
          assert.deepEqual(
            idx,
            [...idx].sort((a, b) => a - b),
          );
          assert.equal(v.orderInferred, v.reasons.length > 1);
          assert.equal(`${v.status}.${v.substatus}`, `${v.reasons[0].status}.${v.reasons[0].substatus}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});
