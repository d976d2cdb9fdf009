/**
 * Loading applicationHost.config (+ web.config files mapped to URL paths) into a ServerConfig whose
 * `effective(site, path)` answers in a few dozen nanoseconds (spec iis-request-filtering.md §2, §3, §8).
 *
 * effective() walks a per-site character trie of the config-relevant paths (location paths, web.config URL paths,
 * application and virtual-directory roots), case-folded like IIS (§8.1 step 4, [INF] case-insensitive), finds the
 * deepest relevant prefix without allocating, and returns the EffectiveConfig cached on that trie node.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.js";
import { defaultRequestFiltering } from "./defaults.js";
import {
  appHostLevels,
  type ConfigLevel,
  type Declarations,
  readDeclarations,
  readSites,
  splitSegments,
  webConfigLevels,
} from "./files.js";
import { type ElState, elementSource, type MergeContext, mergeElement, newState } from "./merge.js";
import {
  GLOBAL_MODULES_SECTION,
  HANDLERS_SECTION,
  MERGED_SECTIONS,
  MODULES_SCHEMA,
  MODULES_SECTION,
  RF_SECTION,
  SITES_SECTION,
  STATIC_SECTION,
} from "./schema.js";
import type {
  ConfigError,
  EffectiveConfig,
  HandlerMapping,
  MimeMapEntry,
  RequestFilteringConfig,
  ServerConfig,
  Setting,
  Site,
  SourceRef,
} from "./types.js";
import { parseXmlBytes, parseXmlText, type XmlDocument } from "./xml.js";

export interface LoadServerOptions {
  /** Path of an applicationHost.config. */
  config?: string;
  /**
   * web.config files mapped to URL paths: "/SMS_DP_SMSPKG$" (on the default site) or "Site Name/path".
   * A web.config below a virtual directory with allowSubDirConfig="false" is not read (D-VDIR, §8.1).
   */
  webConfigs?: { urlPath: string; file: string }[];
  /** Embedded profile used when no config is given (default "aspnet"). */
  profile?: "iis" | "aspnet";
}

export interface AppHostText {
  text: string;
  file: string;
}
export interface WebConfigText {
  urlPath: string;
  text: string;
  file: string;
}

export const PROFILE_LABELS: Record<"iis" | "aspnet", string> = {
  iis: "IIS 10 defaults without ASP.NET",
  aspnet: "IIS 10 + ASP.NET defaults",
};

function readBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, expected a configuration file"
          : `cannot read file (${code ?? String(e)})`;
    throw new InputError(why, { file });
  }
}

/** Locate `profiles/<name>/applicationHost.config` from src/config (tsx) or dist/src/config (build). */
function profileBytes(name: "iis" | "aspnet"): Uint8Array {
  const rel = `profiles/${name}/applicationHost.config`;
  for (const up of ["../../", "../../../"]) {
    try {
      return readFileSync(new URL(up + rel, import.meta.url));
    } catch {
      // try the next depth
    }
  }
  throw new InputError(`embedded profile "${name}" is missing from the installation`, { file: rel });
}

export function loadServer(opts: LoadServerOptions = {}): ServerConfig {
  let appHost: XmlDocument;
  let origin: string;
  if (opts.config !== undefined) {
    appHost = parseXmlBytes(readBytes(opts.config), opts.config);
    origin = `--config ${opts.config}`;
  } else {
    const name = opts.profile ?? "aspnet";
    appHost = parseXmlBytes(profileBytes(name), `profiles/${name}/applicationHost.config`);
    origin = `embedded profile ${name} (${PROFILE_LABELS[name]})`;
  }
  const webs = (opts.webConfigs ?? []).map((w) => ({
    urlPath: w.urlPath,
    doc: parseXmlBytes(readBytes(w.file), w.file),
  }));
  if (webs.length > 0) origin += ` + ${webs.length} web.config file${webs.length === 1 ? "" : "s"}`;
  return buildServer(appHost, webs, origin, opts.config === undefined);
}

