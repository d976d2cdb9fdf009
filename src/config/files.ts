/**
 * From parsed XML to configuration levels: section registrations (`configSections`), the bare sections and every
 * `<location>` of applicationHost.config and of web.config files, and the site model (spec
 * iis-request-filtering.md §3.1, §8.1, §8.3, §8.5; D-VDIR for sites/applications/virtual directories).
 */
import { InputError } from "../errors.js";
import { elementSource, parseBool } from "./merge.js";
import {
  BUILTIN_DECLARATIONS,
  HANDLERS_SECTION,
  MODULES_SECTION,
  RF_SECTION,
  type SectionDeclaration,
  STATIC_SECTION,
} from "./schema.js";
import type { Application, ConfigError, Site, SourceRef, VirtualDirectory } from "./types.js";
import { attr, type XmlDocument, type XmlElement } from "./xml.js";

export interface Declarations {
  sections: Map<string, SectionDeclaration & { source: SourceRef | null }>; // key: lower-cased full name
  groups: Set<string>; // lower-cased full names
  /** true when the file had no <configSections> and the shipped registrations were assumed. */
  assumed: boolean;
}

/** One place where configuration is written: a bare file or one `<location>` of it. */
export interface ConfigLevel {
  doc: XmlDocument;
  kind: "apphost" | "webconfig";
  /** The `<location>` element, null for the sections outside any location. */
  location: XmlElement | null;
  /** Site the level belongs to (lower-cased); null = every site (applicationHost bare / `location path=""`). */
  siteKey: string | null;
  /** Site-relative URL segments the level applies to (empty = site root). */
  segments: string[];
  overrideMode: "Allow" | "Deny" | null;
  overrideSource: SourceRef | null;
  inheritInChildApplications: boolean;
  /** Section full name (as declared, e.g. "system.webServer/security/requestFiltering") → elements, document order. */
  sections: Map<string, XmlElement[]>;
  /** Problems of the level itself (e.g. overrideMode and allowOverride combined), per section. */
  errors: ConfigError[];
  /** For web.config levels: URL path of the web.config's directory (site-relative segments). */
  webConfigSegments?: string[];
}

/** Split a URL/location path into non-empty segments. */
export function splitSegments(path: string): string[] {
  return path.split(/[/\\]+/).filter((s) => s !== "" && s !== ".");
}

export function readDeclarations(doc: XmlDocument | null): Declarations {
  const sections: Declarations["sections"] = new Map();
  const groups = new Set<string>();
  const cs =
    doc?.root.name === "configuration"
      ? doc.root.children.find((c) => c.name === "configSections")
      : undefined;
  if (!cs || !doc) {
    for (const d of BUILTIN_DECLARATIONS) {
      sections.set(d.name.toLowerCase(), { ...d, source: null });
      const parts = d.name.split("/");
      for (let i = 1; i < parts.length; i++) groups.add(parts.slice(0, i).join("/").toLowerCase());
    }
    return { sections, groups, assumed: true };
  }
  const walk = (el: XmlElement, prefix: string): void => {
    for (const c of el.children) {
      const name = attr(c, "name")?.value;
      if (!name) continue;
      const full = prefix ? `${prefix}/${name}` : name;
      if (c.name === "sectionGroup") {
        groups.add(full.toLowerCase());
        walk(c, full);
      } else if (c.name === "section") {
        const omd = attr(c, "overrideModeDefault")?.value;
        const ad = attr(c, "allowDefinition")?.value as SectionDeclaration["allowDefinition"] | undefined;
        sections.set(full.toLowerCase(), {
          name: full,
          overrideModeDefault: omd?.toLowerCase() === "deny" ? "Deny" : "Allow",
          allowDefinition: ad ?? "Everywhere",
          source: elementSource(doc, c),
        });
      }
    }
  };
  walk(cs, "");
  if (!groups.has("system.webserver")) {
    // A web.config (ASP.NET sections only) loaded as applicationHost: IIS's own registrations come from §3.1.
    for (const d of BUILTIN_DECLARATIONS) {
      if (!sections.has(d.name.toLowerCase())) sections.set(d.name.toLowerCase(), { ...d, source: null });
      const parts = d.name.split("/");
      for (let i = 1; i < parts.length; i++) groups.add(parts.slice(0, i).join("/").toLowerCase());
    }
    return { sections, groups, assumed: true };
  }
  return { sections, groups, assumed: false };
}

