/**
 * The fast path of `dpdoctor logs`: IIS W3C bytes → partial aggregate, without a string or object per line.
 * File bytes are read straight into the memory of a WebAssembly tokenizer (w3c-tokenizer.ts; source
 * wasm/w3c-tokenizer.ts), which splits lines and fields 16 bytes at a time, validates and decodes the fields the
 * summary reads and hashes the URL and user agent: one record per line. W3CScanner gives the records their meaning
 * (accept); strings are decoded only for refused requests (and once per distinct URL / user agent, through bounded
 * caches). Lines the tokenizer cannot take whole — and everything when WebAssembly SIMD is missing — go through the
 * JavaScript reader here (parseLine), which skips a malformed line with line:column and why.
 * Rules as in the typed reader (w3c.ts): `#Fields:` may change mid-file (§4.4), times are UTC, a line whose field
 * count does not match its `#Fields:`, or whose sc-status / c-ip / s-ip / date / time is malformed, is skipped and
 * sampled with line:column. */
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { createGunzip } from "node:zlib";
import {
  agentLabel,
  CAPS,
  fnv1a,
  groupKey,
  HashSlots,
  hash2,
  inc,
  isRefusal,
  laneHash,
  newPartial,
  newRetryAt,
  type Partial,
  type RefusedGroup,
  retryStatAt,
  touchRetryAt,
  type UrlInfo,
  urlInfo,
} from "./aggregate.js";
import { compileFields } from "./w3c.js";
import {
  K_DIRECTIVE,
  K_OK,
  K_SLOW,
  newRefusalArrays,
  newTokenizer,
  R,
  RECW,
  type RefusalArrays,
  releaseTokenizer,
  STOP_AT,
  STOP_NEED_BYTES,
  type Tokenizer,
  takeTokenizer,
} from "./w3c-tokenizer.js";

export interface ScanFilters {
  since?: number;
  until?: number;
  /** Content/package ID, compared case-insensitively. */
  contentId?: string;
  /** Client IP, exact. */
  client?: string;
}

interface Plan {
  n: number;
  date: number;
  time: number;
  status: number;
  sub: number;
  win32: number;
  cip: number;
  sip: number;
  stem: number;
  query: number;
  method: number;
  ua: number;
  line: number;
}

const MAXF = 128;
/** Longest line scanRange reads (its buffer doubles up to this): positions stay int32 (see data()), and a longer
 * line is skipped and counted. */
const MAX_LINE_BYTES = 1 << 30;
const latin1 = (b: Buffer, s: number, e: number) => b.toString("latin1", s, e);
const utf8 = (b: Buffer, s: number, e: number) => b.toString("utf8", s, e);

interface CachedUrl extends UrlInfo {
  count: number;
  cached: boolean;
  /** Index in the URL table, -1 when not cached. */
  index: number;
}
interface CachedAgent {
  label: string;
  count: number;
  cached: boolean;
}

function isBlank(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i] !== 32 && b[i] !== 9) return false;
  return true;
}

/** `-` as a field value means empty. */
function isDash(b: Buffer, s: number, e: number): boolean {
  return e - s === 1 && b[s] === 45;
}

/** Bytes allowed in a logged IP: digits, A-F/a-f, '.', ':', '%' (IPv4, IPv6 with zone) — the rule of isLoggedIp in
 * w3c.ts, as a 256-entry table (one load per byte). */
const IP_BYTE = (() => {
  const t = new Uint8Array(256);
  for (const c of "0123456789abcdefABCDEF.:%") t[c.charCodeAt(0)] = 1;
  return t;
})();

function isIpBytes(b: Buffer, s: number, e: number): boolean {
  if (e <= s || e - s > 64) return false;
  for (let i = s; i < e; i++) if (IP_BYTE[b[i]] === 0) return false;
  return true;
}

export class W3CScanner {
  readonly p: Partial = newPartial();
  private plan: Plan | undefined;
  private readonly starts = new Int32Array(MAXF + 1);
  private readonly ends = new Int32Array(MAXF + 1);
  private readonly urlSlots = new HashSlots(CAPS.urlCache);
  private readonly urls: CachedUrl[] = [];
  private readonly urlCounts = new Float64Array(CAPS.urlCache);
  /** Client IP strings of refused requests, interned by a hash of their bytes. */
  private readonly ipSlots = new HashSlots(CAPS.failingClients);
  private readonly ips: string[] = [];
  /** Refused groups during the scan: typed-array index instead of a Map with boxed 53-bit keys. */
  private readonly groupSlots = new HashSlots(CAPS.groups);
  private readonly groupList: RefusedGroup[] = [];
  private readonly groupKeys: number[] = [];
  /**
   * Retry statistics per (group, client): one typed table keyed by (group index, interned IP index) instead of a Map
   * per group (a Map lookup per refusal was a third of the refusal path's time). `pairGroup[k]` and `pairIp[k]` are
   * the group and client of pair k, `st.groupClients[g]` the clients of group g (finish() builds each group's Map in
   * insertion order).
   */
  private readonly pairSlots = new HashSlots(CAPS.retryPairs);
  /**
   * The statistics of refused requests, by index (RefusalArrays): per group count, first, last and method bits, per
   * (group, client) pair the 8 numbers of a RetryStat (aggregate.ts touchRetryAt), per client IP
   * failures, first, last. Typed arrays, not 20k group / 50k pair / 100k client objects (a refusal touched several
   * objects scattered over the heap, and every scavenge copied them again); finish() makes the objects once. While
   * the scanner reads through a WebAssembly tokenizer these are views of the tokenizer's memory, where it counts the
   * refusals of groups, clients and methods already seen itself (attach copies them there).
   */
  private st: RefusalArrays = newRefusalArrays();
  private readonly pairIp: number[] = [];
  private readonly pairGroup: number[] = [];
  /** Mirror keys (what a newly attached tokenizer is given): per group (h1, k2), per IP (fnv1a, hash2), per method. */
  private readonly groupK1: number[] = [];
  private readonly groupK2: number[] = [];
  private readonly ipK1: number[] = [];
  private readonly ipK2: number[] = [];
  private readonly methodKeys: number[] = [];
  private readonly agentSlots = new HashSlots(10_000);
  private readonly agents: CachedAgent[] = [];
  private readonly agentCounts = new Float64Array(10_000);
  private readonly statusTable = new Float64Array(600 * 64);
  /** The WebAssembly tokenizer chunk() last read with (its plan follows this.plan). */
  private tok: Tokenizer | undefined;
  /** Cache keys of the cached URLs and agents, by index: mirrored into a newly attached tokenizer. */
  private readonly urlK1: number[] = [];
  private readonly urlK2: number[] = [];
  private readonly agentK1: number[] = [];
  private readonly agentLen: number[] = [];
  /** Lower-cased field names of the "#Fields:" in force (for the tokenizer's plan). */
  private planNames: string[] | undefined;
  /** The record slowLine() builds (the tokenizer's layout). */
  private readonly jrec = new Int32Array(RECW);
  /** laneHash output (two 32-bit hashes). */
  private readonly hash = new Int32Array(2);
  private dayKey = -1;
  private dayMs = 0;
  private readonly contentFilter: string | undefined;
  private readonly clientFilter: Buffer | undefined;

