/**
 * Engine throughput on the embedded aspnet profile. Run: node --import tsx bench/engine.ts [seconds=2]
 *
 * Two mixes:
 * - "fixed": the 42 DP URLs this bench always used (3 URL forms × 14 files, 11 refused). Few distinct folders, the
 *   same strings over and over: it flatters anything that remembers (the directory-prefix cache).
 * - "realistic": a deterministic content library (seeded PRNG) of tens of contents, each a folder tree of files,
 *   every file in the three URL forms as `check` builds them (buildDpUrl) — thousands of distinct URLs over hundreds
 *   of distinct folders — evaluated in `check` order (content by content, file by file, the three forms in turn) and
 *   in a shuffled "traffic" order (many clients interleaved), where only a bounded cache of folder prefixes can help.
 *
 * For each: verdicts per CPU-second of evaluate() (HEAD/GET alternating), and of check's HEAD→GET pair through
 * evaluateMethods. CPU time (user+sys of this process) is the figure to compare: the machine is shared.
 * DPDOCTOR_BENCH_GROUPS=1 adds the CPU time per verdict of each (URL form, verdict) group of the realistic mix.
 * DPDOCTOR_BENCH_NO_MEMO=1 runs with the verdict memo off (src/engine/evaluate.ts MemoEntry: every verdict in full).
 */
import { cpus, loadavg } from "node:os";
import { loadServer } from "../src/config/load.js";
import { buildDpUrl } from "../src/dp/urlforms.js";
import { setPrefixCache } from "../src/engine/canonical.js";
import { evaluate, evaluateMethods, setVerdictMemo } from "../src/engine/evaluate.js";
import type { HttpRequest } from "../src/engine/types.js";
import type { UrlForm } from "../src/logs/records.js";

const config = loadServer({ profile: "aspnet" });
const server = { config, siteName: config.defaultSiteName };
const seconds = Number(process.argv[2] ?? 2);
// DPDOCTOR_BENCH_NO_PREFIX_CACHE=1: the same run with the directory-prefix cache off (the full pass every time)
if (process.env.DPDOCTOR_BENCH_NO_PREFIX_CACHE) setPrefixCache(false);
// DPDOCTOR_BENCH_NO_MEMO=1: the same run with the verdict memo off (every verdict evaluated in full)
if (process.env.DPDOCTOR_BENCH_NO_MEMO) setVerdictMemo(false);

// ---------------------------------------------------------------------------------------------------------------
// the fixed mix (unchanged)
const fixedFiles = [
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
const fixed: HttpRequest[] = [];
fixedFiles.forEach((f, i) => {
  const path = f.replace(/ /g, "%20").replace(/\+/g, "%2B");
  fixed.push({ method: "HEAD", target: `/SMS_DP_SMSPKGC$/PKG0000${i % 10}/${path}` });
  fixed.push({ method: "GET", target: `/SMS_DP_SMSPKG$/Content_${guid}${i % 10}.1/${path}` });
  fixed.push({ method: "HEAD", target: `/SMS_DP_SMSPKG$/Content_${guid}${i % 10}.1/sccm?/${path}` });
});

// ---------------------------------------------------------------------------------------------------------------
// the realistic mix: a seeded content library
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20261124);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
const hex = (n: number) =>
  Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(rnd() * 16)]).join("");
