/**
 * Which component serves a ConfigMgr distribution point URL (spec iis-request-filtering.md §10.1, §10.3, §13.3;
 * configmgr-dp-bits.md §2). Works on the canonical path's first segment, case-insensitively (NTFS/IIS names).
 *
 * - `/SMS_DP_SMSPKG$`, `/SMS_DP_SMSSIG$` (and any `/SMS_DP_*$`), with or without a `NOCERT_` or `CCMTOKENAUTH_`
 *   prefix: content presented by a ConfigMgr handler from the content library, not by StaticFileModule [INF §13.3],
 *   so the static-file checks (mimeMap 404.3, Hidden attribute 404.9) do not apply. Request filtering still does.
 * - `/SMS_DP_SMSPKG<drive>$` (ConfigMgr 2007, one per drive; also with `NOCERT_`): a plain folder served
 *   statically, so mimeMap and hidden-file checks DO apply.
 */
export type DpPathKind = "content" | "static2007" | "other";

export const DP_CONTENT_NOTE: readonly string[] = Object.freeze([
  "DP content URL: served by the ConfigMgr content handler, not by StaticFileModule, so mimeMap (404.3) and Hidden-attribute (404.9) checks do not apply (spec §10.3, §13.3 inferred)",
]);
export const DP_SCCM_FORM_NOTE: readonly string[] = Object.freeze([
  DP_CONTENT_NOTE[0],
  "URL form sccm?: the package path travels in the query string; path rules (extensions, hidden segments, double escaping, maxUrl) see only …/sccm (spec §10.1)",
]);
export const DP_STATIC_2007_NOTE =
  "ConfigMgr 2007 package share URL (SMS_DP_SMSPKG<drive>$): files are served by the static file handler, so mimeMap (404.3) and Hidden-attribute (404.9) checks apply (spec §10.1)";

function firstSegmentUpper(canon: string): string {
  const end = canon.indexOf("/", 1);
  return (end < 0 ? canon.slice(1) : canon.slice(1, end)).toUpperCase();
}

export function classifyDpPath(canon: string): DpPathKind {
  // cheap reject: every DP vdir starts with S, N or C and ends with '$'
  const c1 = canon.charCodeAt(1) | 32;
  if (c1 !== 115 && c1 !== 110 && c1 !== 99) return "other";
  let seg = firstSegmentUpper(canon);
  if (!seg.endsWith("$")) return "other";
  if (seg.startsWith("NOCERT_")) seg = seg.slice(7);
  else if (seg.startsWith("CCMTOKENAUTH_")) seg = seg.slice(13);
  if (!seg.startsWith("SMS_DP_")) return "other";
  // SMS_DP_SMSPKG<drive>$ : exactly one letter between SMSPKG and $
  if (seg.length === 15 && seg.startsWith("SMS_DP_SMSPKG") && seg[13] >= "A" && seg[13] <= "Z")
    return "static2007";
  return "content";
}
