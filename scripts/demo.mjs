#!/usr/bin/env node
// The README's main job on the bundled example: diagnose the seed (a BITS download stuck on 404.7).
// The seed is broken on purpose, so dpdoctor exits 1 (findings); this script turns "findings as expected" into 0.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const r = spawnSync(process.execPath, [`${root}dist/src/cli.js`, "diagnose", `${root}examples/seed`], {
  stdio: "inherit",
});
if (r.status === 1) {
  console.error("\ndemo: dpdoctor found the seed's problem (exit 1 = findings), as expected.");
  process.exit(0);
}
console.error(`\ndemo: expected findings (exit 1) on examples/seed, got exit ${r.status}`);
process.exit(r.status === 0 ? 1 : (r.status ?? 1));
