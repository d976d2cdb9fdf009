/**
 * `dpdoctor url` through the CLI (test/helpers/cli.ts): the README example, the --json contract, exit codes,
 * malformed config → exit 2 with file:line:col and no stack trace. Corpus configs from ../shared/corpus.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { renderHuman } from "../../src/cli/url.js";
import type { Verdict } from "../../src/engine/types.js";
import { root, runCli } from "../helpers/cli.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));
const ldfLine =
  readFileSync(join(root, "profiles/aspnet/applicationHost.config"), "utf8")
    .split(/\r?\n/)
    .findIndex((l) => l.includes('<add fileExtension=".ldf" allowed="false" />')) + 1;

describe("dpdoctor url", () => {
  it("README seed: HEAD …/blah/file.ldf → 404.7 naming the .ldf line of the aspnet profile", () => {
    const r = runCli(["url", "--method", "HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf"]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(ldfLine > 0);
    assert.match(r.stdout, /404\.7/);
    assert.ok(r.stdout.includes(`profiles/aspnet/applicationHost.config:${ldfLine}`), r.stdout);
    assert.ok(r.stdout.includes('<add fileExtension=".ldf" allowed="false" />'));
    assert.match(r.stderr, /aspnet profile/);
    assert.match(r.stdout, /aspnet profile/);
  });

  it("--json: one object per target with the contract fields; exit 1 when any is refused", () => {
    const r = runCli([
      "url",
      "--json",
      "/SMS_DP_SMSPKG$/PS100012/sccm?/bin/app.ldf",
      "/SMS_DP_SMSPKG$/PS100012/bin/a+b.config",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.length, 2);
    for (const o of out) {
      assert.equal(typeof o.url, "string");
      assert.equal(o.method, "GET");
      assert.deepEqual(Object.keys(o.verdict).sort(), ["layer", "status", "substatus"]);
      assert.equal(typeof o.orderInferred, "boolean");
      for (const x of o.reasons) {
        assert.deepEqual(
          ["check", "message", "source", "status", "substatus"].filter((k) => !(k in x)),
          [],
        );
        if (x.source) assert.deepEqual([typeof x.source.file, typeof x.source.line], ["string", "number"]);
      }
    }
    assert.deepEqual(out[0].verdict, { status: 200, substatus: 0, layer: "pass" });
    assert.deepEqual(out[1].verdict, { status: 404, substatus: 11, layer: "request-filtering" });
    assert.deepEqual(
      out[1].reasons.map((x: { status: number; substatus: number }) => `${x.status}.${x.substatus}`),
      ["404.11", "404.8", "404.7"],
    );
    assert.equal(out[1].orderInferred, true);
  });

  it("--json names the log a refusal lands in: http.sys → HTTPERR, IIS → W3C", () => {
    const r = runCli(["url", "--json", "/a b.txt", "/x.ldf", "/x.txt"]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((o: { log: string | null }) => o.log),
      ["httperr", "w3c", null],
    );
  });

  it("exit 0 when every target passes", () => {
    const r = runCli(["url", "--profile", "iis", "/SMS_DP_SMSPKG$/PS100012/bin/app.ldf"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /passes/);
  });

  it("corpus: HEAD is refused with 404.6 by the verb-deny config", () => {
    const r = runCli([
      "url",
      "--json",
      "--method",
      "HEAD",
      "--config",
      join(corpus, "apphost-iis10-aspnet-asp-verbdeny.config"),
      "/SMS_DP_SMSPKG$/PS100012/sccm?/x.cab",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const [o] = JSON.parse(r.stdout);
    assert.deepEqual([o.verdict.status, o.verdict.substatus], [404, 6]);
    assert.ok(o.reasons[0].source?.line > 0);
  });

  it("corpus: no RequestFilteringModule → no request-filtering refusal", () => {
    const r = runCli([
      "url",
      "--json",
      "--config",
      join(corpus, "apphost-hwc-no-rfmodule.config"),
      "/web.config",
      "/bin/x.ldf",
      "/a+b.txt",
    ]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    for (const o of JSON.parse(r.stdout))
      assert.notEqual(o.verdict.layer, "request-filtering", JSON.stringify(o));
  });

  it("malformed config → exit 2, file:line:col, no stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "dpdoctor-url-"));
    const bad = join(dir, "applicationHost.config");
    writeFileSync(bad, "<configuration>\n  <system.webServer>\n    <security>\n  </system.webServer>\n");
    const r = runCli(["url", "--config", bad, "/x.txt"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /applicationHost\.config:\d+:\d+: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("usage errors → exit 2", () => {
    assert.equal(runCli(["url", "--profile", "nope", "/x"]).code, 2);
    assert.equal(runCli(["url", "--header", "nocolon", "/x"]).code, 2);
    assert.equal(runCli(["url", "--web-config", "nofile", "/x"]).code, 2);
    assert.equal(runCli(["url", "--config", "/nonexistent/applicationHost.config", "/x"]).code, 2);
  });

  it("--web-config applies a web.config to its URL path and names its line; --site must exist", () => {
    const dir = mkdtempSync(join(tmpdir(), "dpdoctor-url-"));
    const wc = join(dir, "web.config");
    writeFileSync(
      wc,
      '<?xml version="1.0"?>\r\n<configuration>\r\n  <system.webServer>\r\n    <security>\r\n      <requestFiltering>\r\n        <fileExtensions>\r\n          <add fileExtension=".cab" allowed="false" />\r\n        </fileExtensions>\r\n      </requestFiltering>\r\n    </security>\r\n  </system.webServer>\r\n</configuration>\r\n',
    );
    const r = runCli([
      "url",
      "--json",
      "--web-config",
      `/SMS_DP_SMSPKG$=${wc}`,
      "/SMS_DP_SMSPKG$/PS100012/a.cab",
      "/other/a.cab",
    ]);
    assert.equal(r.code, 1, r.stderr);
    const [inside, outside] = JSON.parse(r.stdout);
    assert.deepEqual([inside.verdict.status, inside.verdict.substatus], [404, 7]);
    assert.deepEqual([inside.reasons[0].source.file, inside.reasons[0].source.line], [wc, 7]);
    assert.notEqual(outside.verdict.layer, "request-filtering");
    const bad = runCli(["url", "--site", "No Such Site", "/x.txt"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /No Such Site/);
  });

  it("colour only when asked (TTY without NO_COLOR); the text is the same without the escapes", () => {
    const v: Verdict = {
      status: 404,
      substatus: 8,
      layer: "request-filtering",
      reasons: [
        {
          status: 404,
          substatus: 8,
          check: "hiddenSegments",
          message: 'Path segment "bin" is a hidden segment',
          source: { file: "a.config", line: 3, column: 5, text: '<add segment="bin" />' },
        },
      ],
      orderInferred: false,
    };
    const plain = renderHuman("/bin/x", "GET", v, false);
    const coloured = renderHuman("/bin/x", "GET", v, true);
    assert.doesNotMatch(plain, /\u001b\[/);
    assert.match(coloured, /\u001b\[/);
    assert.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ""), plain);
    assert.match(plain, /a\.config:3 {2}<add segment="bin" \/>/);
  });

  it("--help shows examples", () => {
    const r = runCli(["url", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /SMS_DP_SMSPKGE\$/);
  });
});
