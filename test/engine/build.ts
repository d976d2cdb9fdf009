/**
 * Hand-built effective configurations for engine tests (the engine consumes EffectiveConfig; merging web.config
 * files is the loader's job and is tested there). Profiles follow spec iis-request-filtering.md Appendix A (P0/P1),
 * §3.5 (handlers) and Appendix B (mimeMaps, the subset the vectors need).
 */
import { defaultRequestFiltering } from "../../src/config/defaults.js";
import type {
  ConfigError,
  EffectiveConfig,
  HandlerMapping,
  MimeMapEntry,
  RequestFilteringConfig,
  ServerConfig,
  SourceRef,
} from "../../src/config/types.js";
import type { Server } from "../../src/engine/types.js";

let line = 0;
export function src(text: string, file = "test.config"): SourceRef {
  return { file, line: ++line, column: 1, text };
}

/** P1 (ASP.NET) denied extensions, Appendix A. */
export const P1_EXTENSIONS =
  ".asax .ascx .master .skin .browser .sitemap .config .cs .csproj .vb .vbproj .webinfo .licx .resx .resources .mdb .vjsproj .java .jsl .ldb .dsdgm .ssdgm .lsad .ssmap .cd .dsprototype .lsaprototype .sdm .sdmDocument .mdf .ldf .ad .dd .ldd .sd .adprototype .lddprototype .exclude .refresh .compiled .msgx .vsdisco .rules".split(
    " ",
  );
export const P1_SEGMENTS =
  "web.config bin App_code App_GlobalResources App_LocalResources App_WebReferences App_Data App_Browsers".split(
    " ",
  );
/** Appendix B subset (keys as shipped). */
export const MIME_SUBSET =
  ".txt .exe .msi .cab .dll .inf .cat .zip .xml .mdb .gz .tar .bin .js .json .vbs .css .htm .html .jpg .png .manifest .exe.config .dll.config .esd .bak".split(
    " ",
  );

export function addExtension(rf: RequestFilteringConfig, ext: string, allowed: boolean): void {
  const rule = {
    fileExtension: ext,
    allowed,
    source: src(`<add fileExtension="${ext}" allowed="${allowed}" />`),
  };
  rf.fileExtensions.items.push(rule);
  rf.fileExtensions.index.set(ext.toLowerCase(), rule);
}
export function removeExtension(rf: RequestFilteringConfig, ext: string): void {
  rf.fileExtensions.items = rf.fileExtensions.items.filter(
    (e) => e.fileExtension.toLowerCase() !== ext.toLowerCase(),
  );
  rf.fileExtensions.index.delete(ext.toLowerCase());
}
export function addSegment(rf: RequestFilteringConfig, segment: string): void {
  const rule = { segment, source: src(`<add segment="${segment}" />`) };
  rf.hiddenSegments.items.push(rule);
  rf.hiddenSegments.index.set(segment.toLowerCase(), rule);
}
export function removeSegment(rf: RequestFilteringConfig, segment: string): void {
  rf.hiddenSegments.items = rf.hiddenSegments.items.filter(
    (e) => e.segment.toLowerCase() !== segment.toLowerCase(),
  );
  rf.hiddenSegments.index.delete(segment.toLowerCase());
}
export function addVerb(rf: RequestFilteringConfig, verb: string, allowed: boolean): void {
  const rule = { verb, allowed, source: src(`<add verb="${verb}" allowed="${allowed}" />`) };
  rf.verbs.items.push(rule);
  rf.verbs.index.set(verb, rule);
}
export function set<T>(s: { value: T; source: SourceRef | null }, value: T, text: string): void {
  s.value = value;
  s.source = src(text);
}

export function handler(
  name: string,
  path: string,
  verb: string,
  modules: string,
  resourceType = "Unspecified",
  requireAccess = "Script",
): HandlerMapping {
  return {
    name,
    path,
    verb,
    modules,
    resourceType,
    requireAccess,
    source: src(`<add name="${name}" path="${path}" />`),
  };
}