  constructor(
    private readonly filters: ScanFilters = {},
    fieldsDirective?: { text: string; line: number },
  ) {
    if (fieldsDirective) this.compile(fieldsDirective.text, fieldsDirective.line);
    this.contentFilter = filters.contentId?.toLowerCase();
    this.clientFilter = filters.client ? Buffer.from(filters.client, "latin1") : undefined;
  }

  private compile(text: string, line: number): void {
    const names = compileFields(text, line).names.map((x) => x.toLowerCase());
    this.planNames = names;
    this.tok?.setPlan(names);
    const at = (n: string) => names.indexOf(n);
    this.plan = {
      n: names.length,
      date: at("date"),
      time: at("time"),
      status: at("sc-status"),
      sub: at("sc-substatus"),
      win32: at("sc-win32-status"),
      cip: at("c-ip"),
      sip: at("s-ip"),
      stem: at("cs-uri-stem"),
      query: at("cs-uri-query"),
      method: at("cs-method"),
      ua: at("cs(user-agent)"),
      line,
    };
  }

  /** A line longer than scanRange reads (its bytes are dropped up to the LF). */
  skipLongLine(maxBytes: number): void {
    this.skip(++this.p.lines, 1, `line longer than ${maxBytes} bytes: skipped`);
  }

  private skipIf(report: boolean, line: number, column: number, reason: string): void {
    if (report) this.skip(line, column, reason);
  }

  private skip(line: number, column: number, reason: string): void {
    this.p.skipped++;
    if (this.p.skippedSamples.length < CAPS.skippedSamples)
      this.p.skippedSamples.push({ line, column, reason });
  }

  /**
   * Cold paths live in their own small methods (directive(), newUrl(), newAgent(), newGroup(), newPair()): V8
   * optimises line() and refusal() after a few thousand lines, and a branch first taken later (a table that grows, a
   * directive in the middle of a range) would throw the optimised code away and compile the big function again
   * (measured: line() compiled 3×, refusal() 5× per thread, ~45 ms and ~30 ms each).
   */
  private directive(b: Buffer, s: number, e: number, lineNo: number): void {
    if (e - s >= 8 && latin1(b, s, s + 8).toLowerCase() === "#fields:") this.compile(utf8(b, s, e), lineNo);
  }

  /** A stem (+ has-query) not in the URL cache: classified, and cached unless the table is full. */
  private newUrl(
    b: Buffer,
    sa: number,
    sz: number,
    qa: number,
    qz: number,
    hasQuery: boolean,
    h1: number,
    k2: number,
  ): CachedUrl {
    const u = urlInfo(utf8(b, sa, sz), hasQuery ? utf8(b, qa, qz) : "");
    // Root-listing hrefs (`/SMS_DP_SMSPKG$/sccm?/<id>/…`) carry the content ID in the query: never cached by stem.
    const rootListing = hasQuery && /^\/[^/]+\/sccm$/i.test(utf8(b, sa, sz));
    const cached = !rootListing && this.urlSlots.set(h1, k2, this.urls.length);
    // One object literal with its final values: a spread object whose fields were then assigned made V8 turn those
    // fields from constant to mutable at each new URL, which threw away the optimised data() that read them.
    const info: CachedUrl = {
      kind: u.kind,
      label: u.label,
      form: u.form,
      contentId: u.contentId,
      contentIdLower: u.contentIdLower,
      path: u.path,
      count: 0,
      cached,
      index: cached ? this.urls.length : -1,
    };
    if (cached) {
      this.urls.push(info);
      this.urlK1.push(h1);
      this.urlK2.push(k2);
      this.tok?.urlInsert(h1, k2, info.index);
    }
    return info;
  }

  /** A user agent not in the agent table: its label, cached unless the table is full (then counted directly). */
  private newAgent(b: Buffer, a: number, z: number, ah: number): number {
    const label = agentLabel(utf8(b, a, z));
    if (this.agentSlots.set(ah, z - a, this.agents.length)) {
      this.agentK1.push(ah);
      this.agentLen.push(z - a);
      this.tok?.agentInsert(ah, z - a, this.agents.length);
      this.agents.push({ label, count: 0, cached: true });
      return this.agents.length - 1;
    }
    inc(this.p.byAgent, label);
    return -1;
  }

