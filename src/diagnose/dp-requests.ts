/**
 * DP-side evidence: IIS W3C and HTTPERR lines taken apart into DP requests (content ID, relative path, URL form) and
 * classified into catalogue entries by status.substatus (spec configmgr-dp-bits.md §6, §7.1, §7.2, §7.6).
 */
import { parseDpUrl } from "../dp/urlforms.js";
import type { DpUrlParts, HttpErrRecord, W3CRecord } from "../logs/records.js";
import type { FailureId } from "./report.js";

export interface DpRequest {
  source: "iis" | "httperr";
  record: W3CRecord | HttpErrRecord;
  time: number;
  method: string;
  /** Target rebuilt from the log ("stem?query"). */
  url: string;
  status: number;
  substatus: number; // 0 for HTTPERR (it has none)
  win32Status: number;
  clientIp: string;
  serverIp: string;
  userAgent: string;
  parts: DpUrlParts;
  /** Lower-cased "contentId/path" join key; "" when not DP content. */
  key: string;
  /** HTTPERR s-reason. */
  reason?: string;
}

export function fromW3C(r: W3CRecord): DpRequest {
  // IIS writes spaces in cs-uri-stem as '+' (§4.4) — ambiguous with a real '+', F03.
  const parts = parseDpUrl(r.uriStem, r.uriQuery, { plusIsSpace: false });
  return {
    source: "iis",
    record: r,
    time: r.time,
    method: r.method,
    url: r.uriQuery ? `${r.uriStem}?${r.uriQuery}` : r.uriStem,
    status: r.status,
    substatus: r.substatus,
    win32Status: r.win32Status,
    clientIp: r.clientIp,
    serverIp: r.serverIp,
    userAgent: r.userAgent,
    parts,
    key: contentKey(parts),
  };
}

export function fromHttpErr(r: HttpErrRecord): DpRequest {
  const parts = parseDpUrl(r.uri);
  return {
    source: "httperr",
    record: r,
    time: r.time,
    method: r.method,
    url: r.uri,
    status: r.status,
    substatus: 0,
    win32Status: 0,
    clientIp: r.clientIp,
    serverIp: r.serverIp,
    userAgent: "",
    parts,
    key: contentKey(parts),
    reason: r.reason,
  };
}

export function contentKey(p: DpUrlParts): string {
  if ((p.kind !== "dp-content" && p.kind !== "dp-signature") || !p.contentId) return "";
  return `${p.contentId}/${p.relativePath ?? ""}`.toLowerCase();
}

/** Is this a request for DP content or signatures (the only requests a DP diagnosis blames)? */
export function isDpRequest(r: DpRequest): boolean {
  return r.parts.kind === "dp-content" || r.parts.kind === "dp-signature";
}

/** Extensions ASP.NET maps to managed handlers: F06 when a package file of this kind gets a 500 [S24]. */
const MANAGED_EXTENSIONS = new Set([
  ".aspx",
  ".asmx",
  ".ashx",
  ".axd",
  ".svc",
  ".asax",
  ".cshtml",
  ".vbhtml",
  ".rem",
  ".soap",
]);

export function extensionOf(path: string | undefined): string {
  if (!path) return "";
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/** HTTPERR reasons that mean the app pool/queue refused (F11) or the connection died (F13), §4.5 [S45]. */
const HTTPERR_F11 = new Set([
  "AppOffline",
  "Disabled",
  "AppShutdown",
  "QueueFull",
  "ConnLimit",
  "AppPoolTimer",
]);
const HTTPERR_F13 = /^(Timer_|Connection_)/;
const HTTPERR_F04 = new Set(["URL", "URL_Length", "FieldLength", "RequestLength"]);

/**
 * The catalogue entry a DP log line points at, or undefined for a line that is not a failure.
 * `successLater` says whether the same client got this URL with 2xx later (401.2 then 200 is the normal
 * NTLM/Negotiate handshake, F08 inference).
 */
export function classifyDpLine(r: DpRequest, successLater: boolean): FailureId | undefined {
  if (r.source === "httperr") {
    if (r.status === 503 || HTTPERR_F11.has(r.reason ?? "")) return "F11";
    if (HTTPERR_F04.has(r.reason ?? "")) return "F04";
    if (HTTPERR_F13.test(r.reason ?? "")) return "F13";
    return undefined;
  }
  const { status, substatus } = r;
  if (status === 404) {
    switch (substatus) {
      case 7:
        return "F01";
      case 8:
        return "F02";
      case 11:
        return "F03";
      case 14:
      case 15:
        return "F04";
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 9:
      case 12:
      case 18:
      case 19:
        return "F05";
      case 0:
        // §6 F14: the DP has the metadata but the file is missing → 404 0 2 (inference); 404 0 3 = path not found
        return "F14";
      default:
        return undefined;
    }
  }
  if (status === 405 && r.method.toUpperCase() === "PROPFIND") return "F07";
  if (status === 401) return substatus === 2 && successLater ? undefined : "F08";
  if (status === 403) return "F08";
  if (status === 500) return MANAGED_EXTENSIONS.has(extensionOf(r.parts.relativePath)) ? "F06" : "F10";
  if (status === 503) return "F11";
  // F12 (inference): a BITS GET answered 200 instead of 206 means the range was not honoured.
  if (status === 200 && r.method.toUpperCase() === "GET" && /BITS/i.test(r.userAgent)) return "F12";
  return undefined;
}

/** The rule value a refusal is about, guessed from the line alone (the engine refines it when a config is given). */
export function refusalValue(id: FailureId, r: DpRequest): string | undefined {
  const path = r.parts.relativePath ?? "";
  switch (id) {
    case "F01":
      return extensionOf(path) || undefined;
    case "F02": {
      // §6 F02 default hidden segments [S44]; matching is case-insensitive (inference)
      const hidden = [
        "web.config",
        "bin",
        "app_code",
        "app_globalresources",
        "app_localresources",
        "app_webreferences",
        "app_data",
        "app_browsers",
      ];
      return path.split("/").find((s) => hidden.includes(s.toLowerCase()));
    }
    case "F03":
      return r.url.includes("%25") ? "%25" : "+";
    case "F04":
      return r.substatus === 15 ? "maxQueryString" : r.substatus === 14 ? "maxUrl" : r.reason;
    case "F05":
      return r.substatus === 6 ? r.method : undefined;
    case "F07":
      return "PROPFIND";
    case "F08":
    case "F10":
      // 401.3 (ACL) and 403.7 (client certificate) need different fixes; 500.19 (config) is not 500.0 (module)
      return `${r.status}.${r.substatus}`;
    case "F11":
      return r.reason;
    default:
      return undefined;
  }
}

/** Engine check name implied by a request-filtering substatus (iis spec §4). */
export function checkOfSubstatus(status: number, substatus: number): string | undefined {
  if (status !== 404) return undefined;
  const map: Record<number, string> = {
    5: "denyUrlSequences",
    6: "verbs",
    7: "fileExtensions",
    8: "hiddenSegments",
    11: "doubleEscaping",
    12: "highBitCharacters",
    14: "maxUrl",
    15: "maxQueryString",
    18: "denyQueryStringSequences",
    19: "filteringRules",
  };
  return map[substatus];
}
