/**
 * One-line fixes for a refusal cause, in the admin's tool (appcmd) and scoped to the DP vdir — never server-wide.
 * Spec: ../shared/spec/configmgr-dp-bits.md §6 (F01 .7, F02 .8, F03 .11, F04 .14/.15, F05), iis spec §6, §5.2, §9.2.
 * `dpdoctor fix` plans and applies the real edit; this is the line a human reads next to the cause.
 */
import type { Reason } from "../engine/types.js";

/** The value an `<add …/>` line names, e.g. `.ldf` from `<add fileExtension=".ldf" allowed="false" />`. */
export function ruleValue(reason: Reason): string | undefined {
  const text = reason.source?.text ?? "";
  const m = /\b(?:fileExtension|segment|verb|sequence|queryString|url)\s*=\s*"([^"]*)"/i.exec(text);
  return m ? m[1] : undefined;
}

export interface FixContext {
  site: string;
  /** vdir of the refused URL, e.g. `SMS_DP_SMSPKG$` or `SMS_DP_SMSPKGC$`. */
  vdir: string;
  /** What the cause is about when the rule has no line of its own (the extension for a missing mimeMap). */
  label?: string;
  /** Largest length a limit must allow (maxUrl / maxQueryString), when known. */
  needed?: number;
}

export function fixHint(reason: Reason, ctx: FixContext): string {
  const scope = `appcmd set config "${ctx.site}/${ctx.vdir}" -section:system.webServer/security/requestFiltering`;
  const commit = "/commit:apphost";
  const v = ruleValue(reason);
  const denied = /allowed\s*=\s*"false"/i.test(reason.source?.text ?? "");
  switch (reason.check) {
    case "fileExtensions":
      if (v !== undefined && denied) return `${scope} /-"fileExtensions.[fileExtension='${v}']" ${commit}`;
      return `${scope} /+"fileExtensions.[fileExtension='${v ?? "."}',allowed='true']" ${commit} (allowUnlisted is false)`;
    case "hiddenSegments":
      return `${scope} /-"hiddenSegments.[segment='${v ?? "<segment>"}']" ${commit}, or rename the folder`;
    case "doubleEscaping":
      return `${scope} /allowDoubleEscaping:true ${commit}, or rename files with '+' or '%' in the name (F03)`;
    case "highBitCharacters":
      return `${scope} /allowHighBitCharacters:true ${commit}, or rename non-ASCII names`;
    case "verbs":
      if (v !== undefined && denied) return `${scope} /-"verbs.[verb='${v}']" ${commit}`;
      return `${scope} /+"verbs.[verb='${v ?? "<verb>"}',allowed='true']" ${commit} (a DP needs GET, HEAD, PROPFIND)`;
    case "maxUrl":
      return `${scope} /requestLimits.maxUrl:${Math.max(ctx.needed ?? 0, 4096)} ${commit}, or shorten the paths`;
    case "maxQueryString":
      return `${scope} /requestLimits.maxQueryString:${Math.max(ctx.needed ?? 0, 2048)} ${commit}, or shorten the paths`;
    case "denyUrlSequences":
      return `${scope} /-"denyUrlSequences.[sequence='${v ?? "<sequence>"}']" ${commit}, or rename`;
    case "denyQueryStringSequences":
      return `${scope} /-"denyQueryStringSequences.[sequence='${v ?? "<sequence>"}']" ${commit}`;
    case "filteringRules":
      return `remove or narrow the filteringRule at ${where(reason)} for the DP vdir`;
    case "httpsys.segmentTooLong":
      return "shorten the folder/file name (http.sys UrlSegmentMaxLength, default 260; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters, restart HTTP)";
    case "httpsys.tooManySegments":
      return "flatten the folder tree (http.sys UrlSegmentMaxCount, default 255; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters)";
    case "httpsys.urlTooLong":
      return "shorten the paths (http.sys MaxFieldLength/MaxRequestBytes, default 16384; registry HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters)";
    case "static.mimeMap":
      return `appcmd set config "${ctx.site}/${ctx.vdir}" -section:system.webServer/staticContent /+"[fileExtension='${v ?? ctx.label ?? "<ext>"}',mimeType='application/octet-stream']" ${commit} (ConfigMgr 2007 form only)`;
    case "static.hiddenFile":
      return 'clear the Hidden attribute in the package source (attrib -h "<file>") and update the content on the DPs';
    case "handler.dynamic":
      return `remove the handler mapping at ${where(reason)} for "${ctx.site}/${ctx.vdir}" or rename the files`;
    case "config.invalid":
      return `fix the configuration error at ${where(reason)}`;
    default:
      return `see ${where(reason)}`;
  }
}

function where(reason: Reason): string {
  return reason.source ? `${reason.source.file}:${reason.source.line}` : "the IIS defaults";
}