  /**
   * Every whole line of tok.buf[s, end) through the WebAssembly tokenizer (w3c-tokenizer.ts): records come back
   * 4096 at a time; K_OK records go straight to accept(), directives and K_SLOW lines through the JavaScript path.
   * Returns where the unprocessed rest starts: a partial last line, a CR whose next byte is not read yet, or the
   * first line that starts after an LF at or past `stopAt` (the next byte range's).
   */
  chunk(tok: Tokenizer, s0: number, end: number, stopAt: number): number {
    if (this.tok !== tok) this.attach(tok);
    const b = tok.buf;
    const rec = tok.rec;
    let s = s0;
    for (;;) {
      const n = tok.scan(s, end, stopAt);
      for (let i = 0; i < n; i++) {
        const o = i * RECW;
        const kind = rec[o + R.kind];
        // lines the tokenizer counted itself (no record) come before this record in the file
        this.p.lines += rec[o + R.before];
        if (kind === K_OK) {
          this.p.lines++;
          this.accept(b, rec, o);
        } else {
          const lineNo = ++this.p.lines;
          if (kind === K_DIRECTIVE) this.directive(b, rec[o + R.start], rec[o + R.end], lineNo);
          else if (kind === K_SLOW) this.slowLine(b, rec[o + R.start], rec[o + R.end], lineNo);
          // K_EMPTY: counted only
        }
      }
      this.p.lines += tok.tail();
      s = tok.resume();
      const why = tok.reason();
      if (why === STOP_NEED_BYTES || why === STOP_AT) return s;
    }
  }

  /**
   * Reads through `tok` from now on: the previous tokenizer's counts are taken in (harvest), `tok` starts empty and
   * gets the "#Fields:" in force and every URL and agent already classified, so it can count their ordinary lines.
   */
  private attach(tok: Tokenizer): void {
    if (this.tok) this.harvest(this.tok);
    this.tok = tok;
    const f = this.filters;
    tok.reset(
      f.since === undefined && f.until === undefined && f.client === undefined && f.contentId === undefined,
    );
    tok.setPlan(this.planNames);
    for (let i = 0; i < this.urlK1.length; i++) tok.urlInsert(this.urlK1[i], this.urlK2[i], i);
    for (let i = 0; i < this.agentK1.length; i++) tok.agentInsert(this.agentK1[i], this.agentLen[i], i);
    // the refusal statistics move into the tokenizer's memory (it updates them for known groups and clients)
    const from = this.st;
    const to = tok.refusals;
    const groups = this.groupList.length;
    const ips = this.ips.length;
    to.groupCount.set(from.groupCount.subarray(0, groups));
    to.groupFirst.set(from.groupFirst.subarray(0, groups));
    to.groupLast.set(from.groupLast.subarray(0, groups));
    to.groupMethodBits.set(from.groupMethodBits.subarray(0, groups));
    to.groupClients.set(from.groupClients.subarray(0, groups));
    to.groupOverflow.set(from.groupOverflow.subarray(0, groups));
    to.pairStats.set(from.pairStats.subarray(0, this.pairGroup.length * 8));
    to.failFailures.set(from.failFailures.subarray(0, ips));
    to.failFirst.set(from.failFirst.subarray(0, ips));
    to.failLast.set(from.failLast.subarray(0, ips));
    this.st = to;
    for (let i = 0; i < groups; i++) tok.groupInsert(this.groupK1[i], this.groupK2[i], i);
    for (let i = 0; i < ips; i++) tok.ipInsert(this.ipK1[i], this.ipK2[i], i);
    for (let k = 0; k < this.pairGroup.length; k++) tok.pairInsert(this.pairGroup[k], this.pairIp[k], k);
    for (let id = 0; id < this.methodKeys.length; id++) tok.methodInsert(this.methodKeys[id], id);
    tok.setPairsFull(this.p.pairs >= CAPS.retryPairs);
  }

  /** What the tokenizer counted itself, added to this scanner's counts; the tokenizer's counters are zeroed. */
  private harvest(tok: Tokenizer): void {
    const n = tok.counted();
    if (n > 0) {
      this.p.records += n;
      if (tok.firstTime() < this.p.first) this.p.first = tok.firstTime();
      if (tok.lastTime() > this.p.last) this.p.last = tok.lastTime();
      const st = tok.statusCounts;
      for (let i = 0; i < st.length; i++) if (st[i] > 0) this.statusTable[i] += st[i];
      const uc = tok.urlCounts;
      for (let i = 0; i < this.urls.length && i < uc.length; i++) this.urlCounts[i] += uc[i];
      const ac = tok.agentCounts;
      for (let i = 0; i < this.agents.length && i < ac.length; i++) this.agentCounts[i] += ac[i];
    }
    tok.reset(false);
  }

  /** chunk() without WebAssembly: LF-split lines through line() (the same rules, one byte at a time). */
  jsChunk(b: Buffer, s: number, end: number, stopAt: number): number {
    for (let nl = b.indexOf(10, s); nl !== -1 && nl < end; nl = b.indexOf(10, s)) {
      if (s >= stopAt) return s;
      this.line(b, s, nl);
      s = nl + 1;
    }
    return s;
  }

  /**
   * One physical line [s, e) without its LF, in JavaScript (the last line of a file without a final LF, overlong
   * lines, tests): a trailing CR is stripped, a lone CR inside ends a line (mixed line endings) — the rules of the
   * WebAssembly tokenizer.
   */
  line(b: Buffer, s: number, e: number): void {
    if (e > s && b[e - 1] === 13) e--;
    let from = s;
    for (let cr = b.indexOf(13, from); cr >= 0 && cr < e; cr = b.indexOf(13, from)) {
      this.oneLine(b, from, cr);
      from = cr + 1;
    }
    this.oneLine(b, from, e);
  }

  private oneLine(b: Buffer, s: number, e: number): void {
    const lineNo = ++this.p.lines;
    if (e === s) return;
    if (b[s] === 35 /* # */) this.directive(b, s, e, lineNo);
    else this.slowLine(b, s, e, lineNo);
  }

  /**
   * A data line [s, e) (no CR or LF) in JavaScript, byte by byte: split at spaces, every field the summary reads
   * checked in order, a malformed one skipped with its line:column and why; a good line becomes the same record the
   * WebAssembly tokenizer writes, for accept().
   */
  private slowLine(b: Buffer, s: number, e: number, lineNo: number): void {
    if (this.parseLine(b, s, e, lineNo, true)) this.accept(b, this.jrec, 0);
  }

