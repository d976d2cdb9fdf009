/** Worker thread for `dpdoctor logs`: scans one W3C byte range (or gzip file) per message, answers a packed Partial. */
import { parentPort } from "node:worker_threads";
import { packPartial } from "./aggregate.js";
import { type RangeJob, scanGzip, scanRange } from "./scan.js";

parentPort?.on("message", async (msg: { id: number; job: RangeJob }) => {
  try {
    const partial = packPartial(msg.job.gzip ? await scanGzip(msg.job) : scanRange(msg.job));
    // the statistics buffer is moved, not copied
    parentPort?.postMessage({ id: msg.id, partial }, [partial.stats.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort?.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
