/**
 * `dpdoctor logs`: DP traffic summary over many artifacts (issue 4). W3C logs go through the byte scanner
 * (scan.ts) in worker threads — over files and over byte ranges of big files — and the partial aggregates are
 * merged in file order; other kinds are read with the typed readers.
 */

import { closeSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { describeStatus } from "../iis/status.js";
import {
  ATTEMPT_GAP_MS,
  addRefusal,
  agentLabel,
  groupKeyOf,
  inc,
  mergePartial,
  newPartial,
  type PackedPartial,
  type Partial,
  unpackPartial,
  urlInfo,
} from "./aggregate.js";
import { parseBitsEvents } from "./bits.js";
import { parseCmTrace, parseSmsSimple } from "./cmtrace.js";
import { EVTX_MESSAGE, expandPaths, readFileBytes, sniffFile } from "./read.js";
import type { ArtifactKind, SkippedRecord } from "./records.js";
import { type RangeJob, type ScanFilters, scanGzip, scanRange } from "./scan.js";
import { sniffEncoding } from "./text.js";
import { HTTPERR_REASONS, parseHttpErr, parseW3C } from "./w3c.js";

export interface LogsOptions {
  filters?: ScanFilters;
  kind?: ArtifactKind;
  /** Worker threads (default: available cores, max 8; 1 = scan in the main thread). */
  workers?: number;
  /** Files smaller than this are scanned in one piece (default 32 MiB; without workers, and rangeBytes not given,
   * every file is). */
  rangeBytes?: number;
  /** W3C field list for files without a "#Fields:" header (`--fields`); such files are then read as W3C. */
  fields?: string;
  /**
   * Below this much W3C data no worker thread is started and each file is scanned in one piece (default
   * MIN_WORKER_BYTES).
   */
  minWorkerBytes?: number;
}

export interface FileSummary {
  path: string;
  kind: ArtifactKind;
  records: number;
  skipped: number;
  skippedSamples: SkippedRecord[];
  message?: string;
}

export interface RetryPattern {
  client: string;
  contentId: string;
  path: string;
  stem: string;
  status: number;
  substatus: number;
  requests: number;
  attempts: number;
  intervalSeconds: number;
  minIntervalSeconds: number;
  maxIntervalSeconds: number;
  steady: boolean;
  /** What the interval matches (BITS MinimumRetryDelay 600 s, DTS hourly 3600 s, §5.1/§5.3/§7.3). */
  cadence: string;
  firstSeen: string;
  lastSeen: string;
}

export interface RefusedEntry {
  contentId: string;
  path: string;
  form: string;
  kind: string;
  status: number;
  substatus: number;
  meaning: string;
  layer: string;
  /** HTTPERR s-reason (HTTP.sys refusals). */
  reason?: string;
  methods: string[];
  stem: string;
  query: string;
  count: number;
  clients: string[];
  /** Distinct clients (lower bound when clientsOverflow > 0). */
  clientCount: number;
  clientsOverflow: number;
  firstSeen: string;
  lastSeen: string;
}

/** One row per refusal cause (status.substatus, or HTTP.sys s-reason). */
export interface CauseSummary {
  status: number;
  substatus: number;
  reason?: string;
  meaning: string;
  layer: string;
  requests: number;
  urls: number;
  contentIds: number;
  /** 404.7 (fileExtensions, iis-request-filtering §6.10): the file extensions of the refused paths, by requests. */
  extensions?: { extension: string; count: number }[];
}

export interface LogsReport {
  files: FileSummary[];
  /** Requests summarised (IIS W3C + HTTPERR records after filters); files[].records counts every kind. */
  records: number;
  /** Bad records skipped in every file (all kinds). */
  skipped: number;
  /** Records left out by --since/--until/--content/--client. */
  filtered: number;
  timeRange: { first: string; last: string } | null;
  byStatus: { status: number; substatus: number; count: number; meaning: string; layer: string }[];
  byKind: { kind: string; form: string; count: number }[];
  byAgent: { agent: string; count: number }[];
  byReason: { reason: string; count: number; meaning: string }[];
  refused: RefusedEntry[];
  causes: CauseSummary[];
  retries: RetryPattern[];
  topFailingClients: { client: string; failures: number; firstSeen: string; lastSeen: string }[];
  overflow: { refusedGroups: number; groupClients: number; failingClients: number };
  notes: string[];
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : "");

/** `--since`, `--until` and `--client`, the same for W3C and HTTPERR records. */
function keptByFilters(filters: ScanFilters, time: number, clientIp: string): boolean {
  if (filters.since !== undefined && !(time >= filters.since)) return false;
  if (filters.until !== undefined && !(time <= filters.until)) return false;
  return filters.client === undefined || clientIp === filters.client;
}

function addHttpErrRecords(p: Partial, file: string, bytes: Buffer, filters: ScanFilters): FileSummary {
  const r = parseHttpErr(bytes, file);
  for (const rec of r.records) {
    const t = rec.time;
    if (!keptByFilters(filters, t, rec.clientIp)) {
      p.filtered++;
      continue;
    }
    const u = urlInfo(rec.uri || "/", undefined);
    if (filters.contentId !== undefined && u.contentIdLower !== filters.contentId.toLowerCase()) {
      p.filtered++;
      continue;
    }
    p.records++;
    if (t < p.first) p.first = t;
    if (t > p.last) p.last = t;
    // HTTP.sys statuses stay out of byStatus (that table is IIS's sc-status.sc-substatus); byReason has them.
    const status = Number.isNaN(rec.status) ? 0 : rec.status;
    inc(p.byReason, rec.reason || "-");
    if (rec.uri) {
      inc(p.byKind, u.label);
      addRefusal(
        p,
        groupKeyOf(rec.uri, `\u0000httperr:${rec.reason}`, status, 0),
        rec.method,
        () => ({
          stem: rec.uri,
          query: "",
          status,
          substatus: 0,
          kind: u.kind,
          form: u.form,
          contentId: u.contentId,
          path: u.path,
          reason: rec.reason,
        }),
        t,
        rec.clientIp,
      );
    }
  }
  return {
    path: file,
    kind: "httperr",
    records: r.records.length,
    skipped: r.skippedCount,
    skippedSamples: r.skipped.slice(0, 20),
  };
}

/** UTF-16 W3C logs (not written by IIS, but by tools that re-save them) take the typed path. */
export function addW3CRecords(
  p: Partial,
  file: string,
  bytes: Buffer,
  filters: ScanFilters,
  fields?: string,
): FileSummary {
  const r = parseW3C(bytes, file, { fields });
  for (const rec of r.records) {
    const t = rec.time;
    if (!keptByFilters(filters, t, rec.clientIp)) {
      p.filtered++;
      continue;
    }
    const u = urlInfo(rec.uriStem, rec.uriQuery);
    if (filters.contentId !== undefined && u.contentIdLower !== filters.contentId.toLowerCase()) {
      p.filtered++;
      continue;
    }
    p.records++;
    if (t < p.first) p.first = t;
    if (t > p.last) p.last = t;
    inc(p.byStatus, rec.status * 1000 + rec.substatus);
    inc(p.byKind, u.label);
    if (rec.userAgentRaw) inc(p.byAgent, agentLabel(rec.userAgentRaw));
    if (
      rec.status >= 400 &&
      !(
        rec.status === 401 &&
        (rec.substatus === 2 || (rec.substatus === 1 && rec.win32Status === 2148074254))
      )
    )
      addRefusal(
        p,
        groupKeyOf(rec.uriStem, rec.uriQuery, rec.status, rec.substatus),
        rec.method,
        () => ({
          stem: rec.uriStem,
          query: rec.uriQuery,
          status: rec.status,
          substatus: rec.substatus,
          kind: u.kind,
          form: u.form,
          contentId: u.contentId,
          path: u.path,
        }),
        t,
        rec.clientIp,
      );
  }
  p.skipped += r.skippedCount;
  for (const s of r.skipped.slice(0, 50))
    p.skippedSamples.push({ line: s.line, column: s.column, reason: s.reason });
  return {
    path: file,
    kind: "iis-w3c",
    records: r.records.length,
    skipped: r.skippedCount,
    skippedSamples: r.skipped.slice(0, 20),
  };
}

class WorkerPool {
  private workers: Worker[] = [];
  private queue: { id: number; job: RangeJob; resolve: (p: Partial) => void; reject: (e: Error) => void }[] =
    [];
  private busy = new Map<Worker, { resolve: (p: Partial) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  constructor(size: number) {
    // Built code runs scan-worker.js directly; from source (tsx) the worker registers tsx itself first, because
    // module hooks of the main thread do not reach worker threads on Node 20.
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(`./scan-worker${fromSource ? ".ts" : ".js"}`, import.meta.url);
    const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
    for (let i = 0; i < size; i++) {
      const w = fromSource ? new Worker(boot, { eval: true }) : new Worker(url);
      w.on("message", (m: { partial?: PackedPartial; error?: string }) => {
        const b = this.busy.get(w);
        this.busy.delete(w);
        if (b) {
          if (m.error !== undefined) b.reject(new Error(m.error));
          else b.resolve(unpackPartial(m.partial as PackedPartial));
        }
        this.pump();
      });
      w.on("error", (e) => {
        const b = this.busy.get(w);
        this.busy.delete(w);
        b?.reject(e);
      });
      this.workers.push(w);
    }
  }
  run(job: RangeJob): Promise<Partial> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.pump();
    });
  }
  private pump(): void {
    for (const w of this.workers) {
      if (this.busy.has(w)) continue;
      const next = this.queue.shift();
      if (!next) return;
      this.busy.set(w, next);
      w.postMessage({ id: next.id, job: next.job });
    }
  }
  /**
   * The main thread scans too (it would otherwise only wait): it takes jobs from the back of the queue while the
   * workers take them from the front, and yields between jobs so finished workers get their next job. One worker
   * fewer means one isolate start-up, module load, JIT warm-up and packed partial fewer (issue 4: measured ~0.2 CPU-s
   * per extra worker on the 1.5 M-line bench log).
   */
  async helpLocally(scan: (job: RangeJob) => Promise<Partial>): Promise<void> {
    for (let next = this.queue.pop(); next; next = this.queue.pop()) {
      try {
        next.resolve(await scan(next.job));
      } catch (e) {
        next.reject(e as Error);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Default of LogsOptions.minWorkerBytes: 1 GiB. With the WebAssembly tokenizer one thread reads ~0.17 µs a line once
 * warm, and a worker thread costs ~0.6-0.7 CPU-s whatever the input (isolate start, module load, its own JIT and
 * WebAssembly warm-up, every URL classified again, the partial packed, posted, unpacked and merged), so it pays back
 * in wall time only on long scans. Measured on the 2-core bench machine (quiet, bench/gen-w3c.mjs logs,
 * `logs --json`, --workers 1 vs 2): 241 MB 0.95 vs 1.28 s wall; 482 MB 1.11-1.20 vs 1.27-1.40 s; 964 MB 1.61-1.70 vs
 * 1.52-1.62 s (1.5-1.7 vs 2.1-2.4 CPU-s); 1.6 GB 2.32 vs 1.79 s. On a production DP the CPU is IIS's: below this size
 * one thread scans.
 */
export const MIN_WORKER_BYTES = 1 << 30;

interface Plan {
  file: FileSummary;
  /** Scanner jobs for W3C files, in file order. */
  jobs: RangeJob[];
  /** A partial built in the main thread (typed path). */
  partial?: Partial;
}

function retryOf(
  c: {
    ip: string;
    requests: number;
    attempts: number;
    first: number;
    last: number;
    minGap: number;
    maxGap: number;
    sumGap: number;
  },
  g: { contentId: string; path: string; stem: string; status: number; substatus: number },
): RetryPattern | undefined {
  if (c.attempts < 3) return undefined;
  const mean = c.sumGap / (c.attempts - 1);
  const tolerance = Math.max(0.2 * mean, 30_000);
  const steady = c.maxGap - c.minGap <= tolerance;
  const near = (x: number) => Math.abs(mean - x) <= x * 0.1;
  // §5.1: 4xx except 408/409 are fatal for BITS (the job stops in ERROR); 5xx except 501/505 are transient (BITS
  // retries every MinimumRetryDelay). A fatal status that keeps coming back is DTS/CTM retrying the job (§5.4) [INF].
  const fatal =
    (g.status >= 400 && g.status < 500 && g.status !== 408 && g.status !== 409) ||
    g.status === 501 ||
    g.status === 505;
  const cadence = near(3_600_000)
    ? "the DTS hourly retry (3600 s, §5.3)"
    : fatal
      ? `HTTP ${g.status} is fatal for BITS, so DTS/CTM re-submits the job (§5.4) [INF]`
      : near(600_000)
        ? "BITS MinimumRetryDelay (600 s default, §5.1)"
        : "BITS retrying a transient error (§5.1)";
  return {
    client: c.ip,
    contentId: g.contentId,
    path: g.path,
    stem: g.stem,
    status: g.status,
    substatus: g.substatus,
    requests: c.requests,
    attempts: c.attempts,
    intervalSeconds: Math.round(mean / 1000),
    minIntervalSeconds: Math.round(c.minGap / 1000),
    maxIntervalSeconds: Math.round(c.maxGap / 1000),
    steady,
    cadence,
    firstSeen: iso(c.first),
    lastSeen: iso(c.last),
  };
}

/** Reads every artifact and builds the report. */
export async function summarizeLogs(paths: string[], opts: LogsOptions = {}): Promise<LogsReport> {
  const filters = opts.filters ?? {};
  const files = expandPaths(paths);
  const rangeBytes = opts.rangeBytes ?? 32 << 20;
  const maxWorkers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), 8));
  const plans: Plan[] = [];
  let scanBytes = 0;
  for (const path of files) {
    let d: ReturnType<typeof sniffFile>;
    try {
      d = sniffFile(path, { kind: opts.kind });
    } catch (e) {
      // An unreadable file among many (permissions, vanished): reported and counted, the others are still read.
      const reason = `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
      plans.push({
        file: {
          path,
          kind: "unknown",
          records: 0,
          skipped: 1,
          skippedSamples: [{ file: path, line: 0, reason }],
          message: reason,
        },
        jobs: [],
      });
      continue;
    }
    if (opts.fields && d.kind === "unknown" && !d.reason.startsWith("binary") && d.reason !== "empty file")
      d = { ...d, kind: "iis-w3c", reason: "--fields" };
    const file: FileSummary = { path, kind: d.kind, records: 0, skipped: 0, skippedSamples: [] };
    const plan: Plan = { file, jobs: [] };
    plans.push(plan);
    switch (d.kind) {
      case "iis-w3c": {
        const size = statSync(path).size;
        if (d.gzip)
          plan.jobs.push({ file: path, start: 0, end: -1, gzip: true, filters, fields: opts.fields });
        else if (isUtf16(path)) plan.partial = newPartial();
        else {
          const n =
            size > rangeBytes && maxWorkers > 1 ? Math.min(maxWorkers, Math.ceil(size / rangeBytes)) : 1;
          for (let i = 0; i < n; i++)
            plan.jobs.push({
              file: path,
              start: Math.floor((size * i) / n),
              end: i === n - 1 ? -1 : Math.floor((size * (i + 1)) / n),
              filters,
              fields: opts.fields,
            });
        }
        scanBytes += size;
        if (plan.partial)
          file.skippedSamples = addW3CRecords(
            plan.partial,
            path,
            readFileBytes(path),
            filters,
          ).skippedSamples;
        break;
      }
      case "httperr":
        plan.partial = newPartial();
        Object.assign(file, addHttpErrRecords(plan.partial, path, readFileBytes(path), filters));
        break;
      case "cmtrace":
      case "sms-simple": {
        const r =
          d.kind === "cmtrace"
            ? parseCmTrace(readFileBytes(path), path)
            : parseSmsSimple(readFileBytes(path), path);
        Object.assign(file, {
          records: r.records.length,
          skipped: r.skippedCount,
          skippedSamples: r.skipped.slice(0, 20),
        });
        break;
      }
      case "bits-xml":
      case "bits-csv":
      case "bits-text": {
        const r = parseBitsEvents(readFileBytes(path), path);
        Object.assign(file, {
          records: r.records.length,
          skipped: r.skippedCount,
          skippedSamples: r.skipped.slice(0, 20),
        });
        break;
      }
      case "evtx":
        file.message = EVTX_MESSAGE;
        break;
      case "iis-config":
        file.message = "IIS configuration file, not a log: use `dpdoctor check --config` to read it";
        break;
      default:
        file.message = d.reason;
    }
  }
  const jobs = plans.flatMap((p) => p.jobs);
  const useWorkers =
    maxWorkers > 1 &&
    jobs.length > 0 &&
    (scanBytes > rangeBytes || jobs.length > 1) &&
    scanBytes >= (opts.minWorkerBytes ?? MIN_WORKER_BYTES);
  // Without workers a file's byte ranges would be scanned one after the other: scanned in one piece instead (one
  // scanner, no "#Fields:" search backwards, no merge) — the same as --workers 1. An explicit rangeBytes keeps the
  // split (test/logs/summary.test.ts checks ranges of any size in one thread against the whole file).
  if (!useWorkers && opts.rangeBytes === undefined)
    for (const plan of plans) if (plan.jobs.length > 1) plan.jobs = [{ ...plan.jobs[0], start: 0, end: -1 }];
  // n-way parallelism = the main thread + n - 1 workers (see WorkerPool.helpLocally)
  const poolSize = useWorkers ? Math.min(maxWorkers, jobs.length) - 1 : 0;
  const pool = poolSize > 0 ? new WorkerPool(poolSize) : undefined;
  const local = (j: RangeJob): Promise<Partial> => (j.gzip ? scanGzip(j) : Promise.resolve(scanRange(j)));
  const run = (j: RangeJob): Promise<Partial> => (pool ? pool.run(j) : local(j));
  let results: Partial[][];
  try {
    const all = Promise.all(plans.map((p) => Promise.all(p.jobs.map(run))));
    all.catch(() => {}); // observed below, after the main thread's share (no unhandled-rejection crash meanwhile)
    await pool?.helpLocally(local);
    results = await all;
  } finally {
    await pool?.close();
  }
  const total = newPartial();
  plans.forEach((plan, i) => {
    const parts = results[i];
    if (plan.partial) {
      mergePartial(total, plan.partial);
      if (plan.file.kind === "iis-w3c") {
        plan.file.records = plan.partial.records;
        plan.file.skipped = plan.partial.skipped;
      }
      return;
    }
    if (parts.length === 0) return;
    const fileTotal = newPartial();
    let lineBase = 0;
    for (const part of parts) {
      for (const s of part.skippedSamples)
        if (fileTotal.skippedSamples.length < 20)
          fileTotal.skippedSamples.push({ ...s, line: s.line + lineBase });
      lineBase += part.lines;
      const samples = fileTotal.skippedSamples;
      mergePartial(fileTotal, part);
      fileTotal.skippedSamples = samples;
    }
    plan.file.records = fileTotal.records;
    plan.file.skipped = fileTotal.skipped;
    plan.file.skippedSamples = fileTotal.skippedSamples.map((s) => ({
      file: plan.file.path,
      line: s.line,
      column: s.column,
      reason: s.reason,
    }));
    mergePartial(total, fileTotal);
  });
  for (const plan of plans)
    plan.file.skippedSamples = plan.file.skippedSamples.map((s) => ({
      file: plan.file.path,
      line: s.line,
      column: s.column,
      reason: s.reason,
    }));
  return buildReport(
    plans.map((p) => p.file),
    total,
  );
}

function isUtf16(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(512);
    const n = readSync(fd, head, 0, head.length, 0);
    const e = sniffEncoding(head.subarray(0, n));
    return e === "utf-16le" || e === "utf-16be";
  } finally {
    closeSync(fd);
  }
}

export function buildReport(files: FileSummary[], p: Partial): LogsReport {
  const byStatus = [...p.byStatus]
    .map(([k, count]) => {
      const status = Math.floor(k / 1000);
      const substatus = k % 1000;
      const m = describeStatus(status, substatus);
      return { status, substatus, count, meaning: m.meaning, layer: m.layer };
    })
    .sort((a, b) => a.status - b.status || a.substatus - b.substatus);
  const byKind = [...p.byKind]
    .map(([label, count]) => {
      const [kind, form = ""] = label.split("/");
      return { kind, form, count };
    })
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  const byAgent = [...p.byAgent]
    .map(([agent, count]) => ({ agent, count }))
    .sort((a, b) => b.count - a.count || a.agent.localeCompare(b.agent));
  const byReason = [...p.byReason]
    .map(([reason, count]) => ({ reason, count, meaning: HTTPERR_REASONS[reason] ?? "" }))
    .sort((a, b) => b.count - a.count);
  const refused: RefusedEntry[] = [];
  const retries: RetryPattern[] = [];
  for (const g of p.groups.values()) {
    const m = describeStatus(g.status, g.substatus);
    const clients = [...g.clients.keys()].filter((c) => c !== "").sort();
    const entry: RefusedEntry = {
      contentId: g.contentId,
      path: g.kind === "dp-content" || g.kind === "peer-cache" ? g.path : g.stem,
      form: g.form,
      kind: g.kind,
      status: g.status,
      substatus: g.substatus,
      meaning:
        g.reason !== undefined
          ? `HTTP.sys ${g.reason}: ${HTTPERR_REASONS[g.reason] ?? "see the s-reason list (§4.5)"}`
          : m.meaning,
      layer: g.reason !== undefined ? "http.sys" : m.layer,
      methods: [...g.methods].sort(),
      stem: g.stem,
      query: g.query,
      count: g.count,
      clients: clients.slice(0, 50),
      clientCount: g.clients.size,
      clientsOverflow: g.clientsOverflow,
      firstSeen: iso(g.first),
      lastSeen: iso(g.last),
    };
    if (g.reason !== undefined) entry.reason = g.reason;
    refused.push(entry);
    for (const c of g.clients.values()) {
      const r = retryOf(c, g);
      if (r) retries.push(r);
    }
  }
  refused.sort(
    (a, b) =>
      a.status - b.status ||
      a.substatus - b.substatus ||
      a.contentId.localeCompare(b.contentId) ||
      a.path.localeCompare(b.path) ||
      a.stem.localeCompare(b.stem),
  );
  const causes = summarizeCauses(refused);
  retries.sort(
    (a, b) =>
      Number(b.steady) - Number(a.steady) || b.attempts - a.attempts || a.client.localeCompare(b.client),
  );
  const topFailingClients = [...p.failing.values()]
    .sort((a, b) => b.failures - a.failures || a.ip.localeCompare(b.ip))
    .slice(0, 10)
    .filter((c) => c.ip !== "")
    .map((c) => ({ client: c.ip, failures: c.failures, firstSeen: iso(c.first), lastSeen: iso(c.last) }));
  const notes: string[] = [
    "Times are UTC (IIS W3C and HTTPERR logs are always UTC, configmgr-dp-bits §4.4).",
    `Retry attempts: requests from one client for one URL less than ${ATTEMPT_GAP_MS / 1000} s apart count as one attempt (BITS retries a few times within a second, §5.1); a pattern needs 3+ attempts and is "steady" when the intervals differ by at most 20% of their mean (or 30 s) [INF].`,
    "Not counted as refusals: 401.2 and 401.1 with sc-win32-status 2148074254 (the normal NTLM/Negotiate handshake legs).",
    "A '+' in a logged URL is shown as logged: IIS writes spaces as '+', and a literal '+' looks the same (F03).",
  ];
  return {
    files,
    records: p.records,
    skipped: files.reduce((n, f) => n + f.skipped, 0), // every artifact, not only the IIS/HTTPERR requests
    filtered: p.filtered,
    timeRange: Number.isFinite(p.first) ? { first: iso(p.first), last: iso(p.last) } : null,
    byStatus,
    byKind,
    byAgent,
    byReason,
    refused,
    causes,
    retries,
    topFailingClients,
    overflow: {
      refusedGroups: p.groupsOverflow,
      groupClients: [...p.groups.values()].reduce((n, g) => n + g.clientsOverflow, 0),
      failingClients: p.failingOverflow,
    },
    notes,
  };
}

/** The extension IIS request filtering checks (§6.10): from the last '.' of the last segment; "" when none. */
export function fileExtension(p: string): string {
  const last = p.slice(p.lastIndexOf("/") + 1);
  const dot = last.lastIndexOf(".");
  return dot > 0 || (dot === 0 && last.length > 1) ? last.slice(dot).toLowerCase() : "";
}

function summarizeCauses(refused: RefusedEntry[]): CauseSummary[] {
  const by = new Map<string, { c: CauseSummary; ids: Set<string>; ext: Map<string, number> }>();
  for (const e of refused) {
    const key = e.reason !== undefined ? `r:${e.reason}` : `${e.status}.${e.substatus}`;
    let x = by.get(key);
    if (!x) {
      const c: CauseSummary = {
        status: e.status,
        substatus: e.substatus,
        meaning: e.meaning,
        layer: e.layer,
        requests: 0,
        urls: 0,
        contentIds: 0,
      };
      if (e.reason !== undefined) c.reason = e.reason;
      x = { c, ids: new Set(), ext: new Map() };
      by.set(key, x);
    }
    x.c.requests += e.count;
    x.c.urls++;
    if (e.contentId) x.ids.add(e.contentId.toLowerCase());
    if (e.status === 404 && e.substatus === 7) {
      const ext = fileExtension(e.path || e.stem);
      x.ext.set(ext, (x.ext.get(ext) ?? 0) + e.count);
    }
  }
  return [...by.values()]
    .map(({ c, ids, ext }) => {
      c.contentIds = ids.size;
      if (ext.size)
        c.extensions = [...ext]
          .map(([extension, count]) => ({ extension, count }))
          .sort((a, b) => b.count - a.count || a.extension.localeCompare(b.extension));
      return c;
    })
    .sort((a, b) => b.requests - a.requests);
}
