/**
 * The decision engine: `evaluate(request, server) → Verdict`. Pure, no I/O, never throws.
 * Spec: ../shared/spec/iis-request-filtering.md §1 (layers), §5 (canonicalization, script path), §6 (checks),
 * §7 (order), §9 (handlers and the static file handler), §10.3 (ConfigMgr content handler), §11 (algorithm), §13.
 *
 * Layers, in order: http.sys (§5.2) → configuration errors (500.19, §8.3) → request filtering (§6, every check, in
 * the §7 table order, all triggered reasons kept) → handler selection and the static file handler (§9).
 */
import { effectiveForFolder } from "../config/load.js";
import type { EffectiveConfig, RequestFilteringConfig, SourceRef } from "../config/types.js";
import * as canonical from "./canonical.js";
import {
  canonicalizePath,
  hasValidEscape,
  type PathPrefix,
  pathFacts,
  pathSlashes,
  splitTarget,
  unescapeQuery,
  utf8Length,
} from "./canonical.js";
import {
  type Compiled,
  type CompiledHandler,
  candidatesFor,
  compile,
  couldServe,
  type ExtRecord,
  extRecordFor,
  hiddenKey,
  hiddenKeyOf,
  isStaticContentSection,
  mayBeKey,
  patternMatches,
} from "./compiled.js";
import {
  classifyDpPath,
  DP_CONTENT_NOTE,
  DP_SCCM_FORM_NOTE,
  DP_STATIC_2007_NOTE,
  DP_STATIC_2007_NOTES,
  type DpPathKind,
} from "./dp.js";
import type { HttpRequest, Layer, Reason, Server, Verdict } from "./types.js";

/** WebDAV verbs (§6.14, §13.15 [INF]: a request is WebDAV when it uses one, or GET/HEAD with `Translate: f`). */
const WEBDAV_VERBS = new Set([
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "PUT",
  "COPY",
  "DELETE",
  "MOVE",
  "LOCK",
  "UNLOCK",
]);
/** Verbs the static file handler answers (§9.2: others → 405). */
const STATIC_VERBS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const NO_REASONS: Reason[] = Object.freeze([]) as unknown as Reason[];
const ORDER_NOTE =
  "several request-filtering checks fired: IIS logs only one substatus; the primary one follows the inferred order of spec §7 (only 'hidden segment before file extension' is observed)";

/**
 * The verdict of one request. Pure: the same request and server give the same verdict whatever was evaluated before
 * (the caches below — compiled configurations, directory prefixes of paths, the verdict memo — are invisible:
 * differential tests in test/engine/prefix.test.ts and memo.test.ts). Never throws. The verdict is read-only (its arrays
 * and reasons may be shared, see Verdict).
 */
export function evaluate(req: HttpRequest, server: Server): Verdict {
  try {
    return evaluateRequest(req, server);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      status: 500,
      substatus: 0,
      layer: "config",
      reasons: [
        {
          status: 500,
          substatus: 0,
          check: "engine.internal",
          message: `Dpdoctor could not evaluate this request (internal error: ${message}); this verdict is not a prediction`,
          source: null,
        },
      ],
      orderInferred: false,
      notes: ["internal error in dpdoctor's engine: please report it with the request and the configuration"],
    };
  }
}

/**
 * Did the last evaluateRequest consult a rule that treats GET and HEAD differently (verbs §6.6, a handler mapping
 * listing one of them §9.1)? true until the configuration layer is passed.
 */
let methodMatters = true;

/**
 * Verdicts of one request under several methods, in order (e.g. HEAD then GET, as BITS sends them), stopping after
 * the first verdict for which `until` holds. Shares the work across methods: when the configuration treats GET and
 * HEAD alike for this request (no verbs rule nor handler mapping it met tells them apart) a verdict below 400 — whose messages never name the method — is the verdict of
 * the other method too, and is returned again instead of being recomputed. Otherwise each method is evaluated.
 * Same result as calling evaluate() per method (differential test in test/engine/fastpath.test.ts).
 */
export function evaluateMethods(
  req: HttpRequest,
  methods: readonly string[],
  server: Server,
  until?: (v: Verdict) => boolean,
): Verdict[] {
  const out: Verdict[] = [];
  let shareable: Verdict | null = null;
  for (const method of methods) {
    let v: Verdict;
    if (shareable !== null && (method === "GET" || method === "HEAD")) v = shareable;
    else {
      v = evaluate(method === req.method ? req : { ...req, method }, server);
      shareable = v.status < 400 && (method === "GET" || method === "HEAD") && !methodMatters ? v : null;
    }
    out.push(v);
    if (until?.(v)) break;
  }
  return out;
}

/**
 * A refusal by the handler layer (§9, §10.3): built field by field (an object spread of the extras cost more than
 * the rest of a static file verdict), with the same keys in the same order as refused(reason, "handler",
 * { canonicalPath, handler, notes }) — notes present even when undefined.
 */
function handlerRefusal(
  reason: Reason,
  canonicalPath: string,
  handler: string,
  notes: string[] | undefined,
): Verdict {
  return {
    status: reason.status,
    substatus: reason.substatus,
    layer: "handler",
    reasons: [reason],
    orderInferred: false,
    canonicalPath,
    handler,
    notes,
  };
}

/** The reason with `inferred` set last when there is one (no key otherwise), without an object spread. */
function inferredIf(reason: Reason, inferred: string | undefined): Reason {
  if (inferred !== undefined) reason.inferred = inferred;
  return reason;
}

function refused(reason: Reason, layer: Layer, extra?: Partial<Verdict>): Verdict {
  return {
    status: reason.status,
    substatus: reason.substatus,
    layer,
    reasons: [reason],
    orderInferred: false,
    ...extra,
  };
}

/** The last method that passed isToken (methods repeat: skip the re-check). */
let lastValidMethod = "GET";

function isToken(method: string): boolean {
  if (method.length === 0) return false;
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    // RFC 9110 tchar
    if (
      !(
        (c >= 48 && c <= 57) ||
        (c >= 65 && c <= 90) ||
        (c >= 97 && c <= 122) ||
        (c > 32 && c < 127 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)))
      )
    )
      return false;
  }
  return true;
}

function firstControlOrSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127) return i;
  }
  return -1;
}

/** Case-insensitive header lookup (§6.5: header names compare case-insensitively [INF]). */
function header(headers: Record<string, string> | undefined, lowerName: string): string | undefined {
  if (!headers) return undefined;
  for (const k in headers) {
    if (k.length === lowerName.length && k.toLowerCase() === lowerName) {
      const v = headers[k];
      return typeof v === "string" ? v : v == null ? undefined : String(v);
    }
  }
  return undefined;
}

function where(source: SourceRef | null): string {
  return source?.text ? ` by ${source.text}` : "";
}

function evaluateRequest(req: HttpRequest, server: Server): Verdict {
  methodMatters = true;
  const target = typeof req.target === "string" ? req.target : String(req.target ?? "");
  const method = typeof req.method === "string" ? req.method : String(req.method ?? "");
  let rawPath = target;
  let query: string | undefined;
  if (target.charCodeAt(0) === 47) {
    // origin-form "/path?query": split without allocating a result object (§5.1)
    const q = target.indexOf("?");
    if (q >= 0) {
      rawPath = target.slice(0, q);
      query = target.slice(q + 1);
    }
  } else ({ rawPath, query } = splitTarget(target));

  // L0 http.sys (§5.2)
  if (method !== lastValidMethod && method !== "GET" && method !== "HEAD" && !isToken(method))
    return refused(
      {
        status: 400,
        substatus: 0,
        check: "httpsys.badTarget",
        message: `Method ${JSON.stringify(method)} is not a valid HTTP token (http.sys: bad request)`,
        source: null,
      },
      "httpsys",
    );
  lastValidMethod = method;
  // a plain name in a folder whose memo holds its verdict (see MemoEntry): no canonicalization pass
  if (
    verdictMemo &&
    (method === "GET" || method === "HEAD") &&
    req.headers === undefined &&
    req.isWebDav === undefined
  ) {
    const v = memoHit(req, method, rawPath, query, target.length, server);
    if (v !== null) return v;
  }
  const canon = canonicalizePath(rawPath, target.length);
  if (typeof canon !== "string") return refused(canon, "httpsys");
  // facts of canon gathered by the canonicalization pass (no further pass over the path)
  const highBit = pathFacts.highBit;
  const plus = pathFacts.plus;
  const percent = pathFacts.percent;
  const lastSlash = pathFacts.lastSlash;
  const firstDot = pathFacts.firstDot;
  const lastDot = pathFacts.lastDot;
  const slashCount = pathFacts.slashCount;
  // canon = the canonical form of a cached directory prefix + the file name, when the pass resumed after one
  const prefix = canonical.pathPrefix;
  if (query !== undefined) {
    // the query is opaque to http.sys (§5.1), but a raw space or control character breaks the request line
    const bad = firstControlOrSpace(query);
    if (bad >= 0)
      return refused(
        {
          status: 400,
          substatus: 0,
          check: "httpsys.invalidCharacter",
          message: `Raw ${query.charCodeAt(bad) === 32 ? "space" : "control character"} at position ${bad + 1} of the query string (must be escaped)`,
          source: null,
        },
        "httpsys",
      );
  }

  // L1 configuration (§8.3, §8.4): errors of sections every request reads → 500.19
  const cfg =
    prefix !== null
      ? folderEffective(prefix, server, canon)
      : server.config.effective(server.siteName, canon);
  if (cfg.errors.length > 0) {
    // consumption-scoped (§8.4): staticContent errors hit only requests reaching StaticFile; requestFiltering errors
    // only matter when RequestFilteringModule (its only reader) is loaded [INF]
    const blocking = cfg.errors.filter(
      (e) =>
        !isStaticContentSection(e.section) &&
        (cfg.requestFilteringModuleLoaded || !e.section.toLowerCase().endsWith("requestfiltering")),
    );
    if (blocking.length > 0) return configVerdict(blocking, canon);
  }
  const c = compile(cfg);
  // a plain file name in a folder whose verdicts are memoised (see MemoEntry): the verdict of its extension
  let memo: MemoClass | null = null;
  let slot = -1;
  let extAt = 0;
  if (
    prefix !== null &&
    verdictMemo &&
    canonical.namePure &&
    cfg === prefix.cfg &&
    (method === "GET" || method === "HEAD") &&
    req.headers === undefined &&
    req.isWebDav === undefined
  ) {
    memo = prefix.memoFor === c ? prefix.memo : memoClassOf(prefix, c, cfg);
    if (memo !== null) {
      const nameDot = lastDot > lastSlash ? lastDot : -1;
      slot = memoSlot(
        canon,
        lastSlash + 1,
        canon.length,
        query,
        method,
        req.file,
        cfg,
        c,
        highBit,
        firstDot > lastSlash ? firstDot : -1,
        nameDot,
      );
      if (slot >= 0) {
        extAt = nameDot >= 0 ? nameDot : canon.length;
        const at = memoFind(memo.cells, canon, extAt, slot);
        if (at >= 0) {
          const m = memo.cells[at + 2] as MemoEntry | null;
          if (m !== null) {
            methodMatters = m.methodMatters;
            return memoVerdict(m, canon);
          }
          slot = -1; // this slot's verdict depends on more than the extension: evaluated every time
        }
      }
    }
  }
  const v = decide(
    req,
    method,
    canon,
    rawPath,
    query,
    cfg,
    c,
    prefix,
    highBit,
    plus,
    percent,
    lastSlash,
    firstDot,
    lastDot,
    slashCount,
  );
  if (slot >= 0)
    memoStore(
      memo as MemoClass,
      canon,
      extAt,
      slot,
      memoEntry(v, canon, method, (prefix as PathPrefix).dpKind, c),
    );
  return v;
}

