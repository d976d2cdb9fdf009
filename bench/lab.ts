/**
 * Emulator throughput: BITS-like HEAD + ranged GET pairs against `startLab` (engine decision + W3C log per request)
 * versus a ceiling — a bare node:http server streaming the same bytes (no engine, no log) — and the probe's wall time
 * for one package. Small input on purpose (shared 2-core machine). Run: node --import tsx bench/lab.ts [seconds=2] [clients=16]
 */
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { startLab } from "../src/lab/server.js";
import { runProbe } from "../src/probe/probe.js";

const seconds = Number(process.argv[2] ?? 2);
const clients = Number(process.argv[3] ?? 16);
const FILES = 32;
const SIZE = 256 * 1024;
const CHUNK = 64 * 1024;

const dir = mkdtempSync(path.join(os.tmpdir(), "dpd-bench-lab-"));
const root = path.join(dir, "ABC00123");
mkdirSync(path.join(root, "x64"), { recursive: true });
const hash = createHash("sha256");
for (let i = 0; i < FILES; i++) {
  const b = Buffer.alloc(SIZE, i);
  hash.update(b);
  writeFileSync(path.join(root, "x64", `file${i}.cab`), b);
}

async function drive(base: string, target: (i: number) => string): Promise<{ pairs: number; bytes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const u = new URL(base);
  const req = (method: string, p: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const r = http.request({ host: u.hostname, port: u.port, method, path: p, headers, agent }, (res) => {
        let n = 0;
        res.on("data", (c: Buffer) => (n += c.length));
        res.on("end", () => resolve(n));
      });
      r.on("error", reject);
      r.end();
    });
  const end = Date.now() + seconds * 1000;
  let pairs = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; Date.now() < end; i += clients) {
        const t = target(i % FILES);
        await req("HEAD", t, { "User-Agent": "Microsoft BITS/7.8" });
        const start = (i * CHUNK) % SIZE;
        const n = await req("GET", t, {
          "User-Agent": "Microsoft BITS/7.8",
          Range: `bytes=${start}-${start + CHUNK - 1}`,
        });
        bytes += n; // not `bytes += await …`: that reads `bytes` before the await
        pairs++;
      }
    }),
  );
  agent.destroy();
  return { pairs, bytes };
}

const lab = await startLab({ root, logDir: path.join(dir, "logs") });
const emu = await drive(lab.url, (i) => `/SMS_DP_SMSPKG$/ABC00123/sccm?/x64/file${i}.cab`);
const t0 = Date.now();
const probe = await runProbe({ origin: lab.url, contentId: "ABC00123", concurrency: 4 });
const probeMs = Date.now() - t0;
await lab.close();

// ceiling: bare streaming of the same bytes, no engine, no logging, no checks
const bare = http.createServer((req, res) => {
  const name = /file(\d+)\.cab/.exec(req.url ?? "")?.[1] ?? "0";
  const file = path.join(root, "x64", `file${name}.cab`);
  const m = /bytes=(\d+)-(\d+)/.exec(String(req.headers.range ?? ""));
  if (req.method === "HEAD") {
    res.writeHead(200, { "Content-Length": SIZE });
    res.end();
    return;
  }
  const [s, e] = m ? [Number(m[1]), Number(m[2])] : [0, SIZE - 1];
  res.writeHead(m ? 206 : 200, { "Content-Length": e - s + 1 });
  createReadStream(file, { start: s, end: e }).pipe(res);
});
await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
const ceil = await drive(bareUrl, (i) => `/x64/file${i}.cab`);
await new Promise<void>((r) => bare.close(() => r()));

const row = (name: string, r: { pairs: number; bytes: number }) =>
  `${name.padEnd(28)} ${(r.pairs / seconds).toFixed(0).padStart(8)} HEAD+GET/s ${(r.bytes / seconds / 1048576).toFixed(1).padStart(8)} MiB/s`;
console.log(
  `lab bench: ${FILES} files × ${SIZE / 1024} KiB (sha256 ${hash.digest("hex").slice(0, 12)}…), ${clients} clients, ${seconds} s, node ${process.version}, ${os.cpus().length} cpus`,
);
console.log(row("bare node:http (ceiling)", ceil));
console.log(row("dpdoctor lab (engine + W3C)", emu));
console.log(`ratio lab/ceiling: ${(emu.pairs / Math.max(1, ceil.pairs)).toFixed(2)}`);
console.log(
  `probe of ${probe.summary.files} files (PROPFIND + HEAD + 256 KiB GET each, concurrency 4): ${probeMs} ms, ${probe.summary.ok} ok`,
);
