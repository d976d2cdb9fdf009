/**
 * diagnose in bounded memory: the streaming path (DP logs read in chunks, folded into capped aggregates) against the
 * array-based implementation it replaced (reference-diagnose.ts, frozen), on every example scenario and on random
 * mixes of DP lines; the chunked line reader against the whole-file reader at any split of the bytes; and a 300k-line
 * log whose counts stay exact while the lists are capped (configmgr-dp-bits.md §4.4, §4.5, §6, §7).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { loadServer } from "../../src/config/load.js";
import { DiagnoseSession, diagnose } from "../../src/diagnose/diagnose.js";
import { CappedValues, EarliestEvents, LIMITS, RecentKeys } from "../../src/diagnose/dp-aggregate.js";
import { diagnosePaths, gather } from "../../src/diagnose/ingest.js";
import type { DiagnoseReport } from "../../src/diagnose/report.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { InputError } from "../../src/errors.js";
import type { HttpErrRecord, W3CRecord } from "../../src/logs/records.js";
import { directiveLineSink, LineDecoder, streamDirectiveFile } from "../../src/logs/stream.js";
import { decodeText, splitLines } from "../../src/logs/text.js";
import { parseHttpErr, parseW3C } from "../../src/logs/w3c.js";
import { diagnose as referenceDiagnose } from "./reference-diagnose.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scenarioDirs = [
  ...readdirSync(path.join(root, "examples", "scenarios"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(root, "examples", "scenarios", e.name)),
  path.join(root, "examples", "seed"),
];

/** The report without the additive fields the reference does not have (stats, lineCount, more). */
function comparable(r: DiagnoseReport): unknown {
  const copy = JSON.parse(JSON.stringify(r)) as DiagnoseReport;
  delete copy.stats;
  for (const f of copy.findings) {
    delete f.lineCount;
    delete f.more;
  }
  return copy;
}

// -- (a) differential: streaming == arrays == the reference ---------------------------------------------------------

for (const dir of scenarioDirs)
  test(`differential: ${path.basename(dir)} — streamed files, arrays and the reference give the same report`, async () => {
    const g = gather({ paths: [dir] });
    const reference = comparable(referenceDiagnose({ ...g, evaluate }));
    assert.deepEqual(comparable(diagnose({ ...gather({ paths: [dir] }), evaluate })), reference);
    const streamed = await diagnosePaths({ paths: [dir] }, { evaluate });
    assert.deepEqual(comparable(streamed), reference);
    assert.ok(streamed.stats && streamed.stats.limitsHit === 0, "no cap is hit by a scenario");
  });

test("differential: the seed narrowed by --content / --client streams to the reference's report", async () => {
  const seed = path.join(root, "examples", "seed");
  for (const extra of [{ contentId: "ABC00123" }, { contentId: "XYZ00001" }, { client: "10.0.1.50" }]) {
    const reference = comparable(referenceDiagnose({ ...gather({ paths: [seed] }), evaluate, ...extra }));
    assert.deepEqual(comparable(await diagnosePaths({ paths: [seed] }, { evaluate, ...extra })), reference);
  }
});

const T0 = Date.UTC(2024, 2, 5, 9, 0, 0);
const CONTENT = ["ABC00123", "ABC00124", "Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1"];
const FILES = ["blah/file.ldf", "setup.exe", "bin/x.dll", "a+b/c.txt", "App_Data/db.mdf", "x/page.aspx", ""];
const CLIENTS = ["10.0.1.50", "10.0.1.51", "10.0.2.7"];
// status.substatus of §6 (refusals, the 401.2 handshake, successes, F12's 200 to a BITS GET, 500.19, 503)
const STATUSES: [number, number, number][] = [
  [200, 0, 0],
  [206, 0, 0],
  [401, 2, 5],
  [401, 1, 0],
  [403, 7, 0],
  [404, 0, 2],
  [404, 7, 0],
  [404, 8, 0],
  [404, 11, 0],
  [404, 6, 0],
  [404, 14, 0],
  [405, 0, 0],
  [500, 19, 33],
  [500, 0, 0],
  [503, 0, 0],
];

