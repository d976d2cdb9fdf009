/**
 * Worker thread of `check --workers N` (src/check/parallel.ts): loads the same IIS configuration as the main thread
 * (same options, same files), then checks one share of a package per message (src/check/units.ts) and posts its
 * serialized file results and its tally back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadServerOptions } from "../cli/server-options.js";
import type { WorkerInit } from "./parallel.js";
import type { CheckSettings } from "./run.js";
import { type CheckUnit, runUnit } from "./units.js";

const init = workerData as WorkerInit;
const { config } = loadServerOptions(init.serverOptions);
const settings: CheckSettings = {
  server: { config, siteName: init.siteName },
  forms: init.forms,
  drive: init.drive,
  vdir: init.vdir,
};

parentPort?.on("message", async (m: { unit: CheckUnit }) => {
  const index = m.unit.index;
  try {
    const r = await runUnit(
      m.unit,
      settings,
      init.output,
      {
        json: (chunk) => parentPort?.postMessage({ index, chunk }),
        refused: (files) => parentPort?.postMessage({ index, refused: files }),
      },
      init.facts,
    );
    parentPort?.postMessage({ index, partial: r.partial });
  } catch (e) {
    parentPort?.postMessage({ index, error: (e as Error).stack ?? String(e) });
  }
});
