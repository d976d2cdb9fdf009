// AssemblyScript (https://www.assemblyscript.org), compiled to WebAssembly by scripts/build-wasm.mjs into
// src/logs/w3c-tokenizer-wasm.ts. Not TypeScript: i32/u32/usize are WebAssembly value types, load/store read linear
// memory. Run `npm run build:wasm` after any change (test/logs/wasm-build.test.ts checks the embedded bytes are this
// file's).
//
// The byte work of `dpdoctor logs` on IIS W3C lines, 16 bytes at a time with WebAssembly SIMD: split a chunk into
// lines and fields, validate and decode the fields the summary needs (sc-status, sc-substatus, c-ip, s-ip, date,
// time) and hash cs-uri-stem and cs(User-Agent). One fixed-size record per line goes back to JavaScript
// (src/logs/scan.ts), which gives the record its ConfigMgr meaning. A line this code cannot take whole (no
// "#Fields:" yet, a field count that does not match, a malformed field) is marked SLOW: the JavaScript reader reads it
// again byte by byte and says exactly what is wrong (file:line:column). So this file decides nothing the JavaScript
// reader does not decide too; test/logs/scan-wasm.test.ts compares the two record by record.
//
// Line rules (as W3CScanner.line): an LF ends a line and a CR just before it is dropped; a CR not followed by an LF
// ends a line too (mixed line endings); only spaces separate fields (a tab stays inside its field).

// Memory layout, chosen by JavaScript (init): the chunk buffer (16 bytes of slack after it), the records, the role
// of each field index, the positions of the fields that have a role, the table of bytes allowed in a logged IP.
let BUF: usize = 0;
let REC: usize = 0;
let ROLE: usize = 0;
let POS: usize = 0;
let IPT: usize = 0;

/** Fields per line of the "#Fields:" in force (0: none yet: every data line is SLOW). */
let nPlan: i32 = 0;
/** Bit r set: the field set has role r. */
let present: i32 = 0;

let resumeAt: i32 = 0;
/** Lines counted here (K_COUNTED) since the last record written, at the end of scan(): tail(). */
let countedTail: i32 = 0;

// Counting ordinary lines here (setFast(1): no filter): a line with status < 400 whose URL and user agent JavaScript
// has already classified (their keys mirrored here by urlInsert/agentInsert) is counted in these tables and never
// becomes a record. JavaScript adds the tables to its own at the end (W3CScanner.harvest).
let FAST: i32 = 0;
let URLS: usize = 0; // table descriptor (see tFind): (URL h1, k2) → JavaScript's URL index
let AGENTS: usize = 0; // table descriptor: (agent hash, length) → JavaScript's agent index
let UCOUNT: usize = 0; // f64 per URL value
let ACOUNT: usize = 0; // f64 per agent value
let STATUS: usize = 0; // f64 per status * 64 + substatus
let records: f64 = 0;
let first: f64 = Infinity;
let last: f64 = -Infinity;
let dayKeyMs: i32 = 0; // day key of dayMs
let dayMs: f64 = 0;
/** The last good date field's bytes and its YYYYMMDD key (0: none yet). */
let lastDate8: u64 = 0;
let lastDate2: u16 = 0;
let lastDayKey: i32 = 0;
let stopReason: i32 = 0;

// Roles (also in scan.ts: ROLE_*)
const R_DATE = 1;
const R_TIME = 2;
const R_STATUS = 3;
const R_SUB = 4;
const R_CIP = 6;
const R_SIP = 7;
const R_WIN32 = 5;
const R_STEM = 8;
const R_QUERY = 9;
const R_METHOD = 10;
const R_UA = 11;

// Record: RECW int32 per line (also in w3c-tokenizer.ts: R)
const RECW: i32 = 26;
const K_OK = 0;
const K_DIRECTIVE = 1;
const K_SLOW = 2;
const K_EMPTY = 3;
/** Counted here (countHere): no record. */
const K_COUNTED = 4;

