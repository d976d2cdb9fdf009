/**
 * `check` verdicts per file and URL form, on trees the test builds. Expected codes come from the spec:
 * iis-request-filtering.md §5.2 (http.sys), §6 (request filtering), §9.2 (static file), §10.1 (forms: the sccm? form
 * only exposes the query to path rules), Appendix A (aspnet profile lists); configmgr-dp-bits.md F01–F05.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { URL_FORMS } from "../../src/dp/urlforms.js";
import type { UrlForm } from "../../src/logs/records.js";
import { checkFolder, checkPaths, code, corpus, settings, tempDir, writeTree } from "./helpers.js";

type Row = [rel: string, direct2007: string, direct: string, client: string, why: string];

const seg = (n: number, c = "a") => c.repeat(n);
const deep = (segments: number, len: number) =>
  `${Array.from({ length: segments }, (_, i) => seg(len, String.fromCharCode(97 + (i % 26)))).join("/")}/f.txt`;

// aspnet profile (IIS 10 + ASP.NET: Appendix A lists), no hidden attribute known
const ASPNET: Row[] = [
  [
    "blah/file.ldf",
    "404.7",
    "404.7",
    "200",
    "seed: .ldf denied (F01, §6.10); sccm? form: name in the query (§10.1)",
  ],
  ["bin/Contoso.Core.dll", "404.8", "404.8", "200", "hidden segment bin (F02, §6.9)"],
  ["App_Data/db.txt", "404.8", "404.8", "200", "hidden segment App_Data (Appendix A)"],
  [
    "Microsoft Visual C++ 2008/vcredist_x86.exe",
    "404.11",
    "404.11",
    "200",
    "'+' refused by allowDoubleEscaping=false (F03, §6.7)",
  ],
  ["data/old.mdb", "404.7", "404.7", "200", ".mdb denied (§10.2 CM-PREP)"],
  ["lang/Strings.resx", "404.7", "404.7", "200", ".resx denied (ONEE, §10.1)"],
  ["web.config", "404.8", "404.8", "200", "web.config is a hidden segment (§3.2)"],
  ["setup.exe", "200", "200", "200", "nothing denies .exe"],
  ["résumé.txt", "200", "200", "200", "allowHighBitCharacters defaults to true (§6.8)"],
  ["50% off.txt", "200", "200", "200", "%25%20 decodes once to a non-escape (§6.7 [INF])"],
  ["Tools/x.xyz", "404.3", "200", "200", "no mimeMap for .xyz: static 2007 form only (§9.2, §10.3)"],
  [
    `${seg(261)}.txt`,
    "400",
    "400",
    "200",
    "segment > 260 bytes: http.sys (§5.2); the query has no segment limit",
  ],
  [
    deep(12, 200),
    "200",
    "200",
    "404.15",
    "2,4xx-byte relative path: over maxQueryString 2048 only in the sccm? form (F04)",
  ],
  [
    deep(22, 200),
    "404.14",
    "404.14",
    "404.15",
    "4,4xx-byte path: maxUrl 4096 (F04, §6.3) and maxQueryString",
  ],
  [
    Array.from({ length: 256 }, () => "a").join("/"),
    "400",
    "400",
    "200",
    "more than 255 segments: http.sys (§5.2)",
  ],
  [deep(80, 210), "414", "414", "414", "URL over 16 KB: http.sys (§5.2), whatever the form"],
];

describe("check on the aspnet profile (every layer, every form)", async () => {
  const s = settings({ profile: "aspnet" });
  const { files, tally } = await checkPaths(
    ASPNET.map((r) => r[0]),
    s,
  );
  for (const [rel, d2007, direct, client, why] of ASPNET) {
    test(`${rel.length > 60 ? `${rel.slice(0, 40)}… (${rel.length} chars)` : rel}: ${why}`, () => {
      const r = files.get(rel);
      assert.deepEqual(
        URL_FORMS.map((f) => code(r, f)),
        [d2007, direct, client],
      );
    });
  }
  test("tally counts per form agree with the per-file verdicts", () => {
    const pt = tally.packages[0];
    for (const [i, form] of (URL_FORMS as UrlForm[]).entries()) {
      const refused = ASPNET.filter((r) => !r[1 + i].startsWith("2")).length;
      assert.equal(pt.forms.get(form)?.refused, refused, form);
      assert.equal(pt.forms.get(form)?.ok, ASPNET.length - refused, form);
    }
    assert.equal(tally.files, ASPNET.length);
  });
  test("list rules name their <add> line; http.sys limits and unwritten defaults have no config line", () => {
    for (const c of tally.causes.values()) {
      if (c.reason.check.startsWith("httpsys.")) assert.equal(c.reason.source, null, c.key);
      if (c.reason.check === "fileExtensions" || c.reason.check === "hiddenSegments")
        assert.match(c.reason.source?.text ?? "", /<add (fileExtension|segment)=/, c.key);
    }
    assert.ok(tally.causes.size >= 8);
  });
});

describe("check: the seed package on disk", () => {
  test("ABC00123 containing blah/file.ldf → 404.7 in the 2007 and direct forms, passes in the client form", async () => {
    const root = path.join(tempDir("seed"), "ABC00123");
    writeTree(root, ["blah/file.ldf"]);
    const { files, tally } = await checkFolder(root, settings());
    const r = files.get("blah/file.ldf");
    assert.equal(r?.forms.direct2007?.url, "/SMS_DP_SMSPKGC$/ABC00123/blah/file.ldf");
    assert.equal(r?.forms.direct?.url, "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf");
    assert.equal(r?.forms.client?.url, "/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/file.ldf");
    assert.deepEqual(
      URL_FORMS.map((f) => code(r, f)),
      ["404.7", "404.7", "200"],
    );
    assert.equal(
      r?.forms.direct?.method,
      "HEAD",
      "BITS sends HEAD first; a refused HEAD is what is reported",
    );
    assert.equal(r?.forms.client?.method, "GET");
    assert.equal(tally.refusedFiles, 1);
    const causes = tally.causeList("Default Web Site");
    assert.equal(causes.length, 1);
    assert.match(causes[0].reason.source?.text ?? "", /fileExtension="\.ldf"/);
    assert.deepEqual([...causes[0].forms].sort(), ["direct", "direct2007"]);
    assert.ok(causes[0].fixes.every((f) => f.includes("fileExtension='.ldf'")));
  });
});

describe("check: configurations that change the answer", () => {
  const files = ["setup.exe", "résumé.txt", "noext", "sub/readme.txt"];
  const webConfig = (body: string) => {
    const dir = tempDir("wc");
    const file = path.join(dir, "web.config");
    writeFileSync(
      file,
      `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <security>\n      ${body}\n    </security>\n  </system.webServer>\n</configuration>\n`,
    );
    return settings({ profile: "aspnet", webConfigs: [{ urlPath: "/", file }] });
  };

  test('allowHighBitCharacters="false": non-ASCII names → 404.12 in the path forms only (§6.8)', async () => {
    const { files: r } = await checkPaths(
      files,
      webConfig('<requestFiltering allowHighBitCharacters="false" />'),
    );
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("résumé.txt"), f)),
      ["404.12", "404.12", "200"],
    );
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("setup.exe"), f)),
      ["200", "200", "200"],
    );
  });

  test('fileExtensions allowUnlisted="false" without "." → extensionless names and the …/sccm path itself refused (§10.1)', async () => {
    const s = webConfig(
      '<requestFiltering><fileExtensions allowUnlisted="false"><add fileExtension=".exe" allowed="true" /><add fileExtension=".txt" allowed="true" /></fileExtensions></requestFiltering>',
    );
    const { files: r } = await checkPaths(files, s);
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("setup.exe"), f)),
      ["200", "200", "404.7"],
    );
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("noext"), f)),
      ["404.7", "404.7", "404.7"],
    );
  });

  test('allowUnlisted="false": one cause per extension IIS judged — the sccm? form\'s is "sccm"\'s (none) — each with its fix', async () => {
    const s = webConfig(
      '<requestFiltering><fileExtensions allowUnlisted="false"><add fileExtension=".exe" allowed="true" /></fileExtensions></requestFiltering>',
    );
    const { tally } = await checkPaths(["setup.exe", "data.cab", "x/more.cab", "noext"], s);
    const causes = tally
      .causeList("Default Web Site")
      .filter((c) => c.reason.check === "fileExtensions" && c.files > 0)
      .map((c) => [
        c.label,
        [...c.forms].sort().join(","),
        c.files,
        /fileExtension='([^']*)'/.exec(c.fixes[0])?.[1],
      ]);
    assert.deepEqual(causes, [
      ["(no extension)", "client,direct,direct2007", 4, "."],
      [".cab", "direct,direct2007", 2, ".cab"],
    ]);
    const client = tally.packages[0].forms.get("client");
    assert.deepEqual([...(client?.bySubstatus ?? [])], [["404.7 (no extension)", 4]]);
  });

  test("HEAD denied (corpus apphost-iis10-aspnet-asp-verbdeny.config) → 404.6 on HEAD in every form", async () => {
    const s = settings({ config: path.join(corpus, "iis-config/apphost-iis10-aspnet-asp-verbdeny.config") });
    const { files: r, tally } = await checkPaths(files, s);
    for (const f of files) {
      for (const form of URL_FORMS) {
        assert.equal(code(r.get(f), form), "404.6", `${f} ${form}`);
        assert.equal(r.get(f)?.forms[form]?.method, "HEAD");
      }
    }
    const verbCheck = tally.packages[0].checks.find((c) => c.name === "verb HEAD");
    assert.equal(verbCheck?.refused, true, "the per-package verb check reports HEAD");
    assert.equal(verbCheck?.verdict.substatus, 6);
    assert.equal(tally.packages[0].checks.find((c) => c.name.startsWith("listing"))?.refused, false);
  });

  test("Hidden attribute (injected fact) → 404.9 on the statically served 2007 form only (§9.2, §10.3)", async () => {
    const { files: r } = await checkPaths(["hidden.txt", "plain.txt"], settings(), {
      facts: (abs) => ({ hidden: abs.endsWith("hidden.txt") }),
    });
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("hidden.txt"), f)),
      ["404.9", "200", "200"],
    );
    assert.equal(r.get("hidden.txt")?.hidden, true);
    assert.deepEqual(
      URL_FORMS.map((f) => code(r.get("plain.txt"), f)),
      ["200", "200", "200"],
    );
  });

  test("the per-package checks: PROPFIND listing and ConfigMgr extensions pass on the aspnet profile (§10.2)", async () => {
    const { tally } = await checkPaths(["a.txt"], settings());
    const checks = tally.packages[0].checks;
    assert.ok(checks.some((c) => c.method === "PROPFIND" && c.url === "/SMS_DP_SMSPKG$/ABC00123"));
    for (const ext of [".PCK", ".PKG", ".STA", ".TAR"])
      assert.ok(
        checks.some((c) => c.url === `/SMS_DP_SMSSIG$/ABC00123${ext}` && !c.refused),
        ext,
      );
    assert.ok(checks.every((c) => !c.refused));
  });
});

describe("check: property (fast-check)", () => {
  const s = settings();
  test("any relative path gets a verdict in every form, and each URL parses back to the package and path", async () => {
    const { parseDpUrl } = await import("../../src/dp/urlforms.js");
    const fc = (await import("fast-check")).default;
    const name = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
      .filter((x) => !/[\\/:*?"<>|\u0000-\u001f]/.test(x) && x !== "." && x !== "..");
    await fc.assert(
      fc.asyncProperty(fc.array(name, { minLength: 1, maxLength: 5 }), async (parts) => {
        const rel = parts.join("/");
        const { files } = await checkPaths([rel], s);
        const r = files.get(rel);
        for (const form of URL_FORMS) {
          const fr = r?.forms[form];
          assert.ok(fr && Number.isInteger(fr.verdict.status), form);
          const p = parseDpUrl(fr.url);
          assert.equal(p.form, form);
          assert.equal(p.contentId, "ABC00123");
          assert.equal(p.relativePath, rel);
        }
      }),
      { numRuns: 150 },
    );
  });
});
