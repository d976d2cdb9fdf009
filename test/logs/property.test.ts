/**
 * Property/fuzz tests for every reader: random truncation, random bytes, random line-ending changes, huge lines.
 * Readers never throw; counts stay consistent; the byte scanner (dpdoctor logs) agrees with the typed W3C reader.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { agentLabel, packPartial, unpackPartial, urlInfo } from "../../src/logs/aggregate.js";
import {
  parseBitsEvents,
  parseCmTrace,
  parseHttpErr,
  parseSmsSimple,
  parseW3C,
} from "../../src/logs/index.js";
import { W3CScanner } from "../../src/logs/scan.js";

const corpus = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../../shared/corpus/logs/${rel}`, import.meta.url)));
const W3C = [
  corpus("iis/u_ex_elastic_iis10_multiheader_test.log"),
  corpus("iis/u_ex_elastic_iis75_test.log"),
  corpus("iis/u_ex130207_logjoint_iis75_webdav_propfind.log"),
];
const CMTRACE = corpus("cmtrace/smsts_cb1906_osddownloadcontent_sccm-query-urls.log").subarray(0, 40_000);
const HTTPERR = corpus("httperr/httperr_logjoint_multiblock.log");
const BITS = corpus("bits-events/bits_client_operational_evtx_dump_grep_ctf2021.txt");
const SIMPLE = corpus("excerpts/simple_format_sms_server_log_lines.txt");
const RUNS = { numRuns: 150 };

/** The byte scanner's view of a buffer: records, skipped, status table. */
function scan(buf: Buffer) {
  const s = new W3CScanner();
  let start = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
  for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
    s.line(buf, start, nl);
    start = nl + 1;
  }
  if (start < buf.length) s.line(buf, start, buf.length);
  return s.finish();
}

function typedStatus(buf: Buffer) {
  const r = parseW3C(buf, "f");
  const m = new Map<number, number>();
  for (const x of r.records)
    m.set(x.status * 1000 + x.substatus, (m.get(x.status * 1000 + x.substatus) ?? 0) + 1);
  return { r, m };
}

const eolChange = (b: Buffer, eol: string) =>
  Buffer.from(b.toString("latin1").replace(/\r?\n/g, eol), "latin1");

describe("W3C: the byte scanner agrees with the typed reader", () => {
  it("on every corpus W3C file", () => {
    for (const b of W3C) {
      const p = scan(b);
      const { r, m } = typedStatus(b);
      assert.equal(p.records, r.records.length);
      assert.equal(p.skipped, r.skippedCount);
      assert.deepEqual(new Map([...p.byStatus].sort()), new Map([...m].sort()));
      assert.deepEqual(
        p.skippedSamples.map((s) => [s.line, s.column]),
        r.skipped.map((s) => [s.line, s.column]),
      );
    }
  });

  it("after random truncation, random line-ending changes (CRLF/LF/CR) and random byte damage", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...W3C),
        fc.nat(),
        fc.constantFrom("\r\n", "\n", "\r"),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (src, cut, eol, damage) => {
          const b = Buffer.from(eolChange(src, eol).subarray(0, cut % (src.length + 1)));
          for (const [at, v] of damage) if (b.length) b[at % b.length] = v;
          const p = scan(b);
          const { r, m } = typedStatus(b);
          // A damaged byte may turn text into invalid UTF-8; both readers see the same fields, so counts agree.
          assert.equal(p.records, r.records.length);
          assert.equal(p.skipped, r.skippedCount);
          assert.deepEqual(new Map([...p.byStatus].sort()), new Map([...m].sort()));
        },
      ),
      RUNS,
    );
  });

  it("kind/form and agent counts agree, also with tabs and control bytes inside fields (fast and general tokenizer)", () => {
    // The scanner hashes cs-uri-stem and cs(User-Agent) while splitting (fast path) or after it (a line with a tab,
    // lone CR or other control byte): both must give the typed reader's classification.
    const typedKinds = (buf: Buffer) => {
      const kinds = new Map<string, number>();
      const agents = new Map<string, number>();
      for (const x of parseW3C(buf, "f").records) {
        const k = urlInfo(x.uriStem, x.uriQuery).label;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        const a = agentLabel(x.userAgentRaw);
        agents.set(a, (agents.get(a) ?? 0) + 1);
      }
      return { kinds, agents };
    };
    const sorted = (m: Map<string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    fc.assert(
      fc.property(
        fc.constantFrom(...W3C),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(9, 13, 1, 31, 0x2f, 0x41, 0x2b)), { maxLength: 6 }),
        (src, damage) => {
          const b = Buffer.from(src);
          // data lines only: a damaged "#Fields:" without cs-uri-stem makes every kind "unknown" (by design)
          for (const [at, v] of damage) {
            const i = at % b.length;
            if (b[b.lastIndexOf(10, i) + 1] !== 35 && b[i] !== 10) b[i] = v;
          }
          const p = scan(b);
          const t = typedKinds(b);
          assert.deepEqual(sorted(p.byKind), sorted(t.kinds));
          assert.deepEqual(sorted(p.byAgent), sorted(t.agents));
        },
      ),
      RUNS,
    );
  });

  it("a worker's packed partial unpacks to the same partial (groups, clients, retry statistics)", () => {
    // refusals from several clients, seconds and minutes apart (attempts, gaps), plus the corpus files
    const rows: string[] = [
      "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status sc-substatus",
    ];
    for (let i = 0; i < 60; i++) {
      const t = `00:${String(Math.floor(i / 3)).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}`;
      rows.push(`2024-05-01 ${t} 10.0.0.${i % 4} HEAD /SMS_DP_SMSPKG$/ABC0000${i % 3}/a.ldf - 404 7`);
    }
    const synthetic = Buffer.from(`${rows.join("\r\n")}\r\n`, "latin1");
    const withClients = scan(synthetic);
    assert.ok(
      [...withClients.groups.values()].some(
        (g) => g.clients.size > 1 && [...g.clients.values()].some((c) => c.attempts > 1),
      ),
    );
    for (const b of [synthetic, ...W3C]) {
      const p = scan(b);
      assert.deepEqual(unpackPartial(structuredClone(packPartial(p))), p);
    }
  });

  it("line endings do not change what is read", () => {
    for (const b of W3C) {
      const base = parseW3C(b, "f");
      for (const eol of ["\n", "\r", "\r\n"]) {
        const r = parseW3C(eolChange(b, eol), "f");
        assert.equal(r.records.length, base.records.length);
        assert.deepEqual(
          r.records.map((x) => x.line),
          base.records.map((x) => x.line),
        );
        assert.equal(scan(eolChange(b, eol)).records, base.records.length);
      }
    }
  });

  it("a huge line (1 MB) is skipped or read, never fatal", () => {
    const huge = `2024-01-01 00:00:00 10.0.0.1 GET /${"a".repeat(1 << 20)} - 80 - 10.0.0.2 UA 200 0 0 1`;
    const text = Buffer.from(
      `#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\n${huge}\n${huge} extra\n`,
    );
    const r = parseW3C(text, "f");
    assert.deepEqual([r.records.length, r.skippedCount], [1, 1]);
    const p = scan(text);
    assert.deepEqual([p.records, p.skipped], [1, 1]);
  });

  it("random printable lines under a header: records + skipped = data lines", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme-ascii", maxLength: 200 }), { maxLength: 40 }),
        (lines) => {
          const data = lines
            .map((l) => l.replace(/[\r\n]/g, " "))
            .filter((l) => l.trim().length > 0 && !l.startsWith("#"));
          const text = `#Fields: date time c-ip sc-status\n${data.join("\n")}\n`;
          const r = parseW3C(text, "f");
          assert.equal(r.records.length + r.skippedCount, data.length);
          const p = scan(Buffer.from(text));
          assert.equal(p.records + p.skipped, data.length);
        },
      ),
      RUNS,
    );
  });
});