const w3cArb = fc
  .record({
    method: fc.constantFrom("GET", "HEAD", "PROPFIND"),
    content: fc.constantFrom(...CONTENT),
    file: fc.constantFrom(...FILES),
    form: fc.constantFrom("plain", "client", "other"),
    client: fc.constantFrom(...CLIENTS),
    server: fc.constantFrom("10.0.0.5", "10.0.0.6"),
    status: fc.constantFrom(...STATUSES),
    minutes: fc.integer({ min: -30, max: 300 }),
    bits: fc.boolean(),
  })
  .map((x): Omit<W3CRecord, "line"> => {
    const stem =
      x.form === "other"
        ? "/CCM_Client/ccmsetup.cab"
        : x.form === "client"
          ? `/SMS_DP_SMSPKG$/${x.content}/sccm`
          : `/SMS_DP_SMSPKG$/${x.content}/${x.file}`;
    const query = x.form === "client" ? `/${x.file}` : "";
    const [status, substatus, win32] = x.status;
    return {
      file: "u_ex240305.log",
      time: T0 + x.minutes * 60_000,
      serverIp: x.server,
      method: x.method,
      uriStem: stem,
      uriQuery: query,
      port: 80,
      username: "",
      clientIp: x.client,
      userAgent: x.bits ? "Microsoft BITS/7.8" : "SMS CCM 5.0",
      userAgentRaw: x.bits ? "Microsoft+BITS/7.8" : "SMS+CCM+5.0",
      referer: "",
      host: "",
      status,
      substatus,
      win32Status: win32,
      timeTaken: 1,
      bytesSent: Number.NaN,
      bytesReceived: Number.NaN,
      siteName: "",
      text: `${x.method} ${stem} ${query || "-"} ${x.client} ${status} ${substatus} ${win32}`,
    };
  });

const httpErrArb = fc
  .record({
    content: fc.constantFrom(...CONTENT),
    client: fc.constantFrom(...CLIENTS),
    reason: fc.constantFrom("AppOffline", "QueueFull", "Timer_ConnectionIdle", "URL_Length", "Client_Reset"),
    minutes: fc.integer({ min: 0, max: 120 }),
  })
  .map(
    (x): Omit<HttpErrRecord, "line"> => ({
      file: "httperr1.log",
      time: T0 + x.minutes * 60_000,
      clientIp: x.client,
      clientPort: 50000,
      serverIp: "10.0.0.5",
      serverPort: 80,
      protocolVersion: "HTTP/1.1",
      method: "GET",
      uri: `/SMS_DP_SMSPKG$/${x.content}/setup.exe`,
      status: x.reason.startsWith("App") || x.reason === "QueueFull" ? 503 : Number.NaN,
      siteId: "1",
      reason: x.reason,
      queueName: "SMS Distribution Points Pool",
      text: `GET /SMS_DP_SMSPKG$/${x.content}/setup.exe ${x.reason}`,
    }),
  );

const aspnet = loadServer({ profile: "aspnet" });
const seedClient = gather({ paths: [path.join(root, "examples", "seed", "client")] }).cmtrace;

test("differential property: any mix of DP lines (± config, ± client job, ± filters) → the reference's report", () => {
  fc.assert(
    fc.property(
      fc.array(w3cArb, { maxLength: 60 }),
      fc.array(httpErrArb, { maxLength: 8 }),
      fc.boolean(),
      fc.boolean(),
      fc.constantFrom(undefined, "ABC00123", "10.0.1.51"),
      (w3c, httperr, withConfig, withClient, filter) => {
        const input = {
          w3c: w3c.map((r, i) => ({ ...r, line: i + 5 })),
          httperr: httperr.map((r, i) => ({ ...r, line: i + 6 })),
          cmtrace: withClient ? seedClient : [],
          bits: [],
          artifacts: [],
          config: withConfig ? { path: "applicationHost.config", server: aspnet, given: true } : undefined,
          evaluate,
          contentId: filter?.startsWith("ABC") ? filter : undefined,
          client: filter?.startsWith("10.") ? filter : undefined,
        };
        assert.deepEqual(comparable(diagnose(input)), comparable(referenceDiagnose(input)));
      },
    ),
    { numRuns: 150 },
  );
});