/** evaluateRequest once the request is past http.sys and its configuration (L1) is known: the rest of the layers. */
function decide(
  req: HttpRequest,
  method: string,
  canon: string,
  rawPath: string,
  query: string | undefined,
  cfg: EffectiveConfig,
  c: Compiled,
  prefix: PathPrefix | null,
  /** Facts of canon from the canonicalization pass (canonical.pathFacts). */
  highBit: boolean,
  plus: boolean,
  percent: boolean,
  lastSlash: number,
  firstDot: number,
  lastDot: number,
  slashCount: number,
): Verdict {
  methodMatters = c.verbsHeadGetDiffer;
  const headers = req.headers;
  const isWebDav =
    typeof req.isWebDav === "boolean"
      ? req.isWebDav
      : method === "GET" || method === "HEAD"
        ? headers !== undefined && header(headers, "translate")?.trim().toLowerCase() === "f"
        : WEBDAV_VERBS.has(method);

  // §5.4: a "*.ext" mapping (resourceType Unspecified) claiming a non-final segment splits off path info
  const scriptEnd =
    firstDot < 0 || firstDot > lastSlash || c.pathInfoClaimers.size === 0
      ? canon.length
      : prefix !== null && prefixClaimsFree(prefix, c)
        ? canon.length // every non-final segment is the prefix's: none is claimed
        : scriptPathEnd(canon, method, c, highBit, firstDot, slashCount);
  const scriptPath = scriptEnd === canon.length ? canon : canon.slice(0, scriptEnd);
  let notes: string[] | undefined;
  if (canon !== rawPath && canonical.lastDecodeUsedFallback)
    notes = [
      "The escaped bytes of the path are not valid UTF-8: decoded byte by byte (Latin-1), approximating http.sys's code-page fallback; IIS most likely answers 404.0 (no such file) (spec §5.3, inferred)",
    ];
  if (scriptEnd !== canon.length)
    (notes ??= []).push(
      `handler mapping claims ${scriptPath}: the rest (${canon.slice(scriptEnd)}) is path info, which request filtering does not check (spec §5.4, §13.5 inferred)`,
    );

  // L2 request filtering (§6, §7)
  if (cfg.requestFilteringModuleLoaded) {
    const whole = scriptEnd === canon.length;
    // one scratch object (evaluate is synchronous and not re-entered): no allocation per verdict
    const rfInput = rfScratch;
    rfInput.method = method;
    rfInput.canon = canon;
    rfInput.scriptPath = scriptPath;
    rfInput.rawPath = rawPath;
    rfInput.query = query;
    rfInput.headers = headers;
    rfInput.isWebDav = isWebDav;
    rfInput.applicationPath = cfg.applicationPath;
    rfInput.notes = notes;
    rfInput.highBit = highBit;
    rfInput.plus = plus;
    rfInput.percent = percent;
    rfInput.lastSlash = whole ? lastSlash : -1;
    rfInput.lastDot = whole ? lastDot : -1;
    rfInput.slashCount = whole ? slashCount : -1;
    rfInput.prefix = whole ? prefix : null;
    const reasons = requestFiltering(cfg.requestFiltering, c, rfInput);
    notes = rfInput.notes;
    rfInput.headers = undefined; // keep no reference to the caller's objects
    rfInput.notes = undefined;
    if (reasons.length > 0) {
      const orderInferred = reasons.length > 1;
      if (orderInferred) (notes ??= []).push(ORDER_NOTE);
      return {
        status: reasons[0].status,
        substatus: reasons[0].substatus,
        layer: "request-filtering",
        reasons,
        orderInferred,
        canonicalPath: canon,
        notes,
      };
    }
  } else
    (notes ??= []).push(
      "RequestFilteringModule is not loaded for this URL: no request-filtering check applies (spec §1)",
    );

  // L5/L6 handler and static file (§9), ConfigMgr content (§10.3)
  return handlerLayer(
    req,
    method,
    canon,
    scriptPath,
    query,
    cfg,
    c,
    notes,
    scriptEnd === canon.length ? lastSlash : -1,
    scriptEnd === canon.length && !highBit ? lastDot : -2,
    prefix,
  );
}

/**
 * The effective configuration of `canon` (= the prefix + a file name): the one kept on the prefix when no location,
 * web.config, application or virtual directory applies below its folder (§8.1; looked up once per prefix and
 * (configuration, site)), else the per-path lookup.
 */
function folderEffective(p: PathPrefix, server: Server, canon: string): EffectiveConfig {
  const config = server.config;
  const site = server.siteName;
  if (p.cfgOf !== config || p.cfgSite !== site) {
    p.cfg = effectiveForFolder(config, site, p.canon as string);
    p.cfgOf = config;
    p.cfgSite = site;
  }
  return p.cfg ?? config.effective(site, canon);
}

// ---------------------------------------------------------------------------------------------------------------
// The verdict memo

/**
 * The verdict memo. Real traffic and `dpdoctor check` ask about many files under few folders, and once a folder's
 * facts are known (a cached directory prefix, canonical.ts PathPrefix) the verdict of a "plain" file name in it
 * depends on the name only through its extension as spelled — every plain name with that extension gets the same
 * verdict but for its canonicalPath — and on the folder only through its compiled configuration, its DP URL class
 * (§10.3) and the refusals its own segments give (double escaping §6.7, high-bit characters §6.8, hidden segments
 * §6.9): the folder's memo class (memoClassOf), shared by every folder alike. So the verdict is kept per (memo class,
 * extension as spelled, slot) — the slot (memoSlot) holding the method (GET or HEAD), whether there is a query and
 * whether the path is the sccm? form, whether the name has several dots, and what the request says of the file — and
 * a later plain name gets a copy with its own canonicalPath (memoVerdict), byte for byte what the full evaluation
 * builds (differential property test in test/engine/memo.test.ts). The memo applies only when every check that could
 * read more of the name than its extension is known not to:
 * - the request: GET or HEAD, no headers (maxAllowedContentLength §6.2, headerLimits §6.5, filteringRules §6.13,
 *   Translate: f §6.14), isWebDav not given (§6.14, §13.15 inferred), not a folder (§9.2);
 * - the path: the canonical path is a cached prefix + the name (§5.3; no decode fallback note then), and the name has
 *   no '+', no '%' once decoded and no non-ASCII character (canonical.namePure: double escaping §6.7, high-bit
 *   characters §6.8 — the path's facts are the prefix's, and an escape the prefix holds is complete in it as the prefix
 *   ends with '/'), so its other simple escapes (%20…) are decoded in canonicalPath only;
 * - the folder (memoClassOf): one effective configuration for every name in it (§8.1: no location, web.config,
 *   application or virtual directory below it, load.ts effectiveForFolder — an application at a name's own path would
 *   move the root hidden segments are looked for below, §13.4 inferred), no denyUrlSequences (§6.11) or
 *   filteringRules (§6.13) that may match across the name, no alwaysAllowedUrls (§6.1, §13.6: exact URLs), no
 *   alwaysAllowedQueryStrings or denyQueryStringSequences (§6.12, §13.7: the sccm? form's query holds the file's
 *   path), and no path-info claimer on a prefix segment (§5.4: its note quotes the rest of the path);
 * - the name and its lengths (memoSlot): see there;
 * - what the verdict turned out to be (memoEntry): see there.
 * Bounded (MEMO_MAX_CELLS per class, MEMO_MAX_CLASSES per compiled configuration) and invisible but for speed:
 * setVerdictMemo(false) turns it off.
 */
export interface MemoEntry {
  /** Which verdict literal memoVerdict builds (the keys, in order, of the verdict it was made from). */
  shape: number;
  status: number;
  substatus: number;
  layer: Layer;
  /** Frozen (shared by every verdict built from the entry, as the shared note arrays are, see Verdict). */
  reasons: Reason[];
  orderInferred: boolean;
  handler: string | undefined;
  notes: string[] | undefined;
  /** methodMatters after the evaluation (evaluateMethods reads it). */
  methodMatters: boolean;
  /** A number no other entry of this process has (callers counting files by entry use it as a key). */
  id: number;
}

let nextEntryId = 1;

/**
 * The memo of a class of folders: an open-addressed table of cells [extension, slot, entry] (capacity a power of two,
 * at most 3/4 full). The extension is as spelled from the name's last dot, "" for a name without one; entry null: the
 * slot's verdict depends on more than the extension. One table shared by many folders stays in the CPU caches: a
 * table per folder (or a Map and an array per extension) cost more in cache misses than the memo saved on the
 * realistic mix in traffic order (bench/engine.ts).
 */
export interface MemoClass {
  cells: MemoCell[];
  count: number;
}
export type MemoCell = string | number | MemoEntry | null | undefined;

const MEMO_MIN_CELLS = 64;
const MEMO_MAX_CELLS = 4096;
const MEMO_MAX_CLASSES = 256;
const SHAPE_PASS = 0; // pass() without notes
const SHAPE_HANDLER = 1; // handlerRefusal(), pass() with notes
const SHAPE_FILTERED = 2; // a request-filtering refusal
const PASS_KEYS = "status,substatus,layer,reasons,orderInferred,canonicalPath,handler";
const HANDLER_KEYS = `${PASS_KEYS},notes`;
const FILTERED_KEYS = "status,substatus,layer,reasons,orderInferred,canonicalPath,notes";