export function loadServerFromText(appHost: AppHostText, webConfigs: WebConfigText[] = []): ServerConfig {
  const doc = parseXmlText(appHost.text, appHost.file);
  const webs = webConfigs.map((w) => ({ urlPath: w.urlPath, doc: parseXmlText(w.text, w.file) }));
  return buildServer(doc, webs, appHost.file);
}

// ---------------------------------------------------------------------------------------------------------------

/** A segment trie: children are few, so a linear scan with in-place case-folded compare beats hashing. */
interface TrieNode {
  /** Lower-cased segment labels of the children, parallel to `kids`. */
  labels: string[];
  /** The same labels as first written in the configuration (fast exact-case path). */
  written: string[];
  kids: TrieNode[];
  relevant: boolean;
  /** Site-relative segments (original case of the first writer) of a relevant node. */
  segments: string[];
  cached: EffectiveConfig | null;
}
function newNode(): TrieNode {
  return { labels: [], written: [], kids: [], relevant: false, segments: [], cached: null };
}

/**
 * The deepest relevant trie node whose segments prefix `p` (separators "/" and "\\", repeated ones collapse).
 * One pass: each label is compared in place against the path (first differing character fails fast), then the
 * character after it must end the segment. No allocation.
 */
function deepestRelevant(root: TrieNode, p: string): TrieNode {
  let node = root;
  let best = root;
  const n = p.length;
  let i = 0;
  while (node.labels.length > 0) {
    while (i < n && isSeparator(p.charCodeAt(i))) i++;
    if (i >= n) break;
    const labels = node.labels;
    let k = 0;
    let end = i;
    for (; k < labels.length; k++) {
      end = matchSegment(p, i, labels[k] as string, node.written[k] as string);
      if (end >= 0) break;
    }
    if (k === labels.length) break;
    node = node.kids[k] as TrieNode;
    if (node.relevant) best = node;
    i = end;
  }
  return best;
}

/**
 * The deepest relevant trie node for every path `folder` + name, where `folder` ends with a separator and the name
 * has none: null when a relevant node lies strictly below the folder (a location, web.config, application or virtual
 * directory whose path is the folder + one more segment or deeper), whose node a name could reach. Same walk as
 * deepestRelevant; a folder whose segments leave the trie has nothing below it.
 */
function folderRelevant(root: TrieNode, folder: string): TrieNode | null {
  const n = folder.length;
  if (n === 0 || !isSeparator(folder.charCodeAt(n - 1))) return null;
  let node = root;
  let best = root;
  let i = 0;
  while (node.labels.length > 0) {
    while (i < n && isSeparator(folder.charCodeAt(i))) i++;
    if (i >= n) return null; // the folder's own node has children: a name may be one of them
    const labels = node.labels;
    let k = 0;
    let end = i;
    for (; k < labels.length; k++) {
      end = matchSegment(folder, i, labels[k] as string, node.written[k] as string);
      if (end >= 0) break;
    }
    if (k === labels.length) return best; // the folder leaves the trie: nothing relevant below it
    node = node.kids[k] as TrieNode;
    if (node.relevant) best = node;
    i = end;
  }
  return best;
}

function isSeparator(c: number): boolean {
  return c === 47 || c === 92;
}

/** If the segment of `p` starting at `i` equals the label (case-insensitively), the index after it; else -1. */
function matchSegment(p: string, i: number, label: string, written: string): number {
  const len = label.length;
  const end = i + len;
  if (end > p.length) return -1;
  if (end !== p.length && !isSeparator(p.charCodeAt(end))) return -1;
  // Native compares first: URLs usually carry the case the config was written with.
  if (p.startsWith(written, i) || p.startsWith(label, i)) return end;
  for (let m = 0; m < len; m++) {
    const c = p.charCodeAt(i + m);
    const l = label.charCodeAt(m);
    if (c !== l && fold(c) !== l) return -1;
  }
  return end;
}

/** Case-fold a whole label the same way `fold` folds one UTF-16 unit. */
function foldString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(fold(s.charCodeAt(i)));
  return out;
}

