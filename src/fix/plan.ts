/**
 * Planning: asks → the smallest configuration change at the DP's scope (spec iis-request-filtering.md §8,
 * configmgr-dp-bits.md §6 F01–F05). Reads the effective configuration from the shared loader and the lock
 * attributes from the file itself; writes nothing.
 */
import type { EffectiveConfig, ServerConfig } from "../config/types.js";
import {
  attr,
  positionOf,
  type XmlAttribute as XmlAttr,
  type XmlDocument,
  type XmlElement,
} from "../config/xml.js";
import {
  type Ask,
  askLabel,
  type Change,
  type CollectionName,
  type ScopePlan,
  type Unlock,
} from "./model.js";
import { descend, findLocalAdd, normalizeLocationPath, scopeRequestFiltering } from "./splice.js";

export interface ScopeTarget {
  siteName: string;
  /** Virtual directory name ("SMS_DP_SMSPKG$"); "" with `server: true`. */
  vdir: string;
  server: boolean;
  reason: string;
}

export function locationPathOf(t: ScopeTarget): string {
  return t.server ? "" : `${t.siteName}/${t.vdir}`;
}
export function urlPathOf(t: ScopeTarget): string {
  return t.server ? "" : `/${t.vdir}`;
}

/** Where the scope is in words ("Default Web Site/SMS_DP_SMSPKG$ only", "every site of this server"). */
export function scopeWords(s: ScopePlan): string {
  return s.locationPath === "" ? "every site of this server" : `${s.locationPath} only`;
}

/** The effective configuration just below the scope (what a file of the package sees). */
export function effectiveAt(server: ServerConfig, siteName: string, urlPath: string): EffectiveConfig {
  return server.effective(siteName, `${urlPath || ""}/`);
}

const RF_PATH = ["system.webServer", "security", "requestFiltering"];

/** requestFiltering elements written at levels above the scope (server level, then ancestor locations). */
function ancestorRequestFiltering(doc: XmlDocument, scope: ScopePlan): XmlElement[] {
  const out: XmlElement[] = [];
  const serverRf = descend(doc.root, RF_PATH);
  if (scope.locationPath === "") return out; // the server level has nothing above it in this file
  if (serverRf) out.push(serverRf);
  const target = normalizeLocationPath(scope.locationPath);
  for (const loc of doc.root.children) {
    if (loc.name !== "location") continue;
    const p = normalizeLocationPath(attr(loc, "path")?.value ?? "");
    if (p === target || !(p === "" || target.startsWith(`${p}/`))) continue;
    const rf = descend(loc, RF_PATH);
    if (rf) out.push(rf);
  }
  return out;
}