test("a 401.2 answered by a 2xx before or after it is the handshake; unanswered, it is F08 (either order, any gap)", () => {
  fc.assert(
    fc.property(
      fc.array(w3cArb, { maxLength: 20 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 21 }),
      fc.constantFrom("before", "after", "none"),
      (others, at, okAt, order) => {
        const base = others[0];
        if (!base) return;
        const handshake = { ...base, status: 401, substatus: 2, win32Status: 5, line: 1 };
        const ok = { ...base, status: 200, substatus: 0, win32Status: 0, line: 2 };
        const w3c = others.map((r, i) => ({ ...r, line: i + 3 }));
        w3c.splice(Math.min(at, w3c.length), 0, handshake);
        const h = w3c.indexOf(handshake);
        if (order === "before") w3c.splice(Math.min(okAt, h), 0, ok);
        else if (order === "after") w3c.splice(Math.max(h + 1, Math.min(okAt, w3c.length)), 0, ok);
        const report = diagnose({ w3c, httperr: [], cmtrace: [], bits: [], artifacts: [] });
        if (order !== "none")
          assert.ok(
            !report.findings.some((f) =>
              f.refusals.some(
                (r) =>
                  r.status === 401 &&
                  r.substatus === 2 &&
                  r.loggedUrl === handshake.uriStem + (handshake.uriQuery ? `?${handshake.uriQuery}` : "") &&
                  r.clientIp === handshake.clientIp,
              ),
            ),
            "the answered 401.2 is not a refusal",
          );
        const input = { w3c, httperr: [], cmtrace: [], bits: [], artifacts: [] };
        assert.deepEqual(comparable(report), comparable(referenceDiagnose(input)));
      },
    ),
    { numRuns: 200 },
  );
});

test("DiagnoseSession refuses records after finish() (a report is never silently incomplete)", () => {
  const s = new DiagnoseSession({ cmtrace: [], bits: [], artifacts: [] });
  s.finish();
  assert.throws(() => s.addW3C(parseW3C("#Fields: cs-method\nGET\n").records[0] as W3CRecord));
});

// -- (b) chunk boundaries: the chunked reader == the whole-file reader ---------------------------------------------

const FIELDS =
  "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status sc-substatus";
const lineArb = fc.oneof(
  fc
    .record({
      s: fc.constantFrom("200", "404", "40x", "206"),
      path: fc.constantFrom("a/file.ldf", "Ü/straße.cab", "日本/x.exe", "a+b/c", "emoji😀.txt"),
      ip: fc.constantFrom("10.0.0.1", "fe80::1%4", "not-an-ip"),
    })
    .map(
      (x) =>
        `2024-03-05 09:14:00 10.0.0.5 GET /SMS_DP_SMSPKG$/ABC00123/${x.path} - ${x.ip} Microsoft+BITS/7.8 ${x.s} 7`,
    ),
  fc.constant(FIELDS),
  fc.constant("#Fields: date time c-ip cs-method cs-uri-stem sc-status"),
  fc.constant("2024-03-05 09:15:00 10.0.0.9 HEAD /SMS_DP_SMSPKG$/ABC00123/x.mdf 404"),
  fc.constant("#Software: Microsoft Internet Information Services 10.0"),
  fc.constant(""),
  fc.constant("  \t"),
  fc.constant("garbage line"),
);
const docArb = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 40 }),
  eols: fc.array(fc.constantFrom("\r\n", "\n", "\r"), { minLength: 40, maxLength: 40 }),
  finalEol: fc.boolean(),
  encoding: fc.constantFrom("utf-8", "utf-8-bom", "utf-16le", "utf-16be"),
});

function encode(text: string, encoding: string): Buffer {
  if (encoding === "utf-8") return Buffer.from(text, "utf8");
  if (encoding === "utf-8-bom")
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]);
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  if (encoding === "utf-16le") return le;
  return Buffer.from(le).swap16();
}

function docBytes(d: { lines: string[]; eols: string[]; finalEol: boolean; encoding: string }): Buffer {
  let text = "";
  d.lines.forEach((l, i) => {
    text += l;
    if (i < d.lines.length - 1 || d.finalEol) text += d.eols[i] ?? "\n";
  });
  return encode(text, d.encoding);
}