/** IIS compares paths case-insensitively: ASCII fast path, other characters through toLowerCase. */
function fold(c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  if (c < 128) return c;
  return String.fromCharCode(c).toLowerCase().charCodeAt(0);
}

interface AppInfo {
  segments: string[]; // lower-cased
  path: string;
}
interface VdirInfo {
  segments: string[]; // lower-cased full URL segments
  path: string; // full URL path
  allowSubDirConfig: boolean;
}

interface SiteIndex {
  name: string;
  key: string;
  root: TrieNode;
  apps: AppInfo[];
  vdirs: VdirInfo[];
  levels: ConfigLevel[]; // apphost levels of this site + web.config levels, filtered later by prefix
}

interface WebConfigInput {
  urlPath: string;
  doc: XmlDocument;
}

function lower(segs: string[]): string[] {
  return segs.map((s) => s.toLowerCase());
}
function isPrefix(prefix: string[], of: string[]): boolean {
  if (prefix.length > of.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== of[i]) return false;
  return true;
}
function joinPath(segs: string[]): string {
  return `/${segs.join("/")}`;
}

/**
 * `fromProfile`: the applicationHost is an embedded profile, which cannot know which IIS modules (URL Rewrite…) the
 * admin's server has, so undeclared system.webServer sections are noted instead of predicted as 500.19.
 */
