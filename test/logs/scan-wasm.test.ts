/**
 * The WebAssembly tokenizer (wasm/w3c-tokenizer.ts, embedded in src/logs/w3c-tokenizer-wasm.ts) against the
 * JavaScript reader of W3CScanner: the same line splits (LF, CRLF, lone CR), the same record for every good line
 * (status, substatus, time, the laneHash of cs-uri-stem and of the user agent, field positions), and every line it
 * hands back as SLOW is one the JavaScript reader skips or ignores. Then whole scans: scanRange (WebAssembly) ==
 * the line-by-line JavaScript scan, group keys included; any chunk size gives the same aggregate.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { laneHash, type Partial } from "../../src/logs/aggregate.js";
import { LineFeeder, scanRange, W3CScanner } from "../../src/logs/scan.js";
import {
  K_DIRECTIVE,
  K_EMPTY,
  K_OK,
  K_SLOW,
  newTokenizer,
  R,
  RECW,
  STOP_NEED_BYTES,
  setWasmTokenizer,
  Tokenizer,
} from "../../src/logs/w3c-tokenizer.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const NAMES =
  "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
const FIELDS = `#Fields: ${NAMES}`;
/** Another field set (IIS 7.5 defaults order differs; no s-ip, no referer). */
const FIELDS2 =
  "#Fields: date time cs-uri-stem cs-uri-query cs-method s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const bytesOf = (chars: string, min: number, max: number) =>
  fc.array(pick([...chars]), { minLength: min, maxLength: max }).map((a) => a.join(""));
const HIGH = Array.from({ length: 16 }, (_, i) => String.fromCharCode(0xc0 + i)).join("");
const URLCHARS = `abcXYZ019/._-~%+$&=?${HIGH}\t`;

