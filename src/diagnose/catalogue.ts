/**
 * The failure catalogue F01–F19 (spec configmgr-dp-bits.md §6) as data, and the BITS error model of §5.1/§5.2
 * that explains why each failure looks like a hang rather than a failure.
 */
import type { FailureId } from "./report.js";

export interface CatalogueEntry {
  title: string;
  /** Where the admin usually fixes it. */
  area: "request-filtering" | "iis" | "http.sys" | "network" | "client" | "content" | "bits";
}

export const CATALOGUE: Record<FailureId, CatalogueEntry> = {
  F01: { title: "Request filtering denies the file extension (404.7)", area: "request-filtering" },
  F02: { title: "Request filtering hides a path segment (404.8)", area: "request-filtering" },
  F03: {
    title: "Request filtering refuses double escaping: '+' in a file name (404.11)",
    area: "request-filtering",
  },
  F04: {
    title: "URL or query string too long for request filtering (404.14 / 404.15)",
    area: "request-filtering",
  },
  F05: { title: "Request filtering refuses the request (verb, sequence or rule)", area: "request-filtering" },
  F06: { title: "A managed handler runs package files instead of serving them", area: "iis" },
  F07: { title: "WebDAV Publishing answers the client's PROPFIND with 405", area: "iis" },
  F08: { title: "Authentication or authorization refused (401 / 403)", area: "iis" },
  F09: { title: "HTTPS / PKI certificate failure on the client", area: "client" },
  F10: { title: "Server error on the DP (500 / 500.19)", area: "iis" },
  F11: { title: "HTTP.sys answers 503: the DP's application pool is unavailable", area: "http.sys" },
  F12: { title: "Range requests not honoured (200 instead of 206)", area: "network" },
  F13: { title: "The client cannot connect to the DP (network error)", area: "network" },
  F14: { title: "No content location, or the content is missing on the DP", area: "content" },
  F15: { title: "Downloaded content fails hash verification", area: "content" },
  F16: { title: "BITS queue or service problem on the client", area: "bits" },
  F17: { title: "Peer cache / cloud DP / CMG content source failure", area: "network" },
  F18: { title: "Client cache full", area: "client" },
  F19: { title: "Proxy configuration blocks the BITS job", area: "network" },
};

/** HRESULT `0x8019xxxx` = BG_E_HTTP_ERROR_<status> (§5.2). Returns the HTTP status or undefined. */
export function httpStatusOfHresult(hr: string): number | undefined {
  const n = parseHresult(hr);
  if (n === undefined) return undefined;
  if (n >>> 16 === 0x8019 && (n & 0xffff) < 0x1000) return n & 0xffff;
  return undefined;
}

/** Parses "0x80190194", "80190194", "-2145844844" or "2149122452" into an unsigned 32-bit number. */
export function parseHresult(hr: string): number | undefined {
  const s = hr.trim();
  if (s === "") return undefined;
  if (/^0x[0-9a-f]{1,8}$/i.test(s)) return Number.parseInt(s.slice(2), 16) >>> 0;
  if (/^[0-9a-f]{8}$/i.test(s) && /[a-f]/i.test(s)) return Number.parseInt(s, 16) >>> 0;
  if (/^-?\d{1,10}$/.test(s)) return Number(s) >>> 0;
  return undefined;
}

export function formatHresult(n: number): string {
  return `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/**
 * §5.1 [S50]: 4xx fatal except 408/409; 5xx transient except 501/505; 3xx transient except 300–305 and 307.
 * (Inference, spec §5.1: the rule documented for uploads applies to downloads.)
 */
export function isFatalForBits(status: number): boolean {
  if (status >= 400 && status < 500) return status !== 408 && status !== 409;
  if (status >= 500 && status < 600) return status === 501 || status === 505;
  if (status >= 300 && status < 400) return (status >= 300 && status <= 305) || status === 307;
  return false;
}

/** One sentence: why an HTTP status makes the download look stuck (§5.4). */
export function hangExplanation(status: number, cadence?: string): string {
  const hr = formatHresult(0x80190000 + status);
  const seen = cadence ? ` ${cadence}` : "";
  if (isFatalForBits(status))
    return (
      `HTTP ${status} is fatal for BITS (${hr}): the BITS job goes to ERROR, but ConfigMgr's DTS keeps the job alive and retries, ` +
      `so the client shows the download "in progress" and only the DP's IIS log shows the substatus.${seen}`
    );
  return (
    `HTTP ${status} is transient for BITS (${hr}): BITS retries every MinimumRetryDelay (600 s by default) for up to ` +
    `14 days (NoProgressTimeout) without failing the deployment.${seen}`
  );
}

/** Client-side HRESULTs that name a catalogue entry by themselves (§6, §8). */
export const CLIENT_CODES: { code: number; id: FailureId; meaning: string }[] = [
  { code: 0x80072efd, id: "F13", meaning: "WinHTTP 12029 cannot connect" },
  { code: 0x800704cf, id: "F13", meaning: "network unreachable (DTS maps 0x80072EFD to it)" },
  { code: 0x80072ee7, id: "F13", meaning: "WinHTTP 12007 name not resolved" },
  { code: 0x80072efe, id: "F13", meaning: "WinHTTP 12030 connection aborted" },
  { code: 0x80072ee2, id: "F13", meaning: "WinHTTP 12002 timeout" },
  { code: 0x80200010, id: "F13", meaning: "BG_E_NETWORK_DISCONNECTED" },
  { code: 0x800706d9, id: "F13", meaning: "no endpoints available from the endpoint mapper (RPC/firewall)" },
  { code: 0x80072f8f, id: "F09", meaning: "WinHTTP 12175 secure failure (TLS)" },
  { code: 0x800b0109, id: "F09", meaning: "CERT_E_UNTRUSTEDROOT" },
  { code: 0x800b010f, id: "F09", meaning: "CERT_E_CN_NO_MATCH" },
  { code: 0x80200013, id: "F12", meaning: "BG_E_INSUFFICIENT_RANGE_SUPPORT" },
  { code: 0x80200011, id: "F12", meaning: "BG_E_MISSING_FILE_SIZE" },
  { code: 0x87d00215, id: "F14", meaning: "item not found (no content location)" },
  { code: 0x87d00607, id: "F14", meaning: "content not found" },
  { code: 0x87d01204, id: "F14", meaning: "no distribution points were found for the requested content" },
  { code: 0x87d01210, id: "F14", meaning: "failed to get content locations" },
  { code: 0x87d00602, id: "F14", meaning: "content location request timeout" },
  { code: 0x87d00628, id: "F14", meaning: "invalid content location" },
  { code: 0x80091007, id: "F15", meaning: "CRYPT_E_HASH_VALUE (hash value is not correct)" },
  { code: 0x87d01017, id: "F15", meaning: "content hash empty or incorrect, or hash verification failed" },
  { code: 0x800704dd, id: "F16", meaning: "ERROR_NOT_LOGGED_ON (SENS)" },
  { code: 0x87d01201, id: "F18", meaning: "not enough space in the client cache" },
  { code: 0x87d01202, id: "F18", meaning: "client cache smaller than the content" },
  { code: 0x87d01203, id: "F18", meaning: "client cache in use" },
  { code: 0x80190197, id: "F19", meaning: "HTTP 407 proxy authentication required" },
];
