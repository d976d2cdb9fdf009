/**
 * The WebAssembly half of the W3C scanner (source: wasm/w3c-tokenizer.ts, AssemblyScript; bytes embedded in
 * w3c-tokenizer-wasm.ts): lines and fields found 16 bytes at a time (SIMD), the fields the summary reads validated and
 * decoded, cs-uri-stem and the user agent hashed — one record of RECW int32 per line. W3CScanner (scan.ts) gives the
 * records their meaning; lines marked K_SLOW are read again by its JavaScript path, which says what is wrong.
 */
import { CAPS } from "./aggregate.js";
import { W3C_TOKENIZER_WASM } from "./w3c-tokenizer-wasm.js";

/** Record layout (int32 indices), as written by wasm/w3c-tokenizer.ts. */
export const RECW = 26;
export const R = {
  start: 0,
  end: 1,
  fields: 2,
  kind: 3,
  status: 4,
  sub: 5,
  /** ms of the day; -2 when the field set has no date */
  tod: 6,
  /** YYYYMMDD */
  dayKey: 7,
  h1: 8,
  h2: 9,
  agentHash: 10,
  agentLen: 11,
  stemA: 12,
  stemZ: 13,
  queryA: 14,
  queryZ: 15,
  agentA: 16,
  agentZ: 17,
  cipA: 18,
  cipZ: 19,
  methodA: 20,
  methodZ: 21,
  win32A: 22,
  win32Z: 23,
  /** Lines counted by the tokenizer itself (no record) between the previous record and this one. */
  before: 24,
} as const;

export const K_OK = 0;
export const K_DIRECTIVE = 1;
export const K_SLOW = 2;
export const K_EMPTY = 3;

export const STOP_NEED_BYTES = 0;
export const STOP_DIRECTIVE = 1;
export const STOP_FULL = 2;
export const STOP_AT = 3;

/** Field roles (wasm/w3c-tokenizer.ts R_*): index = role, value = the plan's field name. */
export const ROLES = [
  "",
  "date",
  "time",
  "sc-status",
  "sc-substatus",
  "sc-win32-status",
  "c-ip",
  "s-ip",
  "cs-uri-stem",
  "cs-uri-query",
  "cs-method",
  "cs(user-agent)",
] as const;

const MAX_RECORDS = 4096;
const PAGE = 65536;

/** Counts the tokenizer keeps per URL index and per agent index (JavaScript's CAPS.urlCache and agent table). */
export const URL_COUNTS = 100_000;
export const AGENT_COUNTS = 10_000;
/** Status table: status * 64 + substatus, status < 600. */
export const STATUS_COUNTS = 600 * 64;
/** Refused groups, (group, client) pairs and failing client IPs: aggregate.ts CAPS (groups, retryPairs, failingClients). */
export const REFUSED_GROUPS = CAPS.groups;
export const RETRY_PAIRS = CAPS.retryPairs;
export const FAILING_IPS = CAPS.failingClients;
/**
 * Slots of the tokenizer's hash tables at their largest (each mirrors at most half as many keys): URLs, agents,
 * refused groups, client IPs, (group, client) pairs.
 */
const TABLE_SLOTS = [1 << 17, 1 << 12, 1 << 16, 1 << 18, 1 << 17];

/**
 * W3CScanner's refused-request statistics, by its indices: per group requests, first, last and the methods seen (bit
 * = method id < 30); per (group, client) pair 8 numbers (RetryStat: requests, attempts, first, last, lastAttempt,
 * minGap, maxGap, sumGap); per client IP failures, first, last.
 */
export interface RefusalArrays {
  groupCount: Float64Array;
  groupFirst: Float64Array;
  groupLast: Float64Array;
  groupMethodBits: Int32Array;
  pairStats: Float64Array;
  failFailures: Float64Array;
  failFirst: Float64Array;
  failLast: Float64Array;
  /** Per group: clients with retry statistics, and requests of clients past a cap (RefusedGroup.clientsOverflow). */
  groupClients: Int32Array;
  groupOverflow: Int32Array;
}

