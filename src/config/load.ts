/**
 * Loading applicationHost.config (+ web.config files) into a ServerConfig.
 * Spec: iis-request-filtering.md §2, §3, §8. (Initial stub: API published first so others can compile against it.)
 */
import { defaultRequestFiltering } from "./defaults.js";
import type { EffectiveConfig, ServerConfig } from "./types.js";

export interface LoadServerOptions {
  /** Path of an applicationHost.config. */
  config?: string;
  /** web.config files mapped to URL paths (e.g. `{ urlPath: "/SMS_DP_SMSPKG$", file: "C:/.../web.config" }`). */
  webConfigs?: { urlPath: string; file: string }[];
  /** Embedded profile used when no config is given (default "aspnet"). */
  profile?: "iis" | "aspnet";
}

export interface AppHostText {
  text: string;
  file: string;
}
export interface WebConfigText {
  urlPath: string;
  text: string;
  file: string;
}

export function loadServer(opts: LoadServerOptions): ServerConfig {
  void opts;
  return loadServerFromText({ text: "", file: "(stub)" });
}

export function loadServerFromText(appHost: AppHostText, webConfigs?: WebConfigText[]): ServerConfig {
  void webConfigs;
  const eff: EffectiveConfig = {
    siteName: "Default Web Site",
    requestFilteringModuleLoaded: true,
    errors: [],
    requestFiltering: defaultRequestFiltering(),
    staticContent: { mimeMaps: [], index: new Map() },
    handlers: { accessPolicy: ["Read", "Script"], items: [] },
    applicationPath: "/",
    virtualDirectoryPath: "/",
  };
  return {
    files: [appHost.file],
    origin: appHost.file,
    sites: [],
    defaultSiteName: "Default Web Site",
    effective: () => eff,
  };
}