const field = {
  date: fc.oneof(
    { weight: 8, arbitrary: pick(["2024-05-01", "2024-05-02", "2024-12-31", "2010-06-21"]) },
    {
      weight: 1,
      arbitrary: pick(["2024-13-01", "2024-05-00", "2024-05-3x", "2024/05/01", "24-05-01", "2024-05-011"]),
    },
  ),
  time: fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.nat(23), fc.nat(59), fc.nat(60), fc.constantFrom("", ".1", ".12", ".123"))
        .map(
          ([h, m, s, f]) =>
            `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}${f}`,
        ),
    },
    {
      weight: 1,
      arbitrary: pick([
        "24:00:00",
        "10:60:00",
        "10:00:61",
        "10:00:0x",
        "10:00:00.1234",
        "10:00:00,5",
        "10:00",
      ]),
    },
  ),
  ip: fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.8.${a}.${b}`) },
    {
      weight: 2,
      arbitrary: pick([
        "-",
        "::1",
        "fe80::1%12",
        "FE80::ABCD",
        "2001:db8::1:2:3:4:5",
        "1".repeat(16),
        "1".repeat(17),
      ]),
    },
    {
      weight: 1,
      arbitrary: pick(["10.0.0.x", "--", "1".repeat(65), "10.0.0.1\t", "+", "g::1", "10.0.0.1/"]),
    },
  ),
  method: pick(["GET", "HEAD", "PROPFIND", "OPTIONS", "X"]),
  stem: bytesOf(URLCHARS, 0, 90).map((s) => `/${s}`),
  query: fc.oneof(
    { weight: 3, arbitrary: fc.constant("-") },
    { weight: 1, arbitrary: bytesOf(URLCHARS, 1, 40) },
  ),
  agent: fc.oneof(
    pick(["Microsoft+BITS/7.8", "SMS+CCM+5.0", "-", "Microsoft-Delivery-Optimization/10.0"]),
    bytesOf("abcdefgh+/.0123", 0, 70).map((s) => s || "-"),
  ),
  status: fc.oneof(
    { weight: 8, arbitrary: pick(["200", "206", "207", "304", "401", "404", "500", "503"]) },
    { weight: 1, arbitrary: pick(["20x", "099", "1000", "2", "-"]) },
  ),
  sub: fc.oneof(pick(["0", "7", "11", "19", "2"]), pick(["x", "12a", "-", "99"])),
  win32: pick(["0", "64", "1236", "2148074254", "x"]),
};

/** Repeated URLs and agents too: their ordinary lines are counted by the tokenizer itself (no record). */
const STEMS = [
  "/SMS_DP_SMSPKG$/PS100013/a.exe",
  "/SMS_DP_SMSPKG$/Content_1/sccm",
  "/a",
  "/SMS_DP_SMSPKGE$/X/b.ldf",
];
const dataLine = fc
  .record({
    date: field.date,
    time: field.time,
    sip: field.ip,
    method: field.method,
    stem: fc.oneof(field.stem, pick(STEMS)),
    query: fc.oneof(field.query, pick(["-", "/x/y.dll"])),
    cip: field.ip,
    agent: fc.oneof(field.agent, pick(["Microsoft+BITS/7.8", "-"])),
    status: field.status,
    sub: field.sub,
    win32: field.win32,
    extra: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: pick([-1, 1]) }),
  })
  .map((r) => {
    const f = [
      r.date,
      r.time,
      r.sip,
      r.method,
      r.stem,
      r.query,
      "80",
      "-",
      r.cip,
      r.agent,
      "-",
      r.status,
      r.sub,
    ];
    f.push(r.win32, "15");
    if (r.extra < 0) f.pop();
    if (r.extra > 0) f.push("x");
    return f.join(" ");
  });

const anyLine = fc.oneof(
  { weight: 20, arbitrary: dataLine },
  {
    weight: 1,
    arbitrary: pick(["", "   ", "\t", "#Software: Microsoft Internet Information Services 10.0", "#Date: x"]),
  },
);
const eol = pick(["\n", "\r\n", "\r"]);

/** The JavaScript line split (W3CScanner.line rules) of a buffer: [start, end) of each line. */
function jsLines(b: Buffer): [number, number][] {
  const out: [number, number][] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 10) {
      out.push([s, i > s && b[i - 1] === 13 ? i - 1 : i]);
      s = i + 1;
    } else if (b[i] === 13 && i + 1 < b.length && b[i + 1] !== 10) {
      out.push([s, i]);
      s = i + 1;
    }
  }
  return out;
}

/** Every record of b (copied into the tokenizer's buffer; b ends with an LF). */
function records(tok: Tokenizer, b: Buffer): Int32Array[] {
  b.copy(tok.buf, 0);
  const out: Int32Array[] = [];
  let s = 0;
  for (;;) {
    const n = tok.scan(s, b.length, b.length + 1);
    for (let i = 0; i < n; i++) out.push(tok.rec.slice(i * RECW, (i + 1) * RECW));
    s = tok.resume();
    if (tok.reason() === STOP_NEED_BYTES) break;
  }
  assert.equal(s, b.length, "the tokenizer reads every whole line");
  return out;
}

describe("WebAssembly tokenizer", () => {
  it("is the compiled wasm/w3c-tokenizer.ts (npm run build:wasm)", () => {
    const r = spawnSync(process.execPath, [path.join(root, "scripts/build-wasm.mjs"), "--check"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it("runs here (Node 20 has WebAssembly SIMD)", () => {
    assert.ok(newTokenizer(1 << 16));
  });

  it("gives every good line the record the JavaScript reader gives it; SLOW lines are the ones it skips", () => {
    const tok = newTokenizer(1 << 20) as Tokenizer;
    for (const fields of [FIELDS, FIELDS2]) {
      const names = fields
        .slice(9)
        .split(" ")
        .map((x) => x.toLowerCase());
      fc.assert(
        fc.property(fc.array(fc.tuple(anyLine, eol), { minLength: 1, maxLength: 60 }), (rows) => {
          tok.setPlan(names);
          const js = new W3CScanner({}, { text: fields, line: 1 });
          const text = rows.map(([l, e]) => l + e).join("");
          const b = Buffer.from(`${text}\n`, "latin1");
          const recs = records(tok, b);
          assert.deepEqual(
            recs.map((r) => [r[R.start], r[R.end]]),
            jsLines(b),
          );
          for (const r of recs) {
            const [s, e] = [r[R.start], r[R.end]];
            const kind = r[R.kind];
            const want = e === s ? K_EMPTY : b[s] === 35 ? K_DIRECTIVE : undefined;
            if (want !== undefined) {
              assert.equal(kind, want);
              continue;
            }
            const mine = js.jsRecord(b, s, e);
            const line = b.toString("latin1", s, e);
            if (kind === K_SLOW) assert.equal(mine, undefined, `SLOW but read by JavaScript: ${line}`);
            else {
              assert.equal(kind, K_OK, line);
              assert.ok(mine, `OK but skipped by JavaScript: ${line}`);
              // fields 4.. (the JavaScript reader leaves start/end/count/kind to its caller)
              assert.deepEqual([...r.subarray(4)], [...mine.subarray(4)], line);
            }
          }
        }),
        { numRuns: 300 },
      );
    }
  });

  it("hashes like laneHash for every length around the 16-byte blocks and the 32-byte agent prefix", () => {
    const tok = newTokenizer(1 << 20) as Tokenizer;
    tok.setPlan(NAMES.toLowerCase().split(" "));
    const h = new Int32Array(2);
    for (let n = 0; n <= 70; n++) {
      const stem = `/${"abcdefghij".repeat(8).slice(0, n)}`;
      const agent = `${"ABCDEFGHIJ".repeat(8).slice(0, n)}` || "-";
      const line = `2024-05-01 10:00:00 10.1.0.20 GET ${stem} - 80 - 10.8.0.1 ${agent} - 200 0 0 1\n`;
      const b = Buffer.from(line, "latin1");
      const [r] = records(tok, b);
      assert.equal(r[R.kind], K_OK);
      laneHash(b, r[R.stemA], r[R.stemZ], h);
      assert.deepEqual([r[R.h1], r[R.h2]], [h[0], h[1]], `stem of ${n + 1} bytes`);
      laneHash(b, r[R.agentA], Math.min(r[R.agentZ], r[R.agentA] + 32), h);
      assert.equal(r[R.agentHash], h[0], `agent of ${agent.length} bytes`);
      assert.equal(r[R.agentLen], agent.length);
    }
  });
});

/** Everything a Partial holds, group keys included (both paths hash alike). */
function full(p: Partial) {
  return {
    ...p,
    groups: [...p.groups].map(([k, g]) => [k, { ...g, clients: [...g.clients] }]),
    failing: [...p.failing],
    byStatus: [...p.byStatus],
    byKind: [...p.byKind],
    byAgent: [...p.byAgent],
    byReason: [...p.byReason],
  };
}

function jsScan(b: Buffer): Partial {
  const s = new W3CScanner();
  let start = 0;
  for (let nl = b.indexOf(10, start); nl !== -1; nl = b.indexOf(10, start)) {
    s.line(b, start, nl);
    start = nl + 1;
  }
  if (start < b.length) s.line(b, start, b.length);
  return s.finish();
}

const fileLine = fc.oneof(
  { weight: 30, arbitrary: dataLine },
  { weight: 1, arbitrary: pick([FIELDS, FIELDS2, "", "#Software: IIS"]) },
);

describe("WebAssembly scan == JavaScript scan (whole aggregates, group keys included)", () => {
  it("scanRange of a file, and a gzip-style feed in chunks of any size", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-wasm-"));
    try {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fileLine, eol), { minLength: 1, maxLength: 80 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 300 }),
          (rows, finalEol, piece) => {
            let text = `${FIELDS}\r\n${rows.map(([l, e]) => l + e).join("")}`;
            if (!finalEol) text = text.replace(/[\r\n]+$/, "");
            const b = Buffer.from(text, "latin1");
            const want = full(jsScan(b));
            const f = path.join(dir, "u_ex.log");
            writeFileSync(f, b);
            assert.deepEqual(full(scanRange({ file: f, start: 0, end: -1, filters: {} })), want);
            // small buffers and batches: lines across reads, long lines (> chunk), counting in WebAssembly
            const small = { chunkBytes: 200 + piece, maxRecords: 1 + (piece % 5) };
            assert.deepEqual(full(scanRange({ file: f, start: 0, end: -1, filters: {}, ...small })), want);
            const scanner = new W3CScanner();
            const feeder = new LineFeeder(scanner, newTokenizer(512, 2));
            for (let i = 0; i < b.length; i += piece) feeder.push(b.subarray(i, i + piece));
            feeder.end();
            assert.deepEqual(full(scanner.finish()), want);
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("without WebAssembly (DPDOCTOR_NO_WASM, a runtime without SIMD): the JavaScript reader alone", () => {
  it("scanRange and the gzip feeder give the same aggregate", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-nowasm-"));
    setWasmTokenizer(false);
    try {
      assert.equal(newTokenizer(1 << 16), undefined);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fileLine, eol), { minLength: 1, maxLength: 60 }),
          fc.nat(200),
          (rows, piece) => {
            const b = Buffer.from(`${FIELDS}\n${rows.map(([l, e]) => l + e).join("")}`, "latin1");
            const want = full(jsScan(b));
            const f = path.join(dir, "u_ex.log");
            writeFileSync(f, b);
            assert.deepEqual(
              full(scanRange({ file: f, start: 0, end: -1, filters: {}, chunkBytes: 300 })),
              want,
            );
            const scanner = new W3CScanner();
            const feeder = new LineFeeder(scanner);
            for (let i = 0; i < b.length; i += piece + 1) feeder.push(b.subarray(i, i + piece + 1));
            feeder.end();
            assert.deepEqual(full(scanner.finish()), want);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      setWasmTokenizer(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** What `run` returns, and how many lines the WebAssembly tokenizer counted itself meanwhile (harvested counts). */
function countedInWasm<T>(run: () => T): [T, number] {
  const harvest = Object.getOwnPropertyDescriptor(Tokenizer.prototype, "counted")?.value as () => number;
  let counted = 0;
  Tokenizer.prototype.counted = function (this: Tokenizer) {
    const n = harvest.call(this);
    counted += n;
    return n;
  };
  try {
    return [run(), counted];
  } finally {
    Tokenizer.prototype.counted = harvest;
  }
}

describe("ordinary lines counted by the tokenizer itself", () => {
  it("a repeated URL and agent: counted in WebAssembly after the first record, the same aggregate", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-wasm-"));
    try {
      const rows: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const t = `${String(Math.floor(i / 60) % 24).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}:00`;
        const st = i % 97 === 0 ? "404 7" : i % 5 === 0 ? "206 0" : "200 0";
        // one stem with and without a query: two URLs (client form vs direct form), two cache keys
        const [stem, query] =
          i % 3 === 0
            ? ["/SMS_DP_SMSPKG$/Content_1/sccm", i % 2 ? "/x/y.dll" : "-"]
            : [`/SMS_DP_SMSPKG$/P/${i % 7}.exe`, "-"];
        rows.push(
          `2024-05-0${1 + (i % 3)} ${t} 10.1.0.20 GET ${stem} ${query} 80 - 10.8.0.${i % 4} Microsoft+BITS/7.8 - ${st} 0 1`,
        );
      }
      const b = Buffer.from(`${FIELDS}\r\n${rows.join("\r\n")}\r\n`, "latin1");
      const f = path.join(dir, "u_ex.log");
      writeFileSync(f, b);
      const [got, counted] = countedInWasm(() =>
        scanRange({ file: f, start: 0, end: -1, filters: {}, maxRecords: 16 }),
      );
      assert.ok(counted > 2500, `counted in WebAssembly: ${counted}`);
      assert.deepEqual(full(got), full(jsScan(b)));
      // a filter needs every line in JavaScript: nothing is counted in WebAssembly
      const since = Date.UTC(2024, 4, 2);
      const [filtered, none] = countedInWasm(() =>
        scanRange({ file: f, start: 0, end: -1, filters: { since }, maxRecords: 16 }),
      );
      assert.equal(none, 0);
      assert.equal(filtered.records, rows.filter((r) => r >= "2024-05-02").length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a retry storm: repeated refusals of known groups, clients and methods counted in WebAssembly too", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-wasm-"));
    try {
      const rows: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const t = `${String(10 + Math.floor(i / 600)).padStart(2, "0")}:${String(Math.floor(i / 10) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}`;
        const [stem, query] = [
          ["/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", "-"],
          ["/SMS_DP_SMSPKG$/Content_1/sccm", "/bin/tool.dll"],
          ["/SMS_DP_SMSPKG$/Content_1/sccm", "/a+b.exe"],
        ][i % 3];
        // a 401.2 / 401.1 handshake leg now and then (not refusals), a client that logs "-"
        const st =
          i % 50 === 0 ? "401 2 5" : i % 51 === 0 ? "401 1 2148074254" : i % 3 === 0 ? "404 7 0" : "404 11 0";
        const ip = i % 17 === 0 ? "-" : `10.8.0.${i % 4}`;
        rows.push(
          `2024-05-01 ${t} 10.1.0.20 ${i % 2 ? "HEAD" : "GET"} ${stem} ${query} 80 - ${ip} Microsoft+BITS/7.8 - ${st} 1`,
        );
      }
      // one client every 5 s exactly: each request a new attempt (ATTEMPT_GAP_MS is "at least 5 s"), gaps of 5000
      for (let k = 0; k < 12; k++)
        rows.push(
          `2024-05-01 16:00:${String(k * 5).padStart(2, "0")} 10.1.0.20 GET /x.mdb - 80 - 10.9.0.1 Microsoft+BITS/7.8 - 404 7 0 1`,
        );
      const b = Buffer.from(`${FIELDS}\r\n${rows.join("\r\n")}\r\n`, "latin1");
      const f = path.join(dir, "u_ex.log");
      writeFileSync(f, b);
      const [got, counted] = countedInWasm(() =>
        scanRange({ file: f, start: 0, end: -1, filters: {}, maxRecords: 8 }),
      );
      assert.ok(counted > 2800, `counted in WebAssembly: ${counted}`);
      const mdb = [...got.groups.values()].find((g) => g.stem === "/x.mdb");
      assert.equal(mdb?.clients.get("10.9.0.1")?.attempts, 12);
      const want = jsScan(b);
      assert.deepEqual(full(got), full(want));
      assert.ok([...want.groups.values()].some((g) => [...g.clients.values()].some((c) => c.attempts >= 3)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
