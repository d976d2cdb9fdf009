/**
 * Renderings of a fix plan: a unified diff of applicationHost.config, appcmd.exe commands, or PowerShell
 * (WebAdministration). All three say the same thing; the diff is what `--apply` writes.
 */
import { unifiedDiff } from "./diff.js";
import { type Change, COLLECTION_KEY, type ScopePlan, type Unlock } from "./model.js";

export const SECTION = "system.webServer/security/requestFiltering";
export const STATIC_SECTION = "system.webServer/staticContent";

/** The configuration section a change edits. */
export function sectionOf(c: Change): string {
  return c.op === "addMimeMap" ? STATIC_SECTION : SECTION;
}
export const APPCMD = "%windir%\\system32\\inetsrv\\appcmd.exe";

export type FixFormat = "diff" | "appcmd" | "powershell";

/** A unified diff of the file as given (the labels after the tab are ignored by `patch`). */
export function renderDiff(oldText: string, newText: string, file: string): string {
  return unifiedDiff(oldText, newText, `${file}\t(current)`, `${file}\t(after dpdoctor fix)`);
}

/** appcmd's value syntax inside [..]: single quotes; a quote in a value is doubled [INF]. */
function appcmdValue(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/**
 * One appcmd argument for a change (appcmd writes `<remove>` when the deleted entry is inherited). Every argument
 * that names a collection item is double-quoted after its `/+`, `/-` or `/`, as Microsoft's docs write it
 * (`/+"fileExtensions.[fileExtension='.exe',allowed='False']"`): the brackets and quotes then survive cmd.exe and
 * PowerShell alike.
 */
export function appcmdArgument(c: Change): string {
  switch (c.op) {
    case "removeItem":
    case "deleteLocalItem":
      return appcmdRemoveItem(c.collection, COLLECTION_KEY[c.collection], c.key);
    case "addItem":
      return `/+"${c.collection}.[${COLLECTION_KEY[c.collection]}=${appcmdValue(c.key)}${c.allowed === undefined ? "" : `,allowed=${appcmdValue(String(c.allowed))}`}]"`;
    case "allowLocalItem":
      return `/"${c.collection}.[${COLLECTION_KEY[c.collection]}=${appcmdValue(c.key)}].allowed:true"`;
    case "setAttribute":
      return `/${c.owner ? `${c.owner}.` : ""}${c.name}:${c.value}`;
    case "addMimeMap":
      return `/+"[fileExtension=${appcmdValue(c.extension)},mimeType=${appcmdValue(c.mimeType)}]"`;
  }
}

/**
 * `/-"collection.[key='value']"`: delete an item (also for requestFiltering collections the fix planner never edits,
 * e.g. denyUrlSequences, which `check` still names in its hint).
 */
export function appcmdRemoveItem(collection: string, keyAttribute: string, key: string): string {
  return `/-"${collection}.[${keyAttribute}=${appcmdValue(key)}]"`;
}

/** cmd.exe: a location with spaces in double quotes; `$` needs no escaping in cmd.exe, `%` would. */
function cmdQuote(s: string): string {
  return `"${s.replace(/%/g, "%%")}"`;
}

/** The `<location path>` appcmd edits for a site and vdir ("" = server level, outside any location). */
export function appcmdLocation(scope: { site: string; vdir?: string }): string {
  return scope.vdir ? `${scope.site}/${scope.vdir}` : scope.site;
}

/** One `appcmd set config` line: every appcmd command dpdoctor prints (check, diagnose, fix) is built here. */
export function appcmdSetConfig(locationPath: string, section: string, argument: string): string {
  const where = locationPath ? ` ${cmdQuote(locationPath)}` : "";
  return `${APPCMD} set config${where} -section:${section} ${argument} /commit:apphost`;
}

/** The appcmd command for one change at a location (`appcmdLocation({site, vdir})`, or a ScopePlan's locationPath). */
export function appcmdCommand(c: Change, locationPath: string): string {
  return appcmdSetConfig(locationPath, sectionOf(c), appcmdArgument(c));
}

function unlockComment(u: Unlock, prefix: string): string {
  const what = u.newValue === null ? `delete ${u.attribute}` : `set ${u.attribute}="${u.newValue}"`;
  return `${prefix} unlock first (${u.why}): ${what} on <${u.element}> at ${u.file}:${u.line}:${u.column} - no appcmd/cmdlet edits lock attributes; the diff (--apply) does`;
}

/** Removes before adds: an add never meets the inherited key (§8.2). */
function changeOrder(c: Change): number {
  return c.op === "removeItem" ? 0 : c.op === "addItem" ? 1 : 2;
}

/** The changes of a scope in the order they are applied. */
export function orderedChanges(changes: readonly Change[]): Change[] {
  return [...changes].sort((a, b) => changeOrder(a) - changeOrder(b));
}

export function renderAppcmd(scopes: readonly ScopePlan[]): string {
  const lines: string[] = [];
  for (const s of scopes) {
    for (const u of s.unlocks) lines.push(unlockComment(u, "rem"));
    for (const c of orderedChanges(s.changes)) lines.push(appcmdCommand(c, s.locationPath));
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** PowerShell single-quoted string: `$` stays literal, a quote is doubled. */
export function psQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function psValue(v: string): string {
  if (v === "true") return "$true";
  if (v === "false") return "$false";
  return /^\d+$/.test(v) ? v : psQuote(v);
}

export function powershellCommand(s: ScopePlan, c: Change): string {
  const loc = s.locationPath ? ` -Location ${psQuote(s.locationPath)}` : "";
  const head = `-PSPath 'MACHINE/WEBROOT/APPHOST'${loc}`;
  switch (c.op) {
    case "removeItem":
    case "deleteLocalItem":
      return `Remove-WebConfigurationProperty ${head} -Filter ${psQuote(`${SECTION}/${c.collection}`)} -Name '.' -AtElement @{${COLLECTION_KEY[c.collection]}=${psQuote(c.key)}}`;
    case "addItem":
      return `Add-WebConfigurationProperty ${head} -Filter ${psQuote(`${SECTION}/${c.collection}`)} -Name '.' -Value @{${COLLECTION_KEY[c.collection]}=${psQuote(c.key)}${c.allowed === undefined ? "" : `;allowed=${psValue(String(c.allowed))}`}}`;
    case "allowLocalItem":
      return `Set-WebConfigurationProperty ${head} -Filter ${psQuote(`${SECTION}/${c.collection}/add[@${COLLECTION_KEY[c.collection]}='${c.key.replace(/'/g, "''")}']`)} -Name 'allowed' -Value $true`;
    case "setAttribute":
      return `Set-WebConfigurationProperty ${head} -Filter ${psQuote(c.owner ? `${SECTION}/${c.owner}` : SECTION)} -Name ${psQuote(c.name)} -Value ${psValue(c.value)}`;
    case "addMimeMap":
      return `Add-WebConfigurationProperty ${head} -Filter ${psQuote(STATIC_SECTION)} -Name '.' -Value @{fileExtension=${psQuote(c.extension)};mimeType=${psQuote(c.mimeType)}}`;
  }
}

export function renderPowerShell(scopes: readonly ScopePlan[]): string {
  const lines: string[] = [];
  for (const s of scopes) {
    for (const u of s.unlocks) lines.push(unlockComment(u, "#"));
    for (const c of orderedChanges(s.changes)) lines.push(powershellCommand(s, c));
  }
  return lines.length ? `Import-Module WebAdministration\n${lines.join("\n")}\n` : "";
}