function buildServer(
  appHost: XmlDocument,
  webs: WebConfigInput[],
  origin: string,
  fromProfile = false,
): ServerConfig {
  const decl = readDeclarations(appHost);
  const warnings: string[] = [];
  if (decl.assumed) {
    warnings.push(
      `${appHost.file}: no <configSections>; assuming the shipped section registrations (requestFiltering and staticContent overrideModeDefault="Allow", §3.1)`,
    );
  }
  const hostLevels = appHostLevels(appHost, decl);
  const sitesEl = hostLevels[0]?.sections.get(SITES_SECTION)?.[0];
  const sites = readSites(appHost, sitesEl);
  const defaultSiteName = (sites.find((s) => s.id === 1) ?? sites[0])?.name || "Default Web Site";

  // globalModules: applicationHost only (AppHostOnly in practice).
  const gmEls = hostLevels[0]?.sections.get(GLOBAL_MODULES_SECTION) ?? [];
  const globalModules = newState();
  for (const el of gmEls) {
    mergeElement(globalModules, el, MODULES_SCHEMA, {
      doc: appHost,
      file: appHost.file,
      section: GLOBAL_MODULES_SECTION,
      errors: [],
    });
  }
  // An excerpt without <globalModules> (a web.config or a snippet loaded as applicationHost): assume the module is
  // installed and listed; a <remove>/<clear/> in the file can still unload it.
  const modulesAssumed = gmEls.length === 0;
  const rfGlobal =
    modulesAssumed || globalModules.items.some((i) => i.foldedKey === "requestfilteringmodule");
  if (modulesAssumed) {
    warnings.push(
      `${appHost.file}: no <globalModules>: assuming RequestFilteringModule is installed and loaded (the file looks like an excerpt, not a full applicationHost.config)`,
    );
  }

  // web.config levels, keyed by site.
  const webLevels = new Map<string, { segments: string[]; levels: ConfigLevel[] }[]>();
  for (const w of webs) {
    let siteName = defaultSiteName;
    let rest = w.urlPath;
    if (!w.urlPath.startsWith("/") && !w.urlPath.startsWith("\\")) {
      const cut = w.urlPath.search(/[/\\]/);
      siteName = cut < 0 ? w.urlPath : w.urlPath.slice(0, cut);
      rest = cut < 0 ? "" : w.urlPath.slice(cut);
    }
    const key = siteName.toLowerCase();
    const segments = splitSegments(rest);
    const list = webLevels.get(key) ?? [];
    list.push({ segments, levels: webConfigLevels(w.doc, decl, key, segments) });
    webLevels.set(key, list);
  }
  for (const list of webLevels.values()) list.sort((a, b) => a.segments.length - b.segments.length);
  // configSource="file" moves a section to another file, which dpdoctor does not follow: say so.
  const allLevels = [...hostLevels, ...[...webLevels.values()].flatMap((l) => l.flatMap((w) => w.levels))];
  for (const level of allLevels) {
    for (const [name, els] of level.sections) {
      if (!MERGED_SECTIONS.some(([n]) => n === name)) continue;
      for (const el of els) {
        const cs = el.attributes.find((a) => a.name === "configSource");
        if (cs) {
          warnings.push(
            `${level.doc.file}:${cs.line}: ${name} has configSource="${cs.value}": that file is not read; pass its content with --web-config or inline it`,
          );
        }
      }
    }
  }

  const siteIndexes = new Map<string, SiteIndex>();

  const siteIndex = (siteName: string): SiteIndex => {
    const key = siteName.toLowerCase();
    const known = siteIndexes.get(key);
    if (known) {
      siteIndexes.set(siteName, known);
      return known;
    }
    const site: Site | undefined = sites.find((s) => s.name.toLowerCase() === key);
    const apps: AppInfo[] = [];
    const vdirs: VdirInfo[] = [];
    for (const a of site?.applications ?? []) {
      const appSegs = splitSegments(a.path);
      apps.push({ segments: lower(appSegs), path: joinPath(appSegs) });
      for (const v of a.virtualDirectories) {
        const full = [...appSegs, ...splitSegments(v.path)];
        vdirs.push({ segments: lower(full), path: joinPath(full), allowSubDirConfig: v.allowSubDirConfig });
      }
    }
    if (!apps.some((a) => a.segments.length === 0)) apps.push({ segments: [], path: "/" });
    const levels: ConfigLevel[] = [];
    for (const l of hostLevels) if (l.siteKey === key) levels.push(l);
    for (const w of webLevels.get(key) ?? []) {
      const lw = lower(w.segments);
      // D-VDIR: a web.config below the root of a vdir with allowSubDirConfig="false" is not read.
      const owner = deepest(vdirs, lw);
      if (owner && !owner.allowSubDirConfig && owner.segments.length < lw.length) {
        warnings.push(
          `${w.levels[0]?.doc.file}: not read: below virtual directory ${owner.path} which has allowSubDirConfig="false" (D-VDIR)`,
        );
        continue;
      }
      levels.push(...w.levels);
    }
    const root = newNode();
    root.relevant = true;
    const idx: SiteIndex = { name: site?.name ?? siteName, key, root, apps, vdirs, levels };
    const mark = (segs: string[]): void => {
      let node = root;
      for (const seg of segs) {
        const label = foldString(seg);
        const k = node.labels.indexOf(label);
        let next = node.kids[k];
        if (k < 0 || !next) {
          next = newNode();
          node.labels.push(label);
          node.written.push(seg);
          node.kids.push(next);
        }
        node = next;
      }
      if (!node.relevant) {
        node.relevant = true;
        node.segments = segs;
      }
    };
    for (const l of levels) mark(l.segments);
    for (const a of site?.applications ?? []) mark(splitSegments(a.path));
    for (const a of site?.applications ?? []) {
      for (const v of a.virtualDirectories) mark([...splitSegments(a.path), ...splitSegments(v.path)]);
    }
    siteIndexes.set(key, idx);
    siteIndexes.set(siteName, idx);
    return idx;
  };

  // Build the sites that have web.config files now, so their warnings (allowSubDirConfig) are known at load time.
  for (const key of webLevels.keys()) siteIndex(sites.find((s) => s.name.toLowerCase() === key)?.name ?? key);

  let lastSiteName: string | null = null;
  let lastSite: SiteIndex | null = null;

  const effective = (siteName: string, canonicalPath: string): EffectiveConfig => {
    let idx: SiteIndex;
    if (siteName === lastSiteName && lastSite) idx = lastSite;
    else {
      idx = siteIndexes.get(siteName) ?? siteIndex(siteName);
      lastSiteName = siteName;
      lastSite = idx;
    }
    const best = deepestRelevant(idx.root, canonicalPath);
    return best.cached ?? computeFor(idx, best);
  };

  const forFolder = (siteName: string, folder: string): EffectiveConfig | null => {
    const idx = siteIndexes.get(siteName) ?? siteIndex(siteName);
    const best = folderRelevant(idx.root, folder);
    return best === null ? null : (best.cached ?? computeFor(idx, best));
  };

  const computeFor = (idx: SiteIndex, node: TrieNode): EffectiveConfig => {
    node.cached = computeEffective(
      idx,
      lower(node.segments),
      decl,
      hostLevels,
      rfGlobal,
      modulesAssumed,
      fromProfile,
    );
    return node.cached;
  };

  const server: ServerConfig = {
    files: [appHost.file, ...webs.map((w) => w.doc.file)],
    origin,
    sites,
    defaultSiteName,
    warnings,
    effective,
  };
  folderLookups.set(server, forFolder);
  return server;
}