/** Feeds `bytes` cut at `cuts` to the chunked reader. */
function chunked(kind: "iis-w3c" | "httperr", bytes: Buffer, cuts: number[]) {
  const records: unknown[] = [];
  const { decoder, reader } = directiveLineSink(kind, "u_ex.log", (r) => records.push(r));
  let at = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b).filter((c) => c > 0 && c < bytes.length)) {
    decoder.push(bytes.subarray(at, c));
    at = c;
  }
  decoder.push(bytes.subarray(at));
  decoder.end();
  return { records, skipped: reader.skipped, skippedCount: reader.skippedCount, lines: decoder.lines };
}

test("chunk boundaries: any split of the bytes (inside a CRLF, a UTF-8/UTF-16 sequence, a #Fields line) gives the whole-file records", () => {
  fc.assert(
    fc.property(docArb, fc.array(fc.nat(), { maxLength: 12 }), (d, rawCuts) => {
      const bytes = docBytes(d);
      const whole = parseW3C(bytes, "u_ex.log");
      const got = chunked(
        "iis-w3c",
        bytes,
        rawCuts.map((c) => c % (bytes.length + 1)),
      );
      assert.deepEqual(got.records, whole.records);
      assert.deepEqual(got.skipped, whole.skipped);
      assert.equal(got.skippedCount, whole.skippedCount);
      assert.equal(got.lines, whole.lines);
    }),
    { numRuns: 300 },
  );
});

test("chunk boundaries: every single split offset, and one byte at a time, of a mixed-EOL UTF-8/UTF-16 log", () => {
  const text = `${FIELDS}\r\n2024-03-05 09:14:00 10.0.0.5 HEAD /SMS_DP_SMSPKG$/ABC00123/straße/ü.ldf - 10.0.1.50 Microsoft+BITS/7.8 404 7\r2024-03-05 09:14:01 10.0.0.5 GET /SMS_DP_SMSPKG$/ABC00123/😀.cab - 10.0.1.50 Microsoft+BITS/7.8 200 0\n\r\nbad line\r\n2024-03-05 09:14:0`;
  for (const encoding of ["utf-8", "utf-8-bom", "utf-16le", "utf-16be"]) {
    const bytes = encode(text, encoding);
    const whole = parseW3C(bytes, "u_ex.log");
    assert.ok(
      whole.records.length === 2 && whole.skippedCount === 2,
      "the fixture has records and skipped lines",
    );
    for (let at = 0; at <= bytes.length; at++)
      assert.deepEqual(
        chunked("iis-w3c", bytes, [at]).records,
        whole.records,
        `${encoding} split at byte ${at}`,
      );
    const ones = chunked(
      "iis-w3c",
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
    );
    assert.deepEqual(ones.records, whole.records);
    assert.deepEqual(ones.skipped, whole.skipped);
  }
});

test("chunk boundaries: LineDecoder gives decodeText + splitLines' lines for arbitrary bytes (binary, lone CR, odd UTF-16)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), fc.array(fc.nat(), { maxLength: 8 }), (raw, rawCuts) => {
      const bytes = Buffer.from(raw);
      const expected = splitLines(decodeText(bytes).text).map((l) => [l.text, l.line]);
      const got: [string, number][] = [];
      const dec = new LineDecoder((t, n) => got.push([t, n]));
      let at = 0;
      for (const c of [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
        dec.push(bytes.subarray(at, c));
        at = c;
      }
      dec.push(bytes.subarray(at));
      dec.end();
      assert.deepEqual(got, expected);
    }),
    { numRuns: 400 },
  );
});

