/** `dpdoctor logs` end to end: text and --json contract, filters, exit codes, --strict, bad input, workers. */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { runCli } from "../helpers/cli.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/logs/", import.meta.url));
const dir = path.join(tmpdir(), `dpdoctor-cli-logs-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

const FIELDS =
  "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";
// configmgr-dp-bits §5.5: the reference scenario, HEAD repeated every 10 minutes.
const SEED = [
  "#Software: Microsoft Internet Information Services 7.0",
  "#Version: 1.0",
  "#Date: 2010-06-21 14:02:11",
  FIELDS,
  "2010-06-21 14:02:11 10.1.1.20 PROPFIND /SMS_DP_SMSPKGE$/ABC00123 - 80 DOMAIN\\User 10.1.2.33 SMS+CCM+5.0 207 0 0 31",
  "2010-06-21 14:02:12 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/setup.exe - 80 - 10.1.2.33 Microsoft+BITS/6.7 200 0 0 0",
  "2010-06-21 14:02:12 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 156",
  "2010-06-21 14:12:13 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 140",
  "2010-06-21 14:22:13 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 141",
  "2010-06-21 14:32:14 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 139",
  "2010-06-21 14:40:00 10.1.1.20 GET /SMS_DP_SMSPKG$/Content_6d1c.1/sccm /bin/app.exe 80 - 10.1.2.40 Microsoft+BITS/7.8 401 2 5 0",
  "",
].join("\r\n");
const seedFile = path.join(dir, "u_ex100621.log");
writeFileSync(seedFile, SEED);

describe("dpdoctor logs", () => {
  it("--json follows the contract; the seed 404.7 is refused with its meaning, clients and UTC times; exit 1", () => {
    const r = runCli(["logs", "--json", seedFile]);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.files, [
      { path: seedFile, kind: "iis-w3c", records: 7, skipped: 0, skippedSamples: [] },
    ]);
    assert.equal(j.records, 7);
    assert.equal(j.skipped, 0);
    const s = j.byStatus.find(
      (x: { status: number; substatus: number }) => x.status === 404 && x.substatus === 7,
    );
    assert.equal(s.count, 4);
    assert.match(s.meaning, /request filtering: file extension denied/i);
    assert.equal(j.refused.length, 1); // 401.2 is the normal NTLM challenge, not a refusal
    const ref = j.refused[0];
    assert.deepEqual(
      [
        ref.contentId,
        ref.path,
        ref.form,
        ref.status,
        ref.substatus,
        ref.count,
        ref.clients,
        ref.firstSeen,
        ref.lastSeen,
      ],
      [
        "ABC00123",
        "blah/file.ldf",
        "direct2007",
        404,
        7,
        4,
        ["10.1.2.33"],
        "2010-06-21T14:02:12.000Z",
        "2010-06-21T14:32:14.000Z",
      ],
    );
    for (const k of [
      "contentId",
      "path",
      "form",
      "status",
      "substatus",
      "count",
      "clients",
      "firstSeen",
      "lastSeen",
    ])
      assert.ok(k in ref);
    // The retry pattern: 4 attempts about every 600 s (BITS MinimumRetryDelay)
    assert.equal(j.retries.length, 1);
    assert.deepEqual(
      [j.retries[0].client, j.retries[0].attempts, j.retries[0].steady],
      ["10.1.2.33", 4, true],
    );
    assert.ok(Math.abs(j.retries[0].intervalSeconds - 600) <= 2);
    assert.match(j.retries[0].cadence, /fatal for BITS, so DTS\/CTM re-submits the job/);
    assert.deepEqual(j.timeRange, { first: "2010-06-21T14:02:11.000Z", last: "2010-06-21T14:40:00.000Z" });
    assert.ok(
      j.byKind.some(
        (k: { kind: string; form: string; count: number }) =>
          k.kind === "dp-content" && k.form === "direct2007" && k.count === 6,
      ),
    );
    assert.equal(j.topFailingClients[0].client, "10.1.2.33");
    assert.deepEqual(j.causes, [
      {
        status: 404,
        substatus: 7,
        meaning: s.meaning,
        layer: "request-filtering",
        requests: 4,
        urls: 1,
        contentIds: 1,
        extensions: [{ extension: ".ldf", count: 4 }],
      },
    ]);
  });

  it("text report names the cause, the content ID, the path and the retry cadence", () => {
    const r = runCli(["logs", seedFile]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /404\.7\s+Request filtering: file extension denied/);
    assert.match(r.stdout, /ABC00123\s+ConfigMgr 2007 path form/);
    assert.match(r.stdout, /blah\/file\.ldf\s+4×/);
    assert.match(r.stdout, /10\.1\.2\.33\s+404\.7\s+ABC00123\/blah\/file\.ldf\s+4 attempts/);
  });

  it("filters: --since/--until, --content, --client", () => {
    const a = JSON.parse(
      runCli(["logs", "--json", "--since", "2010-06-21 14:10", "--until", "2010-06-21T14:30:00Z", seedFile])
        .stdout,
    );
    assert.deepEqual([a.records, a.filtered], [2, 5]);
    const day = JSON.parse(
      runCli(["logs", "--json", "--since", "2010-06-21", "--until", "2010-06-21", seedFile]).stdout,
    );
    assert.deepEqual([day.records, day.filtered], [7, 0]); // a bare --until date includes the whole day
    const b = JSON.parse(runCli(["logs", "--json", "--content", "abc00123", seedFile]).stdout);
    assert.equal(b.records, 6);
    const c = JSON.parse(runCli(["logs", "--json", "--client", "10.1.2.40", seedFile]).stdout);
    assert.deepEqual([c.records, c.refused.length], [1, 0]);
    assert.equal(runCli(["logs", "--json", "--client", "10.1.2.40", seedFile]).code, 0);
    const bad = runCli(["logs", "--since", "yesterday", seedFile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since "yesterday": expected a UTC time/);
  });

  it("corrupted line: counted with file:line:col; --strict turns it into exit 2", () => {
    const f = path.join(corpus, "iis", "u_ex_elastic_iis75_test.log");
    const r = runCli(["logs", "--json", f]);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      [j.records, j.skipped, j.files[0].skippedSamples[0].line, j.files[0].skippedSamples[0].column],
      [3, 1, 5, 72],
    );
    const s = runCli(["logs", "--strict", f]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /u_ex_elastic_iis75_test\.log:5:72: c-ip is not an IP address/);
    assert.doesNotMatch(s.stderr, /\n\s+at /); // no stack trace
  });

  it("missing file → exit 2 with the path; a folder of mixed artifacts is read by content", () => {
    const m = runCli(["logs", path.join(dir, "missing.log")]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /missing\.log: no such file or directory/);
    const r = runCli(["logs", "--json", corpus]);
    const j = JSON.parse(r.stdout);
    const kinds = new Set(j.files.map((f: { kind: string }) => f.kind));
    for (const k of ["iis-w3c", "httperr", "cmtrace", "bits-xml", "bits-text", "sms-simple", "unknown"])
      assert.ok(kinds.has(k), k);
    assert.equal(j.records, 9 + 14); // W3C 3+3+3, HTTPERR 4+10
    assert.ok(
      j.byReason.some(
        (x: { reason: string; count: number }) => x.reason === "Timer_ConnectionIdle" && x.count === 6,
      ),
    );
  });

  it("gzip'd logs and worker threads give the same report as one thread", () => {
    const lines = [FIELDS];
    for (let i = 0; i < 3000; i++) {
      const t = new Date(Date.UTC(2024, 4, 1, 0, 0, 0) + i * 20_000).toISOString();
      const st = i % 5 === 0 ? "404 8 0" : "200 0 0";
      lines.push(
        `${t.slice(0, 10)} ${t.slice(11, 19)} 10.0.0.5 GET /SMS_DP_SMSPKG$/PS1000${i % 7}/bin/f${i % 13}.dll - 80 - 10.0.${i % 3}.9 Microsoft+BITS/7.8 ${st} 1`,
      );
    }
    const big = path.join(dir, "u_ex240501.log");
    writeFileSync(big, `${lines.join("\r\n")}\r\n`);
    writeFileSync(path.join(dir, "u_ex240501.log.gz"), gzipSync(`${lines.join("\n")}\n`));
    const one = JSON.parse(runCli(["logs", "--json", "--workers", "1", big]).stdout);
    assert.equal(one.records, 3000);
    assert.equal(one.byStatus.find((x: { status: number }) => x.status === 404).count, 600);
    const gz = JSON.parse(
      runCli(["logs", "--json", "--workers", "1", path.join(dir, "u_ex240501.log.gz")]).stdout,
    );
    delete one.files;
    delete gz.files;
    assert.deepEqual(gz, one);
  });

  it("--fields reads pasted lines without a header (Microsoft Docs 405 excerpt, configmgr-dp-bits §2.5)", () => {
    const f = path.join(corpus, "excerpts", "iis_http405_webdav_propfind_msdocs.log");
    const fields =
      "s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status sc-bytes time-taken";
    const without = JSON.parse(runCli(["logs", "--json", f]).stdout);
    assert.equal(without.files[0].kind, "unknown");
    const r = runCli(["logs", "--json", "--fields", fields, f]);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.records, 3);
    assert.deepEqual(
      j.refused.map((e: { stem: string; status: number; methods: string[]; contentId: string }) => [
        e.stem,
        e.status,
        e.methods,
        e.contentId,
      ]),
      [
        [
          "/CCMTOKENAUTH_SMS_DP_SMSPKG$/Content_<ContentGUID>.1",
          405,
          ["PROPFIND"],
          "Content_<ContentGUID>.1",
        ],
        ["/NOCERT_SMS_DP_SMSPKG$/Content_<ContentGUID>.1", 405, ["PROPFIND"], "Content_<ContentGUID>.1"],
        ["/SMS_DP_SMSPKG$/Content_<ContentGUID>.1", 405, ["PROPFIND"], "Content_<ContentGUID>.1"],
      ],
    );
    assert.equal(j.timeRange, null); // no date/time fields
  });

  it("--sql runs DuckDB over the records (or says how to install it)", () => {
    const r = runCli([
      "logs",
      "--json",
      "--sql",
      'SELECT "sc-status", "sc-substatus", count(*) AS n, "content-id" FROM logs WHERE "sc-status" >= 400 GROUP BY ALL ORDER BY n DESC',
      seedFile,
    ]);
    if (r.code === 2) {
      assert.match(r.stderr, /npm install @duckdb\/node-api/);
      return;
    }
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.deepEqual(rows[0], { "sc-status": 404, "sc-substatus": 7, n: "4", "content-id": "ABC00123" });
    const bad = runCli(["logs", "--sql", "SELECT nope FROM logs", seedFile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--sql: .*the table is "logs"/);
  });
});
