/**
 * Benchmark of `dpdoctor logs --json` (the full summary) against DuckDB GROUP BY (@duckdb/node-api, 2 threads),
 * mawk and GoAccess (when installed), on the same synthetic DP log (bench/gen-w3c.mjs, peers-and-ecosystem §2.4).
 *
 *   node --import tsx bench/logs.ts [--lines 1500000] [--runs 1] [--skip-goaccess]
 *
 * Inputs go to .bench/ (gitignored). dpdoctor runs from a tsc build in .bench/dist (what users run), not through tsx.
 * Prints wall time, lines/s, MB/s, peak RSS (/usr/bin/time) and the ratios to DuckDB and mawk; checks that dpdoctor's
 * status counts equal DuckDB's. Also prints each run's CPU seconds (user + sys, all threads) and the 1-minute load
 * average before it: on a shared machine the wall time alone says little. A last row is the floor of a JS scanner:
 * a bare Node loop that only counts spaces and LFs over the same file (one thread). Never asserts a time.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const lines = Number(arg("lines", "1500000"));
const runs = Number(arg("runs", "1"));
const benchDir = path.join(root, ".bench");
mkdirSync(benchDir, { recursive: true });
const seed = lines === 10_000_000 ? 7 : 42;
const input = path.join(benchDir, `u_ex_${lines}_${seed}.log`);
if (!existsSync(input)) {
  console.error(`generating ${input} (${lines} lines, seed ${seed}) …`);
  execFileSync(process.execPath, [path.join(root, "bench/gen-w3c.mjs"), String(lines), input, String(seed)], {
    stdio: "inherit",
  });
}
const bytes = statSync(input).size;
const physicalLines = Number(execFileSync("wc", ["-l", input]).toString().trim().split(/\s+/)[0]);

console.error("building dpdoctor into .bench/dist …");
spawnSync(
  process.execPath,
  [
    path.join(root, "node_modules/typescript/bin/tsc"),
    "-p",
    path.join(root, "tsconfig.json"),
    "--outDir",
    path.join(benchDir, "dist"),
  ],
  { stdio: "ignore" },
);
const cli = path.join(benchDir, "dist/src/cli.js");
if (!existsSync(cli)) throw new Error("tsc build failed: .bench/dist/src/cli.js missing");

const duckScript = path.join(benchDir, "duck-q.mjs");
writeFileSync(
  duckScript,
  `import { DuckDBInstance } from ${JSON.stringify(path.join(root, "node_modules/@duckdb/node-api/lib/index.js"))};
const file = process.argv[2];
const inst = await DuckDBInstance.create(':memory:', { threads: process.argv[3] ?? '2' });
const con = await inst.connect();
const cols = "{'date':'VARCHAR','time':'VARCHAR','s_ip':'VARCHAR','cs_method':'VARCHAR','cs_uri_stem':'VARCHAR','cs_uri_query':'VARCHAR','s_port':'INTEGER','cs_username':'VARCHAR','c_ip':'VARCHAR','cs_user_agent':'VARCHAR','cs_referer':'VARCHAR','sc_status':'INTEGER','sc_substatus':'INTEGER','sc_win32_status':'BIGINT','time_taken':'INTEGER'}";
const src = "read_csv('" + file + "', delim=' ', header=false, comment='#', quote='', escape='', auto_detect=false, columns=" + cols + ")";
const r = await con.runAndReadAll('SELECT sc_status, sc_substatus, count(*) AS n FROM ' + src + ' GROUP BY ALL ORDER BY ALL');
console.log(JSON.stringify(r.getRowObjectsJson()));
`,
);

// The floor of any JS scanner: one thread, the same 4 MB readSync chunks, a bare loop over every byte that only counts
// spaces and LFs (no field bounds, no parsing, no tables). dpdoctor's tokenizer does this plus field bounds and hashing.
const floorScript = path.join(benchDir, "floor-q.mjs");
writeFileSync(
  floorScript,
  `import { closeSync, openSync, readSync } from "node:fs";
const fd = openSync(process.argv[2], "r");
const buf = Buffer.allocUnsafe(4 << 20);
let pos = 0, spaces = 0, lines = 0;
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, pos);
  if (n === 0) break;
  pos += n;
  for (let i = 0; i < n; i++) { const c = buf[i]; if (c === 32) spaces++; else if (c === 10) lines++; }
}
closeSync(fd);
console.log(JSON.stringify({ spaces, lines }));
`,
);

const hasTime = existsSync("/usr/bin/time");
const which = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

interface Result {
  name: string;
  wall: number;
  rssMB: number;
  /** user + system CPU seconds of the process (all threads): the cost, whatever the machine's load. */
  cpu: number;
  /** 1-minute load average just before the run (the machine is shared: read wall times next to it). */
  load: string;
  out: string;
}
function run(name: string, cmd: string, args: string[]): Result {
  let best: Result | undefined;
  for (let i = 0; i < runs; i++) {
    const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    const t0 = performance.now();
    const r = hasTime
      ? spawnSync("/usr/bin/time", ["-f", "%U %S %M", cmd, ...args], { encoding: "utf8", maxBuffer: 1 << 30 })
      : spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 30 });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0 && !(name.startsWith("dpdoctor") && r.status === 1))
      throw new Error(`${name} failed (${r.status}): ${r.stderr.slice(-500)}`);
    const [user, sys, maxKB] = hasTime
      ? (r.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number)
      : [Number.NaN, Number.NaN, Number.NaN];
    const res = { name, wall, rssMB: maxKB / 1024, cpu: user + sys, load, out: r.stdout };
    if (!best || wall < best.wall) best = res;
  }
  return best as Result;
}

