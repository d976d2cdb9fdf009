/**
 * Bounded aggregates of DP log lines (IIS W3C + HTTPERR) for `diagnose`: each line is folded as it streams, so memory
 * does not grow with the size of the logs (a busy DP writes millions of lines a day). Counts stay exact; lists
 * (requests, content IDs, files, clients, retry times, timeline events) are capped, and what a cap left out is
 * counted and said in the report — never hidden.
 */

import type { DpRequest } from "./dp-requests.js";
import type { TimelineEvent } from "./report.js";

/** The caps. Below them the aggregates give exactly what the whole-input computation gave. */
export const LIMITS = {
  /** Distinct requests (method, URL, client, server, status) kept per finding: refusals and their evidence. */
  requestsPerFinding: 250,
  /** Distinct content IDs / files / clients listed per finding. */
  listedValues: 1000,
  /** Beyond the list: distinct values still counted exactly (as 53-bit hashes) up to this many. */
  countedValues: 100_000,
  /** (client, method, URL) retry series kept per finding for the retry cadence. */
  cadenceSeries: 250,
  /** Times kept per retry series (count, first and last stay exact). */
  cadenceTimes: 1000,
  /** 401.2 lines waiting to learn whether the same client got the URL with 2xx later (the handshake's 2xx follows within a second). */
  pendingHandshakes: 2048,
  /**
   * client|URL keys answered 2xx remembered (53-bit hashes, the most recent ones), to tell a 401.2 handshake from a
   * refusal: a fixed 4 MiB table (2^19 slots), whatever the log.
   */
  successKeys: 1 << 19,
  /** Content IDs whose DP lines are kept for the timeline (first seen; those the client logs, BITS events, package folder or --content name are always kept). */
  timelineContentIds: 32,
  /** Distinct status.substatus.win32 kinds in the breakdown. */
  statusKinds: 10_000,
  /** Content IDs whose DP line counts are kept (timeline note). */
  contentIdCounts: 100_000,
} as const;

/** A 53-bit hash of a string (two 32-bit FNV-style mixes): distinct-value counting without keeping the values. */
export function hash53(s: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
}

/**
 * Recent keys, as 53-bit hashes, in a fixed table (4-way set-associative, `cap` slots): a new key takes the slot of the
 * least recently seen of its bucket, so the keys a later line most likely asks about (recent ones) are kept. No
 * allocation per key — a churn of garbage made the heap, and the peak RSS, grow with the log. Evictions are counted.
 */
export class RecentKeys {
  private static readonly WAYS = 4;
  /** hash + 1 per slot (0 = empty); within a bucket, most recently seen first. */
  private readonly table: Float64Array;
  private readonly buckets: number;
  private used = 0;
  /** Keys pushed out of the table. */
  forgotten = 0;
  constructor(cap: number) {
    this.buckets = Math.max(1, Math.floor(cap / RecentKeys.WAYS));
    this.table = new Float64Array(this.buckets * RecentKeys.WAYS);
  }
  /** Keys are hash53 values: integers in [0, 2^53 - 1]. */
  private static valid(h: number): boolean {
    return Number.isInteger(h) && h >= 0 && h <= 2 ** 53 - 1;
  }
  add(h: number): void {
    if (!RecentKeys.valid(h)) return;
    const v = h + 1;
    const t = this.table;
    const base = (h % this.buckets) * RecentKeys.WAYS;
    let at = RecentKeys.WAYS - 1; // not found: the last (least recent) slot is reused
    for (let k = 0; k < RecentKeys.WAYS; k++)
      if (t[base + k] === v) {
        at = k;
        break;
      }
    if (t[base + at] !== v) {
      if (t[base + at] !== 0) this.forgotten++;
      else this.used++;
    }
    for (let k = at; k > 0; k--) t[base + k] = t[base + k - 1] as number;
    t[base] = v;
  }
  has(h: number): boolean {
    if (!RecentKeys.valid(h)) return false;
    const v = h + 1;
    const base = (h % this.buckets) * RecentKeys.WAYS;
    for (let k = 0; k < RecentKeys.WAYS; k++) if (this.table[base + k] === v) return true;
    return false;
  }
  /** Keys held. */
  get size(): number {
    return this.used;
  }
}