const FOLDERS = [
  "",
  "x64",
  "x86",
  "Deploy",
  "Deploy/Files",
  "Deploy/Files/Scripts",
  "Deploy/SupportFiles",
  "sources",
  "sources/sxs",
  "Updates",
  "lib/net48",
  "Tools/OSDResults",
  "Drivers/Dell/Latitude 7420/Network",
  "Program Files/Contoso App",
  "docs",
  "App/bin", // refused: hidden segment bin
  "Microsoft Visual C++ 2015", // refused: '+'
];
const STEMS = [
  "setup",
  "install",
  "Contoso.Core",
  "vc_redist",
  "readme",
  "windows10.0-kb5034441-x64",
  "OSDResults",
  "Deploy-Application",
  "AppDeployToolkitMain",
  "driver",
  "data",
  "Install Helper",
  "Microsoft.Office.Interop",
  "nvlddmkm",
];
// mostly downloadable, a few the aspnet profile refuses (.config, .mdb, .ldf: 404.7)
const EXTS = [".exe", ".msi", ".cab", ".dll", ".ps1", ".xml", ".txt", ".wim", ".msu", ".inf", ".cat", ".sys"];
const REFUSED_EXTS = [".config", ".mdb", ".ldf"];
/** The library's requests in `check` order and in a shuffled traffic order (built after the fixed mix is measured). */
function realisticMix(): { checkOrder: HttpRequest[]; trafficOrder: HttpRequest[] } {
  const contents: { contentId: string; packageId: string; files: string[] }[] = [];
  for (let c = 0; c < 40; c++) {
    const folders = new Set<string>([""]);
    const nFolders = 3 + Math.floor(rnd() * 7);
    while (folders.size < nFolders) folders.add(pick(FOLDERS));
    const files: string[] = [];
    for (const folder of folders) {
      const n = 4 + Math.floor(rnd() * 20);
      for (let i = 0; i < n; i++) {
        const ext = rnd() < 0.04 ? pick(REFUSED_EXTS) : pick(EXTS);
        const name = `${pick(STEMS)}${rnd() < 0.7 ? `-${i}` : `_${hex(4)}`}${ext}`;
        files.push(folder ? `${folder}/${name}` : name);
      }
    }
    contents.push({
      contentId: `Content_${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}.${1 + Math.floor(rnd() * 3)}`,
      packageId: `CAS${String(c * 37 + 100).padStart(5, "0")}`,
      files,
    });
  }
  const FORMS: UrlForm[] = ["direct2007", "direct", "client"];
  const checkOrder: HttpRequest[] = [];
  for (const content of contents)
    for (const relativePath of content.files)
      for (const form of FORMS)
        checkOrder.push({
          method: checkOrder.length % 2 === 0 ? "HEAD" : "GET",
          target: buildDpUrl(form, {
            contentId: form === "direct2007" ? content.packageId : content.contentId,
            relativePath,
          }),
        });
  const trafficOrder = checkOrder.slice();
  for (let i = trafficOrder.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [trafficOrder[i], trafficOrder[j]] = [trafficOrder[j] as HttpRequest, trafficOrder[i] as HttpRequest];
  }
  return { checkOrder, trafficOrder };
}

// ---------------------------------------------------------------------------------------------------------------
function describeMix(name: string, reqs: HttpRequest[]): void {
  const tally = new Map<string, number>();
  for (const r of reqs) {
    const v = evaluate(r, server);
    const k = `${v.status}.${v.substatus} ${v.layer}`;
    tally.set(k, (tally.get(k) ?? 0) + 1);
  }
  const folders = new Set(reqs.map((r) => r.target.slice(0, r.target.split("?")[0]?.lastIndexOf("/") ?? 0)));
  const distinct = new Set(reqs.map((r) => r.target)).size;
  console.log(
    `${name}: ${reqs.length} requests, ${distinct} distinct URLs, ${folders.size} distinct folders; verdicts:`,
  );
  console.log(
    `  ${[...tally]
      .sort()
      .map(([k, n]) => `${n} × ${k}`)
      .join(", ")}`,
  );
}