  /**
   * The record the JavaScript path makes of a data line [s, e) (no CR or LF), or undefined when it would be skipped
   * or ignored — what test/logs/scan-wasm.test.ts compares with the WebAssembly tokenizer's records. Counts nothing.
   */
  jsRecord(b: Buffer, s: number, e: number): Int32Array | undefined {
    return this.parseLine(b, s, e, 0, false) ? this.jrec.slice() : undefined;
  }

  /** slowLine's reading: this.jrec filled (true), or the line skipped (with a sample when `report`) or ignored. */
  private parseLine(b: Buffer, s: number, e: number, lineNo: number, report: boolean): boolean {
    const starts = this.starts;
    const ends = this.ends;
    let n = 0;
    starts[0] = s;
    for (let i = s; i < e; i++) {
      if (b[i] !== 32) continue;
      if (n < MAXF) {
        ends[n] = i;
        starts[n + 1] = i + 1;
      }
      n++;
    }
    if (n < MAXF) ends[n] = e;
    n++;
    const plan = this.plan;
    if ((!plan || n !== plan.n) && isBlank(b, s, e)) return false; // spaces/tabs only: ignored (as the typed reader)
    if (!plan) {
      this.skipIf(report, lineNo, 1, 'data line before any "#Fields:" directive');
      return false;
    }
    if (n !== plan.n) {
      this.skipIf(
        report,
        lineNo,
        1,
        `expected ${plan.n} space-separated fields (per ${plan.line > 0 ? `"#Fields:" on line ${plan.line}` : plan.line < 0 ? "--fields" : '"#Fields:" in force'}), found ${n}`,
      );
      return false;
    }
    // sc-status (3 digits)
    let status = 0;
    if (plan.status >= 0) {
      const a = starts[plan.status];
      const z = ends[plan.status];
      let ok = z - a === 3;
      for (let i = a; ok && i < z; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) ok = false;
        else status = status * 10 + d;
      }
      if (!ok || status < 100) {
        this.skipIf(
          report,
          lineNo,
          a - s + 1,
          `sc-status is not a 3-digit HTTP status: "${utf8(b, a, Math.min(z, a + 40))}"`,
        );
        return false;
      }
    }
    if (plan.cip >= 0) {
      const a = starts[plan.cip];
      const z = ends[plan.cip];
      if (!(isDash(b, a, z) || isIpBytes(b, a, z))) {
        this.skipIf(
          report,
          lineNo,
          a - s + 1,
          `c-ip is not an IP address: "${utf8(b, a, Math.min(z, a + 60))}"`,
        );
        return false;
      }
    }
    if (plan.sip >= 0) {
      const a = starts[plan.sip];
      const z = ends[plan.sip];
      if (!(isDash(b, a, z) || isIpBytes(b, a, z))) {
        this.skipIf(
          report,
          lineNo,
          a - s + 1,
          `s-ip is not an IP address: "${utf8(b, a, Math.min(z, a + 60))}"`,
        );
        return false;
      }
    }
    // date + time → UTC ms
    let tod = -2;
    if (plan.date >= 0) {
      tod = this.timeOfDay(
        b,
        starts[plan.date],
        ends[plan.date],
        plan.time >= 0 ? starts[plan.time] : -1,
        plan.time >= 0 ? ends[plan.time] : -1,
      );
      if (tod < 0) {
        this.skipIf(
          report,
          lineNo,
          1,
          `date/time is not "YYYY-MM-DD HH:MM:SS": "${utf8(b, s, Math.min(e, s + 30))}"`,
        );
        return false;
      }
    }
    let sub = 0;
    if (plan.sub >= 0) {
      for (let i = starts[plan.sub], z = ends[plan.sub]; i < z; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        sub = sub * 10 + d;
      }
    }
    const r = this.jrec;
    const hh = this.hash;
    r[R.status] = status;
    r[R.sub] = sub;
    r[R.tod] = tod;
    r[R.dayKey] = this.dayKey;
    const at = (f: number, a: number, z: number) => {
      r[a] = f >= 0 ? starts[f] : -1;
      r[z] = f >= 0 ? ends[f] : -1;
    };
    at(plan.stem, R.stemA, R.stemZ);
    at(plan.query, R.queryA, R.queryZ);
    at(plan.ua, R.agentA, R.agentZ);
    at(plan.cip, R.cipA, R.cipZ);
    at(plan.method, R.methodA, R.methodZ);
    at(plan.win32, R.win32A, R.win32Z);
    if (plan.stem >= 0) {
      laneHash(b, r[R.stemA], r[R.stemZ], hh);
      r[R.h1] = hh[0];
      r[R.h2] = hh[1];
    }
    if (plan.ua >= 0) {
      const a = r[R.agentA];
      const z = r[R.agentZ];
      laneHash(b, a, Math.min(z, a + 32), hh);
      r[R.agentHash] = hh[0];
      r[R.agentLen] = z - a;
    }
    return true;
  }

  /**
   * A good data line as a record (from the WebAssembly tokenizer or slowLine): filters, then counted — status,
   * URL kind (through the URL cache, keyed by the stem's hash), user agent, time range — and a refusal grouped.
   */
  private accept(b: Buffer, r: Int32Array, o: number): void {
    const plan = this.plan as Plan;
    const status = r[o + R.status];
    const tod = r[o + R.tod];
    let t = Number.NaN;
    if (tod !== -2) {
      const key = r[o + R.dayKey];
      if (key !== this.dayKey) this.setDay(key);
      t = this.dayMs + tod;
    }
    const f = this.filters;
    if ((f.since !== undefined && !(t >= f.since)) || (f.until !== undefined && !(t <= f.until))) {
      this.p.filtered++;
      return;
    }
    if (this.clientFilter) {
      const a = r[o + R.cipA];
      const z = r[o + R.cipZ];
      const cf = this.clientFilter;
      if (plan.cip < 0 || z - a !== cf.length || b.compare(cf, 0, cf.length, a, z) !== 0) {
        this.p.filtered++;
        return;
      }
    }
    const sub = r[o + R.sub];
    // URL meaning through the cache (64-bit key over the stem bytes + "has a query")
    let info: CachedUrl | undefined;
    let slot = -1;
    const h1 = r[o + R.h1];
    const h2 = r[o + R.h2];
    const sa = r[o + R.stemA];
    const sz = r[o + R.stemZ];
    const qa = r[o + R.queryA];
    const qz = r[o + R.queryZ];
    const hasQuery = plan.query >= 0 && !isDash(b, qa, qz);
    if (plan.stem >= 0) {
      const k2 = hasQuery ? h2 ^ 0x5a5a5a5a : h2;
      slot = this.urlSlots.get(h1, k2);
      if (slot >= 0) {
        if (this.contentFilter !== undefined || status >= 400) info = this.urls[slot];
      } else {
        info = this.newUrl(b, sa, sz, qa, qz, hasQuery, h1, k2);
        slot = info.index;
      }
      if (this.contentFilter !== undefined && info && info.contentIdLower !== this.contentFilter) {
        this.p.filtered++;
        return;
      }
    } else if (this.contentFilter !== undefined) {
      this.p.filtered++;
      return;
    }
    this.p.records++;
    if (t < this.p.first) this.p.first = t;
    if (t > this.p.last) this.p.last = t;
    if (status < 600 && sub < 64) this.statusTable[status * 64 + sub]++;
    else inc(this.p.byStatus, status * 1000 + sub);
    if (slot >= 0) this.urlCounts[slot]++;
    else inc(this.p.byKind, info ? info.label : "unknown");
    if (plan.ua >= 0) {
      // key = hash of the first 32 bytes (classifyAgent reads the product token only) + the length
      const ah = r[o + R.agentHash];
      let ai = this.agentSlots.get(ah, r[o + R.agentLen]);
      if (ai < 0) ai = this.newAgent(b, r[o + R.agentA], r[o + R.agentZ], ah);
      if (ai >= 0) this.agentCounts[ai]++;
    }
    if (status >= 400) this.refusal(b, r, o, plan, status, sub, t, h1, h2, hasQuery, sa, sz, qa, qz, info);
  }

  /** The UTC midnight of a YYYYMMDD day key (validated by the tokenizer or timeOfDay). */
  private setDay(key: number): void {
    this.dayKey = key;
    this.dayMs = Date.UTC(Math.floor(key / 10000), (Math.floor(key / 100) % 100) - 1, key % 100);
  }

  /** A 4xx/5xx line: group it by (stem, query, status) and track the client's retry cadence (kept out of line() so
   * the hot per-line function stays small enough for the optimiser). */
  private refusal(
    b: Buffer,
    r: Int32Array,
    o: number,
    plan: Plan,
    status: number,
    sub: number,
    t: number,
    h1: number,
    h2: number,
    hasQuery: boolean,
    sa: number,
    sz: number,
    qa: number,
    qz: number,
    info: CachedUrl | undefined,
  ): void {
    {
      let win32 = 0;
      if (status === 401 && plan.win32 >= 0)
        for (let i = r[o + R.win32A], z = r[o + R.win32Z]; i < z; i++) win32 = win32 * 10 + (b[i] - 48);
      if (!isRefusal(status, sub, win32)) return;
      const qh = hasQuery ? fnv1a(b, qa, qz) : 0;
      const key = groupKey(h1, h2, qh, status, sub);
      const k2 = (Math.imul(h2 ^ qh, 0x9e3779b1) ^ Math.imul(status * 1000 + sub, 0x85ebca6b)) | 0;
      let gi = this.groupSlots.get(h1, k2);
      if (gi < 0) {
        gi = this.newGroup(b, plan, status, sub, t, h1, k2, key, hasQuery, sa, sz, qa, qz, info);
        if (gi < 0) return;
      }
      const st = this.st;
      st.groupCount[gi]++;
      if (t < st.groupFirst[gi]) st.groupFirst[gi] = t;
      if (t > st.groupLast[gi]) st.groupLast[gi] = t;
      if (plan.method >= 0) {
        const id = this.method(b, r[o + R.methodA], r[o + R.methodZ]);
        if (id >= 0 && id < 30) {
          const bit = 1 << id;
          if ((st.groupMethodBits[gi] & bit) === 0) {
            st.groupMethodBits[gi] |= bit;
            this.groupList[gi].methods.push(this.methodNames[id]);
          }
        } else {
          const methods = this.groupList[gi].methods;
          const name = id >= 0 ? this.methodNames[id] : this.otherMethod;
          if (!methods.includes(name)) methods.push(name);
        }
      }
      const ipi = plan.cip >= 0 ? this.ip(b, r[o + R.cipA], r[o + R.cipZ]) : -2;
      if (ipi === -1) {
        // interning table full: counted, not itemised
        st.groupOverflow[gi]++;
        this.p.failingOverflow++;
        return;
      }
      const k = this.pairSlots.get(gi, ipi);
      if (k >= 0) touchRetryAt(st.pairStats, k * 8, t);
      else this.newPair(gi, ipi, t);
      if (ipi >= 0) {
        st.failFailures[ipi]++;
        if (t < st.failFirst[ipi]) st.failFirst[ipi] = t;
        if (t > st.failLast[ipi]) st.failLast[ipi] = t;
      }
    }
  }

  /** A refused (stem, query, status) seen for the first time: its group index, or -1 when the table is full. */
  private newGroup(
    b: Buffer,
    plan: Plan,
    status: number,
    sub: number,
    t: number,
    h1: number,
    k2: number,
    key: number,
    hasQuery: boolean,
    sa: number,
    sz: number,
    qa: number,
    qz: number,
    info: CachedUrl | undefined,
  ): number {
    if (this.groupList.length >= CAPS.groups) {
      this.p.groupsOverflow++;
      return -1;
    }
    // The URL cache is keyed by the stem: the `<ContentID>/sccm?/<relative path>` form has its relative path in
    // the query, so a group (once per distinct stem + query + status) takes its meaning from both.
    const u = hasQuery && plan.stem >= 0 ? urlInfo(utf8(b, sa, sz), utf8(b, qa, qz)) : info;
    const gi = this.groupList.length;
    this.groupSlots.set(h1, k2, gi);
    this.groupKeys.push(key);
    this.st.groupMethodBits[gi] = 0;
    this.st.groupClients[gi] = 0;
    this.st.groupOverflow[gi] = 0;
    this.st.groupCount[gi] = 0;
    this.st.groupFirst[gi] = t;
    this.st.groupLast[gi] = t;
    this.groupK1.push(h1);
    this.groupK2.push(k2);
    this.tok?.groupInsert(h1, k2, gi);
    this.groupList.push({
      methods: [],
      stem: plan.stem >= 0 ? utf8(b, sa, sz) : "",
      query: hasQuery ? utf8(b, qa, qz) : "",
      status,
      substatus: sub,
      kind: u?.kind ?? "other",
      form: u?.form ?? "",
      contentId: u?.contentId ?? "",
      path: u?.path ?? "",
      count: 0,
      first: t,
      last: t,
      clients: new Map(),
      clientsOverflow: 0,
    });
    return gi;
  }

  /** First refusal of group gi for client ipi: retry statistics start, unless a cap is reached (then counted). */
  private newPair(gi: number, ipi: number, t: number): void {
    const st = this.st;
    if (st.groupClients[gi] >= CAPS.clientsPerGroup || this.p.pairs >= CAPS.retryPairs) {
      st.groupOverflow[gi]++;
      return;
    }
    this.p.pairs++;
    if (this.p.pairs >= CAPS.retryPairs) this.tok?.setPairsFull(true);
    st.groupClients[gi]++;
    const k = this.pairGroup.length;
    this.pairSlots.set(gi, ipi, k);
    this.pairGroup.push(gi);
    this.pairIp.push(ipi);
    this.tok?.pairInsert(gi, ipi, k);
    newRetryAt(this.st.pairStats, k * 8, t);
  }

  /** Method hash → id (index into methodNames). */
  private readonly methods = new Map<number, number>();
  private readonly methodNames: string[] = [];
  /** The method of the current line when method() returned -1 (table full). */
  private otherMethod = "";
  /** Id of the interned method name (a log has a handful: GET, HEAD, PROPFIND …; beyond 64 not interned). */
  private method(b: Buffer, a: number, z: number): number {
    const h = fnv1a(b, a, z) & 0x3fffffff; // Smi key
    let id = this.methods.get(h);
    if (id === undefined) {
      if (this.methods.size >= 64) {
        this.otherMethod = latin1(b, a, z);
        return -1;
      }
      id = this.methodNames.length;
      this.methodNames.push(latin1(b, a, z));
      this.methods.set(h, id);
      this.methodKeys.push(h);
      this.tok?.methodInsert(h, id);
    }
    return id;
  }

  /** Index of the interned client IP string; -2 for "-", -1 when the table is full. */
  private ip(b: Buffer, a: number, z: number): number {
    if (isDash(b, a, z)) return -2;
    const h1 = fnv1a(b, a, z);
    const h2 = hash2(b, a, z);
    const i = this.ipSlots.get(h1, h2);
    if (i >= 0) return i;
    const n = this.ips.length;
    if (!this.ipSlots.set(h1, h2, n)) return -1;
    this.ips.push(latin1(b, a, z));
    this.st.failFailures[n] = 0;
    this.st.failFirst[n] = Number.POSITIVE_INFINITY;
    this.st.failLast[n] = Number.NEGATIVE_INFINITY;
    this.ipK1.push(h1);
    this.ipK2.push(h2);
    this.tok?.ipInsert(h1, h2, n);
    return n;
  }

  /**
   * Milliseconds since midnight of the line's date + time (the date's UTC midnight is left in `dayMs`), or -1 when
   * the date or time is malformed. A small integer, not the epoch time: a double returned from a call that is not
   * inlined is a heap allocation per line.
   */
  private timeOfDay(b: Buffer, ds: number, de: number, ts: number, te: number): number {
    // YYYY-MM-DD
    if (de - ds !== 10 || b[ds + 4] !== 45 || b[ds + 7] !== 45) return -1;
    let key = 0;
    for (let i = 0; i < 10; i++) {
      if (i === 4 || i === 7) continue;
      const d = b[ds + i] - 48;
      if (d < 0 || d > 9) return -1;
      key = key * 10 + d;
    }
    if (key !== this.dayKey) {
      const y = Math.floor(key / 10000);
      const m = Math.floor(key / 100) % 100;
      const d = key % 100;
      if (m < 1 || m > 12 || d < 1 || d > 31) return -1;
      this.dayKey = key;
      this.dayMs = Date.UTC(y, m - 1, d);
    }
    if (ts < 0) return -1;
    // HH:MM:SS(.fff)
    const len = te - ts;
    if (len < 8 || b[ts + 2] !== 58 || b[ts + 5] !== 58) return -1;
    // each digit 0-9 (x >>> 0 turns a negative difference into a large number)
    if (
      (b[ts] - 48) >>> 0 > 9 ||
      (b[ts + 1] - 48) >>> 0 > 9 ||
      (b[ts + 3] - 48) >>> 0 > 9 ||
      (b[ts + 4] - 48) >>> 0 > 9 ||
      (b[ts + 6] - 48) >>> 0 > 9 ||
      (b[ts + 7] - 48) >>> 0 > 9
    )
      return -1;
    const h = (b[ts] - 48) * 10 + (b[ts + 1] - 48);
    const mi = (b[ts + 3] - 48) * 10 + (b[ts + 4] - 48);
    const se = (b[ts + 6] - 48) * 10 + (b[ts + 7] - 48);
    if (!(h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && se >= 0 && se <= 60)) return -1;
    let ms = 0;
    if (len > 8) {
      if (b[ts + 8] !== 46 || len > 12) return -1;
      let scale = 100;
      for (let i = ts + 9; i < te; i++, scale = (scale / 10) | 0) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) return -1;
        ms += d * scale;
      }
    }
    return h * 3_600_000 + mi * 60_000 + se * 1000 + ms;
  }

  /** Folds the caches into the partial aggregate; call once at the end. */
  finish(): Partial {
    if (this.tok) this.harvest(this.tok);
    this.tok = undefined;
    const st = this.st;
    const P = st.pairStats;
    for (let k = 0; k < this.pairGroup.length; k++) {
      const ip = this.pairIp[k] >= 0 ? this.ips[this.pairIp[k]] : "";
      this.groupList[this.pairGroup[k]].clients.set(ip, retryStatAt(ip, P, k * 8));
    }
    for (let i = 0; i < this.groupList.length; i++) this.p.groups.set(this.groupKeys[i], this.groupList[i]);
    for (let i = 0; i < this.groupList.length; i++) {
      const g = this.groupList[i];
      g.count = st.groupCount[i];
      g.clientsOverflow = st.groupOverflow[i];
      g.first = st.groupFirst[i];
      g.last = st.groupLast[i];
    }
    for (let i = 0; i < this.ips.length; i++)
      if (st.failFailures[i] > 0)
        this.p.failing.set(this.ips[i], {
          ip: this.ips[i],
          failures: st.failFailures[i],
          first: st.failFirst[i],
          last: st.failLast[i],
        });
    this.urls.forEach((u, i) => {
      if (this.urlCounts[i] > 0) inc(this.p.byKind, u.label, this.urlCounts[i]);
    });
    this.urlCounts.fill(0);
    this.agents.forEach((a, i) => {
      if (this.agentCounts[i] > 0) inc(this.p.byAgent, a.label, this.agentCounts[i]);
    });
    this.agentCounts.fill(0);
    this.agents.length = 0;
    for (let i = 0; i < this.statusTable.length; i++)
      if (this.statusTable[i] > 0)
        inc(this.p.byStatus, Math.floor(i / 64) * 1000 + (i % 64), this.statusTable[i]);
    this.urls.length = 0;
    this.statusTable.fill(0);
    return this.p;
  }
}