/** effectiveForFolder's answer for each ServerConfig built here (a config built elsewhere has none). */
const folderLookups = new WeakMap<
  ServerConfig,
  (siteName: string, folder: string) => EffectiveConfig | null
>();

/**
 * The effective configuration shared by every URL path `folder` + name on the site, where `folder` is a canonical
 * path ending with '/' and the name contains no '/' or '\\' — i.e. when no location path, web.config, application or
 * virtual directory applies strictly below the folder (§2, §3, §8.1) — else null (one might: ask effective() per
 * path). Also null for a ServerConfig not built by this module. Lets a caller keep one configuration per folder.
 */
export function effectiveForFolder(
  config: ServerConfig,
  siteName: string,
  folder: string,
): EffectiveConfig | null {
  const lookup = folderLookups.get(config);
  return lookup === undefined ? null : lookup(siteName, folder);
}

function deepest<T extends { segments: string[] }>(list: T[], segs: string[]): T | undefined {
  let best: T | undefined;
  for (const x of list) {
    if (isPrefix(x.segments, segs) && (!best || x.segments.length > best.segments.length)) best = x;
  }
  return best;
}

/** §8.1: the levels that apply to a path, in merge order. */
function levelsFor(
  idx: SiteIndex,
  segs: string[],
  hostLevels: ConfigLevel[],
  app: AppInfo,
  notes: string[],
): ConfigLevel[] {
  const out: ConfigLevel[] = [];
  // Steps 2-3: applicationHost bare sections, then <location path=""> / ".", document order.
  for (const l of hostLevels) if (l.siteKey === null) out.push(l);
  // Step 4: <location path="Site">, "Site/a", "Site/a/b" … (deepest last); then step 5: web.config files.
  const applies = (l: ConfigLevel): boolean => {
    const ls = lower(l.segments);
    if (!isPrefix(ls, segs)) return false;
    // §8.5: inheritInChildApplications="false" stops the settings at the application that contains the location.
    if (!l.inheritInChildApplications) {
      const owner = deepest(idx.apps, ls);
      if (owner && owner !== app) {
        const at = l.location ?? l.doc.root;
        notes.push(
          `inheritInChildApplications="false" at ${l.doc.file}:${at.line} stops its settings at application ${owner.path}; this URL belongs to application ${app.path} (§8.5 [INF]: honoured for system.webServer)`,
        );
        return false;
      }
    }
    return true;
  };
  const host = idx.levels.filter((l) => l.kind === "apphost" && applies(l));
  host.sort((a, b) => a.segments.length - b.segments.length);
  out.push(...host);
  // web.config files are already in depth order; inside one file: bare first, then its locations by depth.
  const webs = idx.levels.filter((l) => l.kind === "webconfig" && applies(l));
  webs.sort((a, b) => {
    const da = a.webConfigSegments?.length ?? 0;
    const db = b.webConfigSegments?.length ?? 0;
    return da !== db ? da - db : a.segments.length - b.segments.length;
  });
  out.push(...webs);
  const hostDepths = new Set(host.map((l) => l.segments.length));
  const clash = webs.find((w) => hostDepths.has(w.webConfigSegments?.length ?? -1));
  if (clash) {
    notes.push(
      `applicationHost.config <location> blocks are applied before ${clash.doc.file} at the same path, so the web.config wins unless locked (§13 item 19 [INF])`,
    );
  }
  return out;
}