const SNIPPET_ROOTS: Record<string, string> = {
  "system.webServer": "system.webServer",
  security: "system.webServer/security",
  requestFiltering: RF_SECTION,
  staticContent: STATIC_SECTION,
  handlers: HANDLERS_SECTION,
  modules: MODULES_SECTION,
};

function collect(el: XmlElement, prefix: string, decl: Declarations, out: Map<string, XmlElement[]>): void {
  for (const c of el.children) {
    if (prefix === "" && (c.name === "configSections" || c.name === "location")) continue;
    const full = prefix ? `${prefix}/${c.name}` : c.name;
    if (
      decl.groups.has(full.toLowerCase()) ||
      (full === "system.webServer" && !decl.sections.has("system.webserver"))
    ) {
      collect(c, full, decl, out);
      continue;
    }
    const list = out.get(full);
    if (list) list.push(c);
    else out.set(full, [c]);
  }
}

/** Sections written directly in the file (outside `<location>`), accepting snippet roots (`<requestFiltering>`…). */
function bareSections(doc: XmlDocument, decl: Declarations): Map<string, XmlElement[]> {
  const out = new Map<string, XmlElement[]>();
  const root = doc.root;
  if (root.name === "configuration") {
    collect(root, "", decl, out);
    return out;
  }
  const full = SNIPPET_ROOTS[root.name];
  if (!full) {
    throw new InputError(
      `unexpected root element <${root.name}>: expected <configuration> (or a <system.webServer>/<requestFiltering> excerpt)`,
      { file: doc.file, line: root.line, column: root.column },
    );
  }
  if (decl.groups.has(full.toLowerCase())) collect(root, full, decl, out);
  else out.set(full, [root]);
  return out;
}

function locationLevel(
  doc: XmlDocument,
  loc: XmlElement,
  decl: Declarations,
  kind: ConfigLevel["kind"],
  base: { siteKey: string | null; segments: string[] },
): ConfigLevel {
  const sections = new Map<string, XmlElement[]>();
  collect(loc, "", decl, sections);
  const errors: ConfigError[] = [];
  const om = attr(loc, "overrideMode");
  const ao = attr(loc, "allowOverride");
  let overrideMode: ConfigLevel["overrideMode"] = null;
  let overrideSource: SourceRef | null = null;
  if (om) {
    const v = om.value.toLowerCase();
    overrideSource = elementSource(doc, loc);
    if (v === "allow") overrideMode = "Allow";
    else if (v === "deny") overrideMode = "Deny";
    else if (v !== "inherit") {
      for (const s of sections.keys()) {
        errors.push({
          section: s,
          message: `invalid overrideMode "${om.value}" on <location>: expected Allow, Deny or Inherit`,
          source: overrideSource,
        });
      }
    }
  }
  if (ao) {
    const b = parseBool(ao.value);
    const src = elementSource(doc, loc);
    if (om) {
      // §13 item 21: combining both is assumed to be a configuration error.
      for (const s of sections.keys()) {
        errors.push({
          section: s,
          message:
            "<location> sets both overrideMode and allowOverride [INF §13.21: assumed invalid, as in .NET]",
          source: src,
        });
      }
    } else if (b === undefined) {
      for (const s of sections.keys()) {
        errors.push({
          section: s,
          message: `invalid allowOverride "${ao.value}" on <location>: expected true or false`,
          source: src,
        });
      }
    } else {
      overrideMode = b ? "Allow" : "Deny";
      overrideSource = src;
    }
  }
  const iica = attr(loc, "inheritInChildApplications");
  const path = attr(loc, "path")?.value ?? "";
  const segs = splitSegments(path);
  let siteKey = base.siteKey;
  let segments = [...base.segments, ...segs];
  if (kind === "apphost") {
    // applicationHost.config: "Site/a/b" (first segment = site name); "" and "." = every site (§8.1 step 3).
    const first = segs[0];
    siteKey = first === undefined ? null : first.toLowerCase();
    segments = segs.slice(1);
  }
  return {
    doc,
    kind,
    location: loc,
    siteKey,
    segments,
    overrideMode,
    overrideSource,
    inheritInChildApplications: iica ? parseBool(iica.value) !== false : true,
    sections,
    errors,
  };
}