/**
 * Feeds a stream's chunks (gzip) to a scanner: copied into the tokenizer's chunk buffer, whole lines through
 * chunk(), the partial last line kept for the next chunk; a line longer than the buffer is gathered and read by the
 * JavaScript path. Without WebAssembly SIMD: LF-split lines through line().
 */
export class LineFeeder {
  private kept = 0;
  private long: Buffer[] | undefined;
  private carry: Buffer | undefined;
  constructor(
    private readonly scanner: W3CScanner,
    private readonly tok = newTokenizer(1 << 20),
  ) {}
  push(chunk: Buffer): void {
    const tok = this.tok;
    if (!tok) {
      let buf = chunk;
      if (this.carry) {
        buf = Buffer.concat([this.carry, chunk]);
        this.carry = undefined;
      }
      const s = this.scanner.jsChunk(buf, 0, buf.length, buf.length + 1);
      if (s < buf.length) this.carry = Buffer.from(buf.subarray(s));
      return;
    }
    let c = chunk;
    while (c.length > 0) {
      if (this.long) {
        const nl = c.indexOf(10);
        if (nl < 0) {
          this.long.push(Buffer.from(c));
          return;
        }
        this.long.push(c.subarray(0, nl));
        const line = Buffer.concat(this.long);
        this.long = undefined;
        this.scanner.line(line, 0, line.length);
        c = c.subarray(nl + 1);
        continue;
      }
      const take = Math.min(tok.capacity - this.kept, c.length);
      c.copy(tok.buf, this.kept, 0, take);
      c = c.subarray(take);
      const end = this.kept + take;
      const s = this.scanner.chunk(tok, 0, end, end + 1);
      if (s === 0 && end === tok.capacity) {
        this.long = [Buffer.from(tok.buf.subarray(0, end))];
        this.kept = 0;
        continue;
      }
      this.kept = end - s;
      if (this.kept > 0) tok.buf.copyWithin(0, s, end);
    }
  }
  end(): void {
    if (this.long) {
      const line = Buffer.concat(this.long);
      this.long = undefined;
      this.scanner.line(line, 0, line.length);
    } else if (this.tok && this.kept > 0) {
      this.scanner.line(this.tok.buf, 0, this.kept);
    } else if (this.carry) this.scanner.line(this.carry, 0, this.carry.length);
    this.kept = 0;
    this.carry = undefined;
  }
}