/** Distinct values: the first `listCap` listed, the rest counted (exactly, up to `countCap`). */
export class CappedValues {
  readonly listed = new Set<string>();
  private readonly counted = new Set<number>();
  /** The counter itself hit its cap: `more` is a lower bound. */
  saturated = false;
  constructor(
    private readonly listCap: number = LIMITS.listedValues,
    private readonly countCap: number = LIMITS.countedValues,
  ) {}
  add(v: string): void {
    if (this.listed.has(v)) return;
    if (this.listed.size < this.listCap) {
      this.listed.add(v);
      return;
    }
    const h = hash53(v);
    if (this.counted.has(h)) return;
    if (this.counted.size < this.countCap) this.counted.add(h);
    else this.saturated = true;
  }
  /** Distinct values beyond the list. */
  get more(): number {
    return this.counted.size;
  }
  get retained(): number {
    return this.listed.size + this.counted.size;
  }
}

/** What the evidence of a DP line needs (a request's last line is kept in this small form, not the whole record). */
export interface DpLine {
  source: DpRequest["source"];
  time: number;
  method: string;
  status: number;
  substatus: number;
  reason?: string;
  record: { file: string; line: number; text: string };
}

function lineOf(r: DpRequest): DpLine {
  return {
    source: r.source,
    time: r.time,
    method: r.method,
    status: r.status,
    substatus: r.substatus,
    reason: r.reason,
    record: { file: r.record.file, line: r.record.line, text: r.record.text },
  };
}

/** The lines of one distinct request (method, URL, client, server, status.substatus) in a finding. */
export interface RequestAgg {
  first: DpRequest;
  last: DpLine;
  count: number;
  /** Smallest / largest finite time (NaN when no line has one). */
  minTime: number;
  maxTime: number;
}

interface Series {
  count: number;
  times: number[];
  min: number;
  max: number;
}

/** Everything a finding reads from its DP lines. */
export class DpGroupAgg {
  lineCount = 0;
  /** Sequence number of the first line folded in (orders the findings as the lines did). */
  firstOrdinal = Number.POSITIVE_INFINITY;
  first: DpRequest | undefined;
  readonly requests = new Map<string, RequestAgg>();
  /** Lines of requests beyond `requestsPerFinding` (counted in lineCount, not listed as refusals). */
  requestLinesNotListed = 0;
  readonly contentIds = new CappedValues();
  readonly files = new CappedValues();
  readonly clients = new CappedValues();
  /** Upper-cased methods seen (at most 32 kept; `otherMethods` past that). */
  readonly methods = new Set<string>();
  otherMethods = false;
  has404dot0 = false;
  /** Join keys (content ID/path) of client jobs and BITS events seen among these lines. */
  readonly keys = new Set<string>();
  private readonly series = new Map<string, Series>();
  seriesNotKept = 0;
  seriesTimesCut = false;

  add(r: DpRequest, ordinal: number, relevantKey: boolean): void {
    this.lineCount++;
    if (ordinal < this.firstOrdinal) {
      this.firstOrdinal = ordinal;
      this.first = r;
    }
    const rk = `${r.method}|${r.url}|${r.clientIp}|${r.serverIp}|${r.status}.${r.substatus}`;
    const req = this.requests.get(rk);
    const t = r.time;
    if (req) {
      req.count++;
      req.last = lineOf(r);
      if (Number.isFinite(t)) {
        if (!(t >= req.minTime)) req.minTime = t;
        if (!(t <= req.maxTime)) req.maxTime = t;
      }
    } else if (this.requests.size < LIMITS.requestsPerFinding) {
      const ft = Number.isFinite(t) ? t : Number.NaN;
      this.requests.set(rk, { first: r, last: r, count: 1, minTime: ft, maxTime: ft });
    } else this.requestLinesNotListed++;
    const p = r.parts;
    if (p.contentId) this.contentIds.add(p.contentId);
    if (p.relativePath) this.files.add(p.relativePath);
    if (r.clientIp) this.clients.add(r.clientIp);
    const m = r.method.toUpperCase();
    if (!this.methods.has(m)) {
      if (this.methods.size < 32) this.methods.add(m);
      else this.otherMethods = true;
    }
    if (r.status === 404 && r.substatus === 0) this.has404dot0 = true;
    if (relevantKey) this.keys.add(r.key);
    if (Number.isFinite(t)) {
      const sk = `${r.clientIp}|${r.method}|${r.url}`;
      const s = this.series.get(sk);
      if (s) {
        s.count++;
        if (s.times.length < LIMITS.cadenceTimes) s.times.push(t);
        else this.seriesTimesCut = true;
        if (t < s.min) s.min = t;
        if (t > s.max) s.max = t;
      } else if (this.series.size < LIMITS.cadenceSeries)
        this.series.set(sk, { count: 1, times: [t], min: t, max: t });
      else this.seriesNotKept++;
    }
  }

