/** Worker thread for `dpdoctor logs`: scans one W3C byte range (or gzip file) per message, answers a Partial. */
import { parentPort } from "node:worker_threads";
import { type RangeJob, scanGzip, scanRange } from "./scan.js";

parentPort?.on("message", async (msg: { id: number; job: RangeJob }) => {
  try {
    const partial = msg.job.gzip ? await scanGzip(msg.job) : scanRange(msg.job);
    parentPort?.postMessage({ id: msg.id, partial });
  } catch (e) {
    parentPort?.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
