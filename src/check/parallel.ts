/**
 * `check --workers N`: the package trees are cut into shares (src/check/units.ts); the main thread and N−1 worker
 * threads check shares as they come, and the main thread merges the results share by share in walk order — file
 * output (JSON text, SARIF results) written in that order and tallies merged with `Tally.mergePartial` — so the output
 * is byte for byte that of one thread (test/check/parallel.test.ts, test/cli/check-workers.test.ts).
 *
 * Worker threads start only once the main thread has checked `startAfter` files: a small package is checked before
 * a thread would have loaded. Memory: a thread that has CHUNKS_AHEAD chunks of JSON output not yet written waits
 * until the writer catches up, and no thread takes a share more than 8 × threads ahead of the one being written
 * (a finished share waiting holds only its small tally and at most CHUNKS_AHEAD chunks, so the window can be wide:
 * a thread rarely waits for a slow share ahead of it).
 */
import { Worker } from "node:worker_threads";
import type { ServerOptionValues } from "../cli/server-options.js";
import { evaluate as engineEvaluate } from "../engine/evaluate.js";
import type { UrlForm } from "../logs/records.js";
import {
  type CheckSettings,
  type FileResult,
  type PackageCheckResult,
  type PackageTally,
  packageChecks,
  type Tally,
  type TallyPartial,
  VerdictCache,
} from "./run.js";
import type { PackageSpec } from "./source.js";
import { planUnits, runUnit, type UnitOutput } from "./units.js";

/** What a worker thread needs to check shares like the main thread (plain data: posted as workerData). */
export interface WorkerInit {
  serverOptions: ServerOptionValues;
  siteName: string;
  forms: UrlForm[];
  drive: string;
  vdir: string;
  output: UnitOutput;
  facts: boolean;
  /** JSON chunk size (default 256 KB; tests use small chunks to exercise the waiting on the writer). */
  chunkBytes?: number;
}

export interface ParallelOptions {
  /** Threads checking in all, the main thread included (≥ 2 to start any worker thread). */
  threads: number;
  /** Files the main thread checks before worker threads start (0: at once). */
  startAfter: number;
  init: WorkerInit;
}

/**
 * Shares handed to a worker thread at a time: when it finishes one it goes on with the next at once, without waiting
 * for the main thread — busy with a share of its own, it reads the worker's messages only between folders (`pause`)
 * — to hand it another.
 */
const WORKER_QUEUE = 2;

/**
 * While worker threads run, the main thread lets the event loop run at least this often (ms) during a share of its
 * own, between folders: worker messages (finished shares to merge and to replace, JSON chunks to write) wait no
 * longer. Checking a share runs through microtasks only, so without it they waited until the main thread ran out of
 * shares it may take (8 × threads ahead of the merge), and a worker thread checked one share in 16.
 */
const PAUSE_MS = 2;

/** Main-thread events, in walk order. */
export interface ParallelSink {
  packageStart?(pkg: PackageSpec, checks: PackageCheckResult[]): void | Promise<void>;
  /** JSON text of consecutive file entries ("\n{…}" joined by ","), `output` "json" / "json-refused". */
  fileChunk?(chunk: string): void | Promise<void>;
  /** Refused file results, `output` "refused". */
  file?(pkg: PackageSpec, r: FileResult): void | Promise<void>;
  packageEnd?(t: PackageTally): void | Promise<void>;
}

/** JSON chunks (256 KB each) a share may have waiting to be written before its thread waits. */
export const CHUNKS_AHEAD = 8;

interface Slot {
  chunks: string[];
  /** The worker thread checking the share (acknowledges each chunk written), or the main thread's resume. */
  owner?: Worker;
  resume?: () => void;
  refused: FileResult[][];
  partial?: TallyPartial;
  error?: Error;
  wake?: () => void;
}

function workerUrl(): { url: URL; eval?: string } {
  // Built code runs worker.js directly; from source (tsx) the worker registers tsx itself first, because module hooks
  // of the main thread do not reach worker threads on Node 20 (as src/logs/summary.ts does).
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(`./worker${fromSource ? ".ts" : ".js"}`, import.meta.url);
  if (!fromSource) return { url };
  return {
    url,
    eval: `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`,
  };
}

