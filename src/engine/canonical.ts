/**
 * The request target as http.sys validates it and as request filtering sees it.
 * Spec: ../shared/spec/iis-request-filtering.md §5.1 (split), §5.2 (http.sys refusals), §5.3 (canonicalization),
 * §13.10 (segment length counted in decoded characters [INF]), §13.23 (raw non-ASCII bytes).
 *
 * Decisions (documented because the spec leaves them open):
 * - Escapes are decoded once as UTF-8. When the decoded bytes are not valid UTF-8 (`%FF`, `%C0%AF`), the whole path is
 *   decoded byte-per-character (Latin-1), approximating http.sys's fallback to the system code page (§5.3: "decoded
 *   with a non-UTF-8 fallback, so the file was not found") [INF]. No U+FFFD is ever produced, so the result is
 *   lossless and re-encoding it (UTF-8 escapes) canonicalizes to itself.
 * - Raw (unescaped) non-ASCII characters are taken as already-decoded characters (§13.23: BITS/WinHTTP always escape).
 * - The path keeps its case and a trailing `/` (a directory URL, §9.2).
 */
import type { EffectiveConfig, ServerConfig } from "../config/types.js";
import type { Compiled } from "./compiled.js";
import type { DpPathKind } from "./dp.js";
import type { MemoClass } from "./evaluate.js";
import type { Reason } from "./types.js";

/** http.sys `MaxFieldLength`/`MaxRequestBytes` (16 KB) → 414 (§5.2, KB820129). */
export const HTTPSYS_MAX_URL = 16384;
/** http.sys `UrlSegmentMaxLength` (260) → 400 (§5.2), counted in decoded characters (§13.10 [INF]). */
export const HTTPSYS_MAX_SEGMENT_LENGTH = 260;
/** http.sys `UrlSegmentMaxCount` (255) → 400 (§5.2). */
export const HTTPSYS_MAX_SEGMENTS = 255;

export interface SplitTarget {
  /** Raw path as sent (escapes not decoded). */
  rawPath: string;
  /** Raw query without the `?`; undefined when the target has no `?` (§5.1). */
  query: string | undefined;
}

/**
 * Splits a request target at the first `?` (§5.1). A full `http(s)://host[:port]` URL is accepted: its path and
 * query are used, as http.sys does with an absolute-form request line.
 */
export function splitTarget(target: string): SplitTarget {
  let start = 0;
  const c0 = target.charCodeAt(0);
  if (c0 === 104 || c0 === 72) {
    // "http://" or "https://", any case
    const lower = target.slice(0, 8).toLowerCase();
    const skip = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : 0;
    if (skip > 0) {
      let i = skip;
      while (i < target.length) {
        const c = target.charCodeAt(i);
        if (c === 47 || c === 63 || c === 35) break; // '/', '?', '#'
        i++;
      }
      if (i >= target.length || target.charCodeAt(i) !== 47) {
        // "http://host" or "http://host?q": the path is "/"
        const rest = target.slice(i);
        return splitTarget(`/${rest}`);
      }
      start = i;
    }
  }
  const q = target.indexOf("?", start);
  if (q < 0) return { rawPath: start === 0 ? target : target.slice(start), query: undefined };
  return { rawPath: target.slice(start, q), query: target.slice(q + 1) };
}

