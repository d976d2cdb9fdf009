/**
 * ConfigMgr meaning of a logged request (configmgr-dp-bits §7.1, §2.2–§2.4; iis-request-filtering §10.1):
 * which kind of endpoint it hit, the DP URL form, content ID + relative path, and the client agent.
 * The DP URL grammar lives in one place, `src/dp/urlforms.ts`; this file only adds the log-reader vocabulary.
 */
import { parseDpUrl } from "../dp/urlforms.js";
import type { DpUrlParts, UrlForm } from "./records.js";

/**
 * Splits a logged request (cs-uri-stem + cs-uri-query, or an HTTPERR cs-uri / full URL with `query` undefined) into its
 * ConfigMgr meaning (§7.1, §7.2). The grammar is `parseDpUrl` (src/dp/urlforms.ts); the stem is taken as logged,
 * so a `+` stays a `+` (IIS writes spaces as `+`, ambiguous with a literal `+`, F03).
 */
export function classifyRequest(stem: string, query?: string): DpUrlParts {
  return parseDpUrl(stem, query);
}

export const URL_FORM_LABEL: Record<UrlForm, string> = {
  direct2007: "ConfigMgr 2007 path form (SMS_DP_SMSPKG<drive>$/<PkgID>/<path>)",
  direct: "direct path form (SMS_DP_SMSPKG$/<id>/<path>)",
  client: "ConfigMgr client form (<id>/sccm?/<path>)",
};

/** Client agents a DP sees (§2.4). */
export type AgentKind =
  | "bits"
  | "ccm"
  | "ccm-ts"
  | "ccmhttp"
  | "delivery-optimization"
  | "webdav"
  | "browser"
  | "other";

/** Classifies a user agent as logged (`+` or spaces both accepted). */
export function classifyAgent(ua: string): { agent: AgentKind; version?: string } {
  const s = ua.replace(/\+/g, " ").trim();
  let m = /^Microsoft BITS\/(\d+(?:\.\d+)*)/i.exec(s);
  if (m) return { agent: "bits", version: m[1] };
  if (/^SMS CCM 5\.0 TS\b/i.test(s)) return { agent: "ccm-ts", version: "5.0" };
  if (/^SMS CCM 5\.0\b/i.test(s)) return { agent: "ccm", version: "5.0" };
  if (/^ccmhttp\b/i.test(s)) return { agent: "ccmhttp" };
  m = /^Microsoft[ -]Delivery[ -]Optimization\/(\d+(?:\.\d+)*)/i.exec(s);
  if (m) return { agent: "delivery-optimization", version: m[1] };
  if (/^Microsoft-WebDAV-MiniRedir/i.test(s)) return { agent: "webdav" };
  if (/^Mozilla\//i.test(s)) return { agent: "browser" };
  return { agent: "other" };
}

export const AGENT_LABEL: Record<AgentKind, string> = {
  bits: "BITS (HEAD/GET file transfer)",
  ccm: "ConfigMgr client (SMS CCM 5.0: PROPFIND listing, DTS)",
  "ccm-ts": "task sequence (SMS CCM 5.0 TS)",
  ccmhttp: "ccmhttp direct GET",
  "delivery-optimization": "Delivery Optimization",
  webdav: "WebDAV mini-redirector",
  browser: "browser",
  other: "other",
};