let verdictMemo = true;

/**
 * For tests and benchmarks (test/engine/memo.test.ts): false evaluates every request in full instead of taking a
 * plain file name's verdict from the memo of its folder's class (see MemoEntry). Same verdicts either way.
 */
export function setVerdictMemo(on: boolean): void {
  verdictMemo = on;
}

/** Memo classes by compiled configuration and key (memoClassOf). */
const memoClasses = new WeakMap<Compiled, Map<string, MemoClass>>();
/** Identities of the configuration objects (reason sources) in memo class keys. */
const sourceIds = new WeakMap<object, number>();
let nextSourceId = 1;

/**
 * The memo class of a folder (prefix p, compiled configuration c of every name in it, §8.1), kept on the prefix; null
 * when the configuration or the folder rules the memo out. Folders share a class when a plain name in them gets the
 * same verdict: same DP URL class (§10.3) and same refusals from the folder's own segments — double escaping (§6.7)
 * and high-bit characters (§6.8) from the prefix's facts (a plain name adds no '+', '%' nor non-ASCII character) and
 * hidden segments (§6.9, below the application root §13.4; a plain name is not a hidden segment) — as the full
 * evaluation computes them (the same functions).
 */
function memoClassOf(p: PathPrefix, c: Compiled, cfg: EffectiveConfig): MemoClass | null {
  p.memoFor = c;
  p.memo = null;
  const usable =
    c.denyUrlSequences.length === 0 && // §6.11: a denied sequence may span the prefix and the name
    cfg.requestFiltering.filteringRules.length === 0 && // §6.13: rules scan the URL and query, apply by extension
    c.alwaysAllowedUrls.size === 0 && // §6.1, §13.6: an exact URL skips the URL checks
    c.alwaysAllowedUrlsNoSlash.size === 0 && // its note when the URL is written without '/'
    c.alwaysAllowedQueryStrings.size === 0 && // §6.12, §13.7: the query (the sccm? form's file path) decides
    c.denyQueryStringSequences.length === 0 &&
    // §5.4: a claimed prefix segment splits off path info, quoted in a note; a name is never claimed (last segment)
    (p.firstDot < 0 || c.pathInfoClaimers.size === 0 || prefixClaimsFree(p, c));
  if (!usable) return null;
  const rf = cfg.requestFiltering;
  const canon = p.canon as string;
  let key: string = (p.dpKind ??= classifyDpPath(canon));
  for (const r of [
    doubleEscaping(rf, canon, p.plus, p.percent),
    highBitCharacters(rf, canon, p.highBit),
    rf.hiddenSegments.items.length > 0 ? hiddenSegment(rf, c, canon, cfg.applicationPath, -1, 1, 0) : null,
  ]) {
    key += "|";
    if (r === null) continue;
    let id = 0;
    if (r.source !== null) {
      id = sourceIds.get(r.source) ?? 0;
      if (id === 0) sourceIds.set(r.source, (id = nextSourceId++));
    }
    key += `${id} ${JSON.stringify(r)}`;
  }
  let classes = memoClasses.get(c);
  if (classes === undefined) memoClasses.set(c, (classes = new Map()));
  let m = classes.get(key);
  if (m === undefined) {
    if (classes.size >= MEMO_MAX_CLASSES) classes.clear();
    m = { cells: new Array(MEMO_MIN_CELLS * 3).fill(undefined), count: 0 };
    classes.set(key, m);
  }
  p.memo = m;
  return m;
}

/**
 * The memo slot of a plain file name, s[start, s.length) — the end of the canonical path, or of the raw path when it is
 * the same name (plainNamePrefix) — or -1 when the name or its lengths rule the memo out. canonLength: the length of
 * the canonical path; highBit: it has a non-ASCII character (the prefix's, a plain name has none); firstDot, lastDot:
 * the name's first and last '.' in s (-1: none; firstDot -1 with a lastDot: not known, looked up).
 */
function memoSlot(
  s: string,
  start: number,
  canonLength: number,
  query: string | undefined,
  method: string,
  file: HttpRequest["file"],
  cfg: EffectiveConfig,
  c: Compiled,
  highBit: boolean,
  firstDot: number,
  lastDot: number,
): number {
  const n = s.length;
  return nameSlot(
    n - start,
    s.charCodeAt(start),
    lastDot >= 0 && lastDot === n - 1,
    lastDot >= 0 && (firstDot >= 0 ? firstDot : s.indexOf(".", start)) !== lastDot,
    canonLength,
    query === undefined ? -1 : query.length,
    query !== undefined && endsWithSccm(s),
    method,
    file,
    cfg,
    c,
    highBit,
  );
}

/**
 * memoSlot on the facts of the name (decoded): its length, its first character, whether it ends with a '.', whether
 * it has a '.' before its last one, and of the request: the canonical path's length, the query's (-1: no query),
 * whether the path is the sccm? form's (it ends with "/sccm", §10.1), the method, the file, and whether the canonical
 * path has a non-ASCII character.
 */
function nameSlot(
  length: number,
  first: number,
  trailingDot: boolean,
  severalDots: boolean,
  canonLength: number,
  queryLength: number,
  sccm: boolean,
  method: string,
  file: HttpRequest["file"],
  cfg: EffectiveConfig,
  c: Compiled,
  highBit: boolean,
): number {
  // a file, not a folder URL (§9.2: a trailing '/' or a folder gets 301 / 403.14 / 500.0, the 301 naming the path)
  if (length <= 0 || file?.isDirectory === true) return -1;
  // no leading or trailing dot: §13.12 inferred gives such names the extension "." or the whole name, with an
  // inference quoting it; "*.ext" needs a character before ".ext" (§9.1, compiled.ts patternMatches). (Kept out
  // rather than argued: a leading dot never gets here — "/." is a dot segment for the pass, §5.3 — and trailing-dot
  // names would share the extension ".")
  if (first === 46 || trailingDot) return -1;
  // not maybe a hidden segment (§6.9): the pre-filter of hiddenSegment() on (length, first character), ASCII name
  if (length <= c.hiddenMaxLen && c.hiddenBits[hiddenKeyOf(length, first)] === 1) return -1;
  // the length checks cannot fire (their messages give the length): maxUrl on the path (§6.3; UTF-8 bytes, §13.9
  // inferred, at most 3 per UTF-16 unit, 1 when ASCII) and maxQueryString on the query (§6.4, same bound). http.sys's
  // own limits (§5.2: URL length, segment length and count) were checked by the canonicalization pass
  const limits = cfg.requestFiltering.requestLimits;
  if ((highBit ? canonLength * 3 : canonLength) > limits.maxUrl.value) return -1;
  if (queryLength >= 0 && queryLength * 3 > limits.maxQueryString.value) return -1;
  let slot = method === "HEAD" ? 1 : 0; // the verbs rules (§6.6) and handler mappings (§9.1) may tell them apart
  // a query, and the sccm? form (§10.1: the content handler's note says the path travels in the query; the name
  // follows a '/')
  if (queryLength >= 0) slot |= sccm ? 6 : 2;
  // a dot before the last one (§13.16 inferred: the mimeMap is the last dot's, an inference or note says so)
  if (severalDots) slot |= 8;
  // what the caller knows of the file (§9.2 404.0 and 404.9, §10.3 404.0)
  if (file !== undefined) {
    if (file.exists === false) slot |= 16;
    if (file.hidden === true) slot |= 32;
  }
  return slot;
}

/**
 * The verdict of a GET or HEAD without headers of a plain name (canonical.plainNamePrefix) in a folder whose memo
 * class holds it, with no canonicalization pass; else null (evaluateRequest evaluates it, and fills the memo). The
 * conditions of evaluateRequest's memo lookup, on the prefix's facts: same slot, same entry (see MemoEntry).
 */
function memoHit(
  req: HttpRequest,
  method: string,
  rawPath: string,
  query: string | undefined,
  targetLength: number,
  server: Server,
): Verdict | null {
  const p = canonical.plainNamePrefix(rawPath, targetLength);
  if (p === null || p.cfgOf !== server.config || p.cfgSite !== server.siteName) return null;
  const cfg = p.cfg;
  // (configuration errors, §8.3, §8.4: left to evaluateRequest, which decides which ones block)
  if (cfg === null || cfg.errors.length > 0) return null;
  // http.sys refuses a raw space or control character in the query (§5.1): evaluateRequest says so
  if (query !== undefined && firstControlOrSpace(query) >= 0) return null;
  const c = compile(cfg);
  const memo = p.memo;
  if (p.memoFor !== c || memo === null) return null;
  const name = canonical.plainName;
  const canon = p.canon as string;
  if (name.escapes > 0) {
    // simple escapes (%20…): canonicalizePath's result is the prefix's canonical form + the name decoded, and
    // evaluateRequest's memo lookup reads that (its own dots: plainName's are in decoded positions)
    const path = canon + canonical.plainNameDecoded(rawPath);
    const at = canon.length;
    const lastDotC = name.lastDot < 0 ? -1 : at + name.lastDot - (name.slash + 1);
    const slot = memoSlot(
      path,
      at,
      path.length,
      query,
      method,
      req.file,
      cfg,
      c,
      p.highBit,
      name.firstDot < 0 ? -1 : at + name.firstDot - (name.slash + 1),
      lastDotC,
    );
    if (slot < 0) return null;
    const found = memoFind(memo.cells, path, lastDotC >= 0 ? lastDotC : path.length, slot);
    if (found < 0) return null;
    const m = memo.cells[found + 2] as MemoEntry | null;
    if (m === null) return null;
    methodMatters = m.methodMatters;
    return memoVerdict(m, path);
  }
  const start = name.slash + 1;
  const lastDot = name.lastDot;
  const slot = memoSlot(
    rawPath,
    start,
    canon.length + rawPath.length - start,
    query,
    method,
    req.file,
    cfg,
    c,
    p.highBit,
    name.firstDot,
    lastDot,
  );
  if (slot < 0) return null;
  const at = memoFind(memo.cells, rawPath, lastDot >= 0 ? lastDot : rawPath.length, slot);
  if (at < 0) return null;
  const m = memo.cells[at + 2] as MemoEntry | null;
  if (m === null) return null;
  methodMatters = m.methodMatters;
  // canonicalizePath's result: the raw path when the prefix is canonical as sent, else its canonical form + the name
  return memoVerdict(m, canon === p.raw ? rawPath : canon + rawPath.slice(start));
}