test("HTTPERR: the chunked reader == parseHttpErr at any split; a gzip'd file streams to the same records", async () => {
  const text =
    "#Software: Microsoft HTTP API 2.0\r\n#Fields: date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename\r\n2024-03-05 09:14:00 10.0.1.50 50123 10.0.0.5 80 HTTP/1.1 GET /SMS_DP_SMSPKG$/ABC00123/setup.exe 503 1 AppOffline SMS+Distribution+Points+Pool\r\n2024-03-05 09:14:05 10.0.1.50 50124 10.0.0.5 80 HTTP/1.1 GET /SMS_DP_SMSPKG$/ABC00123/setup.exe - 1 Timer_ConnectionIdle -\r\n";
  const bytes = Buffer.from(text);
  const whole = parseHttpErr(bytes, "u_ex.log");
  assert.equal(whole.records.length, 2);
  for (let at = 0; at <= bytes.length; at += 7)
    assert.deepEqual(chunked("httperr", bytes, [at]).records, whole.records);
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-stream-"));
  try {
    const gz = path.join(dir, "httperr1.log.gz");
    writeFileSync(gz, gzipSync(bytes));
    const got: unknown[] = [];
    const { summary } = await streamDirectiveFile(gz, "httperr", (r) => got.push({ ...r, file: "u_ex.log" }));
    assert.deepEqual(got, whole.records);
    assert.equal(summary.records, 2);
    // a corrupt gzip stream is a positioned InputError naming the file
    const bad = path.join(dir, "httperr2.log.gz");
    const z = gzipSync(Buffer.concat([bytes, bytes, bytes]));
    z.fill(0x55, 12, 40);
    writeFileSync(bad, z);
    await assert.rejects(
      streamDirectiveFile(bad, "httperr", () => {}),
      (e: unknown) => e instanceof InputError && /httperr2\.log\.gz.*gzip data is corrupt/.test(e.format()),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// -- the bounded pieces ---------------------------------------------------------------------------------------------

test("CappedValues lists the first values and counts the rest exactly; EarliestEvents keeps the earliest by (time, order)", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 800 }), (xs) => {
      const v = new CappedValues(50, 1_000);
      for (const x of xs) v.add(`v${x}`);
      const distinct = new Set(xs.map((x) => `v${x}`));
      assert.equal(v.listed.size + v.more, distinct.size);
      assert.deepEqual([...v.listed], [...distinct].slice(0, 50));
      const e = new EarliestEvents(20);
      for (const [ord, t] of xs.entries())
        e.offer(t, ord, () => ({
          time: t,
          lane: "dp",
          label: String(ord),
          level: "ok",
          file: "f",
          line: ord,
        }));
      const expected = xs
        .map((t, ord) => ({ t, ord }))
        .sort((a, b) => a.t - b.t || a.ord - b.ord)
        .slice(0, 20)
        .map((x) => x.ord);
      assert.deepEqual(
        e.list().map((x) => x.ord),
        expected,
      );
    }),
  );
});

test("RecentKeys: the last key is always remembered, a key never added never is, every key is held or counted as forgotten", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 ** 53 - 2 }), { maxLength: 400 }),
      fc.integer({ min: 4, max: 64 }),
      (xs, cap) => {
        const k = new RecentKeys(cap);
        for (const x of xs) k.add(x);
        assert.ok(k.size <= cap);
        const last = xs.at(-1);
        if (last !== undefined) assert.ok(k.has(last));
        const distinct = new Set(xs);
        const held = [...distinct].filter((x) => k.has(x)).length;
        assert.equal(held, k.size);
        assert.ok(held + k.forgotten >= distinct.size);
        for (const probe of [1.5, -1, 2 ** 53]) assert.equal(k.has(probe), false);
      },
    ),
  );
  // below a bucket's two slots nothing is forgotten: two keys of one bucket are both remembered
  const k = new RecentKeys(8);
  k.add(3);
  k.add(7);
  assert.ok(k.has(3) && k.has(7) && k.forgotten === 0);
});

test("timeline: content IDs past the lane cap share one lane — exact while it holds them all, said when it could not", () => {
  const line = (
    content: string,
    file: string,
    status: number,
    substatus: number,
    minute: number,
    i: number,
  ) => {
    const [r] = parseW3C(
      `#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status\n2024-03-05 ${String(9 + Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}:00 10.0.0.5 HEAD /SMS_DP_SMSPKG$/${content}/${file} - 10.0.1.50 Microsoft+BITS/7.8 ${status} ${substatus} 0\n`,
      "u_ex240305.log",
    ).records;
    return { ...(r as W3CRecord), line: i + 2 };
  };
  const pkg = (i: number) => `PKG${String(i).padStart(5, "0")}`;
  const busy = Array.from({ length: LIMITS.timelineContentIds + 8 }, (_, i) =>
    line(pkg(i), "setup.exe", 200, 0, i % 60, i),
  );
  const refused = [
    line("ABC00123", "blah/file.ldf", 404, 7, 100, 100),
    line("ZZZ00001", "x/y.mdf", 404, 7, 101, 101),
  ];
  // (a) the shared lane holds every line of its content IDs: the timeline is the whole-input one
  const a = { w3c: [...busy, ...refused], httperr: [], cmtrace: seedClient, bits: [], artifacts: [] };
  const ra = diagnose(a);
  assert.ok(ra.timeline.some((e) => e.lane === "dp" && e.label.includes("x/y.mdf")));
  assert.ok(!ra.notes.some((n) => n.includes("timeline may miss")));
  assert.deepEqual(comparable(ra), comparable(referenceDiagnose(a)));
  // (b) 700 earlier error lines (416, no finding) of content IDs past the cap crowd the shared lane: said, not hidden
  const crowd = Array.from({ length: 700 }, (_, i) =>
    line(pkg(100 + (i % 50)), "setup.exe", 416, 0, 30 + (i % 60), 200 + i),
  );
  const rb = diagnose({ ...a, w3c: [...busy, ...crowd, ...refused] });
  assert.ok(
    rb.timeline.some((e) => e.lane === "dp" && e.label.includes("blah/file.ldf")),
    "the job's package has its own lane",
  );
  assert.ok(rb.notes.some((n) => /^Limit: the timeline may miss DP lines of zzz00001/.test(n)));
});

