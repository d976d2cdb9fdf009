/**
 * The build a benchmark runs: dpdoctor compiled by tsc into .bench/<name> (what users run: `npm run build`, bin
 * dist/src/cli.js), not the TypeScript source through tsx, with the embedded profiles next to it as in the npm package
 * (src/config/load.ts looks them up there). Returns the path of the built cli.js.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

export function buildForBench(name: string): string {
  const outDir = path.join(root, ".bench", name);
  mkdirSync(outDir, { recursive: true });
  console.error(`building dpdoctor into .bench/${name} …`);
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      path.join(root, "tsconfig.json"),
      "--outDir",
      outDir,
    ],
    { cwd: root, stdio: "ignore" },
  );
  const cli = path.join(outDir, "src/cli.js");
  if (r.status !== 0 || !existsSync(cli))
    throw new Error(`tsc build failed (exit ${r.status}): ${cli} missing`);
  const profiles = path.join(outDir, "profiles");
  rmSync(profiles, { recursive: true, force: true }); // an earlier bench may have left a symlink there
  cpSync(path.join(root, "profiles"), profiles, { recursive: true });
  return cli;
}