/**
 * The verdicts of GET and HEAD of the files of one folder, for callers that ask about many names under one URL prefix
 * (`dpdoctor check` asks about every file of a folder in each URL form): the work memoHit does per request on the
 * path up to the name — finding its cached prefix, its configuration and its memo class — is done once per folder,
 * and each name costs one pass over the name and one memo lookup, with no URL string built. `prefix` is the request
 * target up to the name: a folder path ending with '/' (the direct and 2007 forms), or a path and a query ending with
 * '/' (the sccm? form, §10.1: the name ends the query). entry(name, …) answers exactly as evaluate() would for the
 * target prefix + name — the memo entry memoHit would find (its verdict: memoVerdict(entry, canonical path)) — or
 * null when memoHit would not answer (the name is not plain, the memo holds nothing for it yet, its lengths come near
 * a limit…): then evaluate() gives the verdict, and fills the memo for the next names (differential property test
 * in test/engine/memo.test.ts). The folder's facts — its prefix (scanned and cached when the cache does not hold it
 * yet), configuration and memo class — are found on the first name, as evaluateRequest finds them, so a folder's
 * first file is answered when another folder of its class filled the memo; they depend only on the prefix and the
 * configuration (canonical.ts PathPrefix), so they stay right after the cache drops the prefix.
 */
export class FolderVerdicts {
  /** The raw path of the prefix: the folder (ending with '/'), or the whole path of the sccm? form. */
  private readonly path: string;
  /**
   * The raw path whose last segment the verdicts of the sccm? form judge (the extension IIS sees there is "sccm"'s);
   * undefined for a folder prefix (the name's own).
   */
  readonly judgedPath: string | undefined;
  /** The query of the sccm? form's prefix (the name is added to it); undefined for a folder prefix. */
  private readonly query: string | undefined;
  /** 0: the folder's facts are not known yet; 1: known; 2: memoHit never answers for this folder. */
  private state = 0;
  private cfg: EffectiveConfig | null = null;
  private compiled: Compiled | null = null;
  private memo: MemoClass | null = null;
  private highBit = false;
  /** Length of the prefix's canonical path (the folder's, or the sccm? form's whole path). */
  private canonLength = 0;
  /** The sccm? form: the path's own name (its last segment), as memoSlot reads it. */
  private nameFirst = 0;
  private nameLength = 0;
  private trailingDot = false;
  private severalDots = false;
  private sccm = false;
  private extAt = 0;
  /** The sccm? form: the entry found per slot (entries depend only on their key, see MemoEntry). */
  private readonly bySlot: (MemoEntry | undefined)[] = [];

  constructor(
    private readonly server: Server,
    readonly prefix: string,
  ) {
    const q = prefix.indexOf("?");
    this.path = q < 0 ? prefix : prefix.slice(0, q);
    this.query = q < 0 ? undefined : prefix.slice(q + 1);
    this.judgedPath = q < 0 ? undefined : this.path;
    // a prefix memoHit can never answer for (a folder prefix ends with '/'; the query of the sccm? form has
    // nothing http.sys refuses, §5.1): every name is evaluated in full
    if (
      !verdictMemo ||
      this.path.charCodeAt(0) !== 47 ||
      (q < 0 && prefix.charCodeAt(prefix.length - 1) !== 47) ||
      (this.query !== undefined && firstControlOrSpace(this.query) >= 0)
    )
      this.state = 2;
  }

  /** The folder's facts, as memoHit reads them (false: memoHit never answers for this prefix). */
  private resolve(): boolean {
    const path = this.path;
    const server = this.server;
    let ps = path.length - 1;
    if (this.query !== undefined) {
      // the sccm? form: the path's last segment is the "name" memoHit looks at (the same for every file)
      ps = path.lastIndexOf("/");
      const n = path.length;
      if (ps <= 0 || ps === n - 1 || n - ps - 1 > canonical.HTTPSYS_MAX_SEGMENT_LENGTH) return this.never();
      if (!canonical.scanPlainName(path, ps + 1, n)) return this.never();
      const f = canonical.nameFacts;
      // (escapes in "sccm": left to evaluate())
      if (f.firstDot === 0 || f.escapes > 0) return this.never();
      this.nameFirst = f.first;
      this.nameLength = f.length;
      this.trailingDot = f.lastDot >= 0 && f.lastDot === f.length - 1;
      this.severalDots = f.lastDot >= 0 && f.firstDot !== f.lastDot;
      this.sccm = endsWithSccm(path);
      this.extAt = f.rawLastDot >= 0 ? f.rawLastDot : n;
    }
    // the folder's prefix, its configuration and its memo class, as evaluateRequest finds them for a name in it
    // (folderEffective, memoClassOf): known before any file of the folder is evaluated
    const p = canonical.folderPrefix(path, ps);
    if (p === null) return this.never();
    if (p.cfgOf !== server.config || p.cfgSite !== server.siteName) {
      p.cfg = effectiveForFolder(server.config, server.siteName, p.canon as string);
      p.cfgOf = server.config;
      p.cfgSite = server.siteName;
    }
    const cfg = p.cfg;
    // (several configurations under the folder, §8.1; configuration errors, §8.4: memoHit never answers)
    if (cfg === null || cfg.errors.length > 0) return this.never();
    const c = compile(cfg);
    if ((p.memoFor === c ? p.memo : memoClassOf(p, c, cfg)) === null) return this.never();
    this.cfg = cfg;
    this.compiled = c;
    this.memo = p.memo;
    this.highBit = p.highBit;
    this.canonLength = (p.canon as string).length + (this.query === undefined ? 0 : this.nameLength);
    this.state = 1;
    return true;
  }

  private never(): false {
    this.state = 2;
    return false;
  }

  /**
   * The memo entry evaluate({ method, target: prefix + name, file }) would answer from, or null: evaluate() it.
   * `name` is the file name as sent (escaped), without '/'.
   */
  entry(name: string, method: "GET" | "HEAD", file: HttpRequest["file"]): MemoEntry | null {
    return this.entryOf(readFileName(name, new FileName()), method, file);
  }

  /** entry() of a name read once (readFileName) for every form and method it is asked in. */
  entryOf(fn: FileName, method: "GET" | "HEAD", file: HttpRequest["file"]): MemoEntry | null {
    if (this.state !== 1 && (this.state === 2 || !this.resolve())) return null;
    const name = fn.name;
    const n = name.length;
    if (this.prefix.length + n > canonical.HTTPSYS_MAX_URL) return null;
    const cfg = this.cfg as EffectiveConfig;
    const c = this.compiled as Compiled;
    const cells = (this.memo as MemoClass).cells;
    if (this.query !== undefined) {
      // the sccm? form: the name is the end of the query (§5.1: no raw space or control character in it; a plain
      // name has none)
      if (!fn.plain && firstControlOrSpace(name) >= 0) return null;
      const slot = nameSlot(
        this.nameLength,
        this.nameFirst,
        this.trailingDot,
        this.severalDots,
        this.canonLength,
        this.query.length + n,
        this.sccm,
        method,
        file,
        cfg,
        c,
        this.highBit,
      );
      if (slot < 0) return null;
      const known = this.bySlot[slot];
      if (known !== undefined) return known;
      const at = memoFind(cells, this.path, this.extAt, slot);
      if (at < 0) return null;
      const m = cells[at + 2] as MemoEntry | null;
      if (m !== null) this.bySlot[slot] = m;
      return m;
    }
    // a folder: the name is the path's last segment (plainNamePrefix's conditions on it)
    if (n === 0 || n > canonical.HTTPSYS_MAX_SEGMENT_LENGTH || !fn.plain) return null;
    const f = fn;
    if (f.firstDot === 0) return null;
    const slot = nameSlot(
      f.length,
      f.first,
      f.lastDot >= 0 && f.lastDot === f.length - 1,
      f.lastDot >= 0 && f.firstDot !== f.lastDot,
      this.canonLength + f.length,
      -1,
      false,
      method,
      file,
      cfg,
      c,
      this.highBit,
    );
    if (slot < 0) return null;
    // the memo's key is the extension once decoded: as sent when no escape follows the last '.'
    const at =
      f.rawLastDot < 0 || f.escapesAfterLastDot === 0
        ? memoFind(cells, name, f.rawLastDot < 0 ? n : f.rawLastDot, slot)
        : memoFind(cells, canonical.decodePlainName(name, 0, n), f.lastDot, slot);
    if (at < 0) return null;
    return cells[at + 2] as MemoEntry | null;
  }
}

/**
 * A file name as sent (escaped), read once for FolderVerdicts.entryOf: whether it is a plain name
 * (canonical.scanPlainName) and, if so, its facts (canonical.nameFacts). Reused from name to name (readFileName).
 */
export class FileName {
  name = "";
  plain = false;
  length = 0;
  first = 0;
  firstDot = -1;
  lastDot = -1;
  rawLastDot = -1;
  escapesAfterLastDot = 0;
}

/** Reads `name` into `into` (see FileName) and returns it. */
export function readFileName(name: string, into: FileName): FileName {
  into.name = name;
  into.plain = canonical.scanPlainName(name, 0, name.length);
  if (into.plain) {
    const f = canonical.nameFacts;
    into.length = f.length;
    into.first = f.first;
    into.firstDot = f.firstDot;
    into.lastDot = f.lastDot;
    into.rawLastDot = f.rawLastDot;
    into.escapesAfterLastDot = f.escapesAfterLastDot;
  }
  return into;
}