interface SectionResult {
  state: ElState;
  errors: ConfigError[];
}

function mergeSection(
  name: string,
  schema: (typeof MERGED_SECTIONS)[number][1],
  levels: ConfigLevel[],
  decl: Declarations,
  idx: SiteIndex,
  state: ElState,
): SectionResult {
  const errors: ConfigError[] = [];
  const d = decl.sections.get(name.toLowerCase());
  // §8.3: the lock state of the section, and the file that set it (a lock binds only other files).
  let mode: "Allow" | "Deny" = d?.overrideModeDefault ?? "Allow";
  let lockSource: SourceRef | null = d?.source ?? null;
  let lockFile: string | null = d?.source?.file ?? null;
  for (const level of levels) {
    const els = level.sections.get(name);
    if (els) {
      for (const e of level.errors) if (e.section === name) errors.push(e);
      let allowed = true;
      if (level.kind === "webconfig") {
        const where = (s: SourceRef | null): string => (s ? ` (${s.file}:${s.line})` : "");
        const first = els[0] as (typeof els)[number];
        const src = elementSource(level.doc, first);
        const declared = d?.allowDefinition ?? "Everywhere";
        const atAppRoot = idx.apps.some(
          (a) => isPrefix(a.segments, lower(level.segments)) && a.segments.length === level.segments.length,
        );
        if (declared === "AppHostOnly" || declared === "MachineOnly" || declared === "MachineToWebRoot") {
          errors.push({
            section: name,
            message: `section ${name} can only be set in applicationHost.config (allowDefinition="${declared}")${where(d?.source ?? null)}`,
            source: src,
          });
          allowed = false;
        } else if (declared === "MachineToApplication" && !atAppRoot) {
          errors.push({
            section: name,
            message: `section ${name} can only be set at an application root (allowDefinition="MachineToApplication")${where(d?.source ?? null)}`,
            source: src,
          });
          allowed = false;
        } else if (mode === "Deny" && lockFile !== level.doc.file) {
          // §8.3, §12 #62 (500.19: "This configuration section cannot be used at this path").
          errors.push({
            section: name,
            message: `this configuration section cannot be used at this path: it is locked at a parent level (overrideMode="Deny"${lockSource ? ` at ${lockSource.file}:${lockSource.line}` : ""})`,
            source: src,
          });
          allowed = false;
        }
      }
      if (allowed) {
        const ctx: MergeContext = { doc: level.doc, file: level.doc.file, section: name, errors };
        for (const el of els) mergeElement(state, el, schema, ctx);
      }
      if (level.overrideMode) {
        mode = level.overrideMode;
        lockSource = level.overrideSource;
        lockFile = level.doc.file;
      }
    }
  }
  return { state, errors };
}

