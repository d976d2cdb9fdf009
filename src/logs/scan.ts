/**
 * The fast path of `dpdoctor logs`: IIS W3C bytes → partial aggregate, without a string or object per line.
 * Lines are split with Buffer.indexOf; fields are located by byte index; numbers and times are parsed from bytes;
 * strings are decoded only for refused requests (and once per distinct URL / user agent, through bounded caches).
 * Rules as in the typed reader (w3c.ts): `#Fields:` may change mid-file (§4.4), times are UTC, a line whose field
 * count does not match its `#Fields:`, or whose sc-status / c-ip / s-ip / date / time is malformed, is skipped and
 * sampled with line:column.
 */
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
  newPartial,
  newRetry,
  type Partial,
  type RefusedGroup,
  type RetryStat,
  touchRetry,
  type UrlInfo,
  urlInfo,
} from "./aggregate.js";
import { compileFields } from "./w3c.js";

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

/**
 * Index of the next space in [i, e), or e. A JS loop: W3C fields average ~10 bytes, and a Buffer.indexOf (memchr)
 * call per field measured no faster (bench/logs.ts, in-process A/B of the scan only).
 */
function nextSpace(b: Buffer, i: number, e: number): number {
  while (i < e && b[i] !== 32) i = (i + 1) | 0;
  return i;
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
   * per group (a Map lookup per refusal was a third of the refusal path's time). `pairGroup[k]` is the group of
   * `pairs[k]`, `groupClientCount[g]` the clients of group g (finish() builds each group's Map in insertion order).
   */
  private readonly pairSlots = new HashSlots(CAPS.retryPairs);
  private readonly pairs: RetryStat[] = [];
  private readonly pairGroup: number[] = [];
  private readonly groupClientCount: number[] = [];
  /**
   * Per group and per failing client: count, first and last time in flat number arrays (unboxed, contiguous)
   * instead of fields of 20k group / 100k client objects — a refusal touched three or four objects scattered over
   * the heap (a cache miss each). finish() writes them into the objects.
   */
  private readonly groupCount: number[] = [];
  private readonly groupFirst: number[] = [];
  private readonly groupLast: number[] = [];
  private readonly failFailures: number[] = [];
  private readonly failFirst: number[] = [];
  private readonly failLast: number[] = [];
  /** Per group: bit i set = method id i seen (ids < 30; others are looked up in g.methods). */
  private readonly groupMethodBits: number[] = [];
  private readonly agentSlots = new HashSlots(10_000);
  private readonly agents: CachedAgent[] = [];
  private readonly agentCounts = new Float64Array(10_000);
  private readonly statusTable = new Float64Array(600 * 64);
  /** Position of the next CR byte in `crBuf` (b.length: none). */
  private crBuf: Buffer | undefined;
  private nextCr = 0;
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
    const cr = b.indexOf(13, s);
    if (cr >= 0 && cr < e) {
      this.p.lines--;
      this.line(b, s, cr);
      this.line(b, cr + 1, e);
      return;
    }
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
    if (cached) this.urls.push(info);
    return info;
  }

  /** A user agent not in the agent table: its label, cached unless the table is full (then counted directly). */
  private newAgent(b: Buffer, a: number, z: number, ah: number): number {
    const label = agentLabel(utf8(b, a, z));
    if (this.agentSlots.set(ah, z - a, this.agents.length)) {
      this.agents.push({ label, count: 0, cached: true });
      return this.agents.length - 1;
    }
    inc(this.p.byAgent, label);
    return -1;
  }

  /** One physical line [s, e) without its LF (a trailing CR is stripped here; a lone CR also ends a line). */
  line(b: Buffer, s: number, e: number): void {
    if (e > s && b[e - 1] === 13) e--;
    const lineNo = ++this.p.lines;
    if (e === s) return;
    if (b[s] === 35 /* # */) this.directive(b, s, e, lineNo);
    else this.data(b, s, e, lineNo);
  }

  /** A data line (not a directive): the hot path, kept free of directive handling (see directive()). */
  private data(b: Buffer, s0: number, e0: number, lineNo: number): void {
    // Positions are int32 (scanRange's buffer stays within MAX_LINE_BYTES): the bounds `| 0` here and every step of the
    // tokenizer `i = (i + 1) | 0`. With `i++` V8 typed the field position as a possibly unbounded number, kept it as a
    // double or tagged value through the whole loop and converted/checked it at every use: ~220 M of the 3.26 G
    // instructions of a 300k-line scan (valgrind --tool=cachegrind, node --single-threaded), scan CPU -6%.
    const s = s0 | 0;
    const e = e0 | 0;
    const plan = this.plan;
    const starts = this.starts;
    const ends = this.ends;
    const stemField = plan ? plan.stem : -1;
    const uaField = plan ? plan.ua : -1;
    const cipField = plan ? plan.cip : -1;
    const sipField = plan ? plan.sip : -1;
    // c-ip / s-ip checked on the way (fast tokenizer) — the isDash / isIpBytes rule, in the same pass
    let cipOk = false;
    let sipOk = false;
    // Fast path: field by field, a tight loop to the next space (nextSpace); the
    // cs-uri-stem and cs(User-Agent) fields are hashed on the way (one pass over their bytes). Tabs and other control
    // bytes stay inside their field, as in the typed reader. A lone CR inside the line (mixed line endings) sends it
    // to the general loop below, which splits it in two.
    let n = 0;
    let h1 = 0x811c9dc5;
    let h2 = 0x2545f491;
    let ah = 0x811c9dc5;
    if (this.crBuf !== b || this.nextCr < s) {
      // next CR in this buffer, found once per buffer for LF files and once per line for CRLF files
      const r = b.indexOf(13, s);
      this.crBuf = b;
      this.nextCr = r < 0 ? b.length : r;
    }
    const hashed = this.nextCr >= e;
    if (hashed)
      // j: its own variable, not the `i` of the general loop below (one shared variable was kept tagged here)
      for (let j = s; ; ) {
        if (n < MAXF) starts[n] = j;
        if (n === stemField) {
          for (; j < e; j = (j + 1) | 0) {
            const c = b[j];
            if (c === 32) break;
            h1 = Math.imul(h1 ^ c, 0x01000193);
            h2 = ((h2 << 5) - h2 + c) | 0; // djb2-style second hash: independent of FNV, no multiply
          }
        } else if (n === uaField) {
          // classifyAgent looks at the product token only: the agent key hashes the first 32 bytes (+ the length)
          const lim = Math.min((j + 32) | 0, e);
          for (; j < lim; j = (j + 1) | 0) {
            const c = b[j];
            if (c === 32) break;
            ah = Math.imul(ah ^ c, 0x01000193);
          }
          if (j === lim) j = nextSpace(b, j, e);
        } else if (n === cipField || n === sipField) {
          const a = j;
          let ok = 1;
          for (; j < e; j = (j + 1) | 0) {
            const c = b[j];
            if (c === 32) break;
            ok &= IP_BYTE[c];
          }
          const valid = (j - a === 1 && b[a] === 45) || (ok === 1 && j > a && j - a <= 64);
          if (n === cipField) cipOk = valid;
          else sipOk = valid;
        } else j = nextSpace(b, j, e);
        if (n < MAXF) ends[n] = j;
        n++;
        if (j >= e) break;
        j = (j + 1) | 0;
      }
    if (!hashed) {
      n = 0;
      starts[0] = s;
      for (let i = s; i < e; i++) {
        const c = b[i];
        if (c > 32) continue;
        if (c === 32) {
          if (n < MAXF) {
            ends[n] = i;
            starts[n + 1] = i + 1;
          }
          n++;
        } else if (c === 13) {
          // lone CR inside: two lines (mixed line endings)
          this.p.lines--;
          this.line(b, s, i);
          this.line(b, i + 1, e);
          return;
        }
      }
      if (n < MAXF) ends[n] = e;
      n++;
    }
    if ((!plan || n !== plan.n) && isBlank(b, s, e)) return; // spaces/tabs only: ignored (as the typed reader)
    if (!plan) {
      this.skip(lineNo, 1, 'data line before any "#Fields:" directive');
      return;
    }
    if (n !== plan.n) {
      this.skip(
        lineNo,
        1,
        `expected ${plan.n} space-separated fields (per ${plan.line > 0 ? `"#Fields:" on line ${plan.line}` : plan.line < 0 ? "--fields" : '"#Fields:" in force'}), found ${n}`,
      );
      return;
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
        this.skip(
          lineNo,
          a - s + 1,
          `sc-status is not a 3-digit HTTP status: "${utf8(b, a, Math.min(z, a + 40))}"`,
        );
        return;
      }
    }
    if (plan.cip >= 0) {
      const a = starts[plan.cip];
      const z = ends[plan.cip];
      if (!(hashed ? cipOk : isDash(b, a, z) || isIpBytes(b, a, z))) {
        this.skip(lineNo, a - s + 1, `c-ip is not an IP address: "${utf8(b, a, Math.min(z, a + 60))}"`);
        return;
      }
    }
    if (plan.sip >= 0) {
      const a = starts[plan.sip];
      const z = ends[plan.sip];
      if (!(hashed ? sipOk : isDash(b, a, z) || isIpBytes(b, a, z))) {
        this.skip(lineNo, a - s + 1, `s-ip is not an IP address: "${utf8(b, a, Math.min(z, a + 60))}"`);
        return;
      }
    }
    // date + time → UTC ms
    let t = Number.NaN;
    if (plan.date >= 0) {
      const tod = this.timeOfDay(
        b,
        starts[plan.date],
        ends[plan.date],
        plan.time >= 0 ? starts[plan.time] : -1,
        plan.time >= 0 ? ends[plan.time] : -1,
      );
      if (tod < 0) {
        this.skip(lineNo, 1, `date/time is not "YYYY-MM-DD HH:MM:SS": "${utf8(b, s, Math.min(e, s + 30))}"`);
        return;
      }
      t = this.dayMs + tod;
    }
    const f = this.filters;
    if ((f.since !== undefined && !(t >= f.since)) || (f.until !== undefined && !(t <= f.until))) {
      this.p.filtered++;
      return;
    }
    if (this.clientFilter) {
      const a = starts[plan.cip];
      const cf = this.clientFilter;
      if (
        plan.cip < 0 ||
        ends[plan.cip] - a !== cf.length ||
        b.compare(cf, 0, cf.length, a, ends[plan.cip]) !== 0
      ) {
        this.p.filtered++;
        return;
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
    // URL meaning through the cache (53-bit key over the stem bytes + "has a query")
    let info: CachedUrl | undefined;
    let slot = -1;
    const sa = plan.stem >= 0 ? starts[plan.stem] : 0;
    const sz = plan.stem >= 0 ? ends[plan.stem] : 0;
    const qa = plan.query >= 0 ? starts[plan.query] : 0;
    const qz = plan.query >= 0 ? ends[plan.query] : 0;
    const hasQuery = plan.query >= 0 && !isDash(b, qa, qz);
    if (plan.stem >= 0) {
      if (!hashed)
        for (let i = sa; i < sz; i++) {
          const c = b[i];
          h1 = Math.imul(h1 ^ c, 0x01000193);
          h2 = ((h2 << 5) - h2 + c) | 0;
        }
      h1 >>>= 0;
      h2 >>>= 0;
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
      const a = starts[plan.ua];
      const z = ends[plan.ua];
      // key = hash of the first 32 bytes + the length (computed by the fast tokenizer, or here)
      if (!hashed) ah = fnv1a(b, a, Math.min(z, a + 32));
      let ai = this.agentSlots.get(ah >>> 0, z - a);
      if (ai < 0) ai = this.newAgent(b, a, z, ah);
      if (ai >= 0) this.agentCounts[ai]++;
    }
    if (status >= 400) this.refusal(b, plan, status, sub, t, h1, h2, hasQuery, sa, sz, qa, qz, info);
  }

  /** A 4xx/5xx line: group it by (stem, query, status) and track the client's retry cadence (kept out of line() so
   * the hot per-line function stays small enough for the optimiser). */
  private refusal(
    b: Buffer,
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
    const starts = this.starts;
    const ends = this.ends;
    {
      let win32 = 0;
      if (status === 401 && plan.win32 >= 0)
        for (let i = starts[plan.win32], z = ends[plan.win32]; i < z; i++) win32 = win32 * 10 + (b[i] - 48);
      if (!isRefusal(status, sub, win32)) return;
      const qh = hasQuery ? fnv1a(b, qa, qz) : 0;
      const key = groupKey(h1, h2, qh, status, sub);
      const k2 = (Math.imul(h2 ^ qh, 0x9e3779b1) ^ Math.imul(status * 1000 + sub, 0x85ebca6b)) >>> 0;
      let gi = this.groupSlots.get(h1, k2);
      if (gi < 0) {
        gi = this.newGroup(b, plan, status, sub, t, h1, k2, key, hasQuery, sa, sz, qa, qz, info);
        if (gi < 0) return;
      }
      this.groupCount[gi]++;
      if (t < this.groupFirst[gi]) this.groupFirst[gi] = t;
      if (t > this.groupLast[gi]) this.groupLast[gi] = t;
      if (plan.method >= 0) {
        const id = this.method(b, starts[plan.method], ends[plan.method]);
        if (id >= 0 && id < 30) {
          const bit = 1 << id;
          if ((this.groupMethodBits[gi] & bit) === 0) {
            this.groupMethodBits[gi] |= bit;
            this.groupList[gi].methods.push(this.methodNames[id]);
          }
        } else {
          const methods = this.groupList[gi].methods;
          const name = id >= 0 ? this.methodNames[id] : this.otherMethod;
          if (!methods.includes(name)) methods.push(name);
        }
      }
      const ipi = plan.cip >= 0 ? this.ip(b, starts[plan.cip], ends[plan.cip]) : -2;
      if (ipi === -1) {
        // interning table full: counted, not itemised
        this.groupList[gi].clientsOverflow++;
        this.p.failingOverflow++;
        return;
      }
      const k = this.pairSlots.get(gi, ipi);
      if (k >= 0) touchRetry(this.pairs[k], t);
      else this.newPair(gi, ipi, t);
      if (ipi >= 0) {
        this.failFailures[ipi]++;
        if (t < this.failFirst[ipi]) this.failFirst[ipi] = t;
        if (t > this.failLast[ipi]) this.failLast[ipi] = t;
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
    this.groupClientCount.push(0);
    this.groupMethodBits.push(0);
    this.groupCount.push(0);
    this.groupFirst.push(t);
    this.groupLast.push(t);
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
    if (this.groupClientCount[gi] >= CAPS.clientsPerGroup || this.p.pairs >= CAPS.retryPairs) {
      this.groupList[gi].clientsOverflow++;
      return;
    }
    this.p.pairs++;
    this.groupClientCount[gi]++;
    this.pairSlots.set(gi, ipi, this.pairs.length);
    this.pairGroup.push(gi);
    this.pairs.push(newRetry(ipi >= 0 ? this.ips[ipi] : "", t));
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
    this.failFailures.push(0);
    this.failFirst.push(Number.POSITIVE_INFINITY);
    this.failLast.push(Number.NEGATIVE_INFINITY);
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
    for (let k = 0; k < this.pairs.length; k++)
      this.groupList[this.pairGroup[k]].clients.set(this.pairs[k].ip, this.pairs[k]);
    for (let i = 0; i < this.groupList.length; i++) this.p.groups.set(this.groupKeys[i], this.groupList[i]);
    for (let i = 0; i < this.groupList.length; i++) {
      const g = this.groupList[i];
      g.count = this.groupCount[i];
      g.first = this.groupFirst[i];
      g.last = this.groupLast[i];
    }
    for (let i = 0; i < this.ips.length; i++)
      if (this.failFailures[i] > 0)
        this.p.failing.set(this.ips[i], {
          ip: this.ips[i],
          failures: this.failFailures[i],
          first: this.failFirst[i],
          last: this.failLast[i],
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

/** Splits chunks into lines (LF; CR handled by the scanner) with a carry-over for the partial last line. */
export class LineFeeder {
  private carry: Buffer | undefined;
  constructor(private readonly onLine: (b: Buffer, s: number, e: number) => void) {}
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let s = 0;
    for (let nl = buf.indexOf(10, s); nl !== -1; nl = buf.indexOf(10, s)) {
      this.onLine(buf, s, nl);
      s = nl + 1;
    }
    if (s < buf.length) this.carry = Buffer.from(buf.subarray(s));
  }
  end(): void {
    if (this.carry) this.onLine(this.carry, 0, this.carry.length);
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
}

function defaultFields(job: RangeJob): { text: string; line: number } | undefined {
  return job.fields ? { text: `#Fields: ${job.fields}`, line: -1 } : undefined;
}

/** Scans one byte range of a plain file (sync reads; runs inside a worker or the main thread). */
export function scanRange(job: RangeJob): Partial {
  const fd = openSync(job.file, "r");
  try {
    let pos = job.start;
    const fields = (pos > 0 ? fieldsBefore(fd, pos) : undefined) ?? defaultFields(job);
    const scanner = new W3CScanner(job.filters, fields);
    const buf = Buffer.allocUnsafe(CHUNK);
    // Start at a line boundary: a line that straddles `start` belongs to the previous range.
    // Only LF delimits ranges (a lone CR is split inside scanner.line, by the range that owns the LF-terminated run).
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
    // The partial last line of a chunk moves to the front of the same buffer and the next read appends to it:
    // no allocation per chunk. A line longer than the buffer grows it (once per such line).
    let buf2 = buf;
    let kept = 0; // bytes of a partial line at buf2[0..kept)
    let first = pos === 0;
    const endAt = job.end < 0 ? Number.POSITIVE_INFINITY : job.end;
    const maxLine = job.maxLineBytes ?? MAX_LINE_BYTES;
    for (;;) {
      if (kept === buf2.length && kept >= maxLine) {
        // a line longer than maxLine: counted and sampled as skipped, its bytes read and dropped up to its LF
        scanner.skipLongLine(maxLine);
        kept = 0;
        let nl = -1;
        while (nl < 0) {
          const n = readSync(fd, buf2, 0, buf2.length, pos);
          if (n === 0) return scanner.finish();
          nl = buf2.subarray(0, n).indexOf(10);
          pos += nl >= 0 ? nl + 1 : n;
        }
        first = false;
        if (pos >= endAt) return scanner.finish();
        continue;
      }
      if (kept === buf2.length) {
        const bigger = Buffer.allocUnsafe(Math.min(buf2.length * 2, Math.max(maxLine, buf2.length)));
        buf2.copy(bigger, 0, 0, kept);
        buf2 = bigger;
      }
      const n = readSync(fd, buf2, kept, buf2.length - kept, pos);
      if (n === 0) break;
      const base = pos - kept;
      const b = buf2.subarray(0, kept + n);
      pos += n;
      let s = 0;
      if (first) {
        first = false;
        if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) s = 3;
      }
      for (let nl = b.indexOf(10, s); nl !== -1; nl = b.indexOf(10, s)) {
        if (base + s >= endAt) return scanner.finish();
        scanner.line(b, s, nl);
        s = nl + 1;
      }
      if (base + s >= endAt) return scanner.finish();
      kept = b.length - s;
      if (kept > 0) b.copy(buf2, 0, s, b.length);
    }
    if (kept > 0) scanner.line(buf2, 0, kept);
    return scanner.finish();
  } finally {
    closeSync(fd);
  }
}

/** Scans a gzip'd W3C file as one stream (gzip cannot be split into ranges). */
export async function scanGzip(job: RangeJob): Promise<Partial> {
  const scanner = new W3CScanner(job.filters, defaultFields(job));
  let first = true;
  const feeder = new LineFeeder((b, s, e) => scanner.line(b, s, e));
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
