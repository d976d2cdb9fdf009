/**
 * IIS / http.sys status.substatus catalogue: meaning in an admin's words and the pipeline layer that produces it.
 * Spec: ../shared/spec/iis-request-filtering.md §1 (layers) and §4 (catalogue); configmgr-dp-bits.md §6.
 */

export type StatusLayer =
  | "request-filtering"
  | "http.sys"
  | "configuration"
  | "authentication"
  | "handler"
  | "static-file"
  | "server-error"
  | "success"
  | "redirect"
  | "client-error";

export interface StatusMeaning {
  meaning: string;
  layer: StatusLayer;
}

const CATALOGUE: Record<string, StatusMeaning> = {
  "200.0": { meaning: "OK", layer: "success" },
  "206.0": { meaning: "Partial content (range request honoured)", layer: "success" },
  "207.0": { meaning: "Multi-status (WebDAV PROPFIND listing)", layer: "success" },
  "301.0": { meaning: "Moved permanently (folder requested without trailing /)", layer: "redirect" },
  "302.0": { meaning: "Found (redirect)", layer: "redirect" },
  "304.0": { meaning: "Not modified", layer: "success" },
  "400.0": { meaning: "Bad request (http.sys: invalid URL, character or segment)", layer: "http.sys" },
  "401.0": { meaning: "Unauthorized", layer: "authentication" },
  "401.1": { meaning: "Unauthorized: logon failed", layer: "authentication" },
  "401.2": {
    meaning: "Unauthorized: authentication challenge (normal first leg of NTLM/Negotiate)",
    layer: "authentication",
  },
  "401.3": { meaning: "Unauthorized: ACL on the resource denies access", layer: "authentication" },
  "403.0": { meaning: "Forbidden", layer: "authentication" },
  "403.14": { meaning: "Forbidden: directory listing denied", layer: "static-file" },
  "403.4": { meaning: "Forbidden: SSL required", layer: "authentication" },
  "403.7": { meaning: "Forbidden: client certificate required", layer: "authentication" },
  "403.16": { meaning: "Forbidden: client certificate untrusted or invalid", layer: "authentication" },
  "404.0": { meaning: "Not found (no such file)", layer: "static-file" },
  "404.1": { meaning: "Site not found", layer: "handler" },
  "404.2": { meaning: "ISAPI or CGI restriction", layer: "handler" },
  "404.3": { meaning: "MIME type restriction: no mimeMap for the extension", layer: "static-file" },
  "404.4": { meaning: "No handler configured", layer: "handler" },
  "404.5": {
    meaning: "Request filtering: URL sequence denied (denyUrlSequences)",
    layer: "request-filtering",
  },
  "404.6": { meaning: "Request filtering: verb denied (verbs)", layer: "request-filtering" },
  "404.7": {
    meaning: "Request filtering: file extension denied (fileExtensions)",
    layer: "request-filtering",
  },
  "404.8": { meaning: "Request filtering: hidden segment (hiddenSegments)", layer: "request-filtering" },
  "404.9": { meaning: "File has the hidden attribute", layer: "static-file" },
  "404.10": {
    meaning: "Request filtering: request header too long (IIS 7.x; IIS 10 uses 431)",
    layer: "request-filtering",
  },
  "404.11": {
    meaning: "Request filtering: double escape sequence or '+' (allowDoubleEscaping)",
    layer: "request-filtering",
  },
  "404.12": {
    meaning: "Request filtering: high-bit (non-ASCII) characters (allowHighBitCharacters)",
    layer: "request-filtering",
  },
  "404.13": {
    meaning: "Request filtering: content length too large (IIS 7.x; IIS 10 uses 413.1)",
    layer: "request-filtering",
  },
  "404.14": { meaning: "Request filtering: URL too long (maxUrl)", layer: "request-filtering" },
  "404.15": {
    meaning: "Request filtering: query string too long (maxQueryString)",
    layer: "request-filtering",
  },
  "404.16": { meaning: "WebDAV request sent to the static file handler", layer: "static-file" },
  "404.17": { meaning: "Dynamic content mapped to the static file handler", layer: "static-file" },
  "404.18": {
    meaning: "Request filtering: query string sequence denied (denyQueryStringSequences)",
    layer: "request-filtering",
  },
  "404.19": {
    meaning: "Request filtering: denied by filtering rule (filteringRules)",
    layer: "request-filtering",
  },
  "404.20": { meaning: "Too many URL segments", layer: "request-filtering" },
  "405.0": { meaning: "Method not allowed (e.g. PROPFIND without WebDAV)", layer: "handler" },
  "406.0": { meaning: "Not acceptable", layer: "handler" },
  "408.0": { meaning: "Request timeout", layer: "http.sys" },
  "412.0": { meaning: "Precondition failed", layer: "handler" },
  "413.0": { meaning: "Request entity too large", layer: "http.sys" },
  "413.1": {
    meaning: "Request filtering: content length too large (maxAllowedContentLength)",
    layer: "request-filtering",
  },
  "414.0": { meaning: "URI too long (http.sys, over 16 KB)", layer: "http.sys" },
  "416.0": { meaning: "Range not satisfiable", layer: "static-file" },
  "431.0": {
    meaning: "Request filtering: request header too long (headerLimits)",
    layer: "request-filtering",
  },
  "500.0": { meaning: "Internal server error (module or ISAPI error)", layer: "server-error" },
  "500.19": { meaning: "Configuration data is invalid (500.19)", layer: "configuration" },
  "500.21": { meaning: "Module not recognised", layer: "server-error" },
  "500.50": { meaning: "URL Rewrite module error", layer: "server-error" },
  "502.0": { meaning: "Bad gateway", layer: "server-error" },
  "503.0": { meaning: "Service unavailable (application pool stopped or queue full)", layer: "server-error" },
  "503.2": { meaning: "Service unavailable: concurrent request limit reached", layer: "server-error" },
};

const BY_STATUS: Record<number, StatusMeaning> = {
  1: { meaning: "Informational", layer: "success" },
  2: { meaning: "Success", layer: "success" },
  3: { meaning: "Redirect", layer: "redirect" },
  4: { meaning: "Client error", layer: "client-error" },
  5: { meaning: "Server error", layer: "server-error" },
};

/** Meaning of `status.substatus` (falls back to `status.0`, then the status class). */
export function describeStatus(status: number, substatus = 0): StatusMeaning {
  return (
    CATALOGUE[`${status}.${substatus}`] ??
    CATALOGUE[`${status}.0`] ??
    BY_STATUS[Math.floor(status / 100)] ?? { meaning: "Unknown status", layer: "client-error" }
  );
}

/** True for the codes IIS request filtering produces (§4). */
export function isRequestFilteringStatus(status: number, substatus: number): boolean {
  return (
    describeStatus(status, substatus).layer === "request-filtering" &&
    CATALOGUE[`${status}.${substatus}`] !== undefined
  );
}