function httpSys(status: number, check: Reason["check"], message: string): Reason {
  return { status, substatus: 0, check, message, source: null };
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/**
 * http.sys validation and canonicalization of a raw path (§5.2, §5.3).
 * Returns the canonical path, or the http.sys refusal (400 / 403 / 414) as a Reason.
 * Fast path: a path with no `%`, `\`, `//` or `/.` is already canonical and is returned as is (no allocation).
 */
export function canonicalizePath(rawPath: string, rawTargetLength = rawPath.length): string | Reason {
  if (rawTargetLength > HTTPSYS_MAX_URL)
    return httpSys(
      414,
      "httpsys.urlTooLong",
      `URL is ${rawTargetLength} bytes; http.sys refuses more than ${HTTPSYS_MAX_URL} (MaxFieldLength/MaxRequestBytes)`,
    );
  const n = rawPath.length;
  if (n === 0 || rawPath.charCodeAt(0) !== 47) {
    if (n > 0 && rawPath.charCodeAt(0) === 92)
      return httpSys(400, "httpsys.badTarget", "Request target starts with '\\' (http.sys: invalid URL)");
    return httpSys(
      400,
      "httpsys.badTarget",
      "Request target does not start with '/' (http.sys: invalid URL)",
    );
  }
  // a path that shares its directory prefix with recent ones resumes the pass after that prefix (see PathPrefix)
  // its last '/' (ps) by native forward searches (lastIndexOf is a slow runtime call), the second one (s2) on the way
  let ps = 0;
  let s2 = -1;
  if (prefixCacheOn) {
    ps = rawPath.indexOf("/", 1);
    if (ps > 0) {
      s2 = rawPath.indexOf("/", ps + 1);
      if (s2 > 0) {
        ps = s2;
        for (let j = rawPath.indexOf("/", s2 + 1); j > 0; j = rawPath.indexOf("/", j + 1)) ps = j;
      }
    }
  }
  const prefix = ps > 0 && ps < MAX_PREFIX_LENGTH ? prefixOf(rawPath, ps, s2) : null;
  let bad: number;
  if (prefix !== null && prefix.canon !== null) {
    for (let k = 0; k < prefix.slashCount; k++) pathSlashes[k] = prefix.slashes[k];
    bad = scan(rawPath, ps + 1, n, prefix);
  } else bad = scan(rawPath, 1, n, null);
  if (bad >= 0) return refuseChar(rawPath, bad);
  const segments = scanSegments;
  const maxSeg = scanMaxSegment;
  if (scanFactsSet) {
    // already canonical, or canonical once its escapes are decoded (all to ASCII characters other than '/', '.',
    // '\\'): the pass recorded the facts in decoded positions, so no second pass over the decoded path
    if (maxSeg > HTTPSYS_MAX_SEGMENT_LENGTH) return segmentTooLong(maxSeg);
    if (segments > HTTPSYS_MAX_SEGMENTS) return tooManySegments(segments);
    if (prefix === null || prefix.canon === null) {
      pathPrefix = null;
      return scanClean ? rawPath : (decodeAsciiEscapes(rawPath) as string);
    }
    pathPrefix = prefix;
    namePure = scanPure;
    if (scanClean) return rawPath;
    if (prefix.canon === prefix.raw) return decodeAsciiEscapes(rawPath) as string;
    // the prefix's decoded form, then the file name's (decodeAsciiEscapes resets lastDecodeUsedFallback)
    return prefix.canon + (decodeAsciiEscapes(rawPath.slice(ps + 1)) as string);
  }
  pathPrefix = null;
  return canonicalizeSlow(rawPath, !scanHighBit);
}

/**
 * For evaluate.ts's verdict memo: the cached prefix of `rawPath` (as canonicalizePath would resume after it) when the
 * rest is a plain name — only characters the pass treats as ordinary, dots, not first (no "/." dot segment), and
 * simple escapes that keep the name pure (%20…: not of '+', '%', '.', '/', '\\', NUL or a non-ASCII byte) — and
 * the prefix is usable (canon not null) and nothing in the path is refused (§5.2: URL length, segment length and
 * count); else null. Then canonicalizePath(rawPath) is the prefix's canon + the name (§5.3: nothing to decode or
 * normalize in the name but its simple escapes, plainNameDecoded), its facts are the prefix's plus the name's dots
 * (plainName) and namePure holds: the memo
 * needs no canonicalization pass nor '/' positions. Reads the prefix cache only (a miss is null: the full pass fills
 * it). No other state changes (pathFacts, pathPrefix are not set).
 */
// (plainNamePrefix scans the name backwards itself rather than calling lastIndexOf and scanPlainName, which accept the
// same names: that pair cost the engine 10-20% of its verdicts per second on bench/engine.ts's fixed mix; both paths
// are held to the full evaluation by test/engine/memo.test.ts.)
export function plainNamePrefix(rawPath: string, rawTargetLength: number): PathPrefix | null {
  if (!prefixCacheOn || rawTargetLength > HTTPSYS_MAX_URL || rawPath.charCodeAt(0) !== 47) return null;
  const n = rawPath.length;
  let firstDot = -1;
  let lastDot = -1;
  let escapes = 0;
  let escapesAfterFirstDot = 0;
  let escapesAfterLastDot = 0;
  let i = n - 1;
  // the name, from its end (one table load per character, as scan)
  for (; i > 0; i--) {
    const k = CHAR_CLASS[rawPath.charCodeAt(i)];
    if (k === ORDINARY) continue;
    if (k === DOT) {
      if (lastDot < 0) {
        lastDot = i;
        escapesAfterLastDot = escapes;
      }
      firstDot = i;
      escapesAfterFirstDot = escapes;
      continue;
    }
    if (k === PERCENT) {
      // a simple escape that keeps the name pure (see scan): to an ASCII character other than NUL, '/', '.', '\',
      // '+' and '%'. Its hex digits were passed over as ordinary characters; a '%' among them cannot be: every '%'
      // is followed by two hex digits, as the pass reading forwards requires, or this returns null
      if (!pureEscapeAt(rawPath, i, n)) return null;
      escapes++;
      continue;
    }
    if (k !== SLASH) return null;
    break;
  }
  const ps = i;
  if (ps <= 0 || ps >= MAX_PREFIX_LENGTH || ps === n - 1 || firstDot === ps + 1) return null;
  if (n - ps - 1 > HTTPSYS_MAX_SEGMENT_LENGTH) return null;
  // the second '/' for the set index (as canonicalizePath finds it)
  const first = rawPath.indexOf("/", 1);
  const s2 = first < ps ? rawPath.indexOf("/", first + 1) : -1;
  const p = prefixFind(rawPath, ps, prefixSet(rawPath, ps, s2));
  if (p === null || !takesPlainName(p)) return null;
  plainName.slash = ps;
  plainName.escapes = escapes;
  // with escapes, the dots' indexes in the decoded name (each escape before them is one character)
  const shift = 2 * escapes;
  plainName.firstDot = firstDot < 0 || escapes === 0 ? firstDot : firstDot - shift + 2 * escapesAfterFirstDot;
  plainName.lastDot = lastDot < 0 || escapes === 0 ? lastDot : lastDot - shift + 2 * escapesAfterLastDot;
  return p;
}

/**
 * The prefix raw[0, ps] (ps: the index of a '/', raw[0] = '/') from the prefix cache, scanned and cached first when it
 * is not there, when it is usable for a plain name after it — its canonical form known (canon not null), no segment
 * over http.sys's 260 characters and room for one more segment (§5.2) — else null (as plainNamePrefix would find it:
 * the verdict memo never answers for a name after it). For evaluate.ts's FolderVerdicts, which knows a folder before
 * any of its files is evaluated.
 */
export function folderPrefix(raw: string, ps: number): PathPrefix | null {
  if (!prefixCacheOn || ps <= 0 || ps >= MAX_PREFIX_LENGTH || raw.charCodeAt(0) !== 47) return null;
  // the second '/' for the set index (as canonicalizePath finds it)
  const first = raw.indexOf("/", 1);
  const s2 = first < ps ? raw.indexOf("/", first + 1) : -1;
  const p = prefixOf(raw, ps, s2);
  return p !== null && takesPlainName(p) ? p : null;
}

/**
 * Can a plain name follow the prefix without a pass over the path: its canonical form is known, no segment is over
 * http.sys's 260 characters and there is room for one more segment (§5.2)?
 */
function takesPlainName(p: PathPrefix): boolean {
  return p.canon !== null && p.maxSeg <= HTTPSYS_MAX_SEGMENT_LENGTH && p.segments + 1 <= HTTPSYS_MAX_SEGMENTS;
}

/**
 * Is s[i] ('%') a simple escape that keeps a name pure — two hex digits before `end`, decoding to an ASCII character
 * other than NUL, '/', '.', '\\', '+' and '%' (see scan)? Read by plainNamePrefix and scanPlainName alike.
 */
function pureEscapeAt(s: string, i: number, end: number): boolean {
  if (i + 2 >= end) return false;
  const h1 = s.charCodeAt(i + 1);
  const h2 = s.charCodeAt(i + 2);
  if (!isHex(h1) || !isHex(h2)) return false;
  const b = (hexVal(h1) << 4) | hexVal(h2);
  return !(b === 0 || b >= 0x80 || b === 47 || b === 46 || b === 92 || b === 43 || b === 37);
}

/**
 * Facts of the name scanPlainName accepted last: its simple escapes, its length and first character once decoded,
 * its first and last '.' as indexes in the decoded name (-1: none), the last '.' as an index in the string scanned,
 * and the escapes after that last '.'.
 */
export const nameFacts = {
  escapes: 0,
  length: 0,
  first: 0,
  firstDot: -1,
  lastDot: -1,
  rawLastDot: -1,
  escapesAfterLastDot: 0,
};

/**
 * Is s[from, to) a plain name — only characters the canonicalization pass treats as ordinary, dots, and simple
 * escapes that keep the name pure (%20…: to an ASCII character other than NUL, '/', '.', '\\', '+' and '%'; every
 * '%' followed by two hex digits)? Then canonicalizing a path that ends with it decodes its escapes and nothing else
 * in it (§5.3), and it adds no fact for double escaping (§6.7) or high-bit characters (§6.8). Fills nameFacts.
 */
export function scanPlainName(s: string, from: number, to: number): boolean {
  let escapes = 0;
  let firstDot = -1;
  let lastDot = -1;
  let rawLastDot = -1;
  let escapesAtLastDot = 0;
  for (let i = from; i < to; i++) {
    const k = CHAR_CLASS[s.charCodeAt(i)];
    if (k === ORDINARY) continue;
    if (k === DOT) {
      const d = i - from - 2 * escapes;
      if (firstDot < 0) firstDot = d;
      lastDot = d;
      rawLastDot = i;
      escapesAtLastDot = escapes;
      continue;
    }
    if (k !== PERCENT || !pureEscapeAt(s, i, to)) return false;
    escapes++;
    i += 2;
  }
  const f = nameFacts;
  f.escapes = escapes;
  f.length = to - from - 2 * escapes;
  f.first =
    from < to && s.charCodeAt(from) === 37
      ? (hexVal(s.charCodeAt(from + 1)) << 4) | hexVal(s.charCodeAt(from + 2))
      : s.charCodeAt(from);
  f.firstDot = firstDot;
  f.lastDot = lastDot;
  f.rawLastDot = rawLastDot;
  f.escapesAfterLastDot = escapes - escapesAtLastDot;
  return true;
}

/** s[from, to) decoded, when scanPlainName accepted it (its escapes are simple: decoded as canonicalizePath does). */
export function decodePlainName(s: string, from: number, to: number): string {
  let out = "";
  for (let i = s.indexOf("%", from); i >= 0 && i < to; i = s.indexOf("%", from)) {
    out +=
      s.slice(from, i) +
      String.fromCharCode((hexVal(s.charCodeAt(i + 1)) << 4) | hexVal(s.charCodeAt(i + 2)));
    from = i + 3;
  }
  return out + s.slice(from, to);
}

/**
 * Set by plainNamePrefix: the last '/', the name's escapes (simple ones, see there), and its first and last '.' (-1:
 * none) as indexes in the raw path — without escapes — or in the raw path with the name decoded (plainNameDecoded).
 */
export const plainName = { slash: 0, escapes: 0, firstDot: -1, lastDot: -1 };

/**
 * The name plainNamePrefix accepted, decoded (its escapes are simple: canonicalizePath decodes them the same way,
 * §5.3), when plainName.escapes > 0.
 */
export function plainNameDecoded(rawPath: string): string {
  return decodePlainName(rawPath, plainName.slash + 1, rawPath.length);
}

/**
 * A directory prefix of raw paths (up to and including the last '/'), with the facts the canonicalization pass
 * gathered over it, so the next path that starts with it is scanned from there on only (real DP traffic and
 * `dpdoctor check` evaluate many files under a few `/SMS_DP_SMSPKG$/<content ID>/<folder>/` prefixes).
 * Only prefixes the pass describes exactly are kept usable: no '\\', '//' nor '/.', and either no escape or only
 * simple ones (decoding to ASCII other than '/', '.', '\\') and no raw non-ASCII character; for them
 * canonical(prefix + name) = canonical(prefix) + canonical(name) when the name has no '/' either (§5.3). Others get
 * an entry with canon null (the full pass runs). Entries are immutable, except the engine's facts below, which
 * depend only on the prefix and the compiled configuration they name (filled lazily by evaluate.ts).
 * Invisible: the same path gets the same result and facts with or without the cache (differential tests in
 * test/engine/prefix.test.ts).
 */
export interface PathPrefix {
  /** The raw prefix, ending with '/'. */
  readonly raw: string;
  /** Its canonical form (=== raw when it has no escape); null when the prefix is not reusable. */
  readonly canon: string | null;
  /** Escapes in the prefix × 2 (raw index − decoded index after it). */
  readonly shift: number;
  readonly segments: number;
  readonly maxSeg: number;
  /** Facts of the prefix (as in pathFacts). */
  readonly highBit: boolean;
  readonly plus: boolean;
  readonly percent: boolean;
  readonly firstDot: number;
  readonly lastDot: number;
  /** The prefix's '/' after the first character (canonical positions); the last one is canon.length − 1. */
  readonly slashes: Int32Array;
  readonly slashCount: number;
  /** evaluate.ts: DP classification of the first segment (§10.3), undefined until first asked. */
  dpKind: DpPathKind | undefined;
  /** evaluate.ts: the compiled configuration hiddenClear was computed for (§6.9). */
  hiddenFor: Compiled | null;
  /** evaluate.ts: no segment of the prefix is a hidden segment (any depth, application root ignored). */
  hiddenClear: boolean;
  /** evaluate.ts: the compiled configuration claimsFree was computed for (§5.4). */
  claimsFor: Compiled | null;
  /** evaluate.ts: no segment of the prefix ends with an extension a path-info claimer maps (§5.4). */
  claimsFree: boolean;
  /** evaluate.ts: the configuration and site cfg was looked up for (null: not yet). */
  cfgOf: ServerConfig | null;
  cfgSite: string;
  /** evaluate.ts: the effective configuration of every file in the folder (§8.1), null when one may differ. */
  cfg: EffectiveConfig | null;
  /** evaluate.ts: the compiled configuration `memo` was found for (null: not yet). */
  memoFor: Compiled | null;
  /** evaluate.ts: the verdict memo of the folder's class (see MemoEntry); null: the memo cannot apply here. */
  memo: MemoClass | null;
}

/** The prefix of the path the last canonicalizePath() returned, when that result was built from it; else null. */
export let pathPrefix: PathPrefix | null = null;

/**
 * When pathPrefix is not null: the file name after it (the part of the path the pass scanned after the prefix) has no
 * '+', no '%' once decoded (%2B, %25) and no character above U+007F — the facts of the name for double escaping
 * (§6.7) and high-bit characters (§6.8) are all false, so the path's facts are the prefix's. Its escapes, if any, are
 * simple ones (see scan). Read by evaluate.ts's verdict memo.
 */
export let namePure = false;

/** Longest prefix kept (bounds the cache's memory: 2 × PREFIX_SETS entries of at most this many characters). */
const MAX_PREFIX_LENGTH = 512;
const PREFIX_SETS = 2048;
// two-way set-associative: slot a is the most recently used of a set, b the other
let prefixA: (PathPrefix | undefined)[] = new Array(PREFIX_SETS).fill(undefined);
let prefixB: (PathPrefix | undefined)[] = new Array(PREFIX_SETS).fill(undefined);
let prefixMask = PREFIX_SETS - 1;
let prefixCacheOn = true;

/**
 * Turns the prefix cache on or off and empties it; `sets` (a power of two, default 2048) sizes it (tests use tiny
 * ones to force evictions). For tests and benchmarks comparing the cached path with the full pass; results are the
 * same either way.
 */
export function setPrefixCache(on: boolean, sets = PREFIX_SETS): void {
  const size = 2 ** Math.max(0, Math.min(16, Math.round(Math.log2(sets))));
  prefixCacheOn = on;
  prefixA = new Array(size).fill(undefined);
  prefixB = new Array(size).fill(undefined);
  prefixMask = size - 1;
  pathPrefix = null;
}

/**
 * Set index of the prefix raw[0, ps]: its length, the 2 characters before its last '/' (the folder's name), the
 * position of its second '/' (s2) and the 6 characters before it (the end of a DP content ID), when it has one.
 * Only a hint (few loads: each costs about as much as the pass per character): entries are verified exactly.
 */
function prefixSet(raw: string, ps: number, s2: number): number {
  let h = (ps << 16) ^ (raw.charCodeAt(ps - 1) << 8) ^ raw.charCodeAt(ps - 2);
  if (s2 > 6) {
    h = Math.imul(h ^ s2, 0x9e3779b1);
    h ^=
      (raw.charCodeAt(s2 - 1) << 24) ^
      (raw.charCodeAt(s2 - 2) << 16) ^
      (raw.charCodeAt(s2 - 3) << 8) ^
      raw.charCodeAt(s2 - 4);
    h = Math.imul(h, 0x85ebca6b) ^ (raw.charCodeAt(s2 - 5) << 8) ^ raw.charCodeAt(s2 - 6);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & prefixMask;
}

/**
 * The cached prefix raw[0, ps] (ps: index of the last '/', s2 of the second or -1), scanning and caching it on a
 * miss; null if refused.
 */
function prefixOf(raw: string, ps: number, s2: number): PathPrefix | null {
  const set = prefixSet(raw, ps, s2);
  return prefixFind(raw, ps, set) ?? newPrefix(raw, ps, set);
}

/** The cached prefix raw[0, ps] in its set, else null. */
function prefixFind(raw: string, ps: number, set: number): PathPrefix | null {
  // exact check by string equality (native compare; startsWith is a per-character loop in V8)
  const a = prefixA[set];
  const b = prefixB[set];
  if (a === undefined && b === undefined) return null;
  const key = raw.slice(0, ps + 1);
  if (a !== undefined && a.raw === key) return a;
  if (b !== undefined && b.raw === key) {
    prefixA[set] = b;
    prefixB[set] = a;
    return b;
  }
  return null;
}

/** Miss: one pass over the prefix alone (its facts, then the caller resumes after it); null when it is refused. */
function newPrefix(raw: string, ps: number, set: number): PathPrefix | null {
  if (scan(raw, 1, ps + 1, null) >= 0) return null; // refused inside the prefix: the full pass reports it
  const key = raw.slice(0, ps + 1);
  const usable = scanFactsSet;
  // the fields a memoised verdict reads (evaluate.ts) first: an object's first fields share a cache line
  const e: PathPrefix = {
    raw: key,
    canon: usable ? (scanClean ? key : (decodeAsciiEscapes(key) as string)) : null,
    cfgOf: null,
    cfgSite: "",
    cfg: null,
    memoFor: null,
    memo: null,
    shift: scanShift,
    segments: scanSegments,
    maxSeg: scanMaxSegment,
    highBit: pathFacts.highBit,
    plus: pathFacts.plus,
    percent: pathFacts.percent,
    firstDot: pathFacts.firstDot,
    lastDot: pathFacts.lastDot,
    slashes: usable ? pathSlashes.slice(0, pathFacts.slashCount) : new Int32Array(0),
    slashCount: usable ? pathFacts.slashCount : 0,
    dpKind: undefined,
    hiddenFor: null,
    hiddenClear: false,
    claimsFor: null,
    claimsFree: false,
  };
  prefixB[set] = prefixA[set];
  prefixA[set] = e;
  return e;
}

// Results of the last scan() (module state instead of an object: scan runs once per verdict).
let scanClean = true;
/** The last scan() filled pathFacts: the path is clean, or its only impurity is simple escapes (see scan). */
let scanFactsSet = true;
let scanSegments = 0;
let scanMaxSegment = 0;
let scanHighBit = false;
let scanShift = 0;
/** The last scan() met no '+', no %2B or %25 and no character above U+007F in raw[start, n). */
let scanPure = true;

/**
 * Facts about the path the last successful canonicalizePath() returned (filled in the same pass that validated it,
 * so the engine's checks need no further pass over the string). Valid until the next call; read synchronously.
 */
export const pathFacts = {
  /** A character above U+007F (§6.8). */
  highBit: false,
  /** A '+' (§6.7). */
  plus: false,
  /** A '%' (a possible escape left after the one decode, §6.7). */
  percent: false,
  /** Index of the last '/'. */
  lastSlash: 0,
  /** Index of the first and last '.', -1 when none. */
  firstDot: -1,
  lastDot: -1,
  /** Number of '/' after the first character; their indexes are pathSlashes[0 .. slashCount). */
  slashCount: 0,
};
/** Indexes of the '/' of the last canonical path after its first character, ascending (see pathFacts). */
export const pathSlashes = new Int32Array(HTTPSYS_MAX_URL + 1);

// Character classes of the scan (one table load per character instead of a chain of range compares).
const ORDINARY = 0;
/** Raw space, control character, '#' or DEL: http.sys refuses the request (§5.2). */
const REFUSED = 1;
const PERCENT = 2;
const PLUS = 3;
const DOT = 4;
const SLASH = 5;
const BACKSLASH = 6;
/** Above U+007F (§6.8, §13.23). */
const HIGH_BIT = 7;
const CHAR_CLASS = (() => {
  const t = new Uint8Array(65536);
  for (let c = 0; c <= 32; c++) t[c] = REFUSED;
  t[35] = REFUSED; // '#'
  t[127] = REFUSED;
  t[37] = PERCENT;
  t[43] = PLUS;
  t[46] = DOT;
  t[47] = SLASH;
  t[92] = BACKSLASH;
  t.fill(HIGH_BIT, 128);
  return t;
})();

/**
 * One pass over raw[start, n) of a raw path that starts with '/' (start 1, or the end of a cached prefix `from`,
 * whose facts are the pass's state there): index of the first character http.sys refuses (raw space, control
 * character, raw '#', bad or NUL escape), or -1. Sets scanClean (no '%', '\\', '//' or '/.'), scanSegments,
 * scanMaxSegment and, when it can (scanFactsSet), pathFacts. Positions and lengths are counted in the decoded path
 * (each escape is one character): when the path has no '\\', '//', '/.' nor raw non-ASCII character and every escape
 * decodes to an ASCII character other than '/', '.' and '\\' ("simple" escapes: %20, %2B…), decoding it once gives
 * the canonical path (§5.3) and these facts are its facts (differential test in test/engine/fastpath.test.ts).
 */
function scan(raw: string, start: number, n: number, from: PathPrefix | null): number {
  let normal = true; // no '\\', '//' or '/.'
  let simple = true; // every escape decodes to an ASCII character other than '/', '.', '\\'
  let segStart = start; // raw index
  let shift = 0; // raw index − decoded index (2 per escape so far)
  let escapes = false;
  let highBit = false;
  let segments = 0;
  let maxSeg = 0;
  let plus = false;
  let percent = false;
  let firstDot = -1;
  let lastDot = -1;
  let slashes = 0;
  let pure = true; // no '+', '%2B', '%25' nor non-ASCII character in raw[start, n)
  if (from !== null) {
    // resume after a cached prefix (raw[0, start) = from.raw): its facts are the state of the pass at `start`
    shift = from.shift;
    escapes = shift > 0;
    highBit = from.highBit;
    segments = from.segments;
    maxSeg = from.maxSeg;
    plus = from.plus;
    percent = from.percent;
    firstDot = from.firstDot;
    lastDot = from.lastDot;
    slashes = from.slashCount;
  }
  let segStartD = start - shift; // decoded index of the current segment's start
  for (let i = start; i < n; i++) {
    const k = CHAR_CLASS[raw.charCodeAt(i)];
    if (k === ORDINARY) continue;
    if (k === SLASH) {
      const d = i - shift;
      if (d - segStartD > maxSeg) maxSeg = d - segStartD;
      if (i > segStart) segments++;
      else normal = false; // "//"
      segStart = i + 1;
      segStartD = d + 1;
      pathSlashes[slashes++] = d;
      continue;
    }
    if (k === DOT) {
      if (firstDot < 0) firstDot = i - shift;
      lastDot = i - shift;
      if (raw.charCodeAt(i - 1) === 47) normal = false; // "/." (maybe a dot segment)
      continue;
    }
    if (k === REFUSED) return i;
    if (k === PLUS) {
      plus = true;
      pure = false;
    } else if (k === HIGH_BIT) {
      highBit = true;
      pure = false;
    } else if (k === BACKSLASH) normal = false;
    else {
      // PERCENT
      escapes = true;
      if (i + 2 >= n || !isHex(raw.charCodeAt(i + 1)) || !isHex(raw.charCodeAt(i + 2))) return i;
      const b = (hexVal(raw.charCodeAt(i + 1)) << 4) | hexVal(raw.charCodeAt(i + 2));
      if (b === 0) return i;
      if (b === 47 || b === 46 || b === 92 || b >= 0x80) simple = false;
      else if (b === 43) {
        plus = true;
        pure = false;
      } else if (b === 37) {
        percent = true;
        pure = false;
      }
      i += 2;
      shift += 2;
    }
  }
  const end = n - shift;
  if (end - segStartD > maxSeg) maxSeg = end - segStartD;
  if (n > segStart) segments++;
  const clean = normal && !escapes;
  const factsSet = clean || (normal && simple && !highBit);
  scanClean = clean;
  scanFactsSet = factsSet;
  scanSegments = segments;
  scanMaxSegment = maxSeg;
  scanHighBit = highBit;
  scanShift = shift;
  scanPure = pure;
  if (factsSet) {
    pathFacts.highBit = highBit;
    pathFacts.plus = plus;
    pathFacts.percent = percent;
    pathFacts.lastSlash = segStartD - 1;
    pathFacts.firstDot = firstDot;
    pathFacts.lastDot = lastDot;
    pathFacts.slashCount = slashes;
  }
  return -1;
}

function refuseChar(raw: string, i: number): Reason {
  const c = raw.charCodeAt(i);
  if (c === 32)
    return httpSys(
      400,
      "httpsys.invalidCharacter",
      `Raw space at column ${i + 1} of the path (must be sent as %20)`,
    );
  if (c === 35)
    return httpSys(
      400,
      "httpsys.invalidCharacter",
      `Raw '#' at column ${i + 1} of the path (must be sent as %23)`,
    );
  if (c === 37) {
    if (raw.charCodeAt(i + 1) === 48 && raw.charCodeAt(i + 2) === 48)
      return httpSys(400, "httpsys.invalidCharacter", `%00 (NUL) at column ${i + 1} of the path`);
    return httpSys(
      400,
      "httpsys.badEscape",
      `'%' at column ${i + 1} is not followed by two hex digits (http.sys never accepts a bare '%')`,
    );
  }
  return httpSys(
    400,
    "httpsys.invalidCharacter",
    `Control character 0x${c.toString(16).padStart(2, "0")} at column ${i + 1} of the path`,
  );
}

function segmentTooLong(len: number): Reason {
  return {
    ...httpSys(
      400,
      "httpsys.segmentTooLong",
      `A path segment is ${len} characters; http.sys refuses more than ${HTTPSYS_MAX_SEGMENT_LENGTH} (UrlSegmentMaxLength)`,
    ),
    inferred: "§13.10 segment length counted in decoded characters",
  };
}
function tooManySegments(count: number): Reason {
  return httpSys(
    400,
    "httpsys.tooManySegments",
    `The path has ${count} segments; http.sys refuses more than ${HTTPSYS_MAX_SEGMENTS} (UrlSegmentMaxCount)`,
  );
}

function canonicalizeSlow(rawPath: string, asciiRaw: boolean): string | Reason {
  const decoded = (asciiRaw && decodeAsciiEscapes(rawPath)) || decodeOnce(rawPath);
  // a decoded path without '\\', '//' or '/.' is already normal (normalizePath would rebuild the same string)
  const normal =
    decoded.indexOf("/.") < 0 && decoded.indexOf("//") < 0 && decoded.indexOf("\\") < 0
      ? decoded
      : normalizePath(decoded);
  if (normal === null)
    return httpSys(
      403,
      "httpsys.aboveRoot",
      "'..' segments climb above the site root (http.sys: Forbidden URL)",
    );
  // segment limits on the canonical path (§5.2, §13.10), and pathFacts, in one pass
  let segments = 0;
  let segLen = 0;
  let maxSeg = 0;
  let highBit = false;
  let plus = false;
  let percent = false;
  let lastSlash = 0;
  let firstDot = -1;
  let lastDot = -1;
  let slashes = 0;
  const n = normal.length;
  for (let i = 1; i <= n; i++) {
    const c = i === n ? 47 : normal.charCodeAt(i);
    if (c === 47) {
      if (segLen > 0) segments++;
      if (segLen > maxSeg) maxSeg = segLen;
      segLen = 0;
      if (i < n) {
        lastSlash = i;
        pathSlashes[slashes++] = i;
      }
      continue;
    }
    segLen++;
    if (c === 46) {
      if (firstDot < 0) firstDot = i;
      lastDot = i;
    } else if (c === 43) plus = true;
    else if (c === 37) percent = true;
    else if (c > 127) highBit = true;
  }
  if (maxSeg > HTTPSYS_MAX_SEGMENT_LENGTH) return segmentTooLong(maxSeg);
  if (segments > HTTPSYS_MAX_SEGMENTS) return tooManySegments(segments);
  pathFacts.highBit = highBit;
  pathFacts.plus = plus;
  pathFacts.percent = percent;
  pathFacts.lastSlash = lastSlash;
  pathFacts.firstDot = firstDot;
  pathFacts.lastDot = lastDot;
  pathFacts.slashCount = slashes;
  return normal;
}

/**
 * decodeOnce for a path with no raw non-ASCII character whose escapes all decode to ASCII bytes (the common case:
 * %20, %2B…): slices and single characters, no byte buffer. null when an escape decodes to a byte ≥ 0x80.
 */
function decodeAsciiEscapes(s: string): string | null {
  lastDecodeUsedFallback = false;
  let out = "";
  let from = 0;
  let i = s.indexOf("%");
  while (i >= 0) {
    if (i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      const b = (hexVal(s.charCodeAt(i + 1)) << 4) | hexVal(s.charCodeAt(i + 2));
      if (b >= 0x80) return null;
      out += s.slice(from, i) + String.fromCharCode(b);
      from = i + 3;
      i = s.indexOf("%", from);
    } else i = s.indexOf("%", i + 1);
  }
  return from === 0 ? s : out + s.slice(from);
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

let scratch = new Uint8Array(4096);

/** Set by decodeOnce when the escaped bytes were not valid UTF-8 and the Latin-1 fallback was used [INF]. */
export let lastDecodeUsedFallback = false;

/**
 * Decodes every valid `%XX` escape once (§5.3); other characters are kept. Decoded bytes are read as UTF-8, or as
 * Latin-1 for the whole string when they are not valid UTF-8 (see the module comment) [INF].
 */
export function decodeOnce(s: string): string {
  lastDecodeUsedFallback = false;
  if (s.indexOf("%") < 0) return s;
  if (s.length * 4 > scratch.length) scratch = new Uint8Array(s.length * 4);
  const bytes = scratch; // reused: decoding is synchronous and the bytes are copied into the result string
  let len = 0;
  let nonAscii = false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      const b = (hexVal(s.charCodeAt(i + 1)) << 4) | hexVal(s.charCodeAt(i + 2));
      if (b >= 0x80) nonAscii = true;
      bytes[len++] = b;
      i += 2;
    } else if (c < 0x80) bytes[len++] = c;
    else {
      nonAscii = true;
      // raw non-ASCII character: encode as UTF-8 (lone surrogates become U+FFFD's bytes)
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x800) {
        bytes[len++] = 0xc0 | (c >> 6);
        bytes[len++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        bytes[len++] = 0xe0 | (c >> 12);
        bytes[len++] = 0x80 | ((c >> 6) & 63);
        bytes[len++] = 0x80 | (c & 63);
      } else {
        bytes[len++] = 0xf0 | (c >> 18);
        bytes[len++] = 0x80 | ((c >> 12) & 63);
        bytes[len++] = 0x80 | ((c >> 6) & 63);
        bytes[len++] = 0x80 | (c & 63);
      }
    }
  }
  const view = bytes.subarray(0, len);
  if (!nonAscii) return latin1(view);
  try {
    return utf8Fatal.decode(view);
  } catch {
    lastDecodeUsedFallback = true;
    return latin1(view); // [INF] code-page fallback, see module comment
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

/** Does `s` contain a valid `%XX` escape, i.e. would decoding it again change it? (§6.7 double escaping) */
export function hasValidEscape(s: string): boolean {
  let i = s.indexOf("%");
  while (i >= 0 && i + 2 < s.length) {
    if (isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) return true;
    i = s.indexOf("%", i + 1);
  }
  return false;
}

/**
 * Path normalization of §5.3 on an already-decoded path: `\` → `/`, `//` collapses, `.` segments disappear, `..`
 * segments are resolved; case and a trailing `/` are kept. Returns null when `..` climbs above the root.
 * Idempotent: normalizePath(normalizePath(p)) === normalizePath(p).
 */
export function normalizePath(p: string): string | null {
  const out: string[] = [];
  let trailing = false;
  let i = 0;
  const n = p.length;
  while (i <= n) {
    let j = i;
    while (j < n) {
      const c = p.charCodeAt(j);
      if (c === 47 || c === 92) break;
      j++;
    }
    const seg = p.slice(i, j);
    const last = j >= n;
    if (seg === "" || seg === ".") {
      if (last) trailing = out.length > 0;
    } else if (seg === "..") {
      if (out.length === 0) return null;
      out.pop();
      if (last) trailing = out.length > 0;
    } else {
      out.push(seg);
      if (last) trailing = false;
    }
    i = j + 1;
  }
  if (out.length === 0) return "/";
  return `/${out.join("/")}${trailing ? "/" : ""}`;
}

/** Decodes valid `%XX` escapes of a query string once, for the second scan pass (§6.12, unescapeQueryString). */
export function unescapeQuery(q: string): string {
  return decodeOnce(q);
}

/** UTF-8 byte length (maxUrl §6.3 / §13.9, maxQueryString §6.4, headerLimits §6.5). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Re-escapes a canonical path for the wire (UTF-8 escapes for everything but unreserved characters and `/`). */
export function encodePathForWire(p: string): string {
  let out = "";
  for (const ch of p) {
    if (/^[A-Za-z0-9\-._~!$&'()*,;=:@/]$/.test(ch)) out += ch;
    else out += encodeURIComponent(ch === "\ud800" ? "\ufffd" : ch).replace(/!/g, "%21");
  }
  return out;
}
