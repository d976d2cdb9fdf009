/**
 * Benchmark of `dpdoctor check` on generated trees (issue 3 "Done means"):
 *   - a package source folder of N files (default 1,000,000), and
 *   - a content library (PkgLib/DataLib/FileLib) of M files (default 100,000),
 * each compared with `find DIR -type f | wc -l` measured in the same run (goal: check ≤ 1.5× find), with the
 * check's peak RSS (should stay flat as the tree grows: the walk streams and the tally is bounded), its CPU seconds
 * (user + sys, all threads) and the 1-minute load before each run (wall times on a shared machine need it), and
 * what the walk alone costs (the floor check cannot go under) and a bare `node -e 0` start.
 * dpdoctor runs from a tsc build in .bench/dist-check (what users run), not through tsx (`--tsx` adds that run).
 *
 * Usage:  node --import tsx bench/check.ts [--files N] [--lib M] [--workers 1,2] [--tsx] [--keep] [--dir DIR]
 * Small while developing (the machine is shared):  node --import tsx bench/check.ts --files 20000 --lib 5000
 * The generated trees live under the OS temp folder (or --dir) and are removed afterwards unless --keep.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildForBench } from "./build.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const FILES = arg("--files", 1_000_000);
const LIB = arg("--lib", 100_000);
const keep = args.includes("--keep");
const TSX = args.includes("--tsx");
const workersArg = args.indexOf("--workers");
/** Thread counts to run check with (default: 1 and the CLI's default, min(4, cores)). */
const WORKERS =
  workersArg >= 0
    ? args[workersArg + 1].split(",").map(Number)
    : [...new Set([1, Math.max(1, Math.min(4, availableParallelism()))])];
const dirArg = args.indexOf("--dir");
const base = dirArg >= 0 ? args[dirArg + 1] : mkdtempSync(path.join(tmpdir(), "dpdoctor-bench-check-"));

const EXT = [".exe", ".dll", ".msi", ".cab", ".xml", ".txt", ".inf", ".cat", ".sys", ".ini"];
/** Relative path of file i: 100 files per folder, 100 folders per parent, a few names IIS refuses. */
function relOf(i: number): string {
  const leaf = i % 100;
  const d1 = Math.floor(i / 10_000);
  const d2 = Math.floor(i / 100) % 100;
  let name = `file ${leaf}${EXT[leaf % EXT.length]}`;
  if (leaf === 97) name = `db ${leaf}.mdb`; // 404.7 in the path forms
  const folder = d2 === 42 ? "bin" : `sub${d2}`; // 404.8 in the path forms
  return `Drivers${d1}/${folder}/${name}`;
}

function generateFolder(dir: string, n: number): void {
  let lastDir = "";
  for (let i = 0; i < n; i++) {
    const rel = relOf(i);
    const abs = path.join(dir, ...rel.split("/"));
    const d = path.dirname(abs);
    if (d !== lastDir) {
      mkdirSync(d, { recursive: true });
      lastDir = d;
    }
    writeFileSync(abs, "");
  }
}

function generateLibrary(dir: string, n: number): void {
  for (const d of ["PkgLib", "DataLib", "FileLib"]) mkdirSync(path.join(dir, d), { recursive: true });
  const perPackage = 10_000;
  const packages = Math.max(1, Math.ceil(n / perPackage));
  for (let p = 0; p < packages; p++) {
    const id = `BEN${p.toString(16).toUpperCase().padStart(5, "0")}`;
    writeFileSync(path.join(dir, "PkgLib", `${id}.INI`), `[Packages]\r\n${id}.1=\r\n`);
    const data = path.join(dir, "DataLib", `${id}.1`);
    let lastDir = "";
    for (let i = 0; i < Math.min(perPackage, n - p * perPackage); i++) {
      const abs = path.join(data, ...`${relOf(i)}.INI`.split("/"));
      const d = path.dirname(abs);
      if (d !== lastDir) {
        mkdirSync(d, { recursive: true });
        lastDir = d;
      }
      writeFileSync(abs, "[File]\r\nHash=00\r\n");
    }
  }
}

// dpdoctor runs from a tsc build (what users run: `npm run build`, bin dist/src/cli.js), not through tsx.
const cli = buildForBench("dist-check");

interface Run {
  seconds: number;
  /** user + system CPU seconds, all threads: the cost whatever the machine's load. */
  cpu: number;
  maxRssKb: number;
  stdout: string;
  /** 1-minute load average just before the run (the machine may be shared: read wall times next to it). */
  load: string;
}