const results: Result[] = [];
results.push(run("dpdoctor logs --json (full summary)", process.execPath, [cli, "logs", "--json", input]));
results.push(
  run("dpdoctor logs --json --workers 1", process.execPath, [cli, "logs", "--json", "--workers", "1", input]),
);
results.push(
  run("DuckDB GROUP BY status, substatus (2 threads)", process.execPath, [duckScript, input, "2"]),
);
if (which("mawk"))
  results.push(
    run("mawk count by status.substatus", "mawk", [
      '!/^#/{c[$12" "$13]++} END{for(k in c) print k, c[k]}',
      input,
    ]),
  );
results.push(run("node: bare byte loop, count spaces (1 thread)", process.execPath, [floorScript, input]));
if (which("goaccess") && !process.argv.includes("--skip-goaccess"))
  results.push(
    run("GoAccess W3C → JSON", "goaccess", [
      input,
      "--log-format=W3C",
      "--no-global-config",
      "-o",
      path.join(benchDir, "goaccess.json"),
    ]),
  );

// Same counts?
const dp = JSON.parse(results[0].out) as {
  byStatus: { status: number; substatus: number; count: number }[];
  records: number;
};
const duck = JSON.parse(results.find((r) => r.name.startsWith("DuckDB"))?.out ?? "[]") as {
  sc_status: number;
  sc_substatus: number;
  n: string;
}[];
const a = dp.byStatus.map((s) => `${s.status}.${s.substatus}=${s.count}`).join(" ");
const b = duck.map((s) => `${s.sc_status}.${s.sc_substatus}=${s.n}`).join(" ");
const duckWall = results.find((r) => r.name.startsWith("DuckDB"))?.wall ?? Number.NaN;
const mawkWall = results.find((r) => r.name.startsWith("mawk"))?.wall ?? Number.NaN;

console.log(
  `input: ${input}\n  ${physicalLines.toLocaleString("en-US")} lines, ${(bytes / 1e6).toFixed(1)} MB; best of ${runs} run(s); machine: ${process.platform} ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? "?"} cores, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
console.log(
  `${"tool".padEnd(48)} ${"wall s".padStart(8)} ${"M lines/s".padStart(10)} ${"MB/s".padStart(8)} ${"peak RSS MB".padStart(12)} ${"vs DuckDB".padStart(10)} ${"vs mawk".padStart(8)} ${"CPU s".padStart(6)} ${"load".padStart(6)}`,
);
for (const r of results)
  console.log(
    `${r.name.padEnd(48)} ${r.wall.toFixed(2).padStart(8)} ${(physicalLines / r.wall / 1e6).toFixed(2).padStart(10)} ${(bytes / r.wall / 1e6).toFixed(0).padStart(8)} ${r.rssMB.toFixed(0).padStart(12)} ${(duckWall / r.wall).toFixed(2).padStart(9)}× ${(mawkWall / r.wall).toFixed(2).padStart(7)}× ${r.cpu.toFixed(2).padStart(6)} ${r.load.padStart(6)}`,
  );
console.log(`status counts: ${a === b ? "dpdoctor = DuckDB" : `DIFFER\n  dpdoctor ${a}\n  duckdb   ${b}`}`);
console.log("(ratio > 1 means faster than DuckDB; wall times include process start-up)");