let sink = 0;
function cpuSeconds(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

function measure(name: string, reqs: HttpRequest[]): void {
  // warm up (JIT), then measure for `seconds` of CPU time
  for (let i = 0; i < 200_000; i++) sink += evaluate(reqs[i % reqs.length] as HttpRequest, server).status;
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let s = 0;
  while (s < seconds) {
    for (let i = 0; i < 10_000; i++)
      sink += evaluate(reqs[(n + i) % reqs.length] as HttpRequest, server).status;
    n += 10_000;
    s = cpuSeconds(c0);
  }
  const wall = (performance.now() - t0) / 1000;
  console.log(
    `  ${name} evaluate: ${fmt(n / s)} verdicts per CPU-second (${n} verdicts in ${s.toFixed(2)} s CPU / ${wall.toFixed(2)} s wall)`,
  );
  // `check`'s pattern: HEAD then GET of each URL (GET only when HEAD is not refused), through evaluateMethods, which
  // shares one evaluation between the two when the configuration treats them alike
  const pair = ["HEAD", "GET"];
  const refusedHead = (v: { status: number }) => v.status >= 400;
  for (let i = 0; i < 100_000; i++)
    sink += evaluateMethods(reqs[i % reqs.length] as HttpRequest, pair, server, refusedHead).length;
  let m = 0;
  let verdicts = 0;
  const c1 = process.cpuUsage();
  let s1 = 0;
  while (s1 < seconds / 2) {
    for (let i = 0; i < 10_000; i++)
      verdicts += evaluateMethods(
        reqs[(m + i) % reqs.length] as HttpRequest,
        pair,
        server,
        refusedHead,
      ).length;
    m += 10_000;
    s1 = cpuSeconds(c1);
  }
  console.log(
    `  ${name} HEAD→GET pairs (evaluateMethods): ${fmt(m / s1)} URLs per CPU-second (${fmt(verdicts / s1)} verdicts per CPU-second)`,
  );
}

console.log(
  `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(
      " ",
    )}${process.env.DPDOCTOR_BENCH_NO_PREFIX_CACHE ? "; prefix cache OFF" : ""}${process.env.DPDOCTOR_BENCH_NO_MEMO ? "; verdict memo OFF" : ""}`,
);
// the fixed mix first, in a process that has seen nothing else and with a small heap (as this bench always measured
// it: figures comparable with earlier ones); the realistic mixes then run in a process that has also seen it
describeMix("fixed mix", fixed);
measure("fixed mix (42 URLs)", fixed);
const { checkOrder, trafficOrder } = realisticMix();
describeMix("realistic mix", checkOrder);
measure("realistic mix, check order", checkOrder);
measure("realistic mix, traffic order", trafficOrder);
// DPDOCTOR_BENCH_GROUPS=1: CPU time per verdict of each (URL form, verdict) group of the realistic mix in check order —
// where the mix's time goes (the static-file form and refusals cost more than a content-handler pass)
if (process.env.DPDOCTOR_BENCH_GROUPS) {
  const groups = new Map<string, HttpRequest[]>();
  for (const r of checkOrder) {
    const v = evaluate(r, server);
    const form = r.target.includes("sccm?")
      ? "client (sccm?)"
      : r.target.includes("SMSPKGC$")
        ? "direct2007"
        : "direct";
    const k = `${form} ${v.status}.${v.substatus}`;
    const list = groups.get(k) ?? [];
    list.push(r);
    groups.set(k, list);
  }
  for (const [k, reqs] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let i = 0; i < 50_000; i++) sink += evaluate(reqs[i % reqs.length] as HttpRequest, server).status;
    const c0 = process.cpuUsage();
    let n = 0;
    while (n < 300_000) {
      for (const r of reqs) sink += evaluate(r, server).status;
      n += reqs.length;
    }
    console.log(
      `  group ${k.padEnd(22)} ${String(reqs.length).padStart(5)} URLs: ${((cpuSeconds(c0) * 1e9) / n).toFixed(0)} ns CPU per verdict`,
    );
  }
}
// Calibration: the cheapest possible per-request work (one charCodeAt pass over the target), to compare machines.
{
  const targets = checkOrder.map((r) => r.target);
  const c0 = process.cpuUsage();
  let m = 0;
  let sum = 0;
  for (; m < 2_000_000; m++) {
    const t = targets[m % targets.length] as string;
    for (let i = 0; i < t.length; i++) sum += t.charCodeAt(i);
  }
  console.log(
    `  calibration: one charCodeAt pass over each realistic target runs ${fmt(m / cpuSeconds(c0))} targets per CPU-second here (sum ${(sum + sink) % 7})`,
  );
}
console.log(
  `  load average after: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