// Why scan() returned (also in scan.ts: STOP_*)
const STOP_NEED_BYTES = 0; // the rest of the chunk is a partial line (or a CR whose next byte is not read yet)
const STOP_DIRECTIVE = 1; // the last record is a directive: JavaScript applies it before the next lines
const STOP_FULL = 2; // the record area is full
const STOP_AT = 3; // the next line starts after an LF at or past stopAt (the next byte range's)

export function init(buf: usize, rec: usize, role: usize, pos: usize, ipt: usize): void {
  BUF = buf;
  REC = rec;
  ROLE = role;
  POS = pos;
  IPT = ipt;
}

export function initTables(urls: usize, agents: usize, ucount: usize, acount: usize, status: usize): void {
  URLS = urls;
  AGENTS = agents;
  UCOUNT = ucount;
  ACOUNT = acount;
  STATUS = status;
}

/** Empty tables and counters (a tokenizer taken by another scanner); JavaScript sizes and zeroes the count areas. */
export function reset(fast: i32): void {
  FAST = fast;
  tReset(URLS);
  tReset(AGENTS);
  records = 0;
  first = Infinity;
  last = -Infinity;
  tReset(GROUPS);
  tReset(IPS);
  tReset(PAIRS);
  memory.fill(METHODS, 0, 128 * 8);
  pairsFull = 0;
}

export function counted(): f64 {
  return records;
}
export function firstTime(): f64 {
  return first;
}
export function lastTime(): f64 {
  return last;
}
export function tail(): i32 {
  return countedTail;
}

@inline
function slotOf(k1: i32, k2: i32, mask: i32): i32 {
  return (k1 ^ (k2 * 0x9e3779b1)) & mask;
}

// Growable open-addressing tables of (k1, k2) → value, for URLs, agents, refused groups, client IPs and (group,
// client) pairs: a descriptor of 5 i32 at D (set by JavaScript): area in use, other area (rehash target), mask,
// entries, most entries (insert refuses beyond: that key's lines stay records). Slots of 12 bytes.
const T_A = 0;
const T_B = 4;
const T_MASK = 8;
const T_USED = 12;
const T_LIMIT = 16;

function tPut(t: usize, mask: i32, k1: i32, k2: i32, v1: i32): void {
  let i = slotOf(k1, k2, mask);
  for (;;) {
    const o = t + <usize>i * 12;
    if (load<i32>(o, 8) == 0) {
      store<i32>(o, k1);
      store<i32>(o, k2, 4);
      store<i32>(o, v1, 8);
      return;
    }
    if (load<i32>(o) == k1 && load<i32>(o, 4) == k2) return;
    i = (i + 1) & mask;
  }
}

function tReset(d: usize): void {
  store<i32>(d, 1023, T_MASK);
  store<i32>(d, 0, T_USED);
  memory.fill(<usize>load<i32>(d, T_A), 0, 1024 * 12);
}

function tFind(d: usize, k1: i32, k2: i32): i32 {
  const t = <usize>load<i32>(d, T_A);
  const mask = load<i32>(d, T_MASK);
  let i = slotOf(k1, k2, mask);
  for (;;) {
    const o = t + <usize>i * 12;
    const v = load<i32>(o, 8);
    if (v == 0) return -1;
    if (load<i32>(o) == k1 && load<i32>(o, 4) == k2) return v - 1;
    i = (i + 1) & mask;
  }
  return -1; // not reached: the table is never full
}

function tInsert(d: usize, k1: i32, k2: i32, v: i32): bool {
  const used = load<i32>(d, T_USED);
  if (used >= load<i32>(d, T_LIMIT)) return false;
  let mask = load<i32>(d, T_MASK);
  if ((used + 1) * 2 > mask + 1) {
    const from = <usize>load<i32>(d, T_A);
    const to = <usize>load<i32>(d, T_B);
    const bigger = mask * 2 + 1;
    memory.fill(to, 0, <usize>(bigger + 1) * 12);
    for (let i = 0; i <= mask; i++) {
      const o = from + <usize>i * 12;
      const v1 = load<i32>(o, 8);
      if (v1 != 0) tPut(to, bigger, load<i32>(o), load<i32>(o, 4), v1);
    }
    store<i32>(d, <i32>to, T_A);
    store<i32>(d, <i32>from, T_B);
    store<i32>(d, bigger, T_MASK);
    mask = bigger;
  }
  tPut(<usize>load<i32>(d, T_A), mask, k1, k2, v + 1);
  store<i32>(d, used + 1, T_USED);
  return true;
}