const CHUNK = 4 << 20;

/** Finds the `#Fields:` line in force at byte `pos` (searching backwards), or undefined. */
export function fieldsBefore(fd: number, pos: number): { text: string; line: number } | undefined {
  const BLOCK = 1 << 20;
  const buf = Buffer.allocUnsafe(BLOCK + 16);
  let end = pos;
  while (end > 0) {
    const start = Math.max(0, end - BLOCK);
    // 16 bytes past `end`: a "#Fields:" that starts just before `end` (or straddles the range start) is seen whole.
    const n = readSync(fd, buf, 0, end - start + 16, start);
    const view = buf.subarray(0, n);
    let idx = view.lastIndexOf("#Fields:");
    while (
      idx >= 0 &&
      !(idx === 0 ? start === 0 || isNl(fd, start - 1) : view[idx - 1] === 10 || view[idx - 1] === 13)
    )
      idx = idx > 0 ? view.lastIndexOf("#Fields:", idx - 1) : -1;
    if (idx >= 0 && start + idx < pos) {
      const lineBuf = Buffer.allocUnsafe(64 * 1024);
      const m = readSync(fd, lineBuf, 0, lineBuf.length, start + idx);
      let z = 0;
      while (z < m && lineBuf[z] !== 10 && lineBuf[z] !== 13) z++;
      // The line number of this directive is not known here; the worker reports 0 ("earlier in the file").
      return { text: lineBuf.toString("latin1", 0, z), line: 0 };
    }
    end = start;
  }
  return undefined;
}

