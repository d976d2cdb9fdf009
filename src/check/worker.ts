/**
 * Worker thread of `check --workers N` (src/check/parallel.ts): loads the same IIS configuration as the main thread
 * (same options, same files), then checks one share of a package per message (src/check/units.ts) and posts its
 * serialized file results and its tally back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadServerOptions } from "../cli/server-options.js";
import { CHUNKS_AHEAD, type WorkerInit } from "./parallel.js";
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

// JSON chunks posted and not yet written by the main thread: past CHUNKS_AHEAD the share waits (bounded memory).
let unacknowledged = 0;
let resume: (() => void) | undefined;

parentPort?.on("message", async (m: { unit?: CheckUnit; ack?: number }) => {
  if (m.ack !== undefined) {
    unacknowledged -= m.ack;
    if (resume && unacknowledged < CHUNKS_AHEAD) {
      const r = resume;
      resume = undefined;
      r();
    }
    return;
  }
  if (!m.unit) return;
  const index = m.unit.index;
  try {
    const r = await runUnit(
      m.unit,
      settings,
      init.output,
      {
        json: (chunk) => {
          parentPort?.postMessage({ index, chunk });
          if (++unacknowledged >= CHUNKS_AHEAD)
            return new Promise<void>((r) => {
              resume = r;
            });
        },
        refused: (files) => parentPort?.postMessage({ index, refused: files }),
      },
      init.facts,
      init.chunkBytes,
    );
    parentPort?.postMessage({ index, partial: r.partial });
  } catch (e) {
    parentPort?.postMessage({ index, error: (e as Error).stack ?? String(e) });
  }
});
