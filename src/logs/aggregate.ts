/**
 * The `dpdoctor logs` summary as mergeable partial aggregates: one per file or byte range, filled by the byte
 * scanner (scan.ts) or from typed records (HTTPERR), merged in file order, then rendered by summary.ts.
 * Memory is bounded: every map has a cap and counts what did not fit (overflow), so RSS does not grow with input size.
 */
import { classifyAgent, classifyRequest } from "./classify.js";

export const CAPS = {
  /** Distinct refused (status, URL) groups. */
  groups: 20_000,
  /** Distinct clients remembered per group (beyond that: counted only). */
  clientsPerGroup: 64,
  /** (refused group, client) pairs with retry statistics, over all groups. */
  retryPairs: 50_000,
  /** Distinct failing clients overall. */
  failingClients: 100_000,
  /** URL classification cache entries. */
  urlCache: 100_000,
  /** Skipped-line samples kept per range. */
  skippedSamples: 50,
};

/** Bursts closer than this are one retry attempt (BITS retries ~3 times within a second, §5.1 [S29]). */
export const ATTEMPT_GAP_MS = 5_000;

export interface RetryStat {
  ip: string;
  requests: number;
  attempts: number;
  first: number;
  last: number;
  /** Start of the current attempt burst. */
  lastAttempt: number;
  minGap: number;
  maxGap: number;
  sumGap: number;
}

export interface RefusedGroup {
  /** Methods seen (HEAD, GET, PROPFIND …). */
  methods: string[];
  stem: string;
  query: string;
  status: number;
  substatus: number;
  kind: string;
  form: string;
  contentId: string;
  path: string;
  count: number;
  first: number;
  last: number;
  /** HTTPERR s-reason, for HTTP.sys refusals. */
  reason?: string;
  /** Per client (IP) statistics, including the retry cadence. */
  clients: Map<string, RetryStat>;
  clientsOverflow: number;
}

export interface FailingClient {
  ip: string;
  failures: number;
  first: number;
  last: number;
}

export interface SkipSample {
  line: number;
  column?: number;
  reason: string;
}

export interface Partial {
  records: number;
  skipped: number;
  skippedSamples: SkipSample[];
  /** Physical lines seen (to turn range-local line numbers into file line numbers). */
  lines: number;
  first: number;
  last: number;
  /** status*1000+substatus → count */
  byStatus: Map<number, number>;
  /** "kind" or "kind/form" → count */
  byKind: Map<string, number>;
  byAgent: Map<string, number>;
  /** HTTPERR s-reason → count */
  byReason: Map<string, number>;
  /** Keyed by a 53-bit hash of (stem bytes, query bytes, status, substatus): see groupKey. */
  groups: Map<number, RefusedGroup>;
  groupsOverflow: number;
  /** (group, client) pairs in all groups' `clients` maps (bounded by CAPS.retryPairs). */
  pairs: number;
  failing: Map<string, FailingClient>;
  failingOverflow: number;
  /** Records dropped by --since/--until/--content/--client. */
  filtered: number;
}

export function newPartial(): Partial {
  return {
    records: 0,
    skipped: 0,
    skippedSamples: [],
    lines: 0,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    byStatus: new Map(),
    byKind: new Map(),
    byAgent: new Map(),
    byReason: new Map(),
    groups: new Map(),
    groupsOverflow: 0,
    pairs: 0,
    failing: new Map(),
    failingOverflow: 0,
    filtered: 0,
  };
}

