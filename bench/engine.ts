/**
 * Engine throughput on the embedded aspnet profile over a realistic mix of DP URLs (all three URL forms, mostly
 * passing, some refused). Run: node --import tsx bench/engine.ts [seconds=2]
 */
import { cpus, loadavg } from "node:os";
import { loadServer } from "../src/config/load.js";
import { evaluate, evaluateMethods } from "../src/engine/evaluate.js";
import type { HttpRequest } from "../src/engine/types.js";

const config = loadServer({ profile: "aspnet" });
const server = { config, siteName: config.defaultSiteName };
const seconds = Number(process.argv[2] ?? 2);

const files = [
  "setup.exe",
  "data/app.msi",
  "x64/vc_redist.cab",
  "Tools/OSDResults/OSDResults.exe",
  "Deploy/Files/install.ps1",
  "Updates/windows10.0-kb5034441-x64.msu",
  "sources/install.wim",
  "docs/readme.txt",
  "lib/Contoso.Core.dll",
  "lib/net48/Contoso.Core.dll.config", // refused: .config
  "App/bin/Contoso.Data.dll", // refused: bin
  "Microsoft Visual C++ 2008/vcredist_x86.exe", // refused: + (double escaping)
  "db/catalog.mdb", // refused: .mdb
  "Scripts/Install%20Helper.vbs",
];
const guid = "0a1b2c3d-0000-4000-8000-00000000000";
const reqs: HttpRequest[] = [];
files.forEach((f, i) => {
  const path = f.replace(/ /g, "%20").replace(/\+/g, "%2B");
  reqs.push({ method: "HEAD", target: `/SMS_DP_SMSPKGC$/PKG0000${i % 10}/${path}` });
  reqs.push({ method: "GET", target: `/SMS_DP_SMSPKG$/Content_${guid}${i % 10}.1/${path}` });
  reqs.push({ method: "HEAD", target: `/SMS_DP_SMSPKG$/Content_${guid}${i % 10}.1/sccm?/${path}` });
});

const tally = new Map<string, number>();
for (const r of reqs) {
  const v = evaluate(r, server);
  const k = `${v.status}.${v.substatus} ${v.layer}`;
  tally.set(k, (tally.get(k) ?? 0) + 1);
}
console.log(`mix: ${reqs.length} URLs (3 forms × ${files.length} files); verdicts of the mix:`);
for (const [k, n] of [...tally].sort()) console.log(`  ${String(n).padStart(3)}  ${k}`);

// warm up, then measure
let sink = 0;
for (let i = 0; i < 200_000; i++) sink += evaluate(reqs[i % reqs.length], server).status;
const deadline = performance.now() + seconds * 1000;
let n = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
while (performance.now() < deadline) {
  for (let i = 0; i < 10_000; i++) sink += evaluate(reqs[(n + i) % reqs.length], server).status;
  n += 10_000;
}
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const rate = (x: number) => Math.round(n / x).toLocaleString("en-US");
// On a shared machine the wall-clock rate understates the engine; the CPU-time rate is verdicts per busy
// core-second (it includes GC work on helper threads, so it is conservative on an idle machine).
console.log(
  `${n} verdicts in ${elapsed.toFixed(2)} s wall / ${cpuSeconds.toFixed(2)} s CPU (sink ${sink % 7})`,
);
console.log(`  ${rate(elapsed)} verdicts/s wall clock; ${rate(cpuSeconds)} verdicts per CPU-second`);
// `check`'s pattern: HEAD then GET of each URL (GET only when HEAD is not refused), through evaluateMethods, which
// shares one evaluation between the two when the configuration treats them alike.
{
  const pair = ["HEAD", "GET"];
  const refusedHead = (v: { status: number }) => v.status >= 400;
  for (let i = 0; i < 100_000; i++)
    sink += evaluateMethods(reqs[i % reqs.length], pair, server, refusedHead).length;
  const c0 = process.cpuUsage();
  let m = 0;
  let verdicts = 0;
  for (; m < 1_000_000; m++)
    verdicts += evaluateMethods(reqs[m % reqs.length], pair, server, refusedHead).length;
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  console.log(
    `  HEAD→GET pairs (evaluateMethods): ${Math.round(m / s).toLocaleString("en-US")} URLs per CPU-second (${Math.round(verdicts / s).toLocaleString("en-US")} verdicts per CPU-second)`,
  );
}
// Calibration: the cheapest possible per-request work (one charCodeAt pass over the target), to compare machines.
{
  const targets = reqs.map((r) => r.target);
  const c0 = process.cpuUsage();
  let m = 0;
  let sum = 0;
  for (; m < 2_000_000; m++) {
    const t = targets[m % targets.length];
    for (let i = 0; i < t.length; i++) sum += t.charCodeAt(i);
  }
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  console.log(
    `  calibration: one charCodeAt pass over each target runs ${Math.round(m / s).toLocaleString("en-US")} targets per CPU-second here (sum ${sum % 7})`,
  );
}
console.log(
  `  node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
