/**
 * One-line fixes for a refusal cause, in the admin's tool (appcmd, rendered by src/fix/render.ts like every appcmd
 * command dpdoctor prints) and scoped to the DP vdir — never server-wide.
 * Spec: ../shared/spec/configmgr-dp-bits.md §6 (F01 .7, F02 .8, F03 .11, F04 .14/.15, F05), iis spec §6, §5.2, §9.2.
 * `dpdoctor fix` plans and applies the real edit; this is the line a human reads next to the cause.
 */
import { ruleDenies, ruleValue } from "../engine/reason-source.js";
import type { Reason } from "../engine/types.js";
import type { Ask, AttributeOwner, Change } from "../fix/model.js";
import { appcmdCommand, appcmdLocation, appcmdRemoveItem, appcmdSetConfig, SECTION } from "../fix/render.js";

export { ruleValue };

export interface FixContext {
  site: string;
  /** vdir of the refused URL, e.g. `SMS_DP_SMSPKG$` or `SMS_DP_SMSPKGC$`. */
  vdir: string;
  /** What the cause is about when the rule has no line of its own (the extension for a missing mimeMap). */
  label?: string;
  /** Largest length a limit must allow (maxUrl / maxQueryString), when known. */
  needed?: number;
}

/** The ConfigMgr 2007 per-drive content vdir `SMS_DP_SMSPKG<drive>$`, served by the static file handler (§2.1, iis §9.2). */
function is2007Vdir(vdir: string): boolean {
  return /^SMS_DP_SMSPKG[A-Z]\$$/i.test(vdir);
}

/** The fix model's change for a cause, when `dpdoctor fix` would make one (rendered by src/fix/render.ts). */
export function changeFor(reason: Reason, ctx: FixContext): Change | undefined {
  const v = ruleValue(reason);
  const denied = ruleDenies(reason);
  const attribute = (owner: AttributeOwner, name: string, value: string, ask: Ask): Change => ({
    op: "setAttribute",
    owner,
    name,
    value,
    ask,
  });
  switch (reason.check) {
    case "fileExtensions": {
      // no rule line of its own (allowUnlisted="false"): the extension IIS judged, the cause's label ("." for none)
      const key = v ?? (ctx.label?.startsWith(".") ? ctx.label : ".");
      const ask: Ask = { kind: "allowExtension", extension: key };
      return v !== undefined && denied
        ? { op: "removeItem", collection: "fileExtensions", key, ask }
        : { op: "addItem", collection: "fileExtensions", key, allowed: true, ask };
    }
    case "hiddenSegments": {
      const key = v ?? "<segment>";
      return {
        op: "removeItem",
        collection: "hiddenSegments",
        key,
        ask: { kind: "allowSegment", segment: key },
      };
    }
    case "verbs": {
      const key = v ?? "<verb>";
      const ask: Ask = { kind: "allowVerb", verb: key };
      return v !== undefined && denied
        ? { op: "removeItem", collection: "verbs", key, ask }
        : { op: "addItem", collection: "verbs", key, allowed: true, ask };
    }
    case "doubleEscaping":
      return attribute("", "allowDoubleEscaping", "true", { kind: "allowDoubleEscaping" });
    case "highBitCharacters":
      return attribute("", "allowHighBitCharacters", "true", { kind: "allowHighBit" });
    case "maxUrl": {
      const value = Math.max(ctx.needed ?? 0, 4096);
      return attribute("requestLimits", "maxUrl", String(value), { kind: "maxUrl", value });
    }
    case "maxQueryString": {
      const value = Math.max(ctx.needed ?? 0, 2048);
      return attribute("requestLimits", "maxQueryString", String(value), { kind: "maxQueryString", value });
    }
    case "static.mimeMap": {
      const extension = v ?? ctx.label ?? "<ext>";
      const mimeType = "application/octet-stream";
      return { op: "addMimeMap", extension, mimeType, ask: { kind: "addMimeMap", extension, mimeType } };
    }
    default:
      return undefined;
  }
}

export function fixHint(reason: Reason, ctx: FixContext): string {
  const location = appcmdLocation(ctx);
  const change = changeFor(reason, ctx);
  const command = change ? appcmdCommand(change, location) : "";
  const v = ruleValue(reason);
  switch (reason.check) {
    case "fileExtensions":
      // §9.2: the 2007 vdir is served statically; once the filter lets the extension through, an extension
      // without a mimeMap is answered 404.3 — the hint says so, and `fix --from` plans and proves both changes.
      if (is2007Vdir(ctx.vdir))
        return `${command}${change?.op === "addItem" ? " (allowUnlisted is false)" : ""}; the 2007 form is served statically, so without a mimeMap for ${change?.op === "addItem" || change?.op === "removeItem" ? change.key : "it"} IIS then answers 404.3 - run check with --json > check.json, then dpdoctor fix --from check.json plans both changes and proves them`;
      return change?.op === "addItem" ? `${command} (allowUnlisted is false)` : command;
    case "hiddenSegments":
      return `${command}, or rename the folder`;
    case "doubleEscaping":
      return `${command}, or rename files with '+' or '%' in the name (F03)`;
    case "highBitCharacters":
      return `${command}, or rename non-ASCII names`;
    case "verbs":
      return change?.op === "addItem" ? `${command} (a DP needs GET, HEAD, PROPFIND)` : command;
    case "maxUrl":
    case "maxQueryString":
      return `${command}, or shorten the paths`;
    case "denyUrlSequences":
    case "denyQueryStringSequences":
      return `${appcmdSetConfig(location, SECTION, appcmdRemoveItem(reason.check, "sequence", v ?? "<sequence>"))}${reason.check === "denyUrlSequences" ? ", or rename" : ""}`;
    case "filteringRules":
      return `remove or narrow the filteringRule at ${where(reason)} for the DP vdir`;
    case "httpsys.segmentTooLong":
      return "shorten the folder/file name (http.sys UrlSegmentMaxLength, default 260; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters, restart HTTP)";
    case "httpsys.tooManySegments":
      return "flatten the folder tree (http.sys UrlSegmentMaxCount, default 255; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters)";
    case "httpsys.urlTooLong":
      return "shorten the paths (http.sys MaxFieldLength/MaxRequestBytes, default 16384; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters)";
    case "static.mimeMap":
      return `${command} (ConfigMgr 2007 form only)`;
    case "static.hiddenFile":
      return 'clear the Hidden attribute in the package source (attrib -h "<file>") and update the content on the DPs';
    case "handler.dynamic":
      return `remove the handler mapping at ${where(reason)} for "${location}" or rename the files`;
    case "config.invalid":
      return `fix the configuration error at ${where(reason)}`;
    default:
      return `see ${where(reason)}`;
  }
}

function where(reason: Reason): string {
  return reason.source ? `${reason.source.file}:${reason.source.line}` : "the IIS defaults";
}