export function inc<K>(m: Map<K, number>, k: K, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

/**
 * Is this response a refusal worth reporting? Every 4xx/5xx except the normal NTLM/Negotiate handshake legs:
 * 401.2 (challenge) and 401.1 with sc-win32-status 2148074254 (SEC_E_NO_CREDENTIALS, second leg) — §2.5, F08.
 */
export function isRefusal(status: number, substatus: number, win32: number): boolean {
  if (status < 400) return false;
  if (status === 401 && (substatus === 2 || (substatus === 1 && win32 === 2148074254))) return false;
  return true;
}

export interface UrlInfo {
  kind: string;
  /** "kind" or "kind/form" */
  label: string;
  form: string;
  contentId: string;
  contentIdLower: string;
  path: string;
}

export function urlInfo(stem: string, query: string | undefined): UrlInfo {
  const p = classifyRequest(stem, query);
  const form = p.form ?? "";
  return {
    kind: p.kind,
    label: form ? `${p.kind}/${form}` : p.kind,
    form,
    contentId: p.contentId ?? "",
    contentIdLower: (p.contentId ?? "").toLowerCase(),
    path: p.relativePath ?? "",
  };
}

export function agentLabel(ua: string): string {
  const a = classifyAgent(ua);
  return a.version ? `${a.agent}/${a.version}` : a.agent;
}

export function newRetry(ip: string, t: number): RetryStat {
  return {
    ip,
    requests: 1,
    attempts: 1,
    first: t,
    last: t,
    lastAttempt: t,
    minGap: Infinity,
    maxGap: 0,
    sumGap: 0,
  };
}

/** One more request from the same client for the same refused URL: a new attempt when ≥ ATTEMPT_GAP_MS later. */
export function touchRetry(c: RetryStat, t: number): void {
  c.requests++;
  if (t - c.last >= ATTEMPT_GAP_MS) {
    const gap = t - c.lastAttempt;
    c.attempts++;
    if (gap < c.minGap) c.minGap = gap;
    if (gap > c.maxGap) c.maxGap = gap;
    c.sumGap += gap;
    c.lastAttempt = t;
  }
  if (t > c.last) c.last = t;
}

/**
 * A RetryStat's numbers as 8 doubles at P[o] — requests, attempts, first, last, lastAttempt, minGap, maxGap, sumGap —
 * for tables of many pairs (the scanner, packed partials): newRetry and touchRetry on columns, and the object back.
 * wasm/w3c-tokenizer.ts countHere applies touchRetryAt's rule to the same layout.
 */
export function newRetryAt(P: Float64Array, o: number, t: number): void {
  P[o] = 1;
  P[o + 1] = 1;
  P[o + 2] = t;
  P[o + 3] = t;
  P[o + 4] = t;
  P[o + 5] = Number.POSITIVE_INFINITY;
  P[o + 6] = 0;
  P[o + 7] = 0;
}

export function touchRetryAt(P: Float64Array, o: number, t: number): void {
  P[o]++;
  if (t - P[o + 3] >= ATTEMPT_GAP_MS) {
    const gap = t - P[o + 4];
    P[o + 1]++;
    if (gap < P[o + 5]) P[o + 5] = gap;
    if (gap > P[o + 6]) P[o + 6] = gap;
    P[o + 7] += gap;
    P[o + 4] = t;
  }
  if (t > P[o + 3]) P[o + 3] = t;
}

export function retryStatAt(ip: string, P: Float64Array, o: number): RetryStat {
  return {
    ip,
    requests: P[o],
    attempts: P[o + 1],
    first: P[o + 2],
    last: P[o + 3],
    lastAttempt: P[o + 4],
    minGap: P[o + 5],
    maxGap: P[o + 6],
    sumGap: P[o + 7],
  };
}

/** Adds one refused request to its group (time-ordered input gives exact retry gaps). */
export function addRefusal(
  p: Partial,
  key: number,
  method: string,
  make: () => Omit<RefusedGroup, "count" | "first" | "last" | "clients" | "clientsOverflow" | "methods">,
  t: number,
  ip: string,
): void {
  let g = p.groups.get(key);
  if (!g) {
    if (p.groups.size >= CAPS.groups) {
      p.groupsOverflow++;
      return;
    }
    g = { ...make(), methods: [], count: 0, first: t, last: t, clients: new Map(), clientsOverflow: 0 };
    p.groups.set(key, g);
  }
  g.count++;
  if (!g.methods.includes(method)) g.methods.push(method);
  if (t < g.first) g.first = t;
  if (t > g.last) g.last = t;
  const c = g.clients.get(ip);
  if (c) touchRetry(c, t);
  else if (g.clients.size >= CAPS.clientsPerGroup || p.pairs >= CAPS.retryPairs) g.clientsOverflow++;
  else {
    p.pairs++;
    g.clients.set(ip, newRetry(ip, t));
  }
  if (ip === "") return; // c-ip "-": no client to list among the failing clients (as the byte scanner)
  let f = p.failing.get(ip);
  if (!f) {
    if (p.failing.size >= CAPS.failingClients) {
      p.failingOverflow++;
      return;
    }
    f = { ip, failures: 0, first: t, last: t };
    p.failing.set(ip, f);
  }
  f.failures++;
  if (t < f.first) f.first = t;
  if (t > f.last) f.last = t;
}

function mergeCounts<K>(into: Map<K, number>, from: Map<K, number>): void {
  for (const [k, v] of from) inc(into, k, v);
}

function mergeRetry(a: RetryStat, b: RetryStat): void {
  // b comes later in file order; join the two runs when b starts after a ends.
  if (b.first >= a.last) {
    const boundary = b.first - a.last >= ATTEMPT_GAP_MS;
    a.attempts += b.attempts - (boundary ? 0 : 1);
    if (boundary) {
      const gap = b.first - a.lastAttempt;
      a.minGap = Math.min(a.minGap, gap, b.minGap);
      a.maxGap = Math.max(a.maxGap, gap, b.maxGap);
      a.sumGap += gap + b.sumGap;
    } else {
      a.minGap = Math.min(a.minGap, b.minGap);
      a.maxGap = Math.max(a.maxGap, b.maxGap);
      a.sumGap += b.sumGap;
    }
    a.lastAttempt = b.lastAttempt;
  } else {
    a.attempts += b.attempts;
    a.minGap = Math.min(a.minGap, b.minGap);
    a.maxGap = Math.max(a.maxGap, b.maxGap);
    a.sumGap += b.sumGap;
    a.lastAttempt = Math.max(a.lastAttempt, b.lastAttempt);
  }
  a.requests += b.requests;
  a.first = Math.min(a.first, b.first);
  a.last = Math.max(a.last, b.last);
}

/** Merges `b` (later in file order) into `a`. Line numbers are not touched (see summary.ts). */
export function mergePartial(a: Partial, b: Partial): Partial {
  a.records += b.records;
  a.skipped += b.skipped;
  a.lines += b.lines;
  a.filtered += b.filtered;
  a.first = Math.min(a.first, b.first);
  a.last = Math.max(a.last, b.last);
  mergeCounts(a.byStatus, b.byStatus);
  mergeCounts(a.byKind, b.byKind);
  mergeCounts(a.byAgent, b.byAgent);
  mergeCounts(a.byReason, b.byReason);
  for (const [k, g] of b.groups) {
    const x = a.groups.get(k);
    if (!x) {
      if (a.groups.size >= CAPS.groups) {
        a.groupsOverflow += g.count;
        continue;
      }
      a.groups.set(k, g);
      a.pairs += g.clients.size;
      continue;
    }
    x.count += g.count;
    for (const m of g.methods) if (!x.methods.includes(m)) x.methods.push(m);
    x.first = Math.min(x.first, g.first);
    x.last = Math.max(x.last, g.last);
    x.clientsOverflow += g.clientsOverflow;
    for (const [ip, c] of g.clients) {
      const y = x.clients.get(ip);
      if (y) mergeRetry(y, c);
      else if (x.clients.size < CAPS.clientsPerGroup && a.pairs < CAPS.retryPairs) {
        a.pairs++;
        x.clients.set(ip, c);
      } else x.clientsOverflow++;
    }
  }
  a.groupsOverflow += b.groupsOverflow;
  for (const [ip, f] of b.failing) {
    const x = a.failing.get(ip);
    if (x) {
      x.failures += f.failures;
      x.first = Math.min(x.first, f.first);
      x.last = Math.max(x.last, f.last);
    } else if (a.failing.size < CAPS.failingClients) a.failing.set(ip, f);
    else a.failingOverflow++;
  }
  a.failingOverflow += b.failingOverflow;
  return a;
}

// FNV-1a (32-bit) and a second multiplicative hash over the same bytes: together a 53-bit key.
export function fnv1a(b: Uint8Array, s: number, e: number, h = 0x811c9dc5): number {
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h | 0; // int32: stays a small integer when passed on (a uint32 ≥ 2^31 would be a heap number)
}

export function hash2(b: Uint8Array, s: number, e: number, h = 0x2545f491): number {
  for (let i = s; i < e; i++) h = Math.imul(h + b[i], 0x5bd1e995) ^ (h >>> 15);
  return h | 0;
}

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Two 32-bit hashes of the bytes b[a, z), written to out[0] and out[1]: four 32-bit lanes, lane i fed the i-th
 * little-endian word of each 16-byte block (the last block zero-padded), multiplied and shifted — four independent
 * chains, which the WebAssembly tokenizer (wasm/w3c-tokenizer.ts laneHash) runs as one SIMD step per 16 bytes —
 * then both results mix all four lanes and the length (so zero padding cannot collide with a longer input). The URL
 * and user-agent cache keys of the scanner and the refused-group keys (groupKey); groupKeyOf uses it for the typed
 * path, so both paths key a URL alike. test/logs/scan-wasm.test.ts checks the two implementations agree.
 */
export function laneHash(b: Uint8Array, a0: number, z0: number, out: Int32Array): void {
  const a = a0 | 0;
  const z = z0 | 0;
  let l0 = 0x811c9dc5 | 0;
  let l1 = 0x2545f491 | 0;
  let l2 = 0x9e3779b9 | 0;
  let l3 = 0x7f4a7c15 | 0;
  for (let i = a; i < z; i = (i + 16) | 0) {
    const w0 = word(b, i, z);
    const w1 = word(b, i + 4, z);
    const w2 = word(b, i + 8, z);
    const w3 = word(b, i + 12, z);
    l0 = Math.imul(l0 ^ w0, 0x01000193);
    l0 ^= l0 >>> 15;
    l1 = Math.imul(l1 ^ w1, 0x01000193);
    l1 ^= l1 >>> 15;
    l2 = Math.imul(l2 ^ w2, 0x01000193);
    l2 ^= l2 >>> 15;
    l3 = Math.imul(l3 ^ w3, 0x01000193);
    l3 ^= l3 >>> 15;
  }
  const n = z - a;
  out[0] = fmix32(l0 ^ rotl(l1, 11) ^ rotl(l2, 22) ^ rotl(l3, 5) ^ n);
  out[1] = fmix32(l1 ^ rotl(l2, 11) ^ rotl(l3, 22) ^ rotl(l0, 5) ^ Math.imul(n, 0x9e3779b1));
}

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

/** Little-endian 32-bit word of b at i, bytes at or past z read as 0. */
function word(b: Uint8Array, i: number, z: number): number {
  if (i + 4 <= z) return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
  let w = 0;
  for (let k = 0; k < 4 && i + k < z; k++) w |= b[i + k] << (8 * k);
  return w;
}

/** 53-bit group key of a refused request: stem + query bytes, status and substatus. */
export function groupKey(
  stemH1: number,
  stemH2: number,
  queryH: number,
  status: number,
  substatus: number,
): number {
  const lo =
    (Math.imul(stemH2 ^ queryH, 0x9e3779b1) ^ Math.imul(status * 1000 + substatus, 0x85ebca6b)) >>> 11;
  return (stemH1 >>> 0) * 2097152 + (lo & 0x1fffff);
}

const enc = new TextEncoder();

/** The same key computed from strings (typed-record path, e.g. HTTPERR). */
export function groupKeyOf(stem: string, query: string, status: number, substatus: number): number {
  const sb = enc.encode(stem);
  const qb = enc.encode(query);
  const h = new Int32Array(2);
  laneHash(sb, 0, sb.length, h);
  return groupKey(h[0], h[1], fnv1a(qb, 0, qb.length), status, substatus);
}

/**
 * Open-addressing table from a 64-bit hash pair to a small integer, in typed arrays: no allocation per lookup
 * (a Map with 53-bit number keys boxes every key). `capacity` bounds the entries (`set` refuses beyond it); the table
 * starts small and doubles at half full, so a few thousand distinct URLs probe a table that stays in L2 cache
 * instead of one sized for the cap (a 100k-entry table is 4 MB: a cache miss per line).
 */
export class HashSlots {
  /** Slot i = [k1, k2, value + 1, unused] at 4*i: one cache line per probe (value 0 = empty). */
  private t: Int32Array;
  private mask: number;
  size = 0;
  constructor(
    readonly capacity: number,
    initialSlots = 1024,
  ) {
    let n = 16;
    while (n < initialSlots && n < capacity * 2) n *= 2;
    this.t = new Int32Array(n * 4);
    this.mask = n - 1;
  }
  /** Value for (h1, h2), or -1. */
  get(h1: number, h2: number): number {
    const t = this.t;
    const a = h1 | 0;
    const b = h2 | 0;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = i << 2;
      const v = t[o + 2];
      if (v === 0) return -1;
      if (t[o] === a && t[o + 1] === b) return v - 1;
      i = (i + 1) & this.mask;
    }
  }
  /** Stores (h1, h2) → v (v ≥ 0); false when the table is full (the caller counts the overflow). */
  set(h1: number, h2: number, v: number): boolean {
    if (this.size >= this.capacity) return false;
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    this.put(h1 | 0, h2 | 0, v + 1);
    return true;
  }
  private put(a: number, b: number, v1: number): void {
    const t = this.t;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
    for (;;) {
      const o = i << 2;
      if (t[o + 2] === 0) {
        t[o] = a;
        t[o + 1] = b;
        t[o + 2] = v1;
        this.size++;
        return;
      }
      if (t[o] === a && t[o + 1] === b) {
        t[o + 2] = v1;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }
  private grow(): void {
    const old = this.t;
    this.t = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.size = 0;
    for (let o = 0; o < old.length; o += 4) if (old[o + 2] !== 0) this.put(old[o], old[o + 1], old[o + 2]);
  }
}

/**
 * A Partial as a worker posts it: the groups' per-client retry statistics (up to CAPS.retryPairs small objects)
 * travel as one Float64Array plus a list of distinct IPs. Structured clone of those objects measured ~160 ms each way
 * for a 1.5 M-line range (9 MB); a typed array is copied as bytes. `unpackPartial(packPartial(p))` deep-equals `p`.
 */
export interface PackedPartial {
  partial: Partial;
  ips: string[];
  /** Per client, in group then client order: ip index, requests, attempts, first, last, lastAttempt, min/max/sum gap. */
  stats: Float64Array;
  /** Clients per group, in the groups' order. */
  counts: Int32Array;
}

const STAT_WIDTH = 9;

export function packPartial(p: Partial): PackedPartial {
  const ipIndex = new Map<string, number>();
  const ips: string[] = [];
  let total = 0;
  for (const g of p.groups.values()) total += g.clients.size;
  const stats = new Float64Array(total * STAT_WIDTH);
  const counts = new Int32Array(p.groups.size);
  const groups = new Map<number, RefusedGroup>();
  let o = 0;
  let gi = 0;
  for (const [key, g] of p.groups) {
    counts[gi++] = g.clients.size;
    for (const c of g.clients.values()) {
      let ii = ipIndex.get(c.ip);
      if (ii === undefined) {
        ii = ips.length;
        ips.push(c.ip);
        ipIndex.set(c.ip, ii);
      }
      stats[o++] = ii;
      stats[o++] = c.requests;
      stats[o++] = c.attempts;
      stats[o++] = c.first;
      stats[o++] = c.last;
      stats[o++] = c.lastAttempt;
      stats[o++] = c.minGap;
      stats[o++] = c.maxGap;
      stats[o++] = c.sumGap;
    }
    groups.set(key, { ...g, clients: new Map() });
  }
  return { partial: { ...p, groups }, ips, stats, counts };
}

export function unpackPartial(x: PackedPartial): Partial {
  const { partial, ips, stats, counts } = x;
  let o = 0;
  let gi = 0;
  for (const g of partial.groups.values()) {
    const clients = new Map<string, RetryStat>();
    for (let n = counts[gi++]; n > 0; n--, o += STAT_WIDTH) {
      const ip = ips[stats[o]];
      clients.set(ip, retryStatAt(ip, stats, o + 1));
    }
    g.clients = clients;
  }
  return partial;
}
