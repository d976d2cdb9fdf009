/**
 * Differential test of the whole `dpdoctor logs` aggregate: the byte scanner (scan.ts: cached time of day, URL and
 * agent meaning cached by hash, client IPs hashed while validated) against the typed path (parseW3C records →
 * addW3CRecords in summary.ts, no caches). Time-ordered DP logs with many requests per second, a midnight crossing,
 * refusals from several clients (retry statistics) and URL forms whose meaning depends on the query.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { newPartial, type Partial } from "../../src/logs/aggregate.js";
import { scanRange, W3CScanner } from "../../src/logs/scan.js";
import { addW3CRecords } from "../../src/logs/summary.js";

const corpus = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../../shared/corpus/logs/${rel}`, import.meta.url)));

function scan(buf: Buffer): Partial {
  const s = new W3CScanner();
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
    s.line(buf, start, nl);
    start = nl + 1;
  }
  if (start < buf.length) s.line(buf, start, buf.length);
  return s.finish();
}

function typed(buf: Buffer): Partial {
  const p = newPartial();
  addW3CRecords(p, "f", buf, {});
  return p;
}

const byKey = <T>(m: Map<string | number, T>) =>
  [...m].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));

/** What both paths must agree on (group keys differ by construction: compared by content). */
function view(p: Partial) {
  const groups = [...p.groups.values()]
    .map((g) => ({
      stem: g.stem,
      query: g.query,
      status: g.status,
      substatus: g.substatus,
      kind: g.kind,
      form: g.form,
      contentId: g.contentId,
      path: g.path,
      count: g.count,
      first: g.first,
      last: g.last,
      methods: [...g.methods].sort(),
      clients: [...g.clients.values()].sort((a, b) => (a.ip < b.ip ? -1 : 1)),
    }))
    .sort((a, b) =>
      `${a.stem} ${a.query} ${a.status}.${a.substatus}` < `${b.stem} ${b.query} ${b.status}.${b.substatus}`
        ? -1
        : 1,
    );
  return {
    records: p.records,
    skipped: p.skipped,
    first: p.first,
    last: p.last,
    byStatus: byKey(p.byStatus),
    byKind: byKey(p.byKind),
    groups,
    failing: byKey(p.failing),
  };
}

const FIELDS =
  "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
const GUID = "f228a3c3-2a98-43e8-b0f9-405bc4d72a83";
// [stem, query]: classic package form, DO/content library form whose relative path is the query, root listing,
// Nocert form, an odd extension (§6.10 404.7), a non-DP URL
const URLS: [string, string][] = [
  ["/SMS_DP_SMSPKG$/PS100013/tools/build.csproj", "-"],
  ["/SMS_DP_SMSPKG$/PS100069", "-"],
  [`/SMS_DP_SMSPKG$/${GUID}/sccm`, "/Program+Files/App/app.dll"],
  [`/SMS_DP_SMSPKG$/${GUID}/sccm`, "/Program+Files/App/data.ldf"],
  ["/SMS_DP_SMSPKG$/sccm", `/${GUID}/a.mdb`],
  ["/NOCERT_SMS_DP_SMSPKG$/PS100013/x.mdf", "-"],
  ["/SMS_DP_SMSPKG$/Content_3a6f1b2e-1/sccm", "/b/c.config"],
  ["/CCM_Client/ccmsetup.cab", "-"],
];
// [status, substatus, win32]: success, ranges, refusals, the NTLM handshake legs (not refusals, §2.5)
const STATUSES: [number, number, number][] = [
  [200, 0, 0],
  [206, 0, 0],
  [404, 7, 0],
  [404, 0, 2],
  [401, 2, 5],
  [401, 1, 2148074254],
  [401, 1, 0],
  [500, 0, 64],
  [403, 14, 0],
];
const AGENTS = ["Microsoft+BITS/7.8", "SMS+CCM+5.0", "Microsoft-Delivery-Optimization/10.0", "-"];
const METHODS = ["GET", "HEAD", "PROPFIND"];

const line = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 7_200 })),
  ms: fc.option(fc.integer({ min: 0, max: 999 }), { freq: 4 }),
  url: fc.nat(URLS.length - 1),
  status: fc.nat(STATUSES.length - 1),
  client: fc.nat(5),
  agent: fc.nat(AGENTS.length - 1),
  method: fc.nat(METHODS.length - 1),
});

type Row = typeof line extends fc.Arbitrary<infer T> ? T : never;

function render(rows: Row[], start: number, eol: string): Buffer {
  const out = ["#Software: Microsoft Internet Information Services 10.0", FIELDS];
  let t = start;
  for (const r of rows) {
    t += r.dt * 1000;
    const d = new Date(t).toISOString();
    const time = r.ms === null ? d.slice(11, 19) : `${d.slice(11, 19)}.${String(r.ms).padStart(3, "0")}`;
    const [stem, query] = URLS[r.url];
    const [st, sub, w32] = STATUSES[r.status];
    out.push(
      `${d.slice(0, 10)} ${time} 10.1.0.20 ${METHODS[r.method]} ${stem} ${query} 80 - 10.8.0.${r.client} ${AGENTS[r.agent]} - ${st} ${sub} ${w32} 15`,
    );
  }
  return Buffer.from(`${out.join(eol)}${eol}`, "latin1");
}

