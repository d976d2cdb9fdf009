/**
 * Per-EffectiveConfig lookup structures the engine builds once (the loader returns the same EffectiveConfig object
 * for every URL under the same configuration prefix, so a WeakMap keyed by it is a cache hit on the hot path).
 * Spec: iis-request-filtering.md §6 (keys case-insensitive except verbs), §9.1 (handler selection, accessPolicy).
 */
import type {
  EffectiveConfig,
  HandlerMapping,
  HeaderLimitRule,
  MimeMapEntry,
  QueryStringRule,
  SequenceRule,
  UrlRule,
  VerbRule,
} from "../config/types.js";

export type HandlerRole = "static" | "protocol" | "webdav" | "execute" | "dynamic";
type PatternKind = "any" | "ext" | "noext" | "exact" | "glob";

export interface CompiledHandler {
  mapping: HandlerMapping;
  kind: PatternKind;
  /** lower-cased extension with its dot for "ext" ("*.aspx" → ".aspx"), lower-cased name for "exact". */
  key: string;
  /**
   * The extension a "glob" pattern ends with (".axd" for "*ScriptResource.axd"), "" when unknown; for "exact", the
   * key's extension as the static file handler defines it (last dot, "." for none or a trailing dot).
   */
  globExt: string;
  re: RegExp | null;
  /** null = every verb ("*"). Verbs compare case-sensitively (HTTP methods). */
  verbs: Set<string> | null;
  resourceType: "file" | "directory" | "either" | "unspecified";
  role: HandlerRole;
}

export interface Compiled {
  /** (segment length, lower-cased ASCII first character) of every hidden segment: a cheap pre-filter (§6.9). */
  hiddenKeys: Set<number>;
  /** hiddenKeys as a bitmap indexed by key (keys of segments longer than hiddenMaxLen are never set). */
  hiddenBits: Uint8Array;
  hiddenMaxLen: number;
  /** Pre-filter of the fileExtensions keys (§6.10): an ASCII extension absent from it is not listed. */
  extensionFilter: KeyFilter;
  /** Pre-filter of the pathInfoClaimers keys (§5.4). */
  claimerFilter: KeyFilter;
  denyUrlSequences: { lower: string; rule: SequenceRule }[];
  denyQueryStringSequences: { lower: string; rule: SequenceRule }[];
  /** alwaysAllowedUrls with a leading `/`, key lower-cased (§6.1, §13.6). */
  alwaysAllowedUrls: Map<string, UrlRule>;
  /** Entries written without the leading `/` (never match [INF], reported in a note). Key = "/" + lower-cased url. */
  alwaysAllowedUrlsNoSlash: Map<string, UrlRule>;
  alwaysAllowedQueryStrings: Map<string, QueryStringRule>;
  headerLimits: { lower: string; rule: HeaderLimitRule }[];
  /** Handler mappings left after accessPolicy/preCondition filtering, in collection order (§9.1). */
  handlers: CompiledHandler[];
  /** Mappings skipped because accessPolicy does not grant their requireAccess (for notes). */
  skippedByAccessPolicy: HandlerMapping[];
  /** "*.ext" mappings with resourceType Unspecified, by lower-cased ext: they can claim path info (§5.4, §13.5). */
  pathInfoClaimers: Map<string, CompiledHandler[]>;
  /** Candidate handlers by verb, then by ext ("" = directory) — bounded cache, no key concatenation. */
  candidates: Map<string, Map<string, CompiledHandler[]>>;
  /** What the static layer derives from a file name's extension alone, by the extension as spelled in the URL. */
  extRecords: Map<string, ExtRecord>;
  /** The effective config's mimeMap index (§9.2), for the extension records. */
  mimeIndex: Map<string, MimeMapEntry>;
  /** Do the verbs rules (§6.6) treat GET and HEAD differently? */
  verbsHeadGetDiffer: boolean;
  /** The verbs rules for GET and HEAD (the methods BITS sends), looked up once (§6.6, case-sensitive keys). */
  verbGet: VerbRule | undefined;
  verbHead: VerbRule | undefined;
  /** Handler mappings that list one of GET and HEAD but not the other (§9.1), e.g. verb="GET,DEBUG". */
  headGetDiffering: CompiledHandler[];
  /** Does the effective config carry staticContent errors (500.19 only for requests reaching StaticFile, §8.4)? */
  staticContentErrors: boolean;
}

const cache = new WeakMap<EffectiveConfig, Compiled>();

/** The last (config, compiled) pair: consecutive requests mostly share one effective config (no WeakMap probe). */
let lastCfg: EffectiveConfig | null = null;
let lastCompiled: Compiled | null = null;