function computeEffective(
  idx: SiteIndex,
  segs: string[],
  decl: Declarations,
  hostLevels: ConfigLevel[],
  rfGlobal: boolean,
  modulesAssumed: boolean,
  fromProfile: boolean,
): EffectiveConfig {
  const app = deepest(idx.apps, segs) ?? { segments: [], path: "/" };
  const vdir = deepest(idx.vdirs, segs);
  const notes: string[] = [];
  if (modulesAssumed)
    notes.push(
      "RequestFilteringModule assumed loaded: the configuration has no <globalModules> (an excerpt)",
    );
  const levels = levelsFor(idx, segs, hostLevels, app, notes);
  const errors: ConfigError[] = [];
  const results = new Map<string, ElState>();
  for (const [name, schema] of MERGED_SECTIONS) {
    const initial = newState();
    if (name === MODULES_SECTION && modulesAssumed) {
      const assumed = {
        key: "RequestFilteringModule",
        foldedKey: "requestfilteringmodule",
        el: newState(),
        source: { file: "(assumed)", line: 0, column: 0, text: "RequestFilteringModule assumed loaded" },
        lockedBy: null,
        assumed: true,
      };
      initial.items.push(assumed);
      initial.keys.set(assumed.foldedKey, assumed);
    }
    const r = mergeSection(name, schema, levels, decl, idx, initial);
    errors.push(...r.errors);
    results.set(name, r.state);
  }
  // §8.4: a section that is not declared fails the whole application with 500.19 (E-UR UR1).
  if (!decl.assumed) {
    const seen = new Set<string>();
    for (const l of levels) {
      for (const [name, els] of l.sections) {
        if (!name.startsWith("system.webServer/") || decl.sections.has(name.toLowerCase()) || seen.has(name))
          continue;
        if (decl.groups.has(name.toLowerCase())) continue;
        seen.add(name);
        const el = els[0] as (typeof els)[number];
        if (fromProfile) {
          notes.push(
            `${l.doc.file}:${el.line}: section ${name} is not declared in the embedded profile; assumed installed on your server (pass --config to check: undeclared sections are 500.19, §8.4)`,
          );
          continue;
        }
        errors.push({
          section: name,
          message: `section ${name} is not declared in <configSections> (is its IIS module installed?): IIS answers 500.19 for every request of this application (§8.4)`,
          source: elementSource(l.doc, el),
        });
      }
    }
  }
  const modules = results.get(MODULES_SECTION) as ElState;
  // §1: RequestFilteringModule must be in globalModules AND in the effective modules list.
  const rfLoaded = rfGlobal && modules.items.some((i) => i.foldedKey === "requestfilteringmodule");
  const staticContent = toStaticContent(results.get(STATIC_SECTION) as ElState);
  return {
    siteName: idx.name,
    requestFilteringModuleLoaded: rfLoaded,
    errors,
    requestFiltering: toRequestFiltering(results.get(RF_SECTION) as ElState),
    staticContent,
    handlers: toHandlers(results.get(HANDLERS_SECTION) as ElState),
    applicationPath: app.path,
    virtualDirectoryPath: vdir?.path ?? app.path,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

// --- ElState → shared model ------------------------------------------------------------------------------------

function setting<T>(st: ElState | undefined, name: string, def: Setting<T>): Setting<T> {
  const a = st?.attrs.get(name);
  return a ? { value: a.value as T, source: a.source } : def;
}
function bool(st: ElState, name: string, fallback: boolean): boolean {
  const v = st.attrs.get(name)?.value;
  return typeof v === "boolean" ? v : fallback;
}
function str(st: ElState, name: string): string | undefined {
  const v = st.attrs.get(name)?.value;
  return v === undefined ? undefined : String(v);
}

export function toRequestFiltering(st: ElState): RequestFilteringConfig {
  const rf = defaultRequestFiltering();
  rf.allowDoubleEscaping = setting(st, "allowDoubleEscaping", rf.allowDoubleEscaping);
  rf.allowHighBitCharacters = setting(st, "allowHighBitCharacters", rf.allowHighBitCharacters);
  rf.unescapeQueryString = setting(st, "unescapeQueryString", rf.unescapeQueryString);
  const rl = st.children.get("requestLimits");
  const limits = rf.requestLimits;
  limits.maxAllowedContentLength = setting(rl, "maxAllowedContentLength", limits.maxAllowedContentLength);
  limits.maxUrl = setting(rl, "maxUrl", limits.maxUrl);
  limits.maxQueryString = setting(rl, "maxQueryString", limits.maxQueryString);
  for (const i of rl?.children.get("headerLimits")?.items ?? []) {
    limits.headerLimits.push({
      header: i.key,
      sizeLimit: Number(i.el.attrs.get("sizeLimit")?.value ?? 0),
      source: i.source,
    });
  }
  const fe = st.children.get("fileExtensions");
  rf.fileExtensions.allowUnlisted = setting(fe, "allowUnlisted", rf.fileExtensions.allowUnlisted);
  rf.fileExtensions.applyToWebDAV = setting(fe, "applyToWebDAV", rf.fileExtensions.applyToWebDAV);
  for (const i of fe?.items ?? []) {
    const rule = { fileExtension: i.key, allowed: bool(i.el, "allowed", true), source: i.source };
    rf.fileExtensions.items.push(rule);
    rf.fileExtensions.index.set(i.foldedKey, rule);
  }
  const vb = st.children.get("verbs");
  rf.verbs.allowUnlisted = setting(vb, "allowUnlisted", rf.verbs.allowUnlisted);
  rf.verbs.applyToWebDAV = setting(vb, "applyToWebDAV", rf.verbs.applyToWebDAV);
  for (const i of vb?.items ?? []) {
    const rule = { verb: i.key, allowed: bool(i.el, "allowed", true), source: i.source };
    rf.verbs.items.push(rule);
    rf.verbs.index.set(i.key, rule);
  }
  const hs = st.children.get("hiddenSegments");
  rf.hiddenSegments.applyToWebDAV = setting(hs, "applyToWebDAV", rf.hiddenSegments.applyToWebDAV);
  for (const i of hs?.items ?? []) {
    const rule = { segment: i.key, source: i.source };
    rf.hiddenSegments.items.push(rule);
    rf.hiddenSegments.index.set(i.foldedKey, rule);
  }
  for (const i of st.children.get("denyUrlSequences")?.items ?? []) {
    rf.denyUrlSequences.push({ sequence: i.key, source: i.source });
  }
  for (const i of st.children.get("alwaysAllowedUrls")?.items ?? [])
    rf.alwaysAllowedUrls.push({ url: i.key, source: i.source });
  for (const i of st.children.get("alwaysAllowedQueryStrings")?.items ?? []) {
    rf.alwaysAllowedQueryStrings.push({ queryString: i.key, source: i.source });
  }
  for (const i of st.children.get("denyQueryStringSequences")?.items ?? []) {
    rf.denyQueryStringSequences.push({ sequence: i.key, source: i.source });
  }
  for (const i of st.children.get("filteringRules")?.items ?? []) {
    const r = i.el;
    rf.filteringRules.push({
      name: i.key,
      scanUrl: bool(r, "scanUrl", false),
      scanQueryString: bool(r, "scanQueryString", false),
      scanAllRaw: bool(r, "scanAllRaw", false),
      denyUnescapedPercent: bool(r, "denyUnescapedPercent", true),
      scanHeaders: (r.children.get("scanHeaders")?.items ?? []).map((x) => x.key),
      appliesTo: (r.children.get("appliesTo")?.items ?? []).map((x) => x.key),
      denyStrings: (r.children.get("denyStrings")?.items ?? []).map((x) => ({
        string: x.key,
        source: x.source,
      })),
      source: i.source,
    });
  }
  return rf;
}

function toStaticContent(st: ElState): EffectiveConfig["staticContent"] {
  const mimeMaps: MimeMapEntry[] = [];
  const index = new Map<string, MimeMapEntry>();
  for (const i of st.items) {
    const m = { fileExtension: i.key, mimeType: str(i.el, "mimeType") ?? "", source: i.source };
    mimeMaps.push(m);
    index.set(i.foldedKey, m);
  }
  return { mimeMaps, index };
}

function toHandlers(st: ElState): EffectiveConfig["handlers"] {
  // Schema default accessPolicy is "Read" [INF from the IIS schema]; shipped files write "Read, Script" (§3.1).
  const policy = str(st, "accessPolicy") ?? "Read";
  const accessPolicy = policy
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const items: HandlerMapping[] = st.items.map((i) => {
    const modules = str(i.el, "modules");
    const scriptProcessor = str(i.el, "scriptProcessor");
    const preCondition = str(i.el, "preCondition");
    return {
      name: i.key,
      path: str(i.el, "path") ?? "*",
      verb: str(i.el, "verb") ?? "*",
      ...(modules !== undefined ? { modules } : {}),
      ...(scriptProcessor !== undefined ? { scriptProcessor } : {}),
      ...(preCondition !== undefined ? { preCondition } : {}),
      resourceType: str(i.el, "resourceType") ?? "Unspecified",
      requireAccess: str(i.el, "requireAccess") ?? "Script",
      source: i.source,
    };
  });
  return { accessPolicy, items };
}