function listOf(v: string | undefined): string[] {
  return (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function lockAttr(el: XmlElement, name: string): XmlAttr | undefined {
  return attr(el, name);
}

/**
 * Locks above the scope that the changes would violate (§8.3) and the explicit edit lifting each one:
 * `lockElements` on requestFiltering (a child element) or on a collection (`remove`/`clear`), `lockItem` on the
 * inherited entry, `lockAttributes`/`lockAllAttributesExcept` for an attribute. A violation is a 500.19, never a fix.
 * [INF §8.3] Whether element locks bind a `<location>` of the same applicationHost.config is not documented (the
 * loader assumes they bind only other files); `fix` lifts them anyway, explicitly and said out loud, because a wrong
 * guess the other way is a 500.19 on a production DP. Section-level locks are only noted (`sectionLockNotes`).
 */
export function findUnlocks(doc: XmlDocument, file: string, scope: ScopePlan): Unlock[] {
  const unlocks: Unlock[] = [];
  const seen = new Set<string>();
  const push = (el: XmlElement, a: XmlAttr, newValue: string | null, why: string) => {
    const id = `${a.nameStart}`;
    if (seen.has(id)) return;
    seen.add(id);
    unlocks.push({
      file,
      line: el.line,
      column: el.column,
      element: el.name,
      attribute: a.name as Unlock["attribute"],
      newValue,
      attrStart: a.nameStart,
      attrEnd: a.valueEnd + 1,
      why: `${why} [INF §8.3: lifted in case it binds this <location> too]`,
    });
  };
  const without = (a: XmlAttr, name: string, ci: boolean) => {
    const rest = listOf(a.value).filter((x) => (ci ? x.toLowerCase() !== name.toLowerCase() : x !== name));
    return rest.length > 0 ? rest.join(",") : null;
  };
  const unlockChild = (el: XmlElement, childName: string, why: string) => {
    const le = lockAttr(el, "lockElements");
    if (le && listOf(le.value).some((x) => x.toLowerCase() === childName.toLowerCase()))
      push(el, le, without(le, childName, true), why);
    const lae = lockAttr(el, "lockAllElementsExcept");
    if (lae && !listOf(lae.value).some((x) => x.toLowerCase() === childName.toLowerCase()))
      push(el, lae, [...listOf(lae.value), childName].join(","), why);
  };
  const unlockAttribute = (el: XmlElement, name: string, why: string) => {
    const la = lockAttr(el, "lockAttributes");
    if (la && listOf(la.value).some((x) => x.toLowerCase() === name.toLowerCase()))
      push(el, la, without(la, name, true), why);
    const lae = lockAttr(el, "lockAllAttributesExcept");
    if (lae && !listOf(lae.value).some((x) => x.toLowerCase() === name.toLowerCase()))
      push(el, lae, [...listOf(lae.value), name].join(","), why);
  };
  for (const rf of ancestorRequestFiltering(doc, scope)) {
    const at = `${file}:${rf.line}`;
    for (const c of scope.changes) {
      // [INF] staticContent locks are not planned: the section ships overrideModeDefault="Allow" (§2.3)
      if (c.op === "addMimeMap") continue;
      if (c.op === "setAttribute") {
        if (c.owner === "") unlockAttribute(rf, c.name, `${c.name} is locked at ${at}`);
        else {
          unlockChild(rf, c.owner, `<${c.owner}> is locked at ${at}`);
          const child = rf.children.find((x) => x.name === c.owner);
          if (child)
            unlockAttribute(child, c.name, `${c.owner}/@${c.name} is locked at ${file}:${child.line}`);
        }
        continue;
      }
      unlockChild(rf, c.collection, `<${c.collection}> is locked at ${at}`);
      const coll = rf.children.find((x) => x.name === c.collection);
      if (!coll) continue;
      if (c.op === "removeItem") {
        unlockChild(coll, "remove", `<remove> is locked in <${c.collection}> at ${file}:${coll.line}`);
        const item = findLocalAdd(coll, c.collection, c.key);
        const li = item && lockAttr(item, "lockItem");
        if (item && li && li.value.toLowerCase() === "true")
          push(item, li, null, `the entry ${c.key} is locked (lockItem="true") at ${file}:${item.line}`);
      }
      if (c.op === "addItem")
        unlockChild(coll, "add", `<add> is locked in <${c.collection}> at ${file}:${coll.line}`);
    }
  }
  return unlocks;
}

export interface AskOutcome {
  changes: Change[];
  /** Set when the ask needs no change at this scope. */
  already?: string;
}

/** Is a config line written inside the scope's own requestFiltering element? */
function isWrittenAtScope(
  src: { file: string; line: number } | null,
  scopeRf: XmlElement | undefined,
  doc: XmlDocument,
) {
  if (!src || !scopeRf || src.file !== doc.file) return false;
  return src.line >= scopeRf.line && src.line <= positionOf(doc.lineStarts, scopeRf.end).line;
}

/**
 * The changes for one ask given the effective configuration just below the scope (§6.6, §6.9, §6.10, §8.2):
 * an inherited deny is removed (`<remove>`), an allow-list gets an explicit `<add … allowed="true" />` after it, an
 * entry written at the scope itself is edited in place; an attribute is set only when it still refuses.
 */
export function changesForAsk(
  ask: Ask,
  eff: EffectiveConfig,
  scopeRf: XmlElement | undefined,
  doc: XmlDocument,
): AskOutcome {
  const rf = eff.requestFiltering;
  const collectionAsk = (
    collection: CollectionName,
    key: string,
    entry: { allowed?: boolean; source: { file: string; line: number } } | undefined,
    allowUnlisted: boolean | undefined,
  ): AskOutcome => {
    const denied = entry ? entry.allowed === false || entry.allowed === undefined : allowUnlisted === false;
    if (!denied) return { changes: [], already: `${askLabel(ask)}: already allowed here` };
    const local = entry && isWrittenAtScope(entry.source, scopeRf, doc);
    if (
      local &&
      findLocalAdd(
        scopeRf?.children.find((c) => c.name === collection),
        collection,
        key,
      )
    ) {
      // written at this scope: edit it where it is (an allow-list keeps the entry with allowed="true")
      if (allowUnlisted === false && entry.allowed !== undefined)
        return { changes: [{ op: "allowLocalItem", collection, key, ask }] };
      return { changes: [{ op: "deleteLocalItem", collection, key, ask }] };
    }
    const changes: Change[] = [];
    if (entry) changes.push({ op: "removeItem", collection, key, ask });
    if (allowUnlisted === false) changes.push({ op: "addItem", collection, key, allowed: true, ask });
    return { changes };
  };
  switch (ask.kind) {
    case "allowExtension": {
      const e = rf.fileExtensions.index.get(ask.extension.toLowerCase());
      return collectionAsk(
        "fileExtensions",
        e?.fileExtension ?? ask.extension,
        e,
        rf.fileExtensions.allowUnlisted.value,
      );
    }
    case "allowSegment": {
      const e = rf.hiddenSegments.index.get(ask.segment.toLowerCase());
      return collectionAsk(
        "hiddenSegments",
        e?.segment ?? ask.segment,
        e && { ...e, allowed: false },
        undefined,
      );
    }
    case "allowVerb": {
      const e = rf.verbs.index.get(ask.verb);
      return collectionAsk("verbs", ask.verb, e, rf.verbs.allowUnlisted.value);
    }
    case "allowDoubleEscaping":
      return rf.allowDoubleEscaping.value
        ? { changes: [], already: "double escaping is already allowed here" }
        : { changes: [{ op: "setAttribute", owner: "", name: "allowDoubleEscaping", value: "true", ask }] };
    case "allowHighBit":
      return rf.allowHighBitCharacters.value
        ? { changes: [], already: "high-bit characters are already allowed here" }
        : {
            changes: [{ op: "setAttribute", owner: "", name: "allowHighBitCharacters", value: "true", ask }],
          };
    case "maxQueryString":
    case "maxUrl": {
      const current = rf.requestLimits[ask.kind].value;
      return current >= ask.value
        ? { changes: [], already: `${ask.kind} is already ${current} (≥ ${ask.value}) here` }
        : {
            changes: [
              { op: "setAttribute", owner: "requestLimits", name: ask.kind, value: String(ask.value), ask },
            ],
          };
    }
    case "addMimeMap": {
      const m = eff.staticContent.index.get(ask.extension.toLowerCase());
      return m
        ? { changes: [], already: `${ask.extension} already has the MIME type ${m.mimeType} here` }
        : { changes: [{ op: "addMimeMap", extension: ask.extension, mimeType: ask.mimeType, ask }] };
    }
  }
}

/** What a change opens, in one sentence (the sentence the admin signs off on). */
export function opensSentence(ask: Ask, scope: ScopePlan, before?: number): string {
  const where =
    scope.locationPath === "" ? "on every site of this server" : `from ${scope.locationPath} only`;
  const under =
    scope.locationPath === "" ? "on every site of this server" : `under ${scope.locationPath} only`;
  switch (ask.kind) {
    case "allowExtension":
      return `\`${ask.extension}\` files are now served ${where}.`;
    case "allowSegment":
      return `Folders and files named \`${ask.segment}\` are no longer hidden ${under}.`;
    case "allowVerb":
      return `The ${ask.verb} verb is now accepted ${under}.`;
    case "allowDoubleEscaping":
      return `URLs containing \`+\` or a double escape (\`%25xx\`) are now accepted ${under}.`;
    case "allowHighBit":
      return `URLs with non-ASCII (high-bit) characters are now accepted ${under}.`;
    case "maxQueryString":
      return `Query strings up to ${ask.value} bytes${before !== undefined ? ` (was ${before})` : ""} are now accepted ${under}.`;
    case "maxUrl":
      return `URL paths up to ${ask.value} bytes${before !== undefined ? ` (was ${before})` : ""} are now accepted ${under}.`;
    case "addMimeMap":
      return `The static file handler now serves \`${ask.extension}\` files as ${ask.mimeType} ${where}.`;
  }
}

/** Plans one scope: the changes for its asks, then the unlocks they need. */
export function planScope(
  doc: XmlDocument,
  file: string,
  server: ServerConfig,
  target: ScopeTarget,
  asks: readonly Ask[],
): { scope: ScopePlan; opens: string[]; already: string[]; notes: string[] } {
  const scope: ScopePlan = {
    locationPath: locationPathOf(target),
    siteName: target.siteName,
    urlPath: urlPathOf(target),
    reason: target.reason,
    changes: [],
    unlocks: [],
  };
  const eff = effectiveAt(server, target.siteName, scope.urlPath);
  const scopeRf = scopeRequestFiltering(doc, scope);
  const opens: string[] = [];
  const already: string[] = [];
  for (const ask of asks) {
    const outcome = changesForAsk(ask, eff, scopeRf, doc);
    if (outcome.already) already.push(`${outcome.already} (${scope.locationPath || "server level"})`);
    if (outcome.changes.length === 0) continue;
    scope.changes.push(...outcome.changes);
    const before =
      ask.kind === "maxQueryString" || ask.kind === "maxUrl"
        ? eff.requestFiltering.requestLimits[ask.kind].value
        : undefined;
    opens.push(opensSentence(ask, scope, before));
  }
  scope.unlocks = findUnlocks(doc, file, scope);
  return { scope, opens, already, notes: scope.changes.length > 0 ? sectionLockNotes(doc, file, scope) : [] };
}

/**
 * Section locks above the scope (§8.3), said out loud: `overrideModeDefault="Deny"` on the section registration,
 * `<location overrideMode="Deny">` / `allowOverride="false"` on a parent path. [INF] Like the loader, `fix` assumes
 * such a lock binds the files below applicationHost.config (web.config), not a `<location>` inside it — so the
 * change needs no unlock; the proof re-loads the edited file and would show a 500.19 if that assumption failed.
 */
export function sectionLockNotes(doc: XmlDocument, file: string, scope: ScopePlan): string[] {
  const notes: string[] = [];
  const sections = new Set<string>(
    scope.changes.map((c) =>
      c.op === "addMimeMap" ? "system.webServer/staticContent" : "system.webServer/security/requestFiltering",
    ),
  );
  // section registrations by full path (system.ftpServer/security/requestFiltering is another section)
  const visit = (el: XmlElement, group: string) => {
    for (const c of el.children) {
      const name = attr(c, "name")?.value ?? "";
      const full = group ? `${group}/${name}` : name;
      if (c.name === "sectionGroup") visit(c, full);
      else if (
        c.name === "section" &&
        sections.has(full) &&
        attr(c, "overrideModeDefault")?.value.toLowerCase() === "deny"
      )
        notes.push(
          `${full} is registered with overrideModeDefault="Deny" (${file}:${c.line}): it locks web.config files, not this <location> in applicationHost.config [INF §8.3]; no unlock planned.`,
        );
    }
  };
  const cs = doc.root.children.find((c) => c.name === "configSections");
  if (cs) visit(cs, "");
  if (scope.locationPath === "") return notes;
  const target = normalizeLocationPath(scope.locationPath);
  for (const loc of doc.root.children) {
    if (loc.name !== "location") continue;
    const p = normalizeLocationPath(attr(loc, "path")?.value ?? "");
    if (!(p === "" || p === target || target.startsWith(`${p}/`))) continue;
    const om = attr(loc, "overrideMode")?.value.toLowerCase();
    const ao = attr(loc, "allowOverride")?.value.toLowerCase();
    if (om === "deny" || ao === "false")
      notes.push(
        `<location path="${attr(loc, "path")?.value ?? ""}"> locks its sections (${om === "deny" ? 'overrideMode="Deny"' : 'allowOverride="false"'}, ${file}:${loc.line}) for web.config files below; this <location> in applicationHost.config is not bound by it [INF §8.3]; no unlock planned.`,
      );
  }
  return notes;
}