/** The same arrays in JavaScript memory (a scanner without a tokenizer). */
export function newRefusalArrays(): RefusalArrays {
  return {
    groupCount: new Float64Array(REFUSED_GROUPS),
    groupFirst: new Float64Array(REFUSED_GROUPS),
    groupLast: new Float64Array(REFUSED_GROUPS),
    groupMethodBits: new Int32Array(REFUSED_GROUPS),
    pairStats: new Float64Array(RETRY_PAIRS * 8),
    failFailures: new Float64Array(FAILING_IPS),
    failFirst: new Float64Array(FAILING_IPS),
    failLast: new Float64Array(FAILING_IPS),
    groupClients: new Int32Array(REFUSED_GROUPS),
    groupOverflow: new Int32Array(REFUSED_GROUPS),
  };
}

interface Exports {
  init(buf: number, rec: number, role: number, pos: number, ipt: number): void;
  initTables(urls: number, agents: number, ucount: number, acount: number, status: number): void;
  reset(fast: number): void;
  urlInsert(k1: number, k2: number, v: number): number;
  agentInsert(k1: number, len: number, v: number): number;
  counted(): number;
  firstTime(): number;
  lastTime(): number;
  tail(): number;
  initRefusals(
    groups: number,
    ips: number,
    pairs: number,
    methods: number,
    gcount: number,
    gfirst: number,
    glast: number,
    gbits: number,
    pstat: number,
    ffail: number,
    ffirst: number,
    flast: number,
    gclients: number,
    gover: number,
  ): void;
  setPairsFull(full: number): void;
  groupInsert(k1: number, k2: number, v: number): number;
  ipInsert(k1: number, k2: number, v: number): number;
  pairInsert(gi: number, ipi: number, v: number): number;
  methodInsert(key: number, id: number): void;

  setPlan(n: number, present: number): void;
  scan(start: number, end: number, stopAt: number, maxRec: number): number;
  resume(): number;
  reason(): number;
}

let compiled: WebAssembly.Module | null | undefined;
/** DPDOCTOR_NO_WASM=1 (troubleshooting) or setWasmTokenizer(false) (tests): the JavaScript reader takes every line. */
let enabled = !process.env.DPDOCTOR_NO_WASM;

export function setWasmTokenizer(on: boolean): void {
  enabled = on;
}

