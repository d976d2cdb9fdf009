/**
 * ConfigMgr distribution-point URL forms: build the raw request target a downloader puts on the wire, and take a
 * request target / IIS log stem+query apart again.
 *
 * Spec: ../shared/spec/configmgr-dp-bits.md §2 (vdirs, content IDs, the `sccm?` form), §7.1–7.2 (classification,
 * split); ../shared/spec/iis-request-filtering.md §10.1 (the three forms), §5.1/§5.3 (split at the first `?`, one
 * decode), §6.7 (what `+` and `%25` do to request filtering).
 *
 * The three forms of DP content (UrlForm):
 *   direct2007  /SMS_DP_SMSPKG<drive>$/<PackageID>/<rel>        ConfigMgr 2007, statically served folder tree (§2.1)
 *   direct      /SMS_DP_SMSPKG$/<ContentID>/<rel>               CB content reached by plain URLs: task sequences,
 *                                                                1E Nomad and other alternate content providers
 *   client      /SMS_DP_SMSPKG$/<ContentID>/sccm?/<rel>         the CB client (DTS/BITS), relative path in the query
 *
 * ## Wire encoding (what this module assumes WinHTTP/BITS send) — [INF], stated here and in `WIRE_ENCODING_NOTE`
 *
 * No source shows the exact bytes WinHTTP puts on the wire for every character, so this is the assumption, with the
 * evidence that bounds it:
 *  - Space → `%20`. WinHttpOpenRequest escapes unsafe characters in the object name by default (ICU_ESCAPE
 *    semantics of WinHttpCreateUrl/WinHttpCrackUrl: unsafe = space, controls, `"<>\^`{|}` and non-ASCII); the ONEE
 *    example `GET /SMS_DP_SMSPKG$/<cid>/New%20Text%20Document.cs` (iis spec §10.1, vector 67). The `Program+Files`
 *    seen in a CM2007 case (configmgr spec F03, §4.4) is how IIS *logs* a space in cs-uri-stem, not what was sent —
 *    IIS replaces spaces by `+` when writing the W3C log, which makes a logged `+` ambiguous (§7.2).
 *  - `+` stays `+`: it is a legal path character (RFC 3986 sub-delim) and WinHTTP does not escape it; that is why
 *    packages with `+` in names (Visual C++ redistributables) hit 404.11 (iis spec §6.7, F03).
 *  - `%` → `%25`: iis spec §6.7 reasons with `100%41.txt` sent as `100%2541.txt` and `50% off.txt` as
 *    `50%25%20off.txt`. (Were `%` sent raw, WinHTTP's WINHTTP_FLAG_ESCAPE_PERCENT being off by default, IIS would
 *    decode `100%41.txt` to `100A.txt` and answer 404.0; either way the file is not served.)
 *  - `#` → `%23` and `?` → `%3F` (otherwise the fragment/query split would cut the name; a raw `#` is 400 at
 *    http.sys, iis spec §5.2).
 *  - Non-ASCII → UTF-8 bytes as `%XX` (iis spec §5.3: "WinHTTP/BITS always escape", escaped UTF-8 is decoded as UTF-8).
 *  - `$` in the vdir is sent raw, as in the seed line `HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf` (§2.5); the
 *    CM2007 smsts line shows `%24` (§2.1) — `parseDpUrl` accepts both, since IIS decodes either to `$`.
 *  - Everything else printable ASCII (`A–Z a–z 0–9 - . _ ~ ! $ & ' ( ) * + , ; = : @`) is sent raw; `\` in a
 *    relative path is a folder separator (Windows paths), never a character of a name.
 *  - The `sccm?` form carries the relative path in the query with the same escaping (spaces as `%20`, iis spec
 *    §10.1 [INF]); the query keeps its leading `/` (`…/sccm?/setup.exe`, configmgr spec §2.3).
 */
import type { DpUrlParts, RequestKind, UrlForm } from "../logs/records.js";

export const URL_FORMS: readonly UrlForm[] = ["direct2007", "direct", "client"];

/** Default content vdir of a CB DP (§2.2). */
export const DEFAULT_CONTENT_VDIR = "SMS_DP_SMSPKG$";
/** Signature vdir, CB and 2007 (§2.1, §2.2). */
export const SIGNATURE_VDIR = "SMS_DP_SMSSIG$";

/** One sentence for output: the encoding assumption above (never hide an inference). */
export const WIRE_ENCODING_NOTE =
  "Assumed WinHTTP/BITS wire encoding [INF]: space→%20, %→%25, #→%23, ?→%3F, non-ASCII→UTF-8 %XX, '+' and '$' sent raw";

