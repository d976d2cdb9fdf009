import type { Verdict } from "../engine/types.js";
import type { UrlForm } from "../logs/records.js";

/**
 * PROPFIND on the ConfigMgr 2007 per-drive vdir is answered by WebDAV (a BITS-enabled 2007 DP "must have ... WebDAV
 * enabled", configmgr-dp-bits.md §2.1), not by the static file handler: only refusals made before the handler
 * (http.sys, configuration, request filtering) apply to it [INF]. Used by the emulator and by the probe's prediction.
 */
export function servedByWebDav(method: string, verdict: Verdict, form: UrlForm | undefined): boolean {
  return method === "PROPFIND" && verdict.layer === "handler" && form === "direct2007";
}

/** The verdict as it applies to a PROPFIND listing (a handler answer of the static file handler does not). */
export const WEBDAV_NOTE =
  "PROPFIND on SMS_DP_SMSPKG<drive>$ is answered by WebDAV, not the static file handler (configmgr §2.1) [INF]";
