/**
 * Benchmark of `dpdoctor check` on generated trees (issue 3 "Done means"):
 *   - a package source folder of N files (default 1,000,000), and
 *   - a content library (PkgLib/DataLib/FileLib) of M files (default 100,000),
 * each compared with `find DIR -type f | wc -l` measured in the same run (goal: check ≤ 1.5× find), with the
 * check's peak RSS (should stay flat as the tree grows: the walk streams and the tally is bounded).
 *
 * Usage:  node --import tsx bench/check.ts [--files N] [--lib M] [--keep] [--dir DIR]
 * Small while developing (the machine is shared):  node --import tsx bench/check.ts --files 20000 --lib 5000
 * The generated trees live under the OS temp folder (or --dir) and are removed afterwards unless --keep.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const FILES = arg("--files", 1_000_000);
const LIB = arg("--lib", 100_000);
const keep = args.includes("--keep");
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

function timed(cmd: string, argv: string[]): { seconds: number; maxRssKb: number; stdout: string } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...argv], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [sec, rss] = last.split(" ").map(Number);
  return { seconds: sec, maxRssKb: rss, stdout: r.stdout };
}

function measure(label: string, dir: string, expectFiles: number): void {
  const find = timed("sh", ["-c", `find '${dir}' -type f | wc -l`]);
  const check = timed(process.execPath, ["--import", "tsx", "src/cli.ts", "check", dir, "--no-progress"]);
  const total = /total: [\d,]+ packages?, ([\d,]+) files?/.exec(check.stdout)?.[1]?.replace(/,/g, "");
  const files = Number(total ?? Number.NaN);
  const ratio = check.seconds / Math.max(find.seconds, 0.01);
  console.log(
    `${label}: ${files.toLocaleString("en-US")} files (expected ${expectFiles.toLocaleString("en-US")}) — ` +
      `check ${check.seconds.toFixed(2)} s (${Math.round(files / check.seconds).toLocaleString("en-US")} files/s, peak RSS ${(check.maxRssKb / 1024).toFixed(0)} MB); ` +
      `find ${find.seconds.toFixed(2)} s (${find.stdout.trim()} entries); ratio check/find ${ratio.toFixed(1)}×`,
  );
}

try {
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
  measure("package folder", folder, FILES);
  measure("content library", lib, LIB);
} finally {
  if (!keep && dirArg < 0) rmSync(base, { recursive: true, force: true });
}