export function compile(cfg: EffectiveConfig): Compiled {
  if (cfg === lastCfg && lastCompiled !== null) return lastCompiled;
  let c = cache.get(cfg);
  if (!c) {
    c = build(cfg);
    cache.set(cfg, c);
  }
  lastCfg = cfg; // set after build(), which may throw
  lastCompiled = c;
  return c;
}

function lowerMap<T>(items: T[], key: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    const k = key(it).toLowerCase();
    if (!m.has(k)) m.set(k, it);
  }
  return m;
}

function build(cfg: EffectiveConfig): Compiled {
  const rf = cfg.requestFiltering;
  const hiddenKeys = new Set<number>();
  for (const s of rf.hiddenSegments.items) hiddenKeys.add(hiddenKey(s.segment, 0, s.segment.length));
  let hiddenMaxLen = 0;
  for (const k of hiddenKeys) hiddenMaxLen = Math.max(hiddenMaxLen, k >> 7);
  const hiddenBits = new Uint8Array((hiddenMaxLen + 1) * 128);
  for (const k of hiddenKeys) hiddenBits[k] = 1;
  const withSlash = rf.alwaysAllowedUrls.filter((u) => u.url.startsWith("/"));
  const noSlash = rf.alwaysAllowedUrls.filter((u) => !u.url.startsWith("/"));
  const policy = new Set((cfg.handlers?.accessPolicy ?? []).map((p) => p.trim().toLowerCase()));
  const handlers: CompiledHandler[] = [];
  const skipped: HandlerMapping[] = [];
  for (const m of cfg.handlers?.items ?? []) {
    if (!accessGranted(m.requireAccess, policy)) {
      skipped.push(m);
      continue;
    }
    if (!preConditionHolds(m.preCondition)) continue;
    handlers.push(compileHandler(m));
  }
  const pathInfoClaimers = new Map<string, CompiledHandler[]>();
  for (const h of handlers) {
    if (h.kind !== "ext" || h.resourceType !== "unspecified") continue;
    const list = pathInfoClaimers.get(h.key) ?? [];
    list.push(h);
    pathInfoClaimers.set(h.key, list);
  }
  return {
    hiddenKeys,
    hiddenBits,
    hiddenMaxLen,
    extensionFilter: keyFilter(rf.fileExtensions.index.keys()),
    claimerFilter: keyFilter(pathInfoClaimers.keys()),
    denyUrlSequences: rf.denyUrlSequences.map((rule) => ({ lower: rule.sequence.toLowerCase(), rule })),
    denyQueryStringSequences: rf.denyQueryStringSequences.map((rule) => ({
      lower: rule.sequence.toLowerCase(),
      rule,
    })),
    alwaysAllowedUrls: lowerMap(withSlash, (u) => u.url),
    alwaysAllowedUrlsNoSlash: lowerMap(noSlash, (u) => `/${u.url}`),
    alwaysAllowedQueryStrings: lowerMap(rf.alwaysAllowedQueryStrings, (q) => q.queryString),
    headerLimits: rf.requestLimits.headerLimits.map((rule) => ({ lower: rule.header.toLowerCase(), rule })),
    handlers,
    skippedByAccessPolicy: skipped,
    pathInfoClaimers,
    candidates: new Map(),
    extRecords: new Map(),
    mimeIndex: cfg.staticContent.index,
    verbsHeadGetDiffer: verbAllowed(rf, "GET") !== verbAllowed(rf, "HEAD"),
    verbGet: rf.verbs.index.get("GET"),
    verbHead: rf.verbs.index.get("HEAD"),
    headGetDiffering: handlers.filter((h) => h.verbs !== null && h.verbs.has("GET") !== h.verbs.has("HEAD")),
    staticContentErrors: cfg.errors.some((e) => isStaticContentSection(e.section)),
  };
}

/** Does the verbs rule set (§6.6) let this verb through (listed allowed, or unlisted and allowUnlisted)? */
function verbAllowed(rf: EffectiveConfig["requestFiltering"], verb: string): boolean {
  const v = rf.verbs.index.get(verb);
  return v ? v.allowed : rf.verbs.allowUnlisted.value;
}

/**
 * Pre-filter key of the segment s[start, end): length and ASCII-lower-cased first character. A non-ASCII first
 * character maps to 0 (compared by full case folding after the pre-filter).
 */
export function hiddenKey(s: string, start: number, end: number): number {
  return hiddenKeyOf(end - start, s.charCodeAt(start));
}

/** hiddenKey of a segment of this length whose first character has this code. */
export function hiddenKeyOf(length: number, first: number): number {
  let c = first;
  if (c >= 65 && c <= 90) c += 32;
  else if (c > 127) c = 0;
  return length * 128 + c;
}