describe("other readers never throw and stay consistent", () => {
  const readers: [
    string,
    Buffer,
    (b: Buffer) => { records: unknown[]; skippedCount: number; lines: number },
  ][] = [
    ["CMTrace", CMTRACE, (b) => parseCmTrace(b, "f")],
    ["HTTPERR", HTTPERR, (b) => parseHttpErr(b, "f")],
    ["BITS XML", BITS, (b) => parseBitsEvents(b, "f")],
    ["simple SMS", SIMPLE, (b) => parseSmsSimple(b, "f")],
  ];
  for (const [name, src, read] of readers) {
    it(`${name}: random truncation never adds records`, () => {
      const full = read(src).records.length;
      fc.assert(
        fc.property(fc.nat(), (cut) => {
          const r = read(src.subarray(0, cut % (src.length + 1)));
          assert.ok(r.records.length <= full);
          assert.ok(r.skippedCount <= r.lines + 1);
        }),
        RUNS,
      );
    });
    it(`${name}: random bytes and damaged copies never throw`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 4000 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
          (rnd, damage) => {
            read(Buffer.from(rnd));
            const b = Buffer.from(src);
            for (const [at, v] of damage) b[at % b.length] = v;
            const r = read(b);
            assert.ok(r.records.length >= 0);
          },
        ),
        RUNS,
      );
    });
    it(`${name}: line endings (CRLF/LF/CR) do not change the record count`, () => {
      const base = read(src).records.length;
      for (const eol of ["\n", "\r", "\r\n"])
        assert.equal(read(eolChange(src, eol)).records.length, base, eol);
    });
  }

  it("CMTrace: every truncation point either keeps a record whole or skips it (records + skipped ≥ complete records)", () => {
    const text = CMTRACE.toString("utf8");
    fc.assert(
      fc.property(fc.nat(), (cut) => {
        const part = text.slice(0, cut % (text.length + 1));
        const complete = part.split("]LOG]!><time=").length - 1;
        const r = parseCmTrace(part, "f");
        assert.ok(r.records.length <= complete + 1);
        assert.ok(r.records.length + r.skippedCount >= Math.min(complete, r.records.length));
      }),
      RUNS,
    );
  });

  it("CMTrace: a huge multi-line message (2 MB) is one record", () => {
    const msg = `line1\r\n${"x".repeat(2 << 20)}\nline3 ]LOG]!> inside\r<![CDATA[ ]]> `;
    const rec = `<![LOG[${msg}]LOG]!><time="10:00:00.000+0" date="01-01-2024" component="C" context="" type="1" thread="1" file="f">`;
    const r = parseCmTrace(`${rec}\r\n${rec}`, "f");
    assert.equal(r.records.length, 2);
    assert.equal(r.records[0].message, msg);
    assert.equal(r.records[1].line, 5);
  });

  it("agent labels are total (any string)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => typeof agentLabel(s) === "string"),
      RUNS,
    );
  });
});