export async function runCheckParallel(
  input: { packages: PackageSpec[]; onProgress?: (files: number) => void; stop?: () => boolean },
  s: CheckSettings,
  sink: ParallelSink,
  tally: Tally,
  p: ParallelOptions,
): Promise<Tally> {
  const units = planUnits(input.packages, p.threads);
  const slots: Slot[] = units.map(() => ({ chunks: [], refused: [] }));
  const wake = (i: number) => {
    const w = slots[i].wake;
    slots[i].wake = undefined;
    w?.();
  };
  const emitTo = (i: number) => ({
    json: (chunk: string): void | Promise<void> => {
      const slot = slots[i];
      slot.chunks.push(chunk);
      wake(i);
      if (slot.chunks.length >= CHUNKS_AHEAD)
        return new Promise<void>((resolve) => {
          slot.resume = resolve;
        });
    },
    refused: (files: FileResult[]) => {
      slots[i].refused.push(files);
      wake(i);
    },
  });
  let next = 0;
  /** The share being merged: no thread takes a share more than `window` ahead of it (bounded buffered output). */
  let head = 0;
  const window = 8 * p.threads;
  const waiting: (() => void)[] = [];
  const mayTake = () => next - head < window;
  const advance = () => {
    head++;
    for (const w of waiting.splice(0)) w();
  };
  let checkedHere = 0;
  const workers: Worker[] = [];

  const startWorkers = () => {
    const w = workerUrl();
    for (let t = 1; t < p.threads && next < units.length; t++) {
      const worker = w.eval
        ? new Worker(w.eval, { eval: true, workerData: p.init })
        : new Worker(w.url, { workerData: p.init });
      const queue: number[] = []; // shares handed to this worker and not finished, in the order it checks them
      let parked = false; // `dispatch` is waiting for the merge to advance
      const dispatch = () => {
        parked = false;
        while (queue.length < WORKER_QUEUE) {
          if (next >= units.length || input.stop?.()) {
            if (queue.length === 0) void worker.terminate();
            return;
          }
          if (!mayTake()) {
            if (!parked) waiting.push(dispatch);
            parked = true;
            return;
          }
          const i = next++;
          queue.push(i);
          slots[i].owner = worker;
          worker.postMessage({ unit: units[i] });
        }
      };
      worker.on(
        "message",
        (m: {
          index: number;
          chunk?: string;
          refused?: FileResult[];
          partial?: TallyPartial;
          error?: string;
        }) => {
          const slot = slots[m.index];
          if (m.chunk !== undefined) slot.chunks.push(m.chunk);
          else if (m.refused) slot.refused.push(m.refused);
          else {
            if (m.error !== undefined) slot.error = new Error(`check worker: ${m.error}`);
            else if (m.partial) {
              slot.partial = m.partial;
            }
            queue.shift();
            dispatch();
          }
          wake(m.index);
        },
      );
      worker.on("error", (e) => {
        for (const i of queue) {
          slots[i].error = e;
          wake(i);
        }
      });
      workers.push(worker);
      dispatch();
    }
  };

  let lastPause = performance.now();
  const pause = (): Promise<void> | undefined => {
    if (workers.length === 0 || performance.now() - lastPause < PAUSE_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        lastPause = performance.now();
        resolve();
      }),
    );
  };

  // The main thread checks shares too, from the front, until there are none left.
  const local = (async () => {
    while (next < units.length && !input.stop?.()) {
      if (workers.length === 0 && p.threads > 1 && checkedHere >= p.startAfter && units.length - next > 1)
        startWorkers();
      if (next >= units.length) break;
      if (!mayTake()) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const i = next++;
      try {
        const r = await runUnit(
          units[i],
          s,
          p.init.output,
          emitTo(i),
          p.init.facts,
          p.init.chunkBytes,
          pause,
        );
        slots[i].partial = r.partial;
        checkedHere += r.partial.files;
      } catch (e) {
        slots[i].error = e as Error;
      }
      wake(i);
    }
  })();

  const cache = new VerdictCache(s.server, s.evaluate ?? engineEvaluate);
  let current = -1;
  try {
    for (let i = 0; i < units.length && !input.stop?.(); i++) {
      const u = units[i];
      const slot = slots[i];
      if (u.packageIndex !== current) {
        if (current >= 0) await sink.packageEnd?.(tally.packages[tally.packages.length - 1]);
        current = u.packageIndex;
        const checks = packageChecks(cache, u.pkg, s);
        tally.startPackage(u.pkg, checks);
        await sink.packageStart?.(u.pkg, checks);
      }
      if (u.pre) {
        for (const w of u.pre.warnings) tally.warn(w);
        tally.skipped += u.pre.skipped;
      }
      for (;;) {
        while (slot.chunks.length > 0) {
          await sink.fileChunk?.(slot.chunks.shift() as string);
          slot.owner?.postMessage({ ack: 1 });
          if (slot.resume && slot.chunks.length < CHUNKS_AHEAD) {
            const r = slot.resume;
            slot.resume = undefined;
            r();
          }
        }
        while (slot.refused.length > 0)
          for (const r of slot.refused.shift() as FileResult[]) await sink.file?.(u.pkg, r);
        if (slot.error) throw slot.error;
        if (slot.partial) break;
        await new Promise<void>((resolve) => {
          slot.wake = resolve;
        });
      }
      tally.mergePartial(slot.partial);
      slots[i] = { chunks: [], refused: [] }; // let the share's data go
      advance();
      input.onProgress?.(tally.files);
    }
    if (current >= 0 && !input.stop?.()) await sink.packageEnd?.(tally.packages[tally.packages.length - 1]);
  } finally {
    next = units.length;
    for (const w of waiting.splice(0)) w();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  await local;
  return tally;
}