/** §3.5 relevant rows for P0 (no ASP.NET). */
export function p0Handlers(): HandlerMapping[] {
  return [
    handler("ISAPI-dll", "*.dll", "*", "IsapiModule", "File", "Execute"),
    handler("CGI-exe", "*.exe", "*", "CgiModule", "File", "Execute"),
    handler("TRACEVerbHandler", "*", "TRACE", "ProtocolSupportModule", "Unspecified", "None"),
    handler("OPTIONSVerbHandler", "*", "OPTIONS", "ProtocolSupportModule", "Unspecified", "None"),
    handler(
      "StaticFile",
      "*",
      "*",
      "StaticFileModule,DefaultDocumentModule,DirectoryListingModule",
      "Either",
      "Read",
    ),
  ];
}
/** §3.5 relevant rows for P1 (ASP.NET 4 integrated). */
export function p1Handlers(): HandlerMapping[] {
  const aspnet = ["*.aspx", "*.ashx", "*.asmx", "*.axd", "*.cshtml", "*.rem", "*.soap"].map((p) =>
    handler(`ASPNET-${p.slice(2)}`, p, "GET,HEAD,POST,DEBUG", "ManagedPipelineHandler"),
  );
  const base = p0Handlers();
  return [
    ...aspnet,
    ...base.slice(0, 4),
    handler("ExtensionlessUrlHandler-Integrated-4.0", "*.", "GET,HEAD,POST,DEBUG", "ManagedPipelineHandler"),
    base[4],
  ];
}

export interface Scope {
  /** URL prefix this effective config applies to ("/" = whole site). Longest match wins. */
  prefix: string;
  rf?: (rf: RequestFilteringConfig) => void;
  mime?: (m: MimeMapEntry[]) => MimeMapEntry[];
  handlers?: HandlerMapping[];
  errors?: ConfigError[];
  applicationPath?: string;
  requestFilteringModuleLoaded?: boolean;
}

export function mimeMaps(exts: string[]): MimeMapEntry[] {
  return exts.map((e) => ({
    fileExtension: e,
    mimeType: "application/octet-stream",
    source: src(`<mimeMap fileExtension="${e}" />`),
  }));
}

/** Builds a Server whose effective config is "profile, then every scope whose prefix covers the URL". */
export function server(profile: "P0" | "P1", ...scopes: Scope[]): Server {
  const ordered = [...scopes].sort((a, b) => a.prefix.length - b.prefix.length);
  const cache = new Map<string, EffectiveConfig>();
  const make = (applicable: Scope[]): EffectiveConfig => {
    const rf = defaultRequestFiltering();
    if (profile === "P1") {
      for (const e of P1_EXTENSIONS) addExtension(rf, e, false);
      for (const s of P1_SEGMENTS) addSegment(rf, s);
    } else addSegment(rf, "web.config");
    let mimes = mimeMaps(MIME_SUBSET);
    let handlers = profile === "P1" ? p1Handlers() : p0Handlers();
    const errors: ConfigError[] = [];
    let applicationPath = "/";
    let loaded = true;
    for (const s of applicable) {
      s.rf?.(rf);
      if (s.mime) mimes = s.mime(mimes);
      if (s.handlers) handlers = s.handlers;
      if (s.errors) errors.push(...s.errors);
      if (s.applicationPath) applicationPath = s.applicationPath;
      if (s.requestFilteringModuleLoaded !== undefined) loaded = s.requestFilteringModuleLoaded;
    }
    const index = new Map<string, MimeMapEntry>();
    for (const m of mimes) index.set(m.fileExtension.toLowerCase(), m);
    return {
      siteName: "Default Web Site",
      requestFilteringModuleLoaded: loaded,
      errors,
      requestFiltering: rf,
      staticContent: { mimeMaps: mimes, index },
      handlers: { accessPolicy: ["Read", "Script"], items: handlers },
      applicationPath,
      virtualDirectoryPath: "/",
    };
  };
  const config: ServerConfig = {
    files: ["test.config"],
    origin: "hand-built test config",
    sites: [],
    defaultSiteName: "Default Web Site",
    effective(_site, canonicalPath) {
      const lower = canonicalPath.toLowerCase();
      const applicable = ordered.filter((s) => {
        const p = s.prefix.toLowerCase();
        return p === "/" || lower === p || lower.startsWith(p.endsWith("/") ? p : `${p}/`);
      });
      const key = applicable.map((s) => s.prefix).join("|");
      let eff = cache.get(key);
      if (!eff) {
        eff = make(applicable);
        cache.set(key, eff);
      }
      return eff;
    },
  };
  return { config, siteName: "Default Web Site" };
}