// Refused requests counted here (JavaScript's W3CScanner.refusal, for a group, client and method it has already
// seen): the statistics live in this memory, JavaScript reads and writes the same arrays (views).
let GROUPS: usize = 0; // descriptor: (stem h1, group k2) → group index
let IPS: usize = 0; // descriptor: (fnv1a, hash2 of the c-ip bytes) → IP index
let PAIRS: usize = 0; // descriptor: (group index, IP index) → pair index
let METHODS: usize = 0; // 128 slots of (fnv1a & 0x3fffffff, id + 1): 8 bytes
let GCOUNT: usize = 0; // f64 per group: requests, first, last (3 arrays)
let GFIRST: usize = 0;
let GLAST: usize = 0;
let GBITS: usize = 0; // i32 per group: methods seen (bit = method id < 30)
let GCLIENTS: usize = 0; // i32 per group: clients with retry statistics (CAPS.clientsPerGroup at most)
let GOVER: usize = 0; // i32 per group: requests of clients past a cap (counted, not itemised)
/** JavaScript's pair table is full (CAPS.retryPairs): a new (group, client) pair is overflow. */
let pairsFull: i32 = 0;
const CLIENTS_PER_GROUP = 64; // aggregate.ts CAPS.clientsPerGroup
let PSTAT: usize = 0; // f64 × 8 per pair: requests, attempts, first, last, lastAttempt, minGap, maxGap, sumGap
let FFAIL: usize = 0; // f64 per IP: failures, first, last (3 arrays)
let FFIRST: usize = 0;
let FLAST: usize = 0;
const ATTEMPT_GAP_MS: f64 = 5000;

export function initRefusals(
  groups: usize,
  ips: usize,
  pairs: usize,
  methods: usize,
  gcount: usize,
  gfirst: usize,
  glast: usize,
  gbits: usize,
  pstat: usize,
  ffail: usize,
  ffirst: usize,
  flast: usize,
  gclients: usize,
  gover: usize,
): void {
  GCLIENTS = gclients;
  GOVER = gover;
  GROUPS = groups;
  IPS = ips;
  PAIRS = pairs;
  METHODS = methods;
  GCOUNT = gcount;
  GFIRST = gfirst;
  GLAST = glast;
  GBITS = gbits;
  PSTAT = pstat;
  FFAIL = ffail;
  FFIRST = ffirst;
  FLAST = flast;
}

export function setPairsFull(full: i32): void {
  pairsFull = full;
}

/** A URL key → JavaScript's URL index, mirrored (false: full; the URL's lines stay records). */
export function urlInsert(k1: i32, k2: i32, v: i32): bool {
  return tInsert(URLS, k1, k2, v);
}
export function agentInsert(k1: i32, len: i32, v: i32): bool {
  return tInsert(AGENTS, k1, len, v);
}
export function groupInsert(k1: i32, k2: i32, v: i32): bool {
  return tInsert(GROUPS, k1, k2, v);
}
export function ipInsert(k1: i32, k2: i32, v: i32): bool {
  return tInsert(IPS, k1, k2, v);
}
export function pairInsert(gi: i32, ipi: i32, v: i32): bool {
  return tInsert(PAIRS, gi, ipi, v);
}
export function methodInsert(key: i32, id: i32): void {
  let i = key & 127;
  for (let n = 0; n < 128; n++) {
    const o = METHODS + (<usize>i << 3);
    if (load<i32>(o, 4) == 0) {
      store<i32>(o, key);
      store<i32>(o, id + 1, 4);
      return;
    }
    if (load<i32>(o) == key) return;
    i = (i + 1) & 127;
  }
}
function methodFind(key: i32): i32 {
  let i = key & 127;
  for (let n = 0; n < 128; n++) {
    const o = METHODS + (<usize>i << 3);
    const v = load<i32>(o, 4);
    if (v == 0) return -1;
    if (load<i32>(o) == key) return v - 1;
    i = (i + 1) & 127;
  }
  return -1;
}

