import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  buildDpUrl,
  decodePercent,
  encodeSegment,
  parseDpUrl,
  URL_FORMS,
  vdir2007,
} from "../../src/dp/urlforms.js";

describe("buildDpUrl (configmgr spec §2, iis spec §10.1)", () => {
  // [form, contentId, relativePath, drive, expected raw target]
  const table: [Parameters<typeof buildDpUrl>[0], string, string, string | undefined, string][] = [
    // seed line: `HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf` (configmgr spec §2.5) — `$` sent raw
    ["direct2007", "ABC00123", "blah/file.ldf", "E", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf"],
    ["direct2007", "ABC00123", "blah/file.ldf", undefined, "/SMS_DP_SMSPKGC$/ABC00123/blah/file.ldf"],
    ["direct", "ABC00123", "blah/file.ldf", undefined, "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf"],
    ["client", "ABC00123", "blah/file.ldf", undefined, "/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/file.ldf"],
    // ONEE example (iis spec §10.1, vector 67): spaces → %20
    [
      "direct",
      "Content_x.1",
      "New Text Document.cs",
      undefined,
      "/SMS_DP_SMSPKG$/Content_x.1/New%20Text%20Document.cs",
    ],
    // `+` stays raw (F03 / §6.7), `%` → %25 (§6.7 `50%25%20off.txt`), `#` → %23
    [
      "direct",
      "P",
      "Microsoft Visual C++ 2008/vcredist_x86.exe",
      undefined,
      "/SMS_DP_SMSPKG$/P/Microsoft%20Visual%20C++%202008/vcredist_x86.exe",
    ],
    ["direct", "P", "50% off.txt", undefined, "/SMS_DP_SMSPKG$/P/50%25%20off.txt"],
    ["direct", "P", "100%41.txt", undefined, "/SMS_DP_SMSPKG$/P/100%2541.txt"],
    ["direct", "P", "C#/a.cs", undefined, "/SMS_DP_SMSPKG$/P/C%23/a.cs"],
    // non-ASCII → UTF-8 %XX (iis spec §5.3)
    ["client", "P", "résumé.txt", undefined, "/SMS_DP_SMSPKG$/P/sccm?/r%C3%A9sum%C3%A9.txt"],
    // Windows separators are folder separators
    ["direct2007", "P", "x86\\MigApp.xml", "d", "/SMS_DP_SMSPKGD$/P/x86/MigApp.xml"],
    // package root = PROPFIND listing target
    ["direct", "P", "", undefined, "/SMS_DP_SMSPKG$/P"],
  ];
  for (const [form, contentId, rel, drive, expected] of table) {
    test(`${form} ${rel || "(root)"}`, () => {
      assert.equal(buildDpUrl(form, { contentId, relativePath: rel, drive }), expected);
    });
  }
  test("vdir override (NOCERT_) and bad drive", () => {
    assert.equal(
      buildDpUrl("direct", { contentId: "P", relativePath: "a", vdir: "NOCERT_SMS_DP_SMSPKG$" }),
      "/NOCERT_SMS_DP_SMSPKG$/P/a",
    );
    assert.throws(() => vdir2007("CD"), RangeError);
    assert.equal(vdir2007("e:"), "SMS_DP_SMSPKGE$");
  });
});

describe("parseDpUrl (configmgr spec §7.1/§7.2)", () => {
  // [stem, query | undefined, expected]
  const table: [string, string | undefined, object][] = [
    [
      "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf",
      "-",
      {
        kind: "dp-content",
        form: "direct2007",
        vdir: "SMS_DP_SMSPKGE$",
        contentId: "ABC00123",
        relativePath: "blah/file.ldf",
      },
    ],
    // CM2007 TS line shows %24 (§2.1)
    [
      "http://dp01:80/SMS_DP_SMSPKGE%24/ABC00123/Tools/OSDResults/OSDResults.exe",
      undefined,
      {
        kind: "dp-content",
        form: "direct2007",
        vdir: "SMS_DP_SMSPKGE$",
        contentId: "ABC00123",
        relativePath: "Tools/OSDResults/OSDResults.exe",
      },
    ],
    // IIS log: stem …/sccm + query /<rel> (§2.3)
    [
      "/SMS_DP_SMSPKG$/Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1/sccm",
      "/setup.exe",
      {
        kind: "dp-content",
        form: "client",
        vdir: "SMS_DP_SMSPKG$",
        contentId: "Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1",
        relativePath: "setup.exe",
      },
    ],
    // PNNL capture request target (§2.3)
    [
      "/SMS_DP_SMSPKG$/6249ada8-c6de-4e2d-b84b-bfb116b7055e/sccm?/AM_Delta_Patch_1.225.2944.0.exe",
      undefined,
      {
        kind: "dp-content",
        form: "client",
        vdir: "SMS_DP_SMSPKG$",
        contentId: "6249ada8-c6de-4e2d-b84b-bfb116b7055e",
        relativePath: "AM_Delta_Patch_1.225.2944.0.exe",
      },
    ],
    // case-insensitive vdir, NOCERT_/CCMTOKENAUTH_ prefixes (§2.2)
    [
      "/nocert_sms_dp_smspkg$/Content_x.1",
      "-",
      { kind: "dp-content", form: "direct", vdir: "nocert_sms_dp_smspkg$", contentId: "Content_x.1" },
    ],
    [
      "/CCMTOKENAUTH_SMS_DP_SMSPKG$/P/sccm?/a%20b/c.txt",
      undefined,
      {
        kind: "dp-content",
        form: "client",
        vdir: "CCMTOKENAUTH_SMS_DP_SMSPKG$",
        contentId: "P",
        relativePath: "a b/c.txt",
      },
    ],
    // root listing href form `/SMS_DP_SMSPKG$/sccm?/MAX00003/` (§2.3)
    [
      "http://SCCM.University.liberty.edu/SMS_DP_SMSPKG$/sccm?/MAX00003/",
      undefined,
      { kind: "dp-content", form: "client", vdir: "SMS_DP_SMSPKG$", contentId: "MAX00003" },
    ],
    [
      "http://PS1DP.contoso.com/SMS_DP_SMSSIG$/Content_63fb.1.tar",
      undefined,
      { kind: "dp-signature", vdir: "SMS_DP_SMSSIG$", contentId: "Content_63fb.1" },
    ],
    [
      "http://src:8003/SCCM_BranchCache$/SS10000C/sccm?/install.wim",
      undefined,
      { kind: "peer-cache", vdir: "SCCM_BranchCache$", contentId: "SS10000C", relativePath: "install.wim" },
    ],
    ["/SMS_MP/.sms_aut", "SITESIGNCERT", { kind: "mp" }],
    [
      "https://x.cloudapp.net/CCM_Proxy_ServerAuth/72057594037927939/SMS_DP_SMSPKG$/downloadrestservice.svc/x",
      undefined,
      { kind: "cmg" },
    ],
    ["/Content/A1/0123456789ABCDEF0123456789ABCDEF01234567.cab", "-", { kind: "wsus" }],
    ["/index.html", "-", { kind: "other" }],
    ["/", undefined, { kind: "other" }],
  ];
  for (const [stem, query, expected] of table) {
    test(`${stem}${query && query !== "-" ? ` ${query}` : ""}`, () => {
      assert.deepEqual(parseDpUrl(stem, query), expected);
    });
  }
  test("IIS W3C stems write spaces as '+': opt-in plusIsSpace", () => {
    const stem = "/SMS_DP_SMSPKGD$/ABC00055/Program+Files/x.msi";
    assert.equal(parseDpUrl(stem, "-").relativePath, "Program+Files/x.msi");
    assert.equal(parseDpUrl(stem, "-", { plusIsSpace: true }).relativePath, "Program Files/x.msi");
  });
  test("decodePercent leaves bare % and decodes once", () => {
    assert.equal(decodePercent("50%25%20off%"), "50% off%");
    assert.equal(decodePercent("%252e"), "%2e");
    assert.equal(decodePercent("%zz%4"), "%zz%4");
  });
});

/** A Windows file/folder name: no `\ / : * ? " < > |`, no controls, not "." or "..", no lone surrogates. */
const windowsName = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
  .filter(
    (s) =>
      !/[\\/:*?"<>|\u0000-\u001f]/.test(s) &&
      s !== "." &&
      s !== ".." &&
      !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "")),
  );
