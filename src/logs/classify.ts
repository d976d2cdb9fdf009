/**
 * ConfigMgr meaning of a logged request (configmgr-dp-bits §7.1, §2.2–§2.4; iis-request-filtering §10.1):
 * which kind of endpoint it hit, the DP URL form, content ID + relative path, and the client agent.
 *
 * The DP URL grammar belongs to `src/dp/urlforms.ts` (check helper). Until that module publishes
 * `parseDpUrl`, this file holds the only copy used by the log readers; `classifyRequest` is the single
 * entry point, so switching to `parseDpUrl` is a one-line change here.
 */
import type { DpUrlParts, RequestKind, UrlForm } from "./records.js";

/** Percent-decodes what IIS leaves encoded in cs-uri-stem for DP URLs (`%24` → `$`, §7.2); never throws. */
export function decodeUrlPart(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%24/gi, "$");
  }
}

interface VdirInfo {
  kind: RequestKind;
  /** Drive letter in `SMS_DP_SMSPKG<drive>$` (CM2007, §2.1). */
  drive?: string;
  vdir: string;
}

// §2.1/§2.2: SMS_DP_SMSPKG$ (CB), SMS_DP_SMSPKG<drive>$ (CM2007), NOCERT_ and CCMTOKENAUTH_ prefixes (other auth).
const PKG_VDIR = /^(?:NOCERT_|CCMTOKENAUTH_)?SMS_DP_SMSPKG([A-Z])?\$$/i;
const SIG_VDIR = /^(?:NOCERT_|CCMTOKENAUTH_)?SMS_DP_SMSSIG\$$/i;
// §2.2: peer cache source on clients (port 8003).
const PEER_VDIR = /^SCCM_BranchCache\$$/i;
// §1 / §7.1: MP documents and policy; CMG; WSUS content and web services.
const MP_VDIR =
  /^(?:SMS_MP|CCM_Incoming|CCM_System|CCM_System_WindowsAuth|CCM_System_TokenAuth|SMS_MP_WindowsAuth)$/i;
const CMG_VDIR = /^(?:downloadrestservice\.svc|CCM_Proxy_MutualAuth|CCM_Proxy_ServerAuth)$/i;
const WSUS_VDIR =
  /^(?:Content|ClientWebService|SimpleAuthWebService|SelfUpdate|DssAuthWebService|ServerSyncWebService|ApiRemoting30)$/i;

/** Classifies the first path segment (already percent-decoded). */
export function classifyVdir(segment: string): VdirInfo {
  const pkg = PKG_VDIR.exec(segment);
  if (pkg) return { kind: "dp-content", drive: pkg[1]?.toUpperCase(), vdir: segment };
  if (SIG_VDIR.test(segment)) return { kind: "dp-signature", vdir: segment };
  if (PEER_VDIR.test(segment)) return { kind: "peer-cache", vdir: segment };
  if (MP_VDIR.test(segment)) return { kind: "mp", vdir: segment };
  if (CMG_VDIR.test(segment)) return { kind: "cmg", vdir: segment };
  if (WSUS_VDIR.test(segment)) return { kind: "wsus", vdir: segment };
  return { kind: "other", vdir: segment };
}

/**
 * Splits a logged request (cs-uri-stem + cs-uri-query, or HTTPERR cs-uri) into its ConfigMgr meaning.
 * Forms (iis-request-filtering §10.1): `direct2007` = `/SMS_DP_SMSPKG<drive>$/<PkgID>/<path>`;
 * `client` = `/<vdir>/<id>/sccm?/<path>` (the path travels in the query, §2.3);
 * `direct` = `/SMS_DP_SMSPKG$/<id>/<path>` (1E Nomad and other plain-URL downloaders).
 * A listing of a content ID without a path (`PROPFIND /SMS_DP_SMSPKG$/<id>`) is what the CB client sends before
 * its `sccm?` downloads (§2.4), so it is counted as `client` form [INF].
 */
export function classifyRequest(stem: string, query = ""): DpUrlParts {
  let path = stem;
  let q = query === "-" ? "" : query;
  // HTTPERR cs-uri and pasted URLs carry the query inside the string.
  const qm = path.indexOf("?");
  if (qm >= 0) {
    q = path.slice(qm + 1) + (q ? `&${q}` : "");
    path = path.slice(0, qm);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const slash = path.indexOf("/", path.indexOf("//") + 2);
    path = slash >= 0 ? path.slice(slash) : "/";
  }
  const segments = path.split("/").filter((s) => s.length > 0);
  if (segments.length === 0) return { kind: "other" };
  const first = decodeUrlPart(segments[0]);
  const v = classifyVdir(first);
  if (v.kind !== "dp-content" && v.kind !== "peer-cache" && v.kind !== "dp-signature")
    return { kind: v.kind };
  const parts: DpUrlParts = { kind: v.kind, vdir: first };
  if (segments.length >= 2) parts.contentId = decodeUrlPart(segments[1]);
  if (v.kind === "dp-signature") return parts;
  const rest = segments.slice(2);
  const sccmForm = rest.length === 1 && rest[0].toLowerCase() === "sccm" && (q.length > 0 || qm >= 0);
  if (sccmForm) {
    parts.form = "client";
    parts.relativePath = decodeRelative(q);
  } else if (v.drive) {
    parts.form = "direct2007";
    parts.relativePath = rest.map(decodeUrlPart).join("/");
  } else {
    parts.form = rest.length === 0 ? "client" : "direct";
    parts.relativePath = rest.map(decodeUrlPart).join("/");
  }
  if (v.kind === "peer-cache" && parts.form === "direct2007") parts.form = "direct";
  return parts;
}

function decodeRelative(q: string): string {
  const s = decodeUrlPart(q);
  return s.replace(/\\/g, "/").replace(/^\/+/, "");
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