/** fnv1a of aggregate.ts (int32), over BUF[a, z). */
function fnv1a(a: i32, z: i32): i32 {
  let h: u32 = 0x811c9dc5;
  for (let i = a; i < z; i++) h = (h ^ <u32>load<u8>(BUF + <usize>i)) * 0x01000193;
  return <i32>h;
}
/** hash2 of aggregate.ts (int32), over BUF[a, z). */
function hash2(a: i32, z: i32): i32 {
  let h: u32 = 0x2545f491;
  for (let i = a; i < z; i++) h = ((h + <u32>load<u8>(BUF + <usize>i)) * 0x5bd1e995) ^ (h >> 15);
  return <i32>h;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (as Date.UTC: a day past the month's end runs on). */
function daysFromCivil(y0: i32, m: i32, d: i32): i32 {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/**
 * A good line with status < 400 counted here when its URL and agent are mirrored: true (no record), else false
 * (JavaScript accepts it). o: its record (status, substatus, time, hashes and positions already written).
 */
function countHere(o: usize): bool {
  const status = load<i32>(o, 16);
  const sub = load<i32>(o, 20);
  if (status >= 600 || sub >= 64 || !has(R_STEM)) return false;
  const h1 = load<i32>(o, 32);
  const h2 = load<i32>(o, 36);
  let k2 = h2;
  let qa = -1;
  let qz = -1;
  if (has(R_QUERY)) {
    qa = posA(R_QUERY);
    qz = posZ(R_QUERY);
    if (qz - qa == 1 && load<u8>(BUF + <usize>qa) == 45) qa = -1;
    else k2 ^= 0x5a5a5a5a;
  }
  const u = tFind(URLS, h1, k2);
  if (u < 0) return false;
  let ag = -1;
  if (has(R_UA)) {
    ag = tFind(AGENTS, load<i32>(o, 40), load<i32>(o, 44));
    if (ag < 0) return false;
  }
  let t: f64 = NaN;
  const tod = load<i32>(o, 24);
  if (tod != -2) {
    const key = load<i32>(o, 28);
    if (key != dayKeyMs) {
      dayKeyMs = key;
      dayMs = <f64>daysFromCivil(key / 10000, (key / 100) % 100, key % 100) * 86400000;
    }
    t = dayMs + <f64>tod;
  }
  // a refusal (W3CScanner.refusal): counted here only when its group, method and client pair are known and the
  // method was seen in the group before; else JavaScript takes the whole line
  let gi = -1;
  let ipi = -2;
  let pair = -1;
  if (status >= 400) {
    // sc-win32-status as JavaScript reads it (digit by digit, no check, in doubles)
    let win32: f64 = 0;
    if (status == 401 && has(R_WIN32)) {
      const z = posZ(R_WIN32);
      for (let i = posA(R_WIN32); i < z; i++) win32 = win32 * 10 + <f64>digit(i);
    }
    // isRefusal (aggregate.ts): the NTLM/Negotiate handshake legs are not refusals
    const handshake = status == 401 && (sub == 2 || (sub == 1 && win32 == 2148074254));
    if (!handshake) {
      const qh = qa >= 0 ? fnv1a(qa, qz) : 0;
      const gk2 = ((h2 ^ qh) * 0x9e3779b1) ^ ((status * 1000 + sub) * 0x85ebca6b);
      gi = tFind(GROUPS, h1, gk2);
      if (gi < 0) return false;
      if (has(R_METHOD)) {
        const id = methodFind(fnv1a(posA(R_METHOD), posZ(R_METHOD)) & 0x3fffffff);
        if (id < 0 || id >= 30 || (load<i32>(GBITS + (<usize>gi << 2)) & (1 << id)) == 0) return false;
      }
      if (has(R_CIP)) {
        const a = posA(R_CIP);
        const z = posZ(R_CIP);
        if (!(z - a == 1 && load<u8>(BUF + <usize>a) == 45)) {
          ipi = tFind(IPS, fnv1a(a, z), hash2(a, z));
          if (ipi < 0) return false;
        }
      }
      pair = tFind(PAIRS, gi, ipi);
      // a new pair when JavaScript would not make one (W3CScanner.newPair): the client is overflow (-2)
      if (pair < 0) {
        if (pairsFull == 0 && load<i32>(GCLIENTS + (<usize>gi << 2)) < CLIENTS_PER_GROUP) return false;
        pair = -2;
      }
    }
  }
  if (t < first) first = t;
  if (t > last) last = t;
  records += 1;
  const sp = STATUS + (<usize>(status * 64 + sub) << 3);
  store<f64>(sp, load<f64>(sp) + 1);
  const up = UCOUNT + (<usize>u << 3);
  store<f64>(up, load<f64>(up) + 1);
  if (ag >= 0) {
    const ap = ACOUNT + (<usize>ag << 3);
    store<f64>(ap, load<f64>(ap) + 1);
  }
  if (gi >= 0) {
    const g = <usize>gi << 3;
    store<f64>(GCOUNT + g, load<f64>(GCOUNT + g) + 1);
    if (t < load<f64>(GFIRST + g)) store<f64>(GFIRST + g, t);
    if (t > load<f64>(GLAST + g)) store<f64>(GLAST + g, t);
    if (pair == -2) {
      const ov = GOVER + (<usize>gi << 2);
      store<i32>(ov, load<i32>(ov) + 1);
    } else {
      // touchRetry (aggregate.ts)
      const p = PSTAT + (<usize>pair << 6);
      store<f64>(p, load<f64>(p) + 1);
      if (t - load<f64>(p, 24) >= ATTEMPT_GAP_MS) {
        const gap = t - load<f64>(p, 32);
        store<f64>(p, load<f64>(p, 8) + 1, 8);
        if (gap < load<f64>(p, 40)) store<f64>(p, gap, 40);
        if (gap > load<f64>(p, 48)) store<f64>(p, gap, 48);
        store<f64>(p, load<f64>(p, 56) + gap, 56);
        store<f64>(p, t, 32);
      }
      if (t > load<f64>(p, 24)) store<f64>(p, t, 24);
    }
    if (ipi >= 0) {
      const f = <usize>ipi << 3;
      store<f64>(FFAIL + f, load<f64>(FFAIL + f) + 1);
      if (t < load<f64>(FFIRST + f)) store<f64>(FFIRST + f, t);
      if (t > load<f64>(FLAST + f)) store<f64>(FLAST + f, t);
    }
  }
  return true;
}

export function setPlan(n: i32, rolesPresent: i32): void {
  nPlan = n;
  present = rolesPresent;
}

export function resume(): i32 {
  return resumeAt;
}

export function reason(): i32 {
  return stopReason;
}

@inline
function fmix32(x: u32): u32 {
  let h = x;
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  return h ^ (h >> 16);
}

/**
 * laneHash of aggregate.ts: four 32-bit lanes, each fed every 4th little-endian word of 16-byte blocks (the last block
 * zero-padded), multiplied and shifted (independent chains, one SIMD step per 16 bytes); two 32-bit results mixing all
 * four lanes and the length. The second result is left in hashB.
 */
let hashB: u32 = 0;
function laneHash(a: usize, z: usize): u32 {
  let v = i32x4(0x811c9dc5, 0x2545f491, 0x9e3779b9, 0x7f4a7c15);
  const mul = i32x4.splat(0x01000193);
  let i = a;
  while (i + 16 <= z) {
    v = v128.xor(v, v128.load(i));
    v = i32x4.mul(v, mul);
    v = v128.xor(v, i32x4.shr_u(v, 15));
    i += 16;
  }
  if (i < z) {
    // bytes past z are zero: lane index < length
    const keep = i8x16.lt_u(v128(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), i8x16.splat(<u8>(z - i)));
    v = v128.xor(v, v128.and(v128.load(i), keep));
    v = i32x4.mul(v, mul);
    v = v128.xor(v, i32x4.shr_u(v, 15));
  }
  const l0 = i32x4.extract_lane(v, 0);
  const l1 = i32x4.extract_lane(v, 1);
  const l2 = i32x4.extract_lane(v, 2);
  const l3 = i32x4.extract_lane(v, 3);
  const n = <u32>(z - a);
  hashB = fmix32(<u32>(l1 ^ rotl<i32>(l2, 11) ^ rotl<i32>(l3, 22) ^ rotl<i32>(l0, 5)) ^ (n * 0x9e3779b1));
  return fmix32(<u32>(l0 ^ rotl<i32>(l1, 11) ^ rotl<i32>(l2, 22) ^ rotl<i32>(l3, 5)) ^ n);
}

@inline
function posA(role: i32): i32 {
  return load<i32>(POS + (<usize>role << 3));
}
@inline
function posZ(role: i32): i32 {
  return load<i32>(POS + (<usize>role << 3) + 4);
}
@inline
function has(role: i32): bool {
  return (present & (1 << role)) != 0;
}
@inline
function digit(p: i32): i32 {
  return <i32>load<u8>(BUF + <usize>p) - 48;
}

/** "-" or 1..64 bytes that may appear in a logged IP (isLoggedIp of w3c.ts): 0-9 a-f A-F . : % */
function ipOk(a: i32, z: i32): bool {
  const len = z - a;
  if (len == 1 && load<u8>(BUF + <usize>a) == 45) return true;
  if (len <= 0 || len > 64) return false;
  if (len <= 16) {
    // 16 bytes at once (BUF has readable bytes past any field): every byte of the field in the set
    const v = v128.load(BUF + <usize>a);
    const digit = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10));
    const hex = i8x16.lt_u(i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61)), i8x16.splat(6));
    const punct = v128.or(
      v128.or(i8x16.eq(v, i8x16.splat(0x2e)), i8x16.eq(v, i8x16.splat(0x3a))),
      i8x16.eq(v, i8x16.splat(0x25)),
    );
    const want = (1 << len) - 1;
    return (i8x16.bitmask(v128.or(v128.or(digit, hex), punct)) & want) == want;
  }
  for (let i = a; i < z; i++) if (load<u8>(IPT + <usize>load<u8>(BUF + <usize>i)) == 0) return false;
  return true;
}