  /** Every line used this method (upper-cased). */
  onlyMethod(m: string): boolean {
    return this.lineCount > 0 && !this.otherMethods && this.methods.size === 1 && this.methods.has(m);
  }

  /** The retry series with the most lines (the first such, in line order): count, first, last, median gap. */
  busiestSeries(): { count: number; first: number; last: number; medianGap: number } | undefined {
    let best: Series | undefined;
    for (const s of this.series.values()) if (!best || s.count > best.count) best = s;
    if (!best || best.count < 2) return undefined;
    const times = [...best.times].sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    gaps.sort((a, b) => a - b);
    return {
      count: best.count,
      first: best.min,
      last: best.max,
      medianGap: gaps[Math.floor(gaps.length / 2)] ?? 0,
    };
  }

  get retained(): number {
    let n = this.requests.size + this.contentIds.retained + this.files.retained + this.clients.retained;
    for (const s of this.series.values()) n += 1 + s.times.length;
    return n + this.keys.size + this.methods.size;
  }
}

/**
 * The earliest `cap` events by (time, line order): what the timeline can draw once it is cut to MAX_TIMELINE.
 * Logs are written in time order, so a later event is usually dropped at once without sorting.
 */
export class EarliestEvents {
  private items: { e: TimelineEvent; ord: number; k?: string }[] = [];
  /** An event was left out (the list was full with earlier ones). */
  dropped = false;
  private sorted = true;
  /** The largest kept (time, ord) once the list is full and sorted. */
  private bound: { time: number; ord: number } | undefined;
  constructor(private readonly cap: number) {}

  /** `k`: the content ID key of the event, for a lane shared by several content IDs. */
  offer(time: number, ord: number, make: () => TimelineEvent, k?: string): void {
    const b = this.bound;
    if (b && (time > b.time || (time === b.time && ord > b.ord))) {
      this.dropped = true;
      return;
    }
    this.items.push(k === undefined ? { e: make(), ord } : { e: make(), ord, k });
    this.sorted = false;
    if (this.items.length >= this.cap + (this.cap >> 1)) this.compact();
  }

  private compact(): void {
    this.items.sort((a, b) => a.e.time - b.e.time || a.ord - b.ord);
    this.sorted = true;
    if (this.items.length >= this.cap) {
      if (this.items.length > this.cap) this.dropped = true;
      this.items.length = this.cap;
      const last = this.items[this.cap - 1];
      if (last) this.bound = { time: last.e.time, ord: last.ord };
    }
  }

  /** Kept events with their line order. */
  list(): { e: TimelineEvent; ord: number; k?: string }[] {
    if (!this.sorted) this.compact();
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }
}

/** DP timeline events of one content ID (or of all DP lines): the earliest refusals and the earliest normal lines. */
export class TimelineLane {
  readonly notable: EarliestEvents;
  readonly ok: EarliestEvents;
  constructor(cap: number) {
    this.notable = new EarliestEvents(cap);
    this.ok = new EarliestEvents(cap);
  }
  get size(): number {
    return this.notable.size + this.ok.size;
  }
}