/** The compiled module, or null when this runtime cannot run it (no WebAssembly SIMD): the JavaScript path reads. */
function module(): WebAssembly.Module | null {
  if (!enabled) return null;
  if (compiled === undefined) {
    try {
      const bytes = Buffer.from(W3C_TOKENIZER_WASM, "base64");
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Bytes allowed in a logged IP (isLoggedIp of w3c.ts). */
const IP_CHARS = "0123456789abcdefABCDEF.:%";

export class Tokenizer {
  /** The chunk buffer (in the module's memory): read file bytes straight into it. */
  readonly buf: Buffer;
  /** Records of the last scan(). */
  readonly rec: Int32Array;
  private readonly role: Uint8Array;
  private readonly pos: Int32Array;
  private readonly x: Exports;
  /** What the tokenizer counted itself (see reset): per URL index, per agent index, per status * 64 + substatus. */
  readonly urlCounts: Float64Array;
  readonly agentCounts: Float64Array;
  readonly statusCounts: Float64Array;
  /** The refused-request statistics W3CScanner keeps (its arrays live here while it reads through this tokenizer). */
  readonly refusals: RefusalArrays;

  constructor(
    mod: WebAssembly.Module,
    readonly capacity: number,
    readonly maxRecords = MAX_RECORDS,
  ) {
    // layout: page 0 for the module's own data, then the chunk buffer (+16 bytes the SIMD loads may read past its
    // end), the records, the role table, the field positions, the IP byte table
    // every area starts on a 64-byte boundary (typed-array views need their element size; cache lines)
    const next = (at: number, size: number) => Math.ceil((at + size) / 64) * 64;
    const bufAt = PAGE;
    const recAt = next(bufAt, capacity + 16);
    const roleAt = next(recAt, MAX_RECORDS * RECW * 4);
    const posAt = next(roleAt, 128);
    const iptAt = next(posAt, ROLES.length * 8);
    // five growable hash tables (a 20-byte descriptor and two areas each: wasm/w3c-tokenizer.ts tFind): URLs, agents,
    // refused groups, client IPs, (group, client) pairs
    const tables: [number, number, number][] = []; // [descriptor, area A, area B]
    let at = next(iptAt, 256);
    for (const slots of TABLE_SLOTS) {
      const d = at;
      const a = next(d, 20);
      const b2 = next(a, slots * 12);
      tables.push([d, a, b2]);
      at = next(b2, slots * 12);
    }
    const ucAt = at;
    const acAt = next(ucAt, URL_COUNTS * 8);
    const stAt = next(acAt, AGENT_COUNTS * 8);
    const methodsAt = next(stAt, STATUS_COUNTS * 8);
    const gcountAt = next(methodsAt, 128 * 8);
    const gfirstAt = next(gcountAt, REFUSED_GROUPS * 8);
    const glastAt = next(gfirstAt, REFUSED_GROUPS * 8);
    const gbitsAt = next(glastAt, REFUSED_GROUPS * 8);
    const pstatAt = next(gbitsAt, REFUSED_GROUPS * 4);
    const ffailAt = next(pstatAt, RETRY_PAIRS * 64);
    const ffirstAt = next(ffailAt, FAILING_IPS * 8);
    const flastAt = next(ffirstAt, FAILING_IPS * 8);
    const gclientsAt = next(flastAt, FAILING_IPS * 8);
    const goverAt = next(gclientsAt, REFUSED_GROUPS * 4);
    const bytes = next(goverAt, REFUSED_GROUPS * 4);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    const inst = new WebAssembly.Instance(mod, { env: { memory } });
    this.x = inst.exports as unknown as Exports;
    this.x.init(bufAt, recAt, roleAt, posAt, iptAt);
    this.x.initTables(tables[0][0], tables[1][0], ucAt, acAt, stAt);
    this.x.initRefusals(
      tables[2][0],
      tables[3][0],
      tables[4][0],
      methodsAt,
      gcountAt,
      gfirstAt,
      glastAt,
      gbitsAt,
      pstatAt,
      ffailAt,
      ffirstAt,
      flastAt,
      gclientsAt,
      goverAt,
    );
    const ab = memory.buffer;
    const i32 = new Int32Array(ab);
    TABLE_SLOTS.forEach((slots, i) => {
      const [d, a, b2] = tables[i];
      i32[d >> 2] = a; // area in use
      i32[(d >> 2) + 1] = b2; // other area
      i32[(d >> 2) + 4] = slots >> 1; // most entries
    });
    this.refusals = {
      groupCount: new Float64Array(ab, gcountAt, REFUSED_GROUPS),
      groupFirst: new Float64Array(ab, gfirstAt, REFUSED_GROUPS),
      groupLast: new Float64Array(ab, glastAt, REFUSED_GROUPS),
      groupMethodBits: new Int32Array(ab, gbitsAt, REFUSED_GROUPS),
      pairStats: new Float64Array(ab, pstatAt, RETRY_PAIRS * 8),
      failFailures: new Float64Array(ab, ffailAt, FAILING_IPS),
      failFirst: new Float64Array(ab, ffirstAt, FAILING_IPS),
      failLast: new Float64Array(ab, flastAt, FAILING_IPS),
      groupClients: new Int32Array(ab, gclientsAt, REFUSED_GROUPS),
      groupOverflow: new Int32Array(ab, goverAt, REFUSED_GROUPS),
    };
    this.urlCounts = new Float64Array(ab, ucAt, URL_COUNTS);
    this.agentCounts = new Float64Array(ab, acAt, AGENT_COUNTS);
    this.statusCounts = new Float64Array(ab, stAt, STATUS_COUNTS);
    this.buf = Buffer.from(ab, bufAt, capacity);
    this.rec = new Int32Array(ab, recAt, MAX_RECORDS * RECW);
    this.role = new Uint8Array(ab, roleAt, 128);
    this.pos = new Int32Array(ab, posAt, ROLES.length * 2);
    const ipt = new Uint8Array(ab, iptAt, 256);
    for (const c of IP_CHARS) ipt[c.charCodeAt(0)] = 1;
    this.reset(false);
  }

  /** A "#Fields:" in force (lower-cased field names), or none (every data line is then K_SLOW). */
  setPlan(names: readonly string[] | undefined): void {
    this.role.fill(0);
    this.pos.fill(-1);
    if (!names) {
      this.x.setPlan(0, 0);
      return;
    }
    let present = 0;
    for (let r = 1; r < ROLES.length; r++) {
      const i = names.indexOf(ROLES[r]);
      if (i < 0) continue;
      if (i >= 128) {
        // beyond the fields the scanner keeps positions of: every line goes to the JavaScript reader
        this.role.fill(0);
        this.x.setPlan(0, 0);
        return;
      }
      this.role[i] = r;
      present |= 1 << r;
    }
    this.x.setPlan(names.length, present);
  }

  /** Records for the lines of buf[start, end) (start: a line start); see wasm/w3c-tokenizer.ts scan(). */
  scan(start: number, end: number, stopAt: number): number {
    return this.x.scan(start, end, stopAt, this.maxRecords);
  }
  /**
   * Empty URL and agent mirrors and zero counters, for a new owner. fast: count ordinary lines here (status < 400,
   * URL and agent mirrored) — only without filters, which need JavaScript's view of every line.
   */
  reset(fast: boolean): void {
    this.x.reset(fast ? 1 : 0);
    this.urlCounts.fill(0);
    this.agentCounts.fill(0);
    this.statusCounts.fill(0);
  }
  /** Mirror a classified URL (its cache key and JavaScript's index): its ordinary lines are then counted here. */
  urlInsert(k1: number, k2: number, index: number): void {
    if (index < URL_COUNTS) this.x.urlInsert(k1, k2, index);
  }
  agentInsert(k1: number, len: number, index: number): void {
    if (index < AGENT_COUNTS) this.x.agentInsert(k1, len, index);
  }
  /** Mirror a refused group (stem h1, group k2), a client IP (its two hashes), a pair, a method (key → id). */
  groupInsert(k1: number, k2: number, gi: number): void {
    if (gi < REFUSED_GROUPS) this.x.groupInsert(k1, k2, gi);
  }
  ipInsert(k1: number, k2: number, ipi: number): void {
    if (ipi < FAILING_IPS) this.x.ipInsert(k1, k2, ipi);
  }
  pairInsert(gi: number, ipi: number, k: number): void {
    if (k < RETRY_PAIRS) this.x.pairInsert(gi, ipi, k);
  }
  methodInsert(key: number, id: number): void {
    this.x.methodInsert(key, id);
  }
  /** The scanner's (group, client) pair table is full: new pairs are overflow. */
  setPairsFull(full: boolean): void {
    this.x.setPairsFull(full ? 1 : 0);
  }
  /** Lines counted here, and their first and last time (ms; ±Infinity when none). */
  counted(): number {
    return this.x.counted();
  }
  firstTime(): number {
    return this.x.firstTime();
  }
  lastTime(): number {
    return this.x.lastTime();
  }
  /** Lines counted here after the last record of the last scan(). */
  tail(): number {
    return this.x.tail();
  }
  /** Where the next scan() starts. */
  resume(): number {
    return this.x.resume();
  }
  /** Why the last scan() stopped (STOP_*). */
  reason(): number {
    return this.x.reason();
  }
}

/**
 * A tokenizer with a chunk buffer of `capacity` bytes, or undefined when WebAssembly SIMD is not available. Each
 * call makes its own (a range scan or a gzip stream holds it for its whole run; in a worker, one at a time).
 * maxRecords: records per scan() (tests use a few, so URLs classified by earlier records are counted in WebAssembly).
 */
export function newTokenizer(capacity: number, maxRecords = MAX_RECORDS): Tokenizer | undefined {
  const mod = module();
  return mod ? new Tokenizer(mod, capacity, Math.max(1, Math.min(maxRecords, MAX_RECORDS))) : undefined;
}

/** Tokenizers given back (release), by capacity: a thread reading many files or ranges reuses one. */
const spare: Tokenizer[] = [];

/**
 * A tokenizer of `capacity` bytes from the spares, or a new one (undefined without WebAssembly SIMD). Give it back
 * with release() when the read is over; the next owner resets it (W3CScanner attach).
 */
export function takeTokenizer(capacity: number, maxRecords = MAX_RECORDS): Tokenizer | undefined {
  if (!enabled) return undefined;
  const i = spare.findIndex((t) => t.capacity === capacity && t.maxRecords === maxRecords);
  if (i >= 0) return spare.splice(i, 1)[0];
  return newTokenizer(capacity, maxRecords);
}

export function releaseTokenizer(tok: Tokenizer | undefined): void {
  if (tok && spare.length < 4) spare.push(tok);
}
