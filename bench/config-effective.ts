/**
 * effective() lookup cost, in ns per call (the engine calls it once per verdict; target ≥ 2,000,000 verdicts/s).
 * Run: npx tsx bench/config-effective.ts
 * Config: the corpus file with per-site <location> blocks + a web.config mapped to /SMS_DP_SMSPKG$ (so the trie has
 * several relevant prefixes); paths: DP content URLs of 2–6 segments, mixed case, all pre-built.
 */
import { loadServer } from "../src/config/load.js";

const corpus = new URL("../../shared/corpus/iis-config/", import.meta.url).pathname;
const tLoad = process.hrtime.bigint();
const server = loadServer({
  config: `${corpus}apphost-iis10-aspnet-asp-verbdeny.config`,
  webConfigs: [{ urlPath: "/SMS_DP_SMSPKG$", file: `${corpus}webconfig-fuget-clear-ext-doubleesc.config` }],
});
const site = server.defaultSiteName;
server.effective(site, "/SMS_DP_SMSPKG$/x");
const loadMs = Number(process.hrtime.bigint() - tLoad) / 1e6;
const paths: string[] = [];
for (let i = 0; i < 1024; i++) {
  const id = `ABC${String(i).padStart(5, "0")}`;
  const depth = i % 5;
  const dirs = Array.from({ length: depth }, (_, d) => (d % 2 ? "Tools" : "bin")).join("/");
  const base = i % 3 === 0 ? "/sms_dp_smspkg$" : i % 3 === 1 ? "/SMS_DP_SMSPKG$" : "/SMS_DP_SMSPKGE$";
  paths.push(`${base}/${id}/${dirs}${dirs ? "/" : ""}file${i}.ldf`);
}
let sink = 0;
function run(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += server.effective(site, paths[i & 1023] as string).errors.length;
  return Number(process.hrtime.bigint() - t0) / n;
}
run(200_000); // warm-up (also fills the cache)
const samples = [run(2_000_000), run(2_000_000), run(2_000_000)].sort((a, b) => a - b);
console.log(
  `effective(): median ${samples[1]?.toFixed(1)} ns/call (min ${samples[0]?.toFixed(1)}, max ${samples[2]?.toFixed(1)}) over 3×2,000,000 calls, 1024 distinct paths; sink=${sink}`,
);
console.log(
  `load (93 KB applicationHost.config + web.config) and first effective(): ${loadMs.toFixed(1)} ms (cold, includes JIT warm-up)`,
);