describe("logs aggregate: byte scanner == typed reader path (times, groups, retry statistics, URL meaning)", () => {
  it("on the corpus W3C logs", () => {
    for (const f of [
      "iis/u_ex_elastic_iis10_multiheader_test.log",
      "iis/u_ex_elastic_iis75_test.log",
      "iis/u_ex130207_logjoint_iis75_webdav_propfind.log",
    ]) {
      const b = corpus(f);
      assert.deepEqual(view(scan(b)), view(typed(b)), f);
    }
  });

  it("on random time-ordered DP logs (same-second runs, midnight and month crossings, CRLF or LF)", () => {
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 120 }),
        fc.constantFrom(
          Date.UTC(2024, 4, 1, 9),
          Date.UTC(2024, 4, 31, 23, 58, 30),
          Date.UTC(2024, 1, 29, 23, 59),
        ),
        fc.constantFrom("\n", "\r\n"),
        (rows, start, eol) => {
          const b = render(rows, start, eol);
          const s = view(scan(b));
          assert.equal(s.records, rows.length);
          assert.deepEqual(s, view(typed(b)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a damaged time or date after a cached one is skipped, not read as the cached time", () => {
    const rows = [
      "2024-05-01 10:00:00 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-01 10:00:0x 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-01 10:00:00 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-0x 10:00:00 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-01 10:00:00.5 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-01 10:00:00 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
      "2024-05-01 25:00:00 10.1.0.20 GET /a - 80 - 10.8.0.1 UA - 404 0 0 1",
    ];
    const b = Buffer.from(`${FIELDS}\n${rows.join("\n")}\n`, "latin1");
    const s = view(scan(b));
    assert.equal(s.skipped, 3);
    assert.deepEqual(s, view(typed(b)));
  });

  it("c-ip / s-ip checked during the split: the typed reader's rule (isLoggedIp, '-' allowed) for every shape", () => {
    const shapes = [
      "-",
      "10.0.0.1",
      "fe80::1%12",
      "::1",
      "10.0.0.x",
      "--",
      "1".repeat(64),
      "1".repeat(65),
      "10.0.0.1\t",
      "%",
      "+",
    ];
    const rows: string[] = [];
    for (const c of shapes)
      for (const sip of ["10.1.0.20", c])
        rows.push(`2024-05-01 10:00:00 ${sip} GET /a - 80 - ${c} UA - 404 0 0 1`);
    const b = Buffer.from(`${FIELDS}\n${rows.join("\n")}\n`, "latin1");
    const s = view(scan(b));
    assert.ok(s.skipped > 0 && s.records > 0);
    assert.deepEqual(s, view(typed(b)));
  });
});

describe("scanRange: a line longer than maxLineBytes", () => {
  it("is skipped and counted with its line number; the lines around it are read as without it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-longline-"));
    try {
      const rows = [
        "2024-05-01 10:00:00 10.1.0.20 GET /SMS_DP_SMSPKG$/PS100013/x.mdf - 80 - 10.8.0.1 Microsoft+BITS/7.8 - 404 7 0 1",
        "2024-05-01 10:00:01 10.1.0.20 HEAD /a - 80 - 10.8.0.2 UA - 200 0 0 1",
        "2024-05-01 10:00:02 10.1.0.20 GET /b - 80 - 10.8.0.3 UA - 404 0 0 1",
      ];
      // 9 MiB: longer than the 4 MiB read buffer and than the 6 MiB limit (the buffer grows once, to the limit)
      const long = `2024-05-01 10:00:03 10.1.0.20 GET /${"x".repeat(9 << 20)} - 80 - 10.8.0.4 UA - 404 0 0 1`;
      const text = (lines: string[], eol: string) => `${[FIELDS, ...lines].join(eol)}${eol}`;
      for (const eol of ["\n", "\r\n"]) {
        const f = path.join(dir, "u_ex_long.log");
        writeFileSync(f, text([rows[0], long, rows[1], rows[2]], eol), "latin1");
        const p = scanRange({ file: f, start: 0, end: -1, filters: {}, maxLineBytes: 6 << 20 });
        assert.equal(p.skipped, 1);
        assert.deepEqual(
          p.skippedSamples.map((x) => x.line),
          [3],
        );
        assert.equal(p.lines, 5);
        const without = scan(Buffer.from(text(rows, eol), "latin1"));
        assert.deepEqual({ ...view(p), skipped: 0 }, view(without));
        // the default limit (1 GiB) reads the same file whole
        assert.equal(scanRange({ file: f, start: 0, end: -1, filters: {} }).records, 4);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