/** The ConfigMgr 2007 per-drive content vdir `SMS_DP_SMSPKG<drive>$` (§2.1). */
export function vdir2007(drive = "C"): string {
  const d = drive.replace(/[:\\/$]+$/g, "").toUpperCase();
  if (!/^[A-Z]$/.test(d)) throw new RangeError(`drive must be a single letter A-Z, got "${drive}"`);
  return `SMS_DP_SMSPKG${d}$`;
}

/** The vdir a form uses by default. */
export function defaultVdir(form: UrlForm, drive?: string): string {
  return form === "direct2007" ? vdir2007(drive) : DEFAULT_CONTENT_VDIR;
}

const HEX = "0123456789ABCDEF";
/** Bytes sent raw in a path segment (see the module comment); everything else is %XX-escaped. */
const RAW_BYTE = (() => {
  const t = new Uint8Array(128);
  const raw = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@";
  for (const c of raw) t[c.charCodeAt(0)] = 1;
  return t;
})();

/** Percent-encode one path segment (a folder or file name) as WinHTTP/BITS are assumed to send it. */
export function encodeSegment(name: string): string {
  let simple = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || RAW_BYTE[c] !== 1) {
      simple = false;
      break;
    }
  }
  if (simple) return name;
  let out = "";
  for (const b of Buffer.from(name, "utf8")) {
    if (b < 128 && RAW_BYTE[b] === 1) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Split a relative path (either separator; leading/trailing/double separators ignored) into names. */
export function splitRelativePath(relativePath: string): string[] {
  return relativePath.split(/[\\/]+/).filter((s) => s.length > 0);
}

/** Percent-encode a relative path: each name escaped, joined with "/". */
export function encodeRelativePath(relativePath: string): string {
  return splitRelativePath(relativePath).map(encodeSegment).join("/");
}

/**
 * The raw request target for one file of one package in one form, e.g.
 * `buildDpUrl("client", { contentId: "ABC00123", relativePath: "blah/file.ldf" })` → `/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/file.ldf`.
 * `vdir` overrides the form's default vdir (e.g. `NOCERT_SMS_DP_SMSPKG$`, a custom name); `drive` picks the 2007 vdir.
 * An empty relative path gives the package root (the PROPFIND listing target, `/SMS_DP_SMSPKG$/<ContentID>`).
 */
export function buildDpUrl(
  form: UrlForm,
  p: { contentId: string; relativePath: string; drive?: string; vdir?: string },
): string {
  const rel = encodeRelativePath(p.relativePath);
  if (rel === "" && form !== "client") return dpUrlPrefix(form, p).slice(0, -1);
  return dpUrlPrefix(form, p) + rel;
}

/**
 * Everything of a form's URL before the encoded relative path, ending in "/" (`/SMS_DP_SMSPKG$/<id>/sccm?/` for the
 * client form): callers checking many files of one package build it once and append `encodeRelativePath(rel)`.
 */
export function dpUrlPrefix(form: UrlForm, p: { contentId: string; drive?: string; vdir?: string }): string {
  const vdir = p.vdir ?? defaultVdir(form, p.drive);
  const base = `/${encodeSegment(vdir)}/${encodeSegment(p.contentId)}/`;
  return form === "client" ? `${base}sccm?/` : base;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

const CONTENT_VDIR = /^(NOCERT_|CCMTOKENAUTH_)?SMS_DP_SMSPKG([A-Z])?\$$/i; // §2.1, §2.2
const SIGNATURE_VDIR_RE = /^(NOCERT_|CCMTOKENAUTH_)?SMS_DP_SMSSIG\$$/i; // §2.2
const PEER_CACHE_VDIR = /^SCCM_BranchCache\$$/i; // §2.2 (port 8003)
const WSUS_CONTENT = /^\/Content\/[0-9A-F]{2}\/[0-9A-F]{40}\.[A-Z0-9]+$/i; // §7.1 `/Content/<xx>/<sha1>.cab`

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decode valid `%XX` escapes once (UTF-8; invalid sequences become U+FFFD), leaving a bare `%` as is.
 * With `plusIsSpace`, `+` is read as a space (IIS W3C cs-uri-stem, §4.4 — ambiguous with a real `+`, F03).
 */
export function decodePercent(s: string, plusIsSpace = false): string {
  if (!s.includes("%") && !(plusIsSpace && s.includes("+"))) return s;
  const bytes: number[] = [];
  const src = Buffer.from(s, "utf8");
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 37 && i + 2 < src.length) {
      const h = hexVal(src[i + 1]);
      const l = hexVal(src[i + 2]);
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    bytes.push(plusIsSpace && b === 43 ? 32 : b);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Strip `scheme://host[:port]` when a full URL was given (DTS/BITS log lines carry full URLs). */
function stripOrigin(target: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  return m ? target.slice(m[0].length) || "/" : target;
}

export interface ParseDpUrlOptions {
  /** The stem comes from an IIS W3C log, where spaces are written as `+` (§4.4). Default false (wire form). */
  plusIsSpace?: boolean;
}

/**
 * Take apart a DP request: either `(cs-uri-stem, cs-uri-query)` from an IIS log ("-" or "" = no query) or a whole
 * request target / URL in `stem` with `query` undefined (split at the first `?`, iis spec §5.1).
 * Classification follows configmgr spec §7.1; vdir names compare case-insensitively (IIS), `%24` decodes to `$`.
 */
export function parseDpUrl(stem: string, query?: string, opts: ParseDpUrlOptions = {}): DpUrlParts {
  let path = stripOrigin(stem.trim());
  // IIS logs an absent query as "-"; "" from a caller means the same.
  let q: string | undefined = query === undefined || query === "-" || query === "" ? undefined : query;
  if (query === undefined) {
    const hash = path.indexOf("#");
    if (hash >= 0) path = path.slice(0, hash);
    const qm = path.indexOf("?");
    if (qm >= 0) {
      q = path.slice(qm + 1); // an unsplit `…/sccm?` with nothing after it still had a query
      path = path.slice(0, qm);
    }
  }
  const hadQuestionMark = q !== undefined;
  const decodedPath = decodePercent(path, opts.plusIsSpace).replace(/\\/g, "/");
  const segs = decodedPath.split("/").filter((s) => s.length > 0);

  if (decodedPath.length > 0 && WSUS_CONTENT.test(`/${segs.join("/")}`)) return { kind: "wsus" };
  if (segs.some((s) => s.toLowerCase() === "downloadrestservice.svc")) return { kind: "cmg" };
  if (segs.length === 0) return { kind: "other" };
  const first = segs[0];
  if (first.toLowerCase() === "sms_mp") return { kind: "mp" };

  const signature = SIGNATURE_VDIR_RE.exec(first);
  if (signature) {
    const parts: DpUrlParts = { kind: "dp-signature", vdir: first };
    if (segs.length > 1) parts.contentId = segs[1].replace(/\.tar$/i, "");
    return parts;
  }

  const content = CONTENT_VDIR.exec(first);
  const peer = !content && PEER_CACHE_VDIR.test(first);
  if (!content && !peer) return { kind: "other" };
  const kind: RequestKind = peer ? "peer-cache" : "dp-content";
  const parts: DpUrlParts = { kind, vdir: first };
  const relFromQuery = (raw: string): string =>
    splitRelativePath(decodePercent(raw).replace(/\\/g, "/")).join("/");

  // Root listing `/SMS_DP_SMSPKG$/sccm?/<ContentID>/…` (the DP's PROPFIND hrefs, §2.3)
  if (segs.length === 2 && segs[1].toLowerCase() === "sccm" && hadQuestionMark && !content?.[2]) {
    const rest = splitRelativePath(decodePercent(q ?? "").replace(/\\/g, "/"));
    if (kind === "dp-content") parts.form = "client";
    if (rest.length > 0) parts.contentId = rest[0];
    if (rest.length > 1) parts.relativePath = rest.slice(1).join("/");
    return parts;
  }
  if (segs.length > 1) parts.contentId = segs[1];
  if (content?.[2]) {
    // A drive letter in the vdir: ConfigMgr 2007 (§2.1); everything is in the path.
    parts.form = "direct2007";
    if (segs.length > 2) parts.relativePath = segs.slice(2).join("/");
    return parts;
  }
  if (segs.length === 3 && segs[2].toLowerCase() === "sccm" && hadQuestionMark) {
    if (kind === "dp-content") parts.form = "client";
    const rel = relFromQuery(q ?? "");
    if (rel !== "") parts.relativePath = rel;
    return parts;
  }
  if (kind === "dp-content") parts.form = "direct";
  if (segs.length > 2) parts.relativePath = segs.slice(2).join("/");
  return parts;
}
