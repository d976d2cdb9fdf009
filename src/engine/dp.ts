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

// Frozen: every DP content verdict without other notes shares one of these arrays as its `notes` (no copy per
// verdict); nothing mutates verdict notes (callers copy them to add their own).
export const DP_CONTENT_NOTE: readonly string[] = Object.freeze([
  "DP content URL: served by the ConfigMgr content handler, not by StaticFileModule, so mimeMap (404.3) and Hidden-attribute (404.9) checks do not apply (spec §10.3, §13.3 inferred)",
]);
export const DP_SCCM_FORM_NOTE: readonly string[] = Object.freeze([
  DP_CONTENT_NOTE[0],
  "URL form sccm?: the package path travels in the query string; path rules (extensions, hidden segments, double escaping, maxUrl) see only …/sccm (spec §10.1)",
]);
export const DP_STATIC_2007_NOTE =
  "ConfigMgr 2007 package share URL (SMS_DP_SMSPKG<drive>$): a plain folder, not the ConfigMgr content handler, so the site's handler mappings decide (normally StaticFile, where mimeMap 404.3 and Hidden-attribute 404.9 apply) (spec §10.1)";

/** The 2007 note alone, shared like DP_CONTENT_NOTE by every 2007-form verdict without other notes. */
export const DP_STATIC_2007_NOTES: readonly string[] = Object.freeze([DP_STATIC_2007_NOTE]);

/** Case-insensitive match of ASCII upper-case `word` at `at` in `s`. */
function matchAt(s: string, at: number, word: string): boolean {
  if (at + word.length > s.length) return false;
  // a plain loop: most calls fail on the first character (NOCERT_/CCMTOKENAUTH_ against SMS_DP_…), where a native
  // startsWith call costs more than the comparison
  for (let i = 0; i < word.length; i++) {
    let c = s.charCodeAt(at + i);
    if (c >= 97 && c <= 122) c -= 32;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Classifies a canonical path by its first segment (no allocation: this runs for every verdict). */
export function classifyDpPath(canon: string): DpPathKind {
  let end = canon.indexOf("/", 1);
  if (end < 0) end = canon.length;
  if (end < 9 || canon.charCodeAt(end - 1) !== 36) return "other"; // every DP vdir ends with '$'
  let at = 1;
  if (matchAt(canon, at, "NOCERT_")) at += 7;
  else if (matchAt(canon, at, "CCMTOKENAUTH_")) at += 13;
  if (!matchAt(canon, at, "SMS_DP_")) return "other";
  // SMS_DP_SMSPKG<drive>$ : exactly one letter between SMSPKG and '$' (ConfigMgr 2007)
  if (end - at === 15 && matchAt(canon, at + 7, "SMSPKG")) {
    const d = canon.charCodeAt(at + 13) & ~32;
    if (d >= 65 && d <= 90) return "static2007";
  }
  return "content";
}
