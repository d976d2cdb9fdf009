/** summarizeLogs: byte ranges (split at line boundaries, #Fields carried into each range) merge to the one-piece result. */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { summarizeLogs } from "../../src/logs/summary.js";

const dir = path.join(tmpdir(), `dpdoctor-summary-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

const F1 =
  "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";
const F2 =
  "#Fields: date time s-sitename cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status";

function makeLog(n: number, seed: number): { text: string; bad: number[] } {
  const lines: string[] = [F1];
  const bad: number[] = [];
  let fields = 1;
  let x = seed;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.02) {
      fields = fields === 1 ? 2 : 1; // the field set changes mid-file (§4.4)
      lines.push(fields === 1 ? F1 : F2);
    }
    const t = new Date(Date.UTC(2024, 4, 1) + i * 7_000).toISOString();
    const d = t.slice(0, 10);
    const tm = t.slice(11, 19);
    const pkg = `PS10000${Math.floor(rnd() * 5)}`;
    const [st, sub] = rnd() < 0.2 ? ["404", "7"] : ["200", "0"];
    const ip = `10.0.0.${Math.floor(rnd() * 4)}`;
    if (rnd() < 0.03) {
      lines.push(`${d} ${tm} garbage line`);
      bad.push(lines.length);
      continue;
    }
    lines.push(
      fields === 1
        ? `${d} ${tm} 10.1.0.20 HEAD /SMS_DP_SMSPKGE$/${pkg}/db/x.ldf - 80 - ${ip} Microsoft+BITS/7.8 ${st} ${sub} 0 15`
        : `${d} ${tm} W3SVC1 GET /SMS_DP_SMSPKG$/${pkg}/sccm /db/x.ldf ${ip} Microsoft+BITS/7.8 ${st} ${sub} 0`,
    );
  }
  return { text: `${lines.join("\r\n")}\r\n`, bad };
}

describe("summarizeLogs over byte ranges", () => {
  it("any range size gives the same report, and skipped lines keep their file line numbers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 200, max: 20_000 }),
        fc.integer({ min: 1, max: 1000 }),
        async (rangeBytes, seed) => {
          const { text, bad } = makeLog(600, seed);
          const f = path.join(dir, `u_ex_${seed}.log`);
          writeFileSync(f, text);
          const one = await summarizeLogs([f], { workers: 1 });
          const split = await summarizeLogs([f], { workers: 8, rangeBytes });
          assert.equal(one.skipped, bad.length);
          assert.deepEqual(
            one.files[0].skippedSamples.map((s) => s.line),
            bad.slice(0, 20),
          );
          assert.deepEqual(
            split.files[0].skippedSamples.map((s) => s.line),
            one.files[0].skippedSamples.map((s) => s.line),
          );
          for (const k of [
            "records",
            "skipped",
            "byStatus",
            "byKind",
            "byAgent",
            "refused",
            "retries",
            "topFailingClients",
            "timeRange",
          ] as const)
            assert.deepEqual(split[k], one[k], k);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("worker threads (over byte ranges) give the same report as the main thread", async () => {
    const { text } = makeLog(3000, 7);
    const f = path.join(dir, "u_ex_workers.log");
    writeFileSync(f, text);
    const one = await summarizeLogs([f], { workers: 1 });
    const threads = await summarizeLogs([f], { workers: 2, rangeBytes: 50_000, minWorkerBytes: 0 });
    // more jobs than threads: the main thread and two workers take ranges of four files from one queue
    const copies = [1, 2, 3, 4].map((i) => {
      const c = path.join(dir, `u_ex_workers_${i}.log`);
      writeFileSync(c, text);
      return c;
    });
    const many1 = await summarizeLogs(copies, { workers: 1 });
    const many3 = await summarizeLogs(copies, { workers: 3, rangeBytes: 50_000, minWorkerBytes: 0 });
    assert.equal(many3.records, 4 * one.records);
    for (const k of ["records", "skipped", "byStatus", "refused", "retries", "files"] as const)
      assert.deepEqual(many3[k], many1[k], k);
    assert.ok(one.records > 2500);
    for (const k of [
      "records",
      "skipped",
      "byStatus",
      "byKind",
      "refused",
      "retries",
      "topFailingClients",
    ] as const)
      assert.deepEqual(threads[k], one[k], k);
    assert.deepEqual(threads.files, one.files);
  });
});