// -- (c) boundedness: 300k lines, 100k refusals over 50k files and 5k clients ---------------------------------------

test("boundedness: 300k lines (100k refusals, 50k files, 5k clients) → exact counts, capped lists with 'more' counters", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-bounded-"));
  try {
    const head =
      "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r\n";
    const parts: string[] = [head];
    const client = (i: number) => `10.8.${(i % 5000) >> 8}.${(i % 5000) & 255}`;
    for (let i = 0; i < 300_000; i++) {
      const s = String(i % 60).padStart(2, "0");
      const time = `2024-03-05 ${String(9 + Math.floor(i / 60_000)).padStart(2, "0")}:${String(Math.floor(i / 1000) % 60).padStart(2, "0")}:${s}`;
      if (i % 3 === 0) {
        const k = i / 3; // 100k refusals: file k % 50k, client k % 5k
        parts.push(
          `${time} 10.0.0.5 HEAD /SMS_DP_SMSPKG$/ABC${String(k % 20).padStart(5, "0")}/db/f${k % 50_000}.ldf - 80 - ${client(k)} Microsoft+BITS/7.8 - 404 7 0 1\r\n`,
        );
      } else
        parts.push(
          `${time} 10.0.0.5 GET /SMS_DP_SMSPKG$/ABC00001/setup${i % 97}.exe - 80 - ${client(i)} Microsoft+BITS/7.8 - 206 0 0 3\r\n`,
        );
    }
    writeFileSync(path.join(dir, "u_ex240305.log"), parts.join(""));
    parts.length = 0;
    const report = await diagnosePaths({ paths: [dir] }, {});
    const f = report.findings.find((x) => x.id === "F01");
    assert.ok(f, "F01 .ldf found");
    assert.equal(f.lineCount, 100_000);
    assert.equal(f.files.length, LIMITS.listedValues);
    assert.equal(f.more?.files, 50_000 - LIMITS.listedValues);
    assert.equal(f.clients.length, LIMITS.listedValues);
    assert.equal(f.more?.clients, 5_000 - LIMITS.listedValues);
    assert.equal(f.contentIds.length, 20);
    assert.equal(f.more?.contentIds, undefined);
    assert.equal(f.refusals.length, LIMITS.requestsPerFinding);
    assert.equal(
      f.refusals.reduce((n, r) => n + r.count, 0) + (f.more?.requestLines ?? 0),
      100_000,
      "listed refusal counts + lines of unlisted requests = every refused line",
    );
    assert.ok(f.evidence.length <= 2 * LIMITS.requestsPerFinding + 8);
    const stats = report.stats;
    assert.ok(stats);
    assert.equal(stats.dpLines, 300_000);
    assert.ok(stats.retained < stats.retainedCap, `${stats.retained} objects held, cap ${stats.retainedCap}`);
    assert.ok(stats.limitsHit > 0);
    assert.ok(report.notes.some((n) => /^Limit: F01 \.ldf \(100000 DP lines, counted exactly\)/.test(n)));
    const dpStatuses = report.statusBreakdown.filter((s) => s.dpContent);
    assert.deepEqual(
      dpStatuses.map((s) => [s.status, s.substatus, s.count]),
      [
        [206, 0, 200_000],
        [404, 7, 100_000],
      ],
    );
    assert.ok(report.timeline.length <= 600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
