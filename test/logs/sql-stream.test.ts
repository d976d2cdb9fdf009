/**
 * `dpdoctor logs --sql` reads W3C logs in whole-line pieces (bounded memory): the records, and their line numbers,
 * must be exactly those of the typed reader over the whole file, whatever the piece size — `#Fields:` changes
 * mid-file (§4.4), CRLF/LF/lone CR, a UTF-8 BOM, a truncated last line, gzip.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import type { W3CRecord } from "../../src/logs/records.js";
import { forEachW3CRecord } from "../../src/logs/sql.js";
import { parseW3C } from "../../src/logs/w3c.js";

const dir = path.join(tmpdir(), `dpdoctor-sql-stream-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

const corpus = (rel: string) =>
  readFileSync(fileURLToPath(new URL(`../../../shared/corpus/logs/${rel}`, import.meta.url)));

async function streamed(file: string, chunk: number, fields?: string): Promise<W3CRecord[]> {
  const out: W3CRecord[] = [];
  await forEachW3CRecord(file, fields, (r) => out.push(r), chunk);
  return out;
}

let n = 0;
function write(bytes: Buffer, gz = false): string {
  const f = path.join(dir, `u_ex${n++}.log${gz ? ".gz" : ""}`);
  writeFileSync(f, gz ? gzipSync(bytes) : bytes);
  return f;
}

const HEAD_A = "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status sc-substatus";
const HEAD_B = "#FIELDS: date time cs-uri-stem sc-status c-ip";
const dataA = (i: number) =>
  `2024-05-01 10:00:${String(i % 60).padStart(2, "0")} 10.0.0.${i % 7} GET /SMS_DP_SMSPKG$/PS10000${i % 3}/f${i}.ldf - 404 7`;
const dataB = (i: number) => `2024-05-01 11:00:00 /SMS_DP_SMSPKG$/sccm 200 10.0.0.${i % 5}`;

describe("--sql reads W3C logs in pieces: same records and line numbers as the whole-file reader", () => {
  it("corpus W3C logs, every piece size from tiny to one piece", async () => {
    for (const rel of [
      "iis/u_ex_elastic_iis10_multiheader_test.log",
      "iis/u_ex_elastic_iis75_test.log",
      "iis/u_ex130207_logjoint_iis75_webdav_propfind.log",
    ]) {
      const b = corpus(rel);
      const f = write(b);
      const whole = parseW3C(b, f).records;
      assert.ok(whole.length > 0, rel);
      for (const chunk of [16, 100, 997, 4096, 1 << 22])
        assert.deepEqual(await streamed(f, chunk), whole, rel);
      const g = write(b, true);
      assert.deepEqual(await streamed(g, 333), parseW3C(b, g).records, `${rel}.gz`);
    }
  });

  it("random logs: #Fields changes, line ends, BOM, truncation, gzip", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant("A"), fc.constant("B"), fc.nat(500), fc.constant("")), {
          maxLength: 60,
        }),
        fc.array(fc.constantFrom("\n", "\r\n", "\r"), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 16, max: 700 }),
        fc.boolean(),
        async (items, eols, bom, cut, chunk, gz) => {
          let head = "A";
          const lines = items.map((x) => {
            if (x === "A" || x === "B") {
              head = x;
              return x === "A" ? HEAD_A : HEAD_B;
            }
            if (x === "") return "";
            return head === "A" ? dataA(x) : dataB(x);
          });
          const text = lines.map((l, i) => l + eols[i % eols.length]).join("");
          const full = Buffer.concat([
            Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []),
            Buffer.from(text, "latin1"),
          ]);
          const b = full.subarray(0, cut % (full.length + 1));
          const f = write(b, gz);
          const got = await streamed(f, chunk);
          assert.deepEqual(
            got.map((r) => [r.line, r.text, r.time, r.clientIp, r.status]),
            parseW3C(b, f).records.map((r) => [r.line, r.text, r.time, r.clientIp, r.status]),
          );
        },
      ),
      { numRuns: 120 },
    );
  });

  it("--fields for a pasted excerpt without a header", async () => {
    const b = Buffer.from(`${[1, 2, 3, 4, 5].map((i) => dataB(i)).join("\r\n")}\r\n`, "latin1");
    const f = write(b);
    const fields = "date time cs-uri-stem sc-status c-ip";
    const got = await streamed(f, 40, fields);
    assert.equal(got.length, 5);
    assert.deepEqual(got, parseW3C(b, f, { fields }).records);
  });
});