/**
 * A pre-filter of a set of lower-cased keys by (length, last character, second character): lets the hot path skip
 * the slice, lower-casing and Map lookup of a name that cannot be a key (".dll" no longer passes because ".jsl" is
 * listed). Conservative: with a non-ASCII key it admits everything.
 */
export interface KeyFilter {
  /** Bit (second character & 31) of word (length × 128 + lower-cased last character). */
  bits: Uint32Array;
  maxLen: number;
  /** false when a key has a non-ASCII character (then every name may match). */
  exact: boolean;
}

/** The filter's bit for a key or name of length `len`: its second character's low 5 bits (the same for both cases of a letter). */
function secondBit(s: string, start: number, len: number): number {
  return len >= 2 ? s.charCodeAt(start + 1) & 31 : 0;
}

export function keyFilter(keys: Iterable<string>): KeyFilter {
  const list = [...keys];
  let exact = true;
  let maxLen = 0;
  for (const k of list) {
    if (k.length > maxLen) maxLen = k.length;
    for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) > 127) exact = false;
  }
  const bits = new Uint32Array((maxLen + 1) * 128);
  for (const k of list)
    if (k.length > 0)
      bits[k.length * 128 + (k.charCodeAt(k.length - 1) & 127)] |= 1 << secondBit(k, 0, k.length);
  return { bits, maxLen, exact };
}

/**
 * May the ASCII name s[start, end), lower-cased, be one of the filter's keys? (Callers guarantee s is ASCII: a
 * non-ASCII name can change length when lower-cased.)
 */
export function mayBeKey(f: KeyFilter, s: string, start: number, end: number): boolean {
  if (!f.exact) return true;
  const len = end - start;
  if (len > f.maxLen || len === 0) return false;
  let c = s.charCodeAt(end - 1);
  if (c >= 65 && c <= 90) c += 32;
  return (f.bits[len * 128 + c] & (1 << secondBit(s, start, len))) !== 0;
}

export function isStaticContentSection(section: string): boolean {
  return section.toLowerCase().endsWith("staticcontent");
}

/** requireAccess vs accessPolicy (§9.1, D-HANDLERS). Execute implies Script (IIS access flags) [INF]. */
function accessGranted(requireAccess: string | undefined, policy: Set<string>): boolean {
  const need = (requireAccess || "Script").trim().toLowerCase();
  if (need === "none") return true;
  if (need === "script") return policy.has("script") || policy.has("execute");
  return policy.has(need);
}

/**
 * preCondition filtering [INF]: assume an integrated-pipeline, 64-bit application pool running .NET 4 (the IIS 10
 * DefaultAppPool), so mappings conditioned on classicMode, bitness32 or runtimeVersionv2.0 are skipped.
 */
function preConditionHolds(pre: string | undefined): boolean {
  if (!pre) return true;
  const p = pre.toLowerCase();
  return !(p.includes("classicmode") || p.includes("bitness32") || p.includes("runtimeversionv2.0"));
}

function compileHandler(m: HandlerMapping): CompiledHandler {
  const path = (m.path ?? "").trim().toLowerCase();
  let kind: PatternKind;
  let key = "";
  let globExt = "";
  let re: RegExp | null = null;
  if (path === "*") kind = "any";
  else if (path === "*.") kind = "noext";
  else if (path.startsWith("*.") && path.indexOf("*", 1) < 0 && path.indexOf(".", 2) < 0) {
    kind = "ext";
    key = path.slice(1);
  } else if (!path.includes("*")) {
    kind = "exact";
    key = path;
    // the name's extension when it is the key (§9.2's definition: last dot, "." for none or a trailing one)
    const dot = path.lastIndexOf(".");
    globExt = dot < 0 || dot === path.length - 1 ? "." : path.slice(dot);
  } else {
    kind = "glob";
    const dot = path.lastIndexOf(".");
    if (dot >= 0 && !path.slice(dot).includes("*")) globExt = path.slice(dot);
    re = new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "s");
  }
  const verbText = (m.verb ?? "*").trim();
  const verbs =
    verbText === "*" || verbText === "" ? null : new Set(verbText.split(",").map((v) => v.trim()));
  const rt = (m.resourceType || "Unspecified").trim().toLowerCase();
  const resourceType =
    rt === "file" ? "file" : rt === "directory" ? "directory" : rt === "either" ? "either" : "unspecified";
  return { mapping: m, kind, key, globExt, re, verbs, resourceType, role: roleOf(m) };
}