function isLf(fd: number, at: number): boolean {
  const one = Buffer.allocUnsafe(1);
  readSync(fd, one, 0, 1, at);
  return one[0] === 10;
}

function isNl(fd: number, at: number): boolean {
  const one = Buffer.allocUnsafe(1);
  readSync(fd, one, 0, 1, at);
  return one[0] === 10 || one[0] === 13;
}

export interface RangeJob {
  file: string;
  /** Byte range [start, end); lines starting in it are this job's. end = -1: to EOF. */
  start: number;
  end: number;
  gzip?: boolean;
  filters: ScanFilters;
  /** Field list for logs without a "#Fields:" header (pasted excerpts): `--fields`. A header in the file wins. */
  fields?: string;
  /** Longest line read (default 1 GiB); a longer one is skipped and counted. */
  maxLineBytes?: number;
  /** Read buffer size (default 4 MiB) and records per tokenizer call (tests: small, to cross every boundary). */
  chunkBytes?: number;
  maxRecords?: number;
}

function defaultFields(job: RangeJob): { text: string; line: number } | undefined {
  return job.fields ? { text: `#Fields: ${job.fields}`, line: -1 } : undefined;
}

/** Scans one byte range of a plain file (sync reads; runs inside a worker or the main thread). */
export function scanRange(job: RangeJob): Partial {
  const fd = openSync(job.file, "r");
  let tok: Tokenizer | undefined;
  try {
    let pos = job.start;
    const fields = (pos > 0 ? fieldsBefore(fd, pos) : undefined) ?? defaultFields(job);
    const scanner = new W3CScanner(job.filters, fields);
    // the chunk buffer lives in the WebAssembly tokenizer's memory (file bytes are read straight into it); without
    // WebAssembly SIMD a plain buffer and the JavaScript path
    tok = takeTokenizer(job.chunkBytes ?? CHUNK, job.maxRecords);
    const buf = tok ? tok.buf : Buffer.allocUnsafe(job.chunkBytes ?? CHUNK);
    // Start at a line boundary: a line that straddles `start` belongs to the previous range.
    // Only LF delimits ranges (a lone CR ends a line inside the LF-terminated run of the range that owns it).
    if (pos > 0 && !isLf(fd, pos - 1)) {
      for (;;) {
        const n = readSync(fd, buf, 0, 64 * 1024, pos);
        if (n === 0) return scanner.finish();
        const nl = buf.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          pos += nl + 1;
          break;
        }
        pos += n;
      }
    }
    // The partial last line of a chunk moves to the front of the buffer and the next read appends to it: no
    // allocation per chunk. A line longer than the buffer is read on its own (longLine).
    let kept = 0; // bytes of a partial line at buf[0..kept)
    let first = pos === 0;
    const endAt = job.end < 0 ? Number.POSITIVE_INFINITY : job.end;
    const maxLine = job.maxLineBytes ?? MAX_LINE_BYTES;
    for (;;) {
      if (kept === buf.length) {
        pos = longLine(fd, buf, pos, maxLine, scanner);
        kept = 0;
        first = false;
        if (pos < 0 || pos >= endAt) return scanner.finish();
        continue;
      }
      const n = readSync(fd, buf, kept, buf.length - kept, pos);
      if (n === 0) break;
      const base = pos - kept;
      const end = kept + n;
      pos += n;
      let s = 0;
      if (first) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) s = 3;
      }
      // lines starting after an LF at or past endAt are the next range's (stopAt relative to buf, within int32)
      const stopAt = endAt - base > end ? end + 1 : Math.max(0, endAt - base);
      s = tok ? scanner.chunk(tok, s, end, stopAt) : scanner.jsChunk(buf, s, end, stopAt);
      if (base + s >= endAt) return scanner.finish();
      kept = end - s;
      if (kept > 0) buf.copyWithin(0, s, end);
    }
    if (kept > 0) scanner.line(buf, 0, kept);
    return scanner.finish();
  } finally {
    closeSync(fd);
    releaseTokenizer(tok);
  }
}