/**
 * The fields of a data line with as many fields as the plan: record values, or K_SLOW when a field the summary
 * reads is malformed (the JavaScript reader then says which and where).
 */
function decode(o: usize): i32 {
  // sc-status: exactly 3 digits, ≥ 100
  let status = 0;
  if (has(R_STATUS)) {
    const a = posA(R_STATUS);
    if (posZ(R_STATUS) - a != 3) return K_SLOW;
    for (let i = a; i < a + 3; i++) {
      const d = digit(i);
      if (d < 0 || d > 9) return K_SLOW;
      status = status * 10 + d;
    }
    if (status < 100) return K_SLOW;
  }
  if (has(R_CIP) && !ipOk(posA(R_CIP), posZ(R_CIP))) return K_SLOW;
  if (has(R_SIP) && !ipOk(posA(R_SIP), posZ(R_SIP))) return K_SLOW;
  // date YYYY-MM-DD + time HH:MM:SS(.f{1,3}) → day key + ms of the day (-2: no date field)
  let tod = -2;
  let dayKey = 0;
  if (has(R_DATE)) {
    const ds = posA(R_DATE);
    if (posZ(R_DATE) - ds != 10) return K_SLOW;
    // the same 10 bytes as the last good date (a log holds one or two days): its day key
    const d8 = load<u64>(BUF + <usize>ds);
    const d2 = load<u16>(BUF + <usize>ds + 8);
    if (d8 == lastDate8 && d2 == lastDate2 && lastDayKey != 0) dayKey = lastDayKey;
    else {
      if (load<u8>(BUF + <usize>(ds + 4)) != 45 || load<u8>(BUF + <usize>(ds + 7)) != 45) return K_SLOW;
      for (let i = 0; i < 10; i++) {
        if (i == 4 || i == 7) continue;
        const d = digit(ds + i);
        if (d < 0 || d > 9) return K_SLOW;
        dayKey = dayKey * 10 + d;
      }
      const m = (dayKey / 100) % 100;
      const dd = dayKey % 100;
      if (m < 1 || m > 12 || dd < 1 || dd > 31) return K_SLOW;
      lastDate8 = d8;
      lastDate2 = d2;
      lastDayKey = dayKey;
    }
    if (!has(R_TIME)) return K_SLOW;
    const ts = posA(R_TIME);
    const len = posZ(R_TIME) - ts;
    if (len < 8 || load<u8>(BUF + <usize>(ts + 2)) != 58 || load<u8>(BUF + <usize>(ts + 5)) != 58) return K_SLOW;
    const h0 = digit(ts);
    const h1 = digit(ts + 1);
    const m0 = digit(ts + 3);
    const m1 = digit(ts + 4);
    const s0 = digit(ts + 6);
    const s1 = digit(ts + 7);
    if (
      <u32>h0 > 9 ||
      <u32>h1 > 9 ||
      <u32>m0 > 9 ||
      <u32>m1 > 9 ||
      <u32>s0 > 9 ||
      <u32>s1 > 9
    )
      return K_SLOW;
    const hh = h0 * 10 + h1;
    const mi = m0 * 10 + m1;
    const se = s0 * 10 + s1;
    if (hh > 23 || mi > 59 || se > 60) return K_SLOW;
    let ms = 0;
    if (len > 8) {
      if (load<u8>(BUF + <usize>(ts + 8)) != 46 || len > 12) return K_SLOW;
      let scale = 100;
      for (let i = ts + 9; i < ts + len; i++) {
        const d = digit(i);
        if (d < 0 || d > 9) return K_SLOW;
        ms += d * scale;
        scale /= 10;
      }
    }
    tod = hh * 3600000 + mi * 60000 + se * 1000 + ms;
  }
  // sc-substatus: the leading digits
  let sub = 0;
  if (has(R_SUB)) {
    const z = posZ(R_SUB);
    for (let i = posA(R_SUB); i < z; i++) {
      const d = digit(i);
      if (d < 0 || d > 9) break;
      sub = sub * 10 + d;
    }
  }
  store<i32>(o + 16, status);
  store<i32>(o + 20, sub);
  store<i32>(o + 24, tod);
  store<i32>(o + 28, dayKey);
  if (has(R_STEM)) {
    const a = posA(R_STEM);
    const z = posZ(R_STEM);
    store<u32>(o + 32, laneHash(BUF + <usize>a, BUF + <usize>z));
    store<u32>(o + 36, hashB);
  }
  if (has(R_UA)) {
    const a = posA(R_UA);
    const z = posZ(R_UA);
    // the agent cache key: the first 32 bytes (classifyAgent reads the product token) + the length
    store<u32>(o + 40, laneHash(BUF + <usize>a, BUF + <usize>min(z, a + 32)));
    store<i32>(o + 44, z - a);
  }
  // positions JavaScript reads: stem, query, user agent, c-ip, method, win32 status (roles 8, 9, 11, 6, 10, 5)
  store<i32>(o + 48, posA(R_STEM));
  store<i32>(o + 52, posZ(R_STEM));
  store<i32>(o + 56, posA(9));
  store<i32>(o + 60, posZ(9));
  store<i32>(o + 64, posA(R_UA));
  store<i32>(o + 68, posZ(R_UA));
  store<i32>(o + 72, posA(R_CIP));
  store<i32>(o + 76, posZ(R_CIP));
  store<i32>(o + 80, posA(10));
  store<i32>(o + 84, posZ(10));
  store<i32>(o + 88, posA(5));
  store<i32>(o + 92, posZ(5));
  return K_OK;
}

