/**
 * The IIS configuration model every dpdoctor command reads.
 * Spec: ../shared/spec/iis-request-filtering.md §2 (schema, defaults), §3 (shipped defaults), §8 (merging, locking).
 *
 * Every value remembers where it came from (`SourceRef`), so a verdict can name the exact config line.
 * `source === null` means "schema default" (nothing was written in any file).
 */

/** A position in a configuration file. `file` is the path as the user gave it, or the embedded profile's path. */
export interface SourceRef {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  /**
   * The trimmed text of the source line (e.g. `<add fileExtension=".ldf" allowed="false" />`), for messages; the
   * construct itself (a start tag, an attribute) when the line is long or holds several tags (merge.ts sourceAt).
   */
  text?: string;
}

/** A scalar setting with its origin; `source: null` = schema default. */
export interface Setting<T> {
  value: T;
  source: SourceRef | null;
}

export interface FileExtensionRule {
  fileExtension: string; // as written, e.g. ".ldf"
  allowed: boolean;
  source: SourceRef;
}
export interface VerbRule {
  verb: string; // case-sensitive key (§6.6)
  allowed: boolean;
  source: SourceRef;
}
export interface SegmentRule {
  segment: string;
  source: SourceRef;
}
export interface SequenceRule {
  sequence: string;
  source: SourceRef;
}
export interface UrlRule {
  url: string;
  source: SourceRef;
}
export interface QueryStringRule {
  queryString: string;
  source: SourceRef;
}
export interface HeaderLimitRule {
  header: string;
  sizeLimit: number;
  source: SourceRef;
}
export interface DenyStringRule {
  string: string;
  source: SourceRef;
}
export interface FilteringRule {
  name: string;
  scanUrl: boolean;
  scanQueryString: boolean;
  scanAllRaw: boolean;
  denyUnescapedPercent: boolean;
  scanHeaders: string[];
  appliesTo: string[]; // file extensions, with dot
  denyStrings: DenyStringRule[];
  source: SourceRef;
}

/** Effective `system.webServer/security/requestFiltering` for one URL (§2.1, §2.2). */
export interface RequestFilteringConfig {
  allowDoubleEscaping: Setting<boolean>;
  allowHighBitCharacters: Setting<boolean>;
  unescapeQueryString: Setting<boolean>;
  requestLimits: {
    maxAllowedContentLength: Setting<number>;
    maxUrl: Setting<number>;
    maxQueryString: Setting<number>;
    headerLimits: HeaderLimitRule[];
  };
  fileExtensions: {
    allowUnlisted: Setting<boolean>;
    applyToWebDAV: Setting<boolean>;
    items: FileExtensionRule[];
    /** key = lower-cased fileExtension (case-insensitive key, §6.10) */
    index: Map<string, FileExtensionRule>;
  };
  verbs: {
    allowUnlisted: Setting<boolean>;
    applyToWebDAV: Setting<boolean>;
    items: VerbRule[];
    /** key = verb exactly as written (case-sensitive, §6.6) */
    index: Map<string, VerbRule>;
  };
  hiddenSegments: {
    applyToWebDAV: Setting<boolean>;
    items: SegmentRule[];
    /** key = lower-cased segment (§6.9) */
    index: Map<string, SegmentRule>;
  };
  denyUrlSequences: SequenceRule[];
  alwaysAllowedUrls: UrlRule[];
  alwaysAllowedQueryStrings: QueryStringRule[];
  denyQueryStringSequences: SequenceRule[];
  filteringRules: FilteringRule[];
}

export interface MimeMapEntry {
  fileExtension: string;
  mimeType: string;
  source: SourceRef;
}

export interface HandlerMapping {
  name: string;
  path: string; // "*.aspx", "*.", "*", "trace.axd"
  verb: string; // "GET,HEAD,POST" or "*"
  modules?: string;
  scriptProcessor?: string;
  resourceType: string; // File | Directory | Either | Unspecified
  requireAccess: string; // None | Read | Write | Script | Execute
  /** `preCondition` as written ("integratedMode,runtimeVersionv4.0,bitness64"); the engine skips classicMode/bitness32 rows [INF]. */
  preCondition?: string;
  source: SourceRef;
}

/** A configuration error that turns requests reading `section` into 500.19 (§8.3, §8.4). */
export interface ConfigError {
  section: string; // e.g. "system.webServer/security/requestFiltering"
  message: string; // admin's words: why the config is invalid
  source: SourceRef;
}

export interface VirtualDirectory {
  path: string; // "/" or "/SMS_DP_SMSPKG$"
  physicalPath: string; // as written (may contain %SystemDrive%)
  allowSubDirConfig: boolean;
  source: SourceRef;
}
export interface Application {
  path: string; // "/" or "/app"
  applicationPool?: string;
  virtualDirectories: VirtualDirectory[];
  source: SourceRef;
}
export interface Site {
  name: string;
  id: number;
  applications: Application[];
  bindings: string[];
  source: SourceRef;
}

/** Effective configuration for one (site, URL path). Computed once and cached by the loader. */
export interface EffectiveConfig {
  siteName: string;
  /** Is RequestFilteringModule in globalModules and in the effective modules list? (§1, corpus apphost-hwc-no-rfmodule.config) */
  requestFilteringModuleLoaded: boolean;
  /** Errors of sections this URL reads: a non-empty list for requestFiltering means 500.19 for every request here. */
  errors: ConfigError[];
  requestFiltering: RequestFilteringConfig;
  staticContent: {
    mimeMaps: MimeMapEntry[];
    /** key = lower-cased fileExtension */
    index: Map<string, MimeMapEntry>;
  };
  handlers: {
    accessPolicy: string[]; // e.g. ["Read", "Script"]
    items: HandlerMapping[];
  };
  /** The application that owns this URL (longest matching application path), if any site model exists. */
  applicationPath: string;
  /** Virtual directory that owns this URL. */
  virtualDirectoryPath: string;
  /**
   * Inferences (spec §13, [INF]) this effective configuration depends on, in plain words, e.g. the assumed order of
   * an applicationHost <location> and a web.config at the same path. Optional; added by the config helper.
   */
  notes?: string[];
}

/** A loaded server: applicationHost.config + web.config files mapped to URL paths. */
export interface ServerConfig {
  /** Files read, for messages ("profile aspnet" or a path). */
  files: string[];
  /** Human label of where the config came from ("--config X" / "embedded profile aspnet"). */
  origin: string;
  sites: Site[];
  /** Default site: id 1, else the first site, else "Default Web Site" (no sites declared). */
  defaultSiteName: string;
  /**
   * Things the loader assumed or skipped, in plain words (e.g. a web.config not read because of
   * allowSubDirConfig="false", or section registrations assumed for an excerpt). Optional; added by the config helper.
   */
  warnings?: string[];
  /**
   * Effective configuration for a canonical URL path on a site. Pure and cached:
   * the same (site, config-relevant prefix) returns the same object.
   */
  effective(siteName: string, canonicalPath: string): EffectiveConfig;
}