/** Hash of the extension s[from, s.length) (as spelled) and a slot. */
function memoHash(s: string, from: number, slot: number): number {
  let h = Math.imul(slot + 1, 0x9e3779b1);
  for (let k = from; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * Index of the cell of (canon's extension canon[extAt, canon.length), slot) in the cells `t`, or -1 − the index of the
 * empty cell where it would go.
 */
function memoFind(t: MemoCell[], canon: string, extAt: number, slot: number): number {
  const mask = t.length / 3 - 1;
  const len = canon.length - extAt;
  let i = memoHash(canon, extAt, slot) & mask;
  for (;;) {
    const at = i * 3;
    const e = t[at];
    if (e === undefined) return -1 - at;
    if (t[at + 1] === slot && (e as string).length === len) {
      let k = 0;
      while (k < len && (e as string).charCodeAt(k) === canon.charCodeAt(extAt + k)) k++;
      if (k === len) return at;
    }
    i = (i + 1) & mask;
  }
}

/** Adds (canon's extension from extAt, slot) → entry to a memo, growing it (or emptying it past MEMO_MAX_CELLS). */
function memoStore(m: MemoClass, canon: string, extAt: number, slot: number, entry: MemoEntry | null): void {
  let t = m.cells;
  const capacity = t.length / 3;
  if ((m.count + 1) * 4 > capacity * 3) {
    const old = t;
    const grow = capacity < MEMO_MAX_CELLS;
    t = new Array((grow ? capacity * 2 : MEMO_MIN_CELLS) * 3).fill(undefined);
    m.cells = t;
    m.count = 0;
    if (grow)
      for (let at = 0; at < old.length; at += 3) {
        const e = old[at];
        if (e === undefined) continue;
        const to = -1 - memoFind(t, e as string, 0, old[at + 1] as number);
        t[to] = e;
        t[to + 1] = old[at + 1];
        t[to + 2] = old[at + 2];
        m.count++;
      }
  }
  const at = memoFind(t, canon, extAt, slot);
  if (at >= 0) return; // already there (not reached: the caller found no cell)
  t[-1 - at] = canon.slice(extAt);
  t[-at] = slot;
  t[1 - at] = entry;
  m.count++;
}

/** The verdict of a plain name from its memo entry: the full evaluation's literal, with the name's canonicalPath. */
export function memoVerdict(m: MemoEntry, canon: string): Verdict {
  if (m.shape === SHAPE_PASS)
    return {
      status: m.status,
      substatus: m.substatus,
      layer: m.layer,
      reasons: m.reasons,
      orderInferred: m.orderInferred,
      canonicalPath: canon,
      handler: m.handler,
    };
  if (m.shape === SHAPE_HANDLER)
    return {
      status: m.status,
      substatus: m.substatus,
      layer: m.layer,
      reasons: m.reasons,
      orderInferred: m.orderInferred,
      canonicalPath: canon,
      handler: m.handler,
      notes: m.notes,
    };
  return {
    status: m.status,
    substatus: m.substatus,
    layer: m.layer,
    reasons: m.reasons,
    orderInferred: m.orderInferred,
    canonicalPath: canon,
    notes: m.notes,
  };
}

/**
 * The memo entry of a plain name's verdict `v` (just evaluated in full), or null when verdicts of its slot depend on
 * more than the extension: a verdict of another layer (http.sys and configuration verdicts come before the memo, a
 * staticContent error's 500.19 is rare, §8.4), 404.4 (its message names the file), or a verdict of the site's handler
 * mappings (§9.1) where an "exact" or glob mapping — matched against the whole name — could decide before the first
 * mapping that matches every name with this extension ("*.ext", "*.", "*"), or could set methodMatters.
 */
function memoEntry(
  v: Verdict,
  canon: string,
  method: string,
  dp: DpPathKind | undefined,
  c: Compiled,
): MemoEntry | null {
  if (v.canonicalPath !== canon) return null;
  const keys = Object.keys(v).join();
  const shape =
    keys === PASS_KEYS
      ? SHAPE_PASS
      : keys === HANDLER_KEYS
        ? SHAPE_HANDLER
        : keys === FILTERED_KEYS
          ? SHAPE_FILTERED
          : -1;
  if (shape < 0) return null;
  const layer = v.layer;
  if (layer !== "pass" && layer !== "handler" && layer !== "request-filtering") return null;
  for (const r of v.reasons) if (r.check === "handler.none") return null;
  if (layer !== "request-filtering" && dp !== "content") {
    // the mappings were consulted (not the DP content handler, §10.3): by the extension of the name only?
    const lastDot = canon.lastIndexOf(".");
    const lowerExt = lastDot > canon.lastIndexOf("/") ? canon.slice(lastDot).toLowerCase() : ".";
    for (const h of c.headGetDiffering)
      if ((h.kind === "exact" || h.kind === "glob") && couldServe(h, lowerExt, false)) return null;
    const first = candidatesFor(c, method, lowerExt, false)[0];
    if (first !== undefined && (first.kind === "exact" || first.kind === "glob")) return null;
  }
  const notes = v.notes;
  return {
    shape,
    status: v.status,
    substatus: v.substatus,
    layer,
    reasons:
      v.reasons.length === 0 && Object.isFrozen(v.reasons)
        ? v.reasons
        : (Object.freeze(v.reasons.map((r) => Object.freeze({ ...r }))) as Reason[]),
    orderInferred: v.orderInferred,
    handler: v.handler,
    notes: notes === undefined || Object.isFrozen(notes) ? notes : (Object.freeze(notes.slice()) as string[]),
    methodMatters,
    id: nextEntryId++,
  };
}

function configVerdict(errors: EffectiveConfig["errors"], canon: string): Verdict {
  const reasons: Reason[] = errors.map((e) => ({
    status: 500,
    substatus: 19,
    check: "config.invalid",
    message: `Configuration error in ${e.section} at ${e.source.file}:${e.source.line}: ${e.message}`,
    source: e.source,
  }));
  return { status: 500, substatus: 19, layer: "config", reasons, orderInferred: false, canonicalPath: canon };
}

/** End index of the script path in `canon` (§5.4): canon.length unless a handler claims a non-final segment. */
function scriptPathEnd(
  canon: string,
  method: string,
  c: Compiled,
  highBit: boolean,
  /** canon's first '.' and count of its '/' in pathSlashes (canonicalization pass facts). */
  firstDot: number,
  slashCount: number,
): number {
  if (c.pathInfoClaimers.size === 0) return canon.length;
  // jump from dot to dot (native indexOf, no per-character loop), each dot's segment end from the '/' positions the
  // canonicalization pass recorded: a dot whose segment ends before the last one
  let dot = firstDot;
  let k = 0;
  while (dot >= 0) {
    while (k < slashCount && pathSlashes[k] < dot) k++;
    if (k >= slashCount) return canon.length; // the dot is in the final segment
    const end = pathSlashes[k];
    const nextDot = canon.indexOf(".", dot + 1);
    if (nextDot < 0 || nextDot > end) {
      // `dot` is the last dot of the non-final segment ending at `end`
      if (end > dot + 1 && (highBit || mayBeKey(c.claimerFilter, canon, dot, end))) {
        const claimers = c.pathInfoClaimers.get(canon.slice(dot, end).toLowerCase());
        if (claimers)
          for (const h of claimers) {
            if (h.verbs !== null && h.verbs.has("GET") !== h.verbs.has("HEAD")) methodMatters = true;
            if (h.verbs === null || h.verbs.has(method)) return end;
          }
      }
    }
    dot = nextDot;
  }
  return canon.length;
}

interface RfInput {
  method: string;
  canon: string;
  scriptPath: string;
  rawPath: string;
  query: string | undefined;
  headers: Record<string, string> | undefined;
  isWebDav: boolean;
  applicationPath: string;
  /** Notes gathered on the way (allocated on first use). */
  notes: string[] | undefined;
  /** Facts of canon (canonical.pathFacts): a non-ASCII character, a '+', a '%'. */
  highBit: boolean;
  plus: boolean;
  percent: boolean;
  /** Last '/' and last '.' of scriptPath; -1 when scriptPath is shorter than canon (path info split off). */
  lastSlash: number;
  lastDot: number;
  /** Number of '/' of scriptPath recorded in canonical.pathSlashes; -1 when scriptPath is shorter than canon. */
  slashCount: number;
  /** The cached directory prefix scriptPath (= canon) starts with, else null (canonical.pathPrefix). */
  prefix: PathPrefix | null;
}

const rfScratch: RfInput = {
  method: "",
  canon: "",
  scriptPath: "",
  rawPath: "",
  query: undefined,
  headers: undefined,
  isWebDav: false,
  applicationPath: "/",
  notes: undefined,
  highBit: false,
  plus: false,
  percent: false,
  lastSlash: -1,
  lastDot: -1,
  slashCount: -1,
  prefix: null,
};

/**
 * Does no segment of the prefix end with an extension a path-info claimer maps (§5.4)? Then scriptPathEnd finds
 * nothing in a path made of the prefix and a file name (its non-final segments are the prefix's), whatever the
 * method. Computed once per (prefix, compiled configuration).
 */
function prefixClaimsFree(p: PathPrefix, c: Compiled): boolean {
  if (p.claimsFor === c) return p.claimsFree;
  const canon = p.canon as string;
  let free = true;
  for (
    let start = 1, end = canon.indexOf("/", 1);
    end >= 0;
    start = end + 1, end = canon.indexOf("/", start)
  ) {
    const dot = canon.lastIndexOf(".", end - 1);
    if (dot >= start && end > dot + 1 && c.pathInfoClaimers.has(canon.slice(dot, end).toLowerCase())) {
      free = false;
      break;
    }
  }
  p.claimsFor = c;
  p.claimsFree = free;
  return free;
}

/**
 * Where the hidden-segment check of a path made of the prefix and a file name may start (§6.9): after the prefix
 * when none of its segments is hidden (checked once per (prefix, compiled configuration), every segment, so the
 * application root does not matter), else at the first segment.
 */
function hiddenCheckFrom(p: PathPrefix, rf: RequestFilteringConfig, c: Compiled): number {
  const canon = p.canon as string;
  if (p.hiddenFor !== c) {
    // pathSlashes starts with the prefix's '/' positions (the current path starts with the prefix)
    p.hiddenClear = hiddenSegment(rf, c, canon, "/", p.slashCount, 1, 0) === null;
    p.hiddenFor = c;
  }
  return p.hiddenClear ? canon.length : 1;
}

function note(r: RfInput, n: string): void {
  (r.notes ??= []).push(n);
}

/** Extension of the last segment of a path (§6.10): from its last dot, "." when there is none (or a trailing dot). */
export function extensionOf(path: string): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot <= slash || dot === path.length - 1) return ".";
  return path.slice(dot);
}

/** Every request-filtering check of §6, in the §7 table order; returns all that fired (primary first). */
function requestFiltering(rf: RequestFilteringConfig, c: Compiled, r: RfInput): Reason[] {
  let reasons: Reason[] | null = null;
  const { canon, scriptPath, query, headers } = r;

  // step 1: alwaysAllowedUrls (§6.1, §13.6): exact, case-insensitive, leading '/' required; skips URL checks only
  let always = false;
  if (c.alwaysAllowedUrls.size > 0 || c.alwaysAllowedUrlsNoSlash.size > 0) {
    const lower = canon.toLowerCase();
    const hit = c.alwaysAllowedUrls.get(lower);
    if (hit) {
      always = true;
      note(
        r,
        `${canon} is listed in alwaysAllowedUrls (${hit.source.text ?? hit.url}): URL-based checks are skipped; verb, query, header and content-length checks still apply (spec §6.1, §13.6 inferred)`,
      );
    } else {
      const noSlash = c.alwaysAllowedUrlsNoSlash.get(lower);
      if (noSlash)
        note(
          r,
          `alwaysAllowedUrls entry "${noSlash.url}" has no leading '/' and never matches (spec §6.1 inferred: "the leading '/' is required")`,
        );
    }
  }

  // step 2: maxAllowedContentLength → 413.1 (§6.2): numeric Content-Length only
  const cl = header(headers, "content-length");
  if (cl !== undefined) {
    const t = cl.trim();
    const limit = rf.requestLimits.maxAllowedContentLength;
    if (/^\d+$/.test(t) && Number(t) > limit.value)
      (reasons ??= []).push({
        status: 413,
        substatus: 1,
        check: "maxAllowedContentLength",
        message: `Content-Length ${t} exceeds maxAllowedContentLength ${limit.value}${limit.source ? "" : " (schema default)"}`,
        source: limit.source,
      });
  }

  // step 3: maxUrl → 404.14 (§6.3): UTF-8 bytes of the canonical script path (§13.9 inferred for non-ASCII)
  if (!always) {
    const maxUrl = rf.requestLimits.maxUrl;
    if (scriptPath.length > maxUrl.value || scriptPath.length * 3 > maxUrl.value) {
      const len = utf8Length(scriptPath);
      if (len > maxUrl.value)
        (reasons ??= []).push({
          status: 404,
          substatus: 14,
          check: "maxUrl",
          message: `URL path is ${len} bytes; maxUrl is ${maxUrl.value}${maxUrl.source ? "" : " (schema default)"}`,
          source: maxUrl.source,
          ...(len !== scriptPath.length ? { inferred: "§13.9 maxUrl counted in UTF-8 bytes" } : {}),
        });
    }
  }

  // step 4: maxQueryString → 404.15 (§6.4): raw query bytes, '?' excluded
  if (query !== undefined) {
    const maxQs = rf.requestLimits.maxQueryString;
    if (query.length > maxQs.value || query.length * 3 > maxQs.value) {
      const len = utf8Length(query);
      if (len > maxQs.value)
        (reasons ??= []).push({
          status: 404,
          substatus: 15,
          check: "maxQueryString",
          message: `Query string is ${len} bytes; maxQueryString is ${maxQs.value}${maxQs.source ? "" : " (schema default)"}`,
          source: maxQs.source,
        });
    }
  }

  // step 5: headerLimits → 431 (§6.5)
  if (headers && c.headerLimits.length > 0) {
    for (const h of c.headerLimits) {
      const v = header(headers, h.lower);
      if (v === undefined) continue;
      const len = utf8Length(v);
      if (len > h.rule.sizeLimit)
        (reasons ??= []).push({
          status: 431,
          substatus: 0,
          check: "headerLimits",
          message: `Header ${h.rule.header} is ${len} bytes; its sizeLimit is ${h.rule.sizeLimit}${where(h.rule.source)}`,
          source: h.rule.source,
        });
    }
  }

  // step 6: verbs → 404.6 (§6.6): case-sensitive; skipped for WebDAV when applyToWebDAV="false" (§6.14)
  if (!(r.isWebDav && !rf.verbs.applyToWebDAV.value)) {
    const m = r.method;
    const v = m === "GET" ? c.verbGet : m === "HEAD" ? c.verbHead : rf.verbs.index.get(m);
    if (v) {
      if (!v.allowed)
        (reasons ??= []).push({
          status: 404,
          substatus: 6,
          check: "verbs",
          message: `Verb ${r.method} is denied${where(v.source) || ' (allowed="false")'}`,
          source: v.source,
        });
    } else if (!rf.verbs.allowUnlisted.value)
      (reasons ??= []).push({
        status: 404,
        substatus: 6,
        check: "verbs",
        message: `Verb ${r.method} is not in the verbs allow-list (allowUnlisted="false"; verbs are case-sensitive)`,
        source: rf.verbs.allowUnlisted.source,
      });
  } else webDavExempt(r, "verbs");

  if (!always) {
    // step 7: double escaping → 404.11 (§6.7)
    const doubleEscaped = doubleEscaping(rf, canon, r.plus, r.percent);
    if (doubleEscaped !== null) (reasons ??= []).push(doubleEscaped);
    // step 8: high-bit characters → 404.12 (§6.8)
    const highBit = highBitCharacters(rf, canon, r.highBit);
    if (highBit !== null) (reasons ??= []).push(highBit);
    // step 9: hiddenSegments → 404.8 (§6.9), below the application root (§13.4 inferred)
    if (rf.hiddenSegments.items.length > 0) {
      if (!(r.isWebDav && !rf.hiddenSegments.applyToWebDAV.value)) {
        const from = r.prefix !== null ? hiddenCheckFrom(r.prefix, rf, c) : 1;
        const hidden = hiddenSegment(
          rf,
          c,
          scriptPath,
          r.applicationPath,
          r.slashCount,
          from,
          from > 1 ? (r.prefix as PathPrefix).slashCount : 0,
        );
        if (hidden) (reasons ??= []).push(hidden);
      } else webDavExempt(r, "hiddenSegments");
    }
    // step 10: fileExtensions → 404.7 (§6.10)
    if (!(r.isWebDav && !rf.fileExtensions.applyToWebDAV.value)) {
      if (rf.fileExtensions.items.length > 0 || !rf.fileExtensions.allowUnlisted.value) {
        // the extension's bounds from the canonicalization pass when scriptPath is canon (§6.10: last dot of the
        // last segment, "." for none or a trailing dot); the pre-filter skips names no rule lists
        let ext: string;
        let e: ReturnType<typeof rf.fileExtensions.index.get>;
        if (r.lastSlash >= 0) {
          const dot = r.lastDot;
          const n = scriptPath.length;
          const has = dot > r.lastSlash && dot !== n - 1;
          if (
            r.highBit ||
            (has ? mayBeKey(c.extensionFilter, scriptPath, dot, n) : mayBeKey(c.extensionFilter, ".", 0, 1))
          ) {
            ext = has ? scriptPath.slice(dot) : ".";
            e = rf.fileExtensions.index.get(ext.toLowerCase());
          } else {
            ext = "";
            e = undefined;
            if (!rf.fileExtensions.allowUnlisted.value) ext = has ? scriptPath.slice(dot) : ".";
          }
        } else {
          ext = extensionOf(scriptPath);
          e = rf.fileExtensions.index.get(ext.toLowerCase());
        }
        if (e) {
          const odd = e.allowed ? undefined : oddName(scriptPath);
          if (!e.allowed)
            (reasons ??= []).push(
              inferredIf(
                {
                  status: 404,
                  substatus: 7,
                  check: "fileExtensions",
                  message: `File extension ${ext} is denied${where(e.source) || ` (<add fileExtension="${e.fileExtension}" allowed="false" />)`}`,
                  source: e.source,
                },
                odd,
              ),
            );
        } else if (!rf.fileExtensions.allowUnlisted.value) {
          const odd = oddName(scriptPath);
          (reasons ??= []).push(
            inferredIf(
              {
                status: 404,
                substatus: 7,
                check: "fileExtensions",
                message:
                  ext === "."
                    ? `The name has no extension and fileExtensions allowUnlisted="false" has no <add fileExtension="." allowed="true" />`
                    : `File extension ${ext} is not in the fileExtensions allow-list (allowUnlisted="false")`,
                source: rf.fileExtensions.allowUnlisted.source,
              },
              odd,
            ),
          );
        }
      }
    } else webDavExempt(r, "fileExtensions");
    // step 11: denyUrlSequences → 404.5 (§6.11), case-insensitive (§13.8 inferred)
    if (c.denyUrlSequences.length > 0) {
      const lower = canon.toLowerCase();
      for (const s of c.denyUrlSequences) {
        if (!lower.includes(s.lower)) continue;
        (reasons ??= []).push({
          status: 404,
          substatus: 5,
          check: "denyUrlSequences",
          message: `The path contains the denied sequence "${s.rule.sequence}"${where(s.rule.source)}`,
          source: s.rule.source,
          ...(canon.includes(s.rule.sequence)
            ? {}
            : { inferred: "§13.8 denyUrlSequences compared case-insensitively" }),
        });
        break;
      }
    }
  }

  // step 12: alwaysAllowedQueryStrings / denyQueryStringSequences → 404.18 (§6.12, §13.7)
  let queryAllowed = false;
  if (query !== undefined && c.alwaysAllowedQueryStrings.size > 0) {
    const hit = c.alwaysAllowedQueryStrings.get(query.toLowerCase());
    if (hit) {
      queryAllowed = true;
      note(
        r,
        `the query string is listed in alwaysAllowedQueryStrings: denyQueryStringSequences and scanQueryString rules are skipped, maxQueryString still applies (spec §13.7 inferred)`,
      );
    }
  }
  if (query !== undefined && !queryAllowed && c.denyQueryStringSequences.length > 0) {
    const forms = queryForms(rf, query).map((q) => q.toLowerCase());
    for (const s of c.denyQueryStringSequences) {
      if (!forms.some((q) => q.includes(s.lower))) continue;
      (reasons ??= []).push({
        status: 404,
        substatus: 18,
        check: "denyQueryStringSequences",
        message: `The query string contains the denied sequence "${s.rule.sequence}"${where(s.rule.source)}`,
        source: s.rule.source,
      });
      break;
    }
  }

  // step 13: filteringRules → 404.19 (§6.13)
  if (rf.filteringRules.length > 0) {
    const fr = filteringRules(rf, r, always, queryAllowed);
    if (fr) (reasons ??= []).push(fr);
  }
  return reasons ?? NO_REASONS;
}

/**
 * Double escaping → 404.11 (§6.7): '+' anywhere (`plus`: the path has one), or a second decode would change the path
 * (`percent`: it has a '%'); null when the check does not fire.
 */
function doubleEscaping(
  rf: RequestFilteringConfig,
  canon: string,
  plus: boolean,
  percent: boolean,
): Reason | null {
  if (rf.allowDoubleEscaping.value || !(plus || (percent && hasValidEscape(canon)))) return null;
  return {
    status: 404,
    substatus: 11,
    check: "doubleEscaping",
    message: plus
      ? `The path contains '+' (or %2B), which request filtering refuses while allowDoubleEscaping="false"`
      : `The path is still escaped after one decode (${firstEscape(canon)}): double escaping is refused while allowDoubleEscaping="false"`,
    source: rf.allowDoubleEscaping.source,
  };
}

/** High-bit characters → 404.12 (§6.8), naming the first one (`highBit`: the path has one); null when it does not fire. */
function highBitCharacters(rf: RequestFilteringConfig, canon: string, highBit: boolean): Reason | null {
  if (rf.allowHighBitCharacters.value || !highBit) return null;
  for (let i = 0; i < canon.length; i++)
    if (canon.charCodeAt(i) > 0x7f)
      return {
        status: 404,
        substatus: 12,
        check: "highBitCharacters",
        message: `The path contains the non-ASCII character '${canon[i]}' and allowHighBitCharacters="false"`,
        source: rf.allowHighBitCharacters.source,
      };
  return null;
}

/** The raw query and, with unescapeQueryString (default true), its unescaped form: two scan passes (§6.12). */
function queryForms(rf: RequestFilteringConfig, query: string | undefined): string[] {
  if (query === undefined) return [];
  if (!rf.unescapeQueryString.value) return [query];
  const unescaped = unescapeQuery(query);
  return unescaped === query ? [query] : [query, unescaped];
}

function webDavExempt(r: RfInput, what: string): void {
  note(
    r,
    `WebDAV request: ${what} applyToWebDAV="false" exempts it (spec §6.14; WebDAV = WebDAV verb or Translate: f, §13.15 inferred)`,
  );
}

function firstEscape(s: string): string {
  const m = /%[0-9A-Fa-f]{2}/.exec(s);
  return m ? `"${m[0]}"` : "";
}

/** §13.12: trailing-dot and leading-dot names get "." and ".name" as extension [INF]. */
function oddName(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (name.endsWith(".") && name.length > 1) return "§13.12 a trailing dot gives the extension '.'";
  if (name.startsWith(".") && name.indexOf(".", 1) < 0 && name.length > 1)
    return `§13.12 a leading-dot name gives the extension '${name}'`;
  return undefined;
}

/** Hidden segments: whole-segment, case-insensitive, any depth below the application root (§6.9, §13.4). */
function hiddenSegment(
  rf: RequestFilteringConfig,
  c: Compiled,
  scriptPath: string,
  appPath: string,
  /** Count of scriptPath's '/' positions in pathSlashes (from the canonicalization pass), -1 when not recorded. */
  slashCount: number,
  /** Index before which no segment is hidden (known from a cached prefix), 1 when unknown. */
  from: number,
  /** How many of the recorded '/' positions lie before `from` (where the walk over them may start). */
  fromSlashes: number,
): Reason | null {
  let start = 1;
  let appExempt = false;
  if (appPath && appPath !== "/" && appPath.length <= scriptPath.length) {
    const prefix = scriptPath.slice(0, appPath.length);
    if (
      prefix.toLowerCase() === appPath.toLowerCase() &&
      (scriptPath.length === appPath.length || scriptPath.charCodeAt(appPath.length) === 47)
    ) {
      start = appPath.length + 1;
      appExempt = true;
    }
  }
  const n = scriptPath.length;
  let segStart = Math.max(from, start);
  let k = fromSlashes;
  while (segStart <= n) {
    let end: number;
    if (slashCount >= 0) {
      while (k < slashCount && pathSlashes[k] < segStart) k++;
      end = k < slashCount ? pathSlashes[k] : n;
    } else {
      end = scriptPath.indexOf("/", segStart);
      if (end < 0) end = n;
    }
    const len = end - segStart;
    const key = len > 0 ? hiddenKey(scriptPath, segStart, end) : 0;
    // non-ASCII first characters (key % 128 === 0) always take the full case-folded comparison
    if (
      len > 0 &&
      ((key & 127) === 0 || (len <= c.hiddenMaxLen ? c.hiddenBits[key] === 1 : c.hiddenKeys.has(key)))
    ) {
      const seg = scriptPath.slice(segStart, end);
      const rule = rf.hiddenSegments.index.get(seg.toLowerCase());
      if (rule)
        return inferredIf(
          {
            status: 404,
            substatus: 8,
            check: "hiddenSegments",
            message: `Path segment "${seg}" is a hidden segment${where(rule.source) || ` (<add segment="${rule.segment}" />)`}`,
            source: rule.source,
          },
          appExempt ? "§13.4 hidden segments evaluated below the application root" : undefined,
        );
    }
    segStart = end + 1;
  }
  return null;
}

function isHexDigit(x: number): boolean {
  return (x >= 48 && x <= 57) || (x >= 65 && x <= 70) || (x >= 97 && x <= 102);
}
function hasUnescapedPercent(s: string): boolean {
  for (let i = s.indexOf("%"); i >= 0; i = s.indexOf("%", i + 1))
    if (!(isHexDigit(s.charCodeAt(i + 1)) && isHexDigit(s.charCodeAt(i + 2)))) return true;
  return false;
}

/** filteringRules → 404.19 (§6.13): plain substring search, case-insensitive [INF §13.8], first rule that fires. */
function filteringRules(
  rf: RequestFilteringConfig,
  r: RfInput,
  always: boolean,
  queryAllowed: boolean,
): Reason | null {
  const ext = extensionOf(r.scriptPath).toLowerCase();
  for (const rule of rf.filteringRules) {
    if (rule.appliesTo.length > 0 && !rule.appliesTo.some((a) => a.toLowerCase() === ext)) continue;
    const parts: { what: string; text: string; raw: string | null }[] = [];
    if (rule.scanUrl && !always) parts.push({ what: "URL", text: r.canon, raw: r.rawPath });
    if (rule.scanQueryString && !queryAllowed && r.query !== undefined)
      for (const q of queryForms(rf, r.query))
        parts.push({ what: "query string", text: q, raw: q === r.query ? q : null });
    if (r.headers) {
      for (const name of rule.scanHeaders) {
        const v = header(r.headers, name.toLowerCase());
        // "the whole header will be scanned … and not the header value only" (D-ENH)
        if (v !== undefined) parts.push({ what: `header ${name}`, text: `${name}: ${v}`, raw: v });
      }
      if (rule.scanAllRaw) {
        const all = Object.entries(r.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join("\r\n");
        parts.push({ what: "raw headers", text: all, raw: all });
      }
    }
    for (const p of parts) {
      const lower = p.text.toLowerCase();
      for (const d of rule.denyStrings) {
        if (!lower.includes(d.string.toLowerCase())) continue;
        return {
          status: 404,
          substatus: 19,
          check: "filteringRules",
          message: `Filtering rule "${rule.name}" found the denied string "${d.string}" in the ${p.what}${where(d.source)}`,
          source: d.source,
          ...(p.text.includes(d.string) ? {} : { inferred: "§13.8 denyStrings compared case-insensitively" }),
        };
      }
      if (rule.denyUnescapedPercent && p.raw !== null && hasUnescapedPercent(p.raw))
        return {
          status: 404,
          substatus: 19,
          check: "filteringRules",
          message: `Filtering rule "${rule.name}" refuses a '%' that is not an escape in the ${p.what} (denyUnescapedPercent, default true)`,
          source: rule.source,
          inferred: "§13.14 denyUnescapedPercent given UrlScan 3.1 semantics",
        };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// L5/L6: handler selection (§9.1) and the static file handler (§9.2); ConfigMgr content (§10.3)

function handlerLayer(
  req: HttpRequest,
  method: string,
  canon: string,
  scriptPath: string,
  query: string | undefined,
  cfg: EffectiveConfig,
  c: Compiled,
  notes: string[] | undefined,
  /** Last '/' of scriptPath when known from the canonicalization pass, else -1. */
  lastSlash: number,
  /** Last '.' of scriptPath (-1: none) when known from the pass and scriptPath is ASCII (lower-casing keeps positions), else -2. */
  lastDot: number,
  /** The cached directory prefix canon starts with, else null. */
  prefix: PathPrefix | null,
): Verdict {
  // the first segment decides (§10.3): a cached prefix holds it whole
  const dp: DpPathKind =
    prefix !== null ? (prefix.dpKind ??= classifyDpPath(prefix.canon as string)) : classifyDpPath(canon);
  if (dp === "content") {
    if (req.file?.exists === false)
      return handlerRefusal(
        {
          status: 404,
          substatus: 0,
          check: "static.notFound",
          message: "The file is not in this content (the ConfigMgr content handler answers 404)",
          source: null,
          inferred: "§13.3 DP content handler",
        },
        canon,
        "configmgr-content",
        notes,
      );
    const dpNotes = query !== undefined && endsWithSccm(scriptPath) ? DP_SCCM_FORM_NOTE : DP_CONTENT_NOTE;
    // the shared frozen note arrays (dp.ts) when there is nothing to add: verdict notes are never mutated
    return pass("configmgr-content", canon, notes ? notes.concat(dpNotes) : (dpNotes as string[]));
  }
  // the shared frozen 2007 note when there is no other: later notes go through withNote (copy on write)
  if (dp === "static2007")
    if (notes === undefined) notes = DP_STATIC_2007_NOTES as string[];
    else notes.push(DP_STATIC_2007_NOTE);

  const file = req.file;
  const trailing = scriptPath.length > 1 && scriptPath.charCodeAt(scriptPath.length - 1) === 47;
  const directory = file?.isDirectory === true || (trailing && file?.isDirectory !== false);
  // the name's last dot and extension (§6.10, §9.2): from the pass when known — an ASCII script path (lower-casing
  // keeps positions), no trailing '/' — and the lower-cased name only when a rule or message needs it (it is the
  // costliest string of a static file verdict); else from the lower-cased name (lastIndexOf, a slow runtime call)
  const known = nameFromPass && lastSlash >= 0 && lastDot !== -2 && !trailing;
  let lowerName = known ? undefined : lowerNameOf(scriptPath, lastSlash, trailing);
  const nameDot = known
    ? lastDot > lastSlash
      ? lastDot - lastSlash - 1
      : -1
    : (lowerName as string).lastIndexOf(".");
  // a file name's extension record (handler candidates, mimeMap): one lookup by the extension as spelled (§9.1, §9.2)
  let rec: ExtRecord | null = null;
  let lowerExt: string;
  if (known) {
    const spelled =
      lastDot <= lastSlash || lastDot === scriptPath.length - 1 ? "." : scriptPath.slice(lastDot);
    if (extRecords && !directory) {
      rec = extRecordFor(c, spelled);
      lowerExt = rec.lowerExt;
    } else lowerExt = spelled.toLowerCase();
  } else {
    lowerExt =
      nameDot < 0 || nameDot === (lowerName as string).length - 1
        ? "."
        : (lowerName as string).slice(nameDot);
    if (extRecords && !directory) rec = extRecordFor(c, lowerExt);
  }

  let handler: CompiledHandler | null = null;
  if (c.handlers.length === 0 && (cfg.handlers?.items?.length ?? 0) === 0) {
    notes = withNote(
      notes,
      "the configuration declares no handler mappings: assuming the StaticFile handler serves this URL",
    );
  } else {
    const ext = directory ? "" : lowerExt;
    if (rec !== null) {
      for (const h of rec.headGetDiffering)
        if (patternMatches(h, (lowerName ??= lowerNameOf(scriptPath, lastSlash, trailing))))
          methodMatters = true;
    } else
      for (const h of c.headGetDiffering)
        if (
          couldServe(h, ext, directory) &&
          patternMatches(h, (lowerName ??= lowerNameOf(scriptPath, lastSlash, trailing)))
        )
          methodMatters = true;
    const candidates =
      rec === null
        ? candidatesFor(c, method, ext, directory)
        : method === "GET"
          ? rec.get
          : method === "HEAD"
            ? rec.head
            : candidatesFor(c, method, ext, directory);
    for (const h of candidates) {
      if (
        h.kind === "exact" || h.kind === "glob"
          ? patternMatches(h, (lowerName ??= lowerNameOf(scriptPath, lastSlash, trailing)))
          : true
      ) {
        handler = h;
        break;
      }
    }
    if (!handler)
      return refused(
        {
          status: 404,
          substatus: 4,
          check: "handler.none",
          message: `No handler mapping matches ${method} ${lowerNameOf(scriptPath, lastSlash, trailing) || "/"} (after accessPolicy filtering)`,
          source: null,
        },
        "handler",
        { canonicalPath: canon, notes },
      );
    switch (handler.role) {
      case "static":
        break;
      case "protocol":
      case "webdav":
        return pass(handler.mapping.name, canon, notes);
      case "execute":
        return handlerRefusal(
          {
            status: 404,
            substatus: 2,
            check: "handler.execute",
            message: `Handler ${handler.mapping.name} (${handler.mapping.path}) would run this file as ISAPI/CGI (accessPolicy grants Execute), not download it; without an isapiCgiRestriction entry IIS answers 404.2`,
            source: handler.mapping.source,
            inferred: "§9.1 exact status for Execute-mapped files",
          },
          canon,
          handler.mapping.name,
          notes,
        );
      default: {
        const extensionless = handler.kind === "noext";
        return handlerRefusal(
          {
            status: extensionless ? 404 : 500,
            substatus: 0,
            check: "handler.dynamic",
            message: extensionless
              ? `Dynamic handler ${handler.mapping.name} (${handler.mapping.path}) claims this extensionless name: ASP.NET would route it, not download the file (ends 404)`
              : `Dynamic handler ${handler.mapping.name} (${handler.mapping.path}) would execute this file, not download it (status depends on the script: compile error, 404 or 500)`,
            source: handler.mapping.source,
            inferred: "§9.3 dynamic handlers intercept package files",
          },
          canon,
          handler.mapping.name,
          notes,
        );
      }
    }
  }
  return staticFile(
    method,
    canon,
    scriptPath,
    trailing,
    directory,
    nameDot >= 0 &&
      (known
        ? scriptPath.indexOf(".", lastSlash + 1) !== lastDot
        : (lowerName ??= lowerNameOf(scriptPath, lastSlash, trailing)).indexOf(".") !== nameDot),
    lowerExt,
    req,
    cfg,
    c,
    handler,
    rec,
    notes,
  );
}

/** The lower-cased last segment of a script path (without its trailing '/'); lastSlash from the pass, else -1. */
function lowerNameOf(scriptPath: string, lastSlash: number, trailing: boolean): string {
  const start =
    (lastSlash >= 0 && !trailing
      ? lastSlash
      : scriptPath.lastIndexOf("/", trailing ? scriptPath.length - 2 : undefined)) + 1;
  return scriptPath.slice(start, trailing ? scriptPath.length - 1 : scriptPath.length).toLowerCase();
}

/**
 * For tests (test/engine/fastpath.test.ts): false takes the static file handler's name, last dot and extension from
 * the lower-cased name (the definition) instead of the canonicalization pass's positions. Same verdicts either way.
 */
export function setNameFromPass(on: boolean): void {
  nameFromPass = on;
}
let nameFromPass = true;

/**
 * For tests (test/engine/fastpath.test.ts): false makes the handler layer and the static file handler take handler
 * candidates and mimeMaps from candidatesFor and the mimeMap index (the definition) instead of the per-extension
 * record (compiled.ts extRecordFor). Same verdicts either way.
 */
export function setExtRecords(on: boolean): void {
  extRecords = on;
}
let extRecords = true;

/** notes plus n: appended in place, or copied when notes is a shared frozen array (verdict notes are never mutated). */
function withNote(notes: string[] | undefined, n: string): string[] {
  if (notes === undefined) return [n];
  if (Object.isFrozen(notes)) return notes.concat(n);
  notes.push(n);
  return notes;
}

/** Does the path end with "/sccm" (any case)? The client's sccm? URL form (§10.1). */
function endsWithSccm(p: string): boolean {
  const n = p.length;
  return (
    n >= 5 &&
    p.charCodeAt(n - 5) === 47 &&
    (p.charCodeAt(n - 4) | 32) === 115 &&
    (p.charCodeAt(n - 3) | 32) === 99 &&
    (p.charCodeAt(n - 2) | 32) === 99 &&
    (p.charCodeAt(n - 1) | 32) === 109
  );
}

function pass(handler: string, canon: string, notes: string[] | undefined): Verdict {
  const v: Verdict = {
    status: 200,
    substatus: 0,
    layer: "pass",
    reasons: NO_REASONS,
    orderInferred: false,
    canonicalPath: canon,
    handler,
  };
  if (notes) v.notes = notes;
  return v;
}

function staticFile(
  method: string,
  canon: string,
  scriptPath: string,
  trailing: boolean,
  directory: boolean,
  /** The name has a '.' before its last one (§13.16: its mimeMap is still the last dot's). */
  multiDot: boolean,
  /** The name's extension from its last '.' (§9.2: "." for none or a trailing dot). */
  ext: string,
  req: HttpRequest,
  cfg: EffectiveConfig,
  c: Compiled,
  handler: CompiledHandler | null,
  /** The name's extension record, when the handler layer took one (null: look the mimeMap up here). */
  rec: ExtRecord | null,
  notes: string[] | undefined,
): Verdict {
  const name = handler?.mapping.name ?? "StaticFile";
  const file = req.file;
  if (c.staticContentErrors)
    return configVerdict(
      cfg.errors.filter((e) => isStaticContentSection(e.section)),
      canon,
    );
  if (file?.exists === false)
    return handlerRefusal(
      {
        status: 404,
        substatus: 0,
        check: "static.notFound",
        message: "The file does not exist",
        source: null,
      },
      canon,
      name,
      notes,
    );
  if (trailing && file?.isDirectory === false)
    return handlerRefusal(
      {
        status: 500,
        substatus: 0,
        check: "static.trailingSlash",
        message: "A trailing '/' after a file name: the static file handler answers 500.0 (spec §5.3)",
        source: null,
      },
      canon,
      name,
      notes,
    );
  if (directory) {
    if (!trailing)
      return handlerRefusal(
        {
          status: 301,
          substatus: 0,
          check: "static.directory",
          message: `${scriptPath} is a folder: IIS redirects to ${scriptPath}/ (spec §9.2)`,
          source: null,
        },
        canon,
        name,
        notes,
      );
    return handlerRefusal(
      {
        status: 403,
        substatus: 14,
        check: "static.directory",
        message: `${scriptPath} is a folder URL: with no default document and directory browsing off, IIS answers 403.14`,
        source: null,
        inferred: "§9.2 assumes no default document and directoryBrowse disabled (not modelled)",
      },
      canon,
      name,
      notes,
    );
  }
  if (file?.hidden === true)
    return handlerRefusal(
      {
        status: 404,
        substatus: 9,
        check: "static.hiddenFile",
        message: "The file has the Hidden attribute: the static file handler refuses it (404.9)",
        source: null,
        inferred: "§9.2 substatus .9 (KB943891); the 404 itself is documented (KB216803)",
      },
      canon,
      name,
      notes,
    );
  // mimeMap: last-dot extension, then the ".*" fallback (§9.2, §13.16 inferred)
  const mime = rec !== null ? rec.mime : cfg.staticContent.index.get(ext);
  if (!mime) {
    const star = rec !== null ? rec.star : cfg.staticContent.index.get(".*");
    if (!star)
      return handlerRefusal(
        inferredIf(
          {
            status: 404,
            substatus: 3,
            check: "static.mimeMap",
            message:
              ext === "."
                ? `The name has no extension and there is no <mimeMap fileExtension="." …>: the static file handler refuses it`
                : `There is no mimeMap for ${ext}: the static file handler refuses to serve it`,
            source: null,
          },
          multiDot
            ? "§13.16 mimeMap looked up by the last dot only (multi-dot keys like .exe.config ignored)"
            : undefined,
        ),
        canon,
        name,
        notes,
      );
    notes = withNote(
      notes,
      `no mimeMap for ${ext}; the ".*" mimeMap (${star.mimeType}) serves it (spec §13.16 inferred: last dot, then ".*")`,
    );
  } else if (multiDot)
    notes = withNote(
      notes,
      `mimeMap chosen by the last dot (${ext} → ${mime.mimeType}); multi-dot keys are not consulted (spec §13.16 inferred)`,
    );
  if (!STATIC_VERBS.has(method))
    return handlerRefusal(
      {
        status: 405,
        substatus: 0,
        check: "static.verb",
        message: `The static file handler answers ${method} with 405 (it allows GET, HEAD, OPTIONS, TRACE)`,
        source: null,
      },
      canon,
      name,
      notes,
    );
  return pass(name, canon, notes);
}