const relPath = fc.array(windowsName, { minLength: 1, maxLength: 6 }).map((a) => a.join("/"));
const contentId = fc.stringMatching(/^(?:[A-Z0-9]{3}[0-9A-F]{5}|Content_[0-9a-f-]{8,36}\.[1-9])$/);

describe("round trip build → parse (fast-check)", () => {
  test("every form returns the same content ID and relative path", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...URL_FORMS),
        contentId,
        relPath,
        fc.constantFrom("C", "D", "e"),
        (form, id, rel, drive) => {
          const target = buildDpUrl(form, { contentId: id, relativePath: rel, drive });
          const p = parseDpUrl(target);
          assert.equal(p.kind, "dp-content");
          assert.equal(p.form, form);
          assert.equal(p.contentId, id);
          assert.equal(p.relativePath, rel);
        },
      ),
      { numRuns: 400 },
    );
  });
  test("the wire form is plain printable ASCII without space or #, and the path has one '?' at most", () => {
    fc.assert(
      fc.property(fc.constantFrom(...URL_FORMS), contentId, relPath, (form, id, rel) => {
        const t = buildDpUrl(form, { contentId: id, relativePath: rel });
        assert.match(t, /^\/[\x21-\x7e]*$/);
        assert.ok(!t.includes("#"));
        assert.equal(t.split("?").length, form === "client" ? 2 : 1);
      }),
      { numRuns: 300 },
    );
  });
  test("IIS-log split (stem + query) parses like the whole target", () => {
    fc.assert(
      fc.property(fc.constantFrom(...URL_FORMS), contentId, relPath, (form, id, rel) => {
        const t = buildDpUrl(form, { contentId: id, relativePath: rel });
        const i = t.indexOf("?");
        const [stem, query] = i < 0 ? [t, "-"] : [t.slice(0, i), t.slice(i + 1)];
        assert.deepEqual(parseDpUrl(stem, query), parseDpUrl(t));
      }),
      { numRuns: 200 },
    );
  });
  test("parseDpUrl never throws on arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        (s, q) => {
          const p = parseDpUrl(s, q);
          assert.equal(typeof p.kind, "string");
        },
      ),
      { numRuns: 500 },
    );
  });
  test("encodeSegment output decodes back to the name", () => {
    fc.assert(
      fc.property(windowsName, (n) => {
        assert.equal(decodePercent(encodeSegment(n)), n);
      }),
    );
  });
});