function emit(r: i32, s: i32, e: i32, nf: i32): i32 {
  const o = REC + (<usize>(r * RECW) << 2);
  store<i32>(o, s);
  store<i32>(o + 4, e);
  store<i32>(o + 8, nf);
  let kind = K_OK;
  if (e == s) kind = K_EMPTY;
  else if (load<u8>(BUF + <usize>s) == 35) kind = K_DIRECTIVE;
  else if (nPlan == 0 || nf != nPlan) kind = K_SLOW;
  else {
    kind = decode(o);
    if (kind == K_OK && FAST != 0 && countHere(o)) return K_COUNTED;
  }
  store<i32>(o + 12, kind);
  return kind;
}

@inline
function fieldEnd(n: i32, a: i32, z: i32): void {
  if (n < 128) {
    const role = <usize>load<u8>(ROLE + <usize>n);
    if (role != 0) {
      store<i32>(POS + (role << 3), a);
      store<i32>(POS + (role << 3) + 4, z);
    }
  }
}

/**
 * Records for the lines of BUF[start, end), at most maxRec; `start` is a line start. Returns how many; resume() is
 * where the next call starts and reason() why this one stopped (STOP_*). BUF has 16 readable bytes after `end`.
 */
export function scan(start: i32, end: i32, stopAt: i32, maxRec: i32): i32 {
  let nrec = 0;
  let countedBefore = 0;
  let lineStart = start;
  let fieldStart = start;
  let n = 0;
  resumeAt = start;
  const lt = i8x16.splat(33);
  let p = start;
  while (p < end) {
    let m = i8x16.bitmask(i8x16.lt_u(v128.load(BUF + <usize>p), lt));
    if (end - p < 16) m &= (1 << (end - p)) - 1;
    while (m != 0) {
      const q = p + ctz(m);
      m &= m - 1;
      const c = load<u8>(BUF + <usize>q);
      if (c == 32) {
        fieldEnd(n, fieldStart, q);
        n++;
        fieldStart = q + 1;
      } else if (c == 10 || c == 13) {
        let e = q;
        if (c == 13) {
          if (q + 1 >= end) {
            resumeAt = lineStart;
            stopReason = STOP_NEED_BYTES;
            countedTail = countedBefore;
            return nrec;
          }
          if (load<u8>(BUF + <usize>(q + 1)) == 10) continue;
        } else if (e > lineStart && load<u8>(BUF + <usize>(e - 1)) == 13) e--;
        fieldEnd(n, fieldStart, e);
        const kind = emit(nrec, lineStart, e, n + 1);
        if (kind == K_COUNTED) countedBefore++;
        else {
          store<i32>(REC + (<usize>(nrec * RECW) << 2), countedBefore, 96);
          countedBefore = 0;
          nrec++;
        }
        lineStart = q + 1;
        fieldStart = lineStart;
        n = 0;
        resumeAt = lineStart;
        // a line after an LF at or past stopAt is the next range's; after a lone CR it is still this run's
        if (c == 10 && lineStart >= stopAt) {
          stopReason = STOP_AT;
          countedTail = countedBefore;
          return nrec;
        }
        if (kind == K_DIRECTIVE) {
          stopReason = STOP_DIRECTIVE;
          countedTail = countedBefore;
          return nrec;
        }
        if (nrec >= maxRec) {
          stopReason = STOP_FULL;
          countedTail = countedBefore;
          return nrec;
        }
      }
    }
    p += 16;
  }
  stopReason = STOP_NEED_BYTES;
  countedTail = countedBefore;
  return nrec;
}
