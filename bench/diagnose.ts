/**
 * Benchmark of `dpdoctor diagnose` on DP logs of growing size: memory must not grow with the input (the DP logs stream
 * through bounded aggregates, src/diagnose/dp-aggregate.ts).
 *
 *   node --import tsx bench/diagnose.ts [--sizes 200000,2000000]
 *
 * For each size: a folder in .bench/ (gitignored) with a synthetic IIS log of a DP (bench/gen-w3c.mjs: refusals of
 * F01/F02/F03/F08/F10/F14 among normal traffic), the seed's client logs, BITS export and DP line
 * (examples/seed: a DTS job joined to the DP by content ID + path) and the seed's applicationHost.config (every
 * refusal re-evaluated by the engine). Runs the tsc build (what users run) under /usr/bin/time and prints wall time,
 * CPU (user + sys), peak RSS and the load average before each run. Never asserts a time.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildForBench } from "./build.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const sizes = arg("sizes", "200000,2000000").split(",").map(Number);
const benchDir = path.join(root, ".bench");
mkdirSync(benchDir, { recursive: true });

const cli = buildForBench("dist-diagnose");

const seed = path.join(root, "examples", "seed");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

console.log(
  `dpdoctor diagnose, ${process.platform} ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? "?"} cores`,
);
console.log("lines        MB     wall s   CPU s (user+sys)   peak RSS MB   findings   load before");
for (const lines of sizes) {
  const dir = path.join(benchDir, `diagnose-${lines}`);
  const log = path.join(dir, "dp", "u_ex240501.log");
  if (!existsSync(log)) {
    mkdirSync(path.join(dir, "dp"), { recursive: true });
    console.error(`generating ${log} (${lines} lines) …`);
    execFileSync(process.execPath, [path.join(root, "bench/gen-w3c.mjs"), String(lines), log, "42"], {
      stdio: "inherit",
    });
    for (const sub of ["client", "bits", "dp"])
      cpSync(path.join(seed, sub), path.join(dir, sub), { recursive: true });
    cpSync(path.join(seed, "applicationHost.config"), path.join(dir, "applicationHost.config"));
  }
  const mb = statSync(log).size / 1e6;
  const before = load();
  const r = spawnSync(
    "/usr/bin/time",
    ["-f", "%e %U %S %M", process.execPath, cli, "diagnose", dir, "--json"],
    {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    },
  );
  const [wall, user, sys, rssKb] = (r.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
  let findings = "?";
  try {
    findings = String((JSON.parse(r.stdout) as { findings: unknown[] }).findings.length);
  } catch {
    findings = `exit ${r.status}: ${r.stderr.slice(0, 200)}`;
  }
  console.log(
    `${String(lines).padEnd(12)} ${mb.toFixed(0).padStart(4)}   ${(wall ?? Number.NaN).toFixed(2).padStart(6)}   ${((user ?? 0) + (sys ?? 0)).toFixed(2).padStart(8)}           ${((rssKb ?? 0) / 1024).toFixed(0).padStart(6)}        ${findings.padStart(3)}       ${before}`,
  );
}