function timed(cmd: string, argv: string[]): Run {
  const load = loadavg()[0].toFixed(2);
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", cmd, ...argv], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [sec, user, sys, rss] = last.split(" ").map(Number);
  return { seconds: sec, cpu: user + sys, maxRssKb: rss, stdout: r.stdout, load };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** The walk alone (src/check/source.ts walkFolders, built), to see what reading the tree costs next to find. */
function walkOnly(dir: string, dataLib: boolean): Run {
  const code = `import(${JSON.stringify(pathToFileURL(path.join(path.dirname(cli), "check/source.js")).href)}).then(async (m) => {
    let n = 0;
    for await (const d of m.walkFolders(${JSON.stringify(dir)}, { dataLib: ${dataLib}, onWarning() {} })) n += d.names.length;
    console.log(n);
  })`;
  return timed(process.execPath, ["--input-type=module", "-e", code]);
}

/**
 * The check without the disk: the tree's folders read into memory first, then runCheck (built) timed over them alone
 * (aspnet profile, the three forms, text tally) — what checking costs apart from reading directories and start-up.
 */
function checkOnly(dir: string, dataLib: boolean): { seconds: number; files: number } {
  const mod = (f: string) => JSON.stringify(pathToFileURL(path.join(path.dirname(cli), f)).href);
  const code = `Promise.all([import(${mod("check/source.js")}), import(${mod("check/run.js")}), import(${mod("config/load.js")}), import(${mod("dp/urlforms.js")})]).then(async ([src, run, load, forms]) => {
    const folders = [];
    for await (const d of src.walkFolders(${JSON.stringify(dir)}, { dataLib: ${dataLib}, onWarning() {} })) folders.push(d);
    const config = load.loadServer({ profile: "aspnet" });
    const s = { server: { config, siteName: config.defaultSiteName }, forms: [...forms.URL_FORMS], drive: "C", vdir: "SMS_DP_SMSPKG$" };
    const pkg = { id: "ABC00123", contentId: "ABC00123", root: ${JSON.stringify(dir)}, source: "folder" };
    const t = performance.now();
    const tally = await run.runCheck({ packages: [pkg], walk() { throw new Error("by folders"); }, async *walkFolders() { yield* folders; } }, s, {});
    console.log(((performance.now() - t) / 1000).toFixed(3), tally.files);
  })`;
  const r = timed(process.execPath, ["--input-type=module", "-e", code]);
  const [seconds, files] = r.stdout.trim().split(" ").map(Number);
  return { seconds, files };
}

function measure(label: string, dir: string, expectFiles: number, dataLib: boolean): void {
  const find = timed("sh", ["-c", `find '${dir}' -type f | wc -l`]);
  const line = (what: string, r: Run, files: number) =>
    `  ${what.padEnd(22)} ${r.seconds.toFixed(2)} s wall, ${r.cpu.toFixed(2)} CPU-s, ${(r.maxRssKb / 1024).toFixed(0)} MB peak RSS, ` +
    `${fmt(files / r.seconds)} files/s, ${(r.seconds / Math.max(find.seconds, 0.01)).toFixed(1)}× find (load ${r.load})`;
  console.log(`${label}: ${fmt(expectFiles)} files`);
  console.log(
    `  find -type f | wc -l   ${find.seconds.toFixed(2)} s wall, ${find.cpu.toFixed(2)} CPU-s (${find.stdout.trim()} entries, load ${find.load})`,
  );
  const node = timed(process.execPath, ["-e", "0"]);
  console.log(
    `  node -e 0              ${node.seconds.toFixed(2)} s wall, ${node.cpu.toFixed(2)} CPU-s (start-up floor)`,
  );
  const walk = walkOnly(dir, dataLib);
  console.log(line("walk only (walkFolders)", walk, Number(walk.stdout.trim())));
  // dpdoctor's own start-up (modules, the configuration, the report) on a one-file package: with the walk, the floor
  // no check can go under
  const start = timed(process.execPath, [cli, "check", oneFile, "--no-progress", "--workers", "1"]);
  const floor = walk.seconds + Math.max(0, start.seconds - node.seconds);
  console.log(
    `  check of 1 file         ${start.seconds.toFixed(2)} s wall, ${start.cpu.toFixed(2)} CPU-s (start-up); floor = walk + start-up − node: ${floor.toFixed(2)} s, ${(floor / Math.max(find.seconds, 0.01)).toFixed(1)}× find`,
  );
  const only = checkOnly(dir, dataLib);
  console.log(
    `  check without the disk ${only.seconds.toFixed(2)} s for ${fmt(only.files)} files (runCheck over the folders read into memory first: what checking costs apart from the walk and start-up)`,
  );
  for (const w of WORKERS) {
    const check = timed(process.execPath, [cli, "check", dir, "--no-progress", "--workers", String(w)]);
    const total = /total: [\d,]+ packages?, ([\d,]+) files?/.exec(check.stdout)?.[1]?.replace(/,/g, "");
    const files = Number(total ?? Number.NaN);
    if (files !== expectFiles) console.log(`  !! check counted ${files} files, expected ${expectFiles}`);
    console.log(line(`check --workers ${w}`, check, files));
  }
  if (TSX) {
    const check = timed(process.execPath, ["--import", "tsx", "src/cli.ts", "check", dir, "--no-progress"]);
    console.log(line("check (tsx, source)", check, expectFiles));
  }
}

const oneFile = path.join(base, "ONE00001");

try {
  mkdirSync(oneFile, { recursive: true });
  writeFileSync(path.join(oneFile, "setup.exe"), "");
  const folder = path.join(base, "ABC00123");
  const lib = path.join(base, "SCCMContentLib");
  let t = Date.now();
  generateFolder(folder, FILES);
  console.log(
    `generated ${FILES.toLocaleString("en-US")} files in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  t = Date.now();
  generateLibrary(lib, LIB);
  console.log(
    `generated a content library of ${LIB.toLocaleString("en-US")} files in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  console.log(`uptime: ${execFileSync("uptime").toString().trim()}; ${availableParallelism()} cores`);
  measure("package folder", folder, FILES, false);
  measure("content library", lib, LIB, true);
} finally {
  if (!keep && dirArg < 0) rmSync(base, { recursive: true, force: true });
}
