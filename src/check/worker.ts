/**
 * Worker thread of `check --workers N` (src/check/parallel.ts): loads the same IIS configuration as the main thread
 * (same options, same files), then checks the shares it is handed (src/check/units.ts), one after the other in the order
 * received, and posts each one's serialized file results and its tally back.
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

/** Shares received and not yet started: the main thread hands out the next one before this one ends. */
const queue: CheckUnit[] = [];
let running = false;

async function drain(): Promise<void> {
  running = true;
  for (let unit = queue.shift(); unit; unit = queue.shift()) await checkUnit(unit);
  running = false;
}

async function checkUnit(unit: CheckUnit): Promise<void> {
  const index = unit.index;
  try {
    const r = await runUnit(
      unit,
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
}

parentPort?.on("message", (m: { unit?: CheckUnit; ack?: number }) => {
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
  queue.push(m.unit);
  if (!running) void drain();
});
