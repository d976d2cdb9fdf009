/**
 * The decision engine's contract: `evaluate(request, server) → Verdict`.
 * Spec: ../shared/spec/iis-request-filtering.md §1 (layers), §5 (canonicalization), §6 (checks), §7 (order), §11.
 */
import type { ServerConfig, SourceRef } from "../config/types.js";

export type Layer = "httpsys" | "config" | "request-filtering" | "handler" | "pass";

/** Names of the checks, in the admin's vocabulary; one per rule of §5.2, §6 and §9. */
export type CheckName =
  // http.sys (§5.2)
  | "httpsys.invalidCharacter"
  | "httpsys.badEscape"
  | "httpsys.segmentTooLong"
  | "httpsys.tooManySegments"
  | "httpsys.urlTooLong"
  | "httpsys.aboveRoot"
  | "httpsys.badTarget"
  // configuration (§8)
  | "config.invalid"
  // request filtering (§6), in §7 order
  | "maxAllowedContentLength"
  | "maxUrl"
  | "maxQueryString"
  | "headerLimits"
  | "verbs"
  | "doubleEscaping"
  | "highBitCharacters"
  | "hiddenSegments"
  | "fileExtensions"
  | "denyUrlSequences"
  | "denyQueryStringSequences"
  | "filteringRules"
  // handler / static file (§9)
  | "static.mimeMap"
  | "static.hiddenFile"
  | "static.notFound"
  | "static.verb"
  | "static.directory"
  /** A trailing `/` after a static file (500.0, §5.3). */
  | "static.trailingSlash"
  | "handler.dynamic"
  /** ISAPI/CGI mapping that requires Execute (granted by accessPolicy): runs or ends in 404.2 (§9.1 [INF]). */
  | "handler.execute"
  /** No handler mapping matches the URL and verb (404.4, §1 L5). */
  | "handler.none"
  /** dpdoctor itself failed to evaluate the request (a bug; the verdict says so instead of throwing). */
  | "engine.internal";

export interface Reason {
  status: number;
  substatus: number;
  check: CheckName;
  /** One line in an admin's words, e.g. "File extension .ldf is denied (allowed=false)". */
  message: string;
  /** The config line that decided it; null = schema default / not configurable (http.sys). */
  source: SourceRef | null;
  /** Set when the rule or its interpretation is an inference of the spec (§13), e.g. "§13.3 DP content handler". */
  inferred?: string;
}

/**
 * The engine's answer. Its arrays and reasons (`reasons` of a pass, `notes` of a DP content verdict, and every array
 * and reason of a verdict the verdict memo answers, evaluate.ts MemoEntry) may be shared between verdicts and frozen:
 * treat a verdict as read-only and copy an array or a reason before changing it.
 */
export interface Verdict {
  status: number;
  substatus: number;
  layer: Layer;
  /** Every triggered reason; reasons[0] is the primary one (§7 order). Empty for a pass. */
  reasons: Reason[];
  /** true whenever more than one request-filtering check fired: the §7 order is inferred. */
  orderInferred: boolean;
  /** Canonical path as request filtering saw it (§5.3), when the request got that far. */
  canonicalPath?: string;
  /** Which handler would serve a passing request ("StaticFile", "configmgr-content", an ASP.NET mapping...). */
  handler?: string;
  /** Inferences the verdict depends on (§13), in plain words. */
  notes?: string[];
}

export interface HttpRequest {
  method: string;
  /** Raw request target exactly as on the wire: "/path?query" (bytes not re-encoded). */
  target: string;
  /** Header name → value (names compared case-insensitively). */
  headers?: Record<string, string>;
  /** Treat as a WebDAV request for applyToWebDAV (§6.14). Default: inferred from the verb. */
  isWebDav?: boolean;
  /** What the caller knows about the file on disk (the engine does no I/O). */
  file?: { exists?: boolean; hidden?: boolean; isDirectory?: boolean };
}

export interface Server {
  config: ServerConfig;
  siteName: string;
}