/** Levels of applicationHost.config: bare first, then every `<location>` in document order. */
export function appHostLevels(doc: XmlDocument, decl: Declarations): ConfigLevel[] {
  const levels: ConfigLevel[] = [
    {
      doc,
      kind: "apphost",
      location: null,
      siteKey: null,
      segments: [],
      overrideMode: null,
      overrideSource: null,
      inheritInChildApplications: true,
      sections: bareSections(doc, decl),
      errors: [],
    },
  ];
  if (doc.root.name === "configuration") {
    for (const c of doc.root.children) {
      if (c.name === "location")
        levels.push(locationLevel(doc, c, decl, "apphost", { siteKey: null, segments: [] }));
    }
  }
  return levels;
}

/** Levels of one web.config mapped to a URL path on a site: bare, then its `<location path="sub">` blocks. */
export function webConfigLevels(
  doc: XmlDocument,
  decl: Declarations,
  siteKey: string,
  segments: string[],
): ConfigLevel[] {
  const levels: ConfigLevel[] = [
    {
      doc,
      kind: "webconfig",
      location: null,
      siteKey,
      segments,
      overrideMode: null,
      overrideSource: null,
      inheritInChildApplications: true,
      sections: bareSections(doc, decl),
      errors: [],
      webConfigSegments: segments,
    },
  ];
  if (doc.root.name === "configuration") {
    for (const c of doc.root.children) {
      if (c.name === "location") {
        const l = locationLevel(doc, c, decl, "webconfig", { siteKey, segments });
        l.webConfigSegments = segments;
        levels.push(l);
      }
    }
  }
  return levels;
}

/** Sites → applications → virtual directories from `system.applicationHost/sites` (D-VDIR). */
export function readSites(doc: XmlDocument, sitesEl: XmlElement | undefined): Site[] {
  if (!sitesEl) return [];
  const sites: Site[] = [];
  const defaultsOf = (el: XmlElement, name: string): XmlElement | undefined =>
    el.children.find((c) => c.name === name);
  const globalVdirDefaults = defaultsOf(sitesEl, "virtualDirectoryDefaults");
  const globalAppDefaults = defaultsOf(sitesEl, "applicationDefaults");
  const boolOr = (v: string | undefined, d: boolean): boolean => (v === undefined ? d : (parseBool(v) ?? d));
  for (const s of sitesEl.children) {
    if (s.name !== "site") continue;
    const vdirDefaults = defaultsOf(s, "virtualDirectoryDefaults");
    const appDefaults = defaultsOf(s, "applicationDefaults");
    const defaultSubDir = boolOr(
      vdirDefaults ? attr(vdirDefaults, "allowSubDirConfig")?.value : undefined,
      boolOr(globalVdirDefaults ? attr(globalVdirDefaults, "allowSubDirConfig")?.value : undefined, true),
    );
    const defaultPool =
      (appDefaults && attr(appDefaults, "applicationPool")?.value) ||
      (globalAppDefaults && attr(globalAppDefaults, "applicationPool")?.value) ||
      undefined;
    const applications: Application[] = [];
    for (const a of s.children) {
      if (a.name !== "application") continue;
      const vdirs: VirtualDirectory[] = [];
      for (const v of a.children) {
        if (v.name !== "virtualDirectory") continue;
        vdirs.push({
          path: attr(v, "path")?.value ?? "/",
          physicalPath: attr(v, "physicalPath")?.value ?? "",
          allowSubDirConfig: boolOr(attr(v, "allowSubDirConfig")?.value, defaultSubDir),
          source: elementSource(doc, v),
        });
      }
      const pool = attr(a, "applicationPool")?.value ?? defaultPool;
      applications.push({
        path: attr(a, "path")?.value ?? "/",
        ...(pool ? { applicationPool: pool } : {}),
        virtualDirectories: vdirs,
        source: elementSource(doc, a),
      });
    }
    const bindings: string[] = [];
    for (const b of defaultsOf(s, "bindings")?.children ?? []) {
      if (b.name !== "binding") continue;
      bindings.push(`${attr(b, "protocol")?.value ?? "http"}/${attr(b, "bindingInformation")?.value ?? ""}`);
    }
    const id = Number(attr(s, "id")?.value ?? "");
    sites.push({
      name: attr(s, "name")?.value ?? "",
      id: Number.isFinite(id) ? id : 0,
      applications,
      bindings,
      source: elementSource(doc, s),
    });
  }
  return sites;
}