/**
 * A line that does not fit the chunk buffer: its first bytes fill `head`, the rest is read from `pos`. Read whole
 * (JavaScript path) when shorter than maxLine, else counted and sampled as skipped and dropped up to its LF. Returns
 * the file position after its LF, or -1 at the end of the file.
 */
function longLine(fd: number, head: Buffer, pos: number, maxLine: number, scanner: W3CScanner): number {
  let big = Buffer.allocUnsafe(Math.min(head.length * 2, Math.max(maxLine, head.length)));
  head.copy(big);
  let have = head.length;
  for (;;) {
    if (have === big.length) {
      if (have >= maxLine) {
        scanner.skipLongLine(maxLine);
        for (;;) {
          const n = readSync(fd, big, 0, big.length, pos);
          if (n === 0) return -1;
          const nl = big.subarray(0, n).indexOf(10);
          if (nl >= 0) return pos + nl + 1;
          pos += n;
        }
      }
      const bigger = Buffer.allocUnsafe(Math.min(big.length * 2, Math.max(maxLine, big.length)));
      big.copy(bigger, 0, 0, have);
      big = bigger;
    }
    const n = readSync(fd, big, have, big.length - have, pos);
    if (n === 0) {
      scanner.line(big, 0, have); // the file's last line, without an LF
      return -1;
    }
    const nl = big.subarray(0, have + n).indexOf(10, have);
    if (nl >= 0) {
      scanner.line(big, 0, nl);
      return pos + (nl - have) + 1;
    }
    pos += n;
    have += n;
  }
}

/** Scans a gzip'd W3C file as one stream (gzip cannot be split into ranges). */
export async function scanGzip(job: RangeJob): Promise<Partial> {
  const scanner = new W3CScanner(job.filters, defaultFields(job));
  let first = true;
  const feeder = new LineFeeder(scanner);
  const stream = createReadStream(job.file, { highWaterMark: 1 << 20 }).pipe(
    createGunzip({ finishFlush: 2 }),
  );
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let c = chunk;
      if (first) {
        first = false;
        if (c[0] === 0xef && c[1] === 0xbb && c[2] === 0xbf) c = c.subarray(3);
      }
      feeder.push(c);
    }
  } catch (e) {
    scanner.p.skipped++;
    scanner.p.skippedSamples.push({
      line: scanner.p.lines + 1,
      reason: `gzip stream is corrupt or truncated: ${(e as Error).message}`,
    });
  }
  feeder.end();
  return scanner.finish();
}