function roleOf(m: HandlerMapping): HandlerRole {
  const modules = (m.modules ?? "").toLowerCase();
  if (modules.includes("staticfilemodule")) return "static";
  if (modules.includes("protocolsupportmodule")) return "protocol";
  if (modules.includes("webdavmodule")) return "webdav";
  const access = (m.requireAccess ?? "").trim().toLowerCase();
  if (access === "execute" && !m.scriptProcessor && /isapimodule|cgimodule/.test(modules)) return "execute";
  return "dynamic";
}

/** Does a compiled pattern match a lower-cased file name (the last segment)? */
export function patternMatches(h: CompiledHandler, lowerName: string): boolean {
  switch (h.kind) {
    case "any":
      return true;
    case "ext":
      return lowerName.endsWith(h.key) && lowerName.length > h.key.length;
    case "noext": {
      const dot = lowerName.lastIndexOf(".");
      return dot < 0 || dot === lowerName.length - 1;
    }
    case "exact":
      return lowerName === h.key;
    default:
      return h.re?.test(lowerName) === true;
  }
}

const MAX_CANDIDATE_KEYS = 4096;

/**
 * Could this mapping serve a name with extension `lowerExt` (verbs aside)? "glob"/"exact" patterns are tested
 * against the full name by patternMatches.
 */
export function couldServe(h: CompiledHandler, lowerExt: string, directory: boolean): boolean {
  if (directory ? h.resourceType === "file" : h.resourceType === "directory") return false;
  switch (h.kind) {
    case "ext":
      return lowerExt === h.key; // "*.ext" matches exactly the names whose last-dot extension is ext
    case "noext":
      return !directory && lowerExt === "."; // directories stay with DefaultDocument/DirectoryListing [INF]
    case "glob":
      return !h.globExt || h.globExt === lowerExt;
    case "exact":
      // a file name equal to the key has the key's extension (a folder's name is not matched by extension)
      return directory || h.globExt === lowerExt;
    default:
      return true;
  }
}

/**
 * Handlers that could match a name with extension `lowerExt` for `verb`, in collection order; "glob"/"exact"
 * patterns stay in the list and are tested against the full name at run time.
 */
export function candidatesFor(
  c: Compiled,
  verb: string,
  lowerExt: string,
  directory: boolean,
): CompiledHandler[] {
  const key = directory ? "" : lowerExt;
  let byExt = c.candidates.get(verb);
  if (!byExt) {
    if (c.candidates.size >= MAX_CANDIDATE_KEYS) c.candidates.clear();
    byExt = new Map();
    c.candidates.set(verb, byExt);
  }
  let list = byExt.get(key);
  if (list) return list;
  list = [];
  for (const h of c.handlers) {
    if (h.verbs !== null && !h.verbs.has(verb)) continue;
    if (couldServe(h, lowerExt, directory)) list.push(h);
  }
  if (byExt.size >= MAX_CANDIDATE_KEYS) byExt.clear();
  byExt.set(key, list);
  return list;
}

/**
 * Everything the handler layer and the static file handler derive from a file name's extension alone (§9.1, §9.2),
 * for one compiled configuration: a static-form verdict does one lookup, keyed by the extension as the URL spells it
 * (no lower-casing). Names only — folders (directory requests) take candidatesFor.
 */
export interface ExtRecord {
  /** The lower-cased extension from the last '.' ("." for none or a trailing dot, §9.2). */
  lowerExt: string;
  /** candidatesFor(c, "GET" / "HEAD", lowerExt, false). */
  get: CompiledHandler[];
  head: CompiledHandler[];
  /** The mappings of c.headGetDiffering that could serve a name with this extension (§9.1). */
  headGetDiffering: CompiledHandler[];
  /** The mimeMap of lowerExt, and the ".*" fallback (§9.2, §13.16 inferred). */
  mime: MimeMapEntry | undefined;
  star: MimeMapEntry | undefined;
}

/**
 * The extension record of a file name whose extension is spelled `ext` in the URL (any case; "." for none or a
 * trailing dot). Bounded: the map is cleared past MAX_CANDIDATE_KEYS spellings.
 */
export function extRecordFor(c: Compiled, ext: string): ExtRecord {
  let r = c.extRecords.get(ext);
  if (r !== undefined) return r;
  const lowerExt = ext.toLowerCase();
  r = {
    lowerExt,
    get: candidatesFor(c, "GET", lowerExt, false),
    head: candidatesFor(c, "HEAD", lowerExt, false),
    headGetDiffering: c.headGetDiffering.filter((h) => couldServe(h, lowerExt, false)),
    mime: c.mimeIndex.get(lowerExt),
    star: c.mimeIndex.get(".*"),
  };
  if (c.extRecords.size >= MAX_CANDIDATE_KEYS) c.extRecords.clear();
  c.extRecords.set(ext, r);
  return r;
}
