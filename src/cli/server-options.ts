/**
 * The IIS server options every command shares: `--config FILE`, `--web-config URLPATH=FILE` (repeatable),
 * `--profile iis|aspnet`, `--site NAME` — declared, validated and loaded in one place so `url`, `check`, `probe`,
 * `lab`, `fix` and `diagnose` accept the same spellings and fail with the same messages (exit 2, UsageError).
 * Loading goes through src/config/load.ts (`loadServer`: positioned InputError for a bad file).
 */
import type { Command } from "commander";
import { loadServer } from "../config/load.js";
import type { ServerConfig } from "../config/types.js";
import { UsageError } from "../errors.js";

/** The parsed values, as commander hands them to an action (camelCase). */
export interface ServerOptionValues {
  config?: string;
  webConfig?: string[];
  profile?: string;
  site?: string;
}

export type Profile = "iis" | "aspnet";

/** Which of the options a command declares, and its own help texts where the meaning differs. */
export interface ServerOptionSpec {
  config?: string;
  /** Declare `--web-config` (commands that evaluate with the engine). */
  webConfig?: boolean;
  /** Declare `--profile` with this help text. */
  profile?: string;
  /** Declare `--site` with this help text. */
  site?: string;
  /** Default of `--site` (fix edits a <location> for this site even when the config declares none). */
  siteDefault?: string;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Declares the options on `cmd` (in the order config, web-config, profile, site). */
export function addServerOptions(cmd: Command, spec: ServerOptionSpec = {}): Command {
  cmd.option("--config <file>", spec.config ?? "the DP's applicationHost.config");
  if (spec.webConfig)
    cmd.option(
      "--web-config <urlpath=file>",
      "a web.config file and the URL path it applies to (repeatable)",
      collect,
    );
  if (spec.profile !== undefined) cmd.option("--profile <name>", spec.profile);
  if (spec.site !== undefined) cmd.option("--site <name>", spec.site, spec.siteDefault);
  return cmd;
}

/** `--profile`: iis or aspnet, and only without `--config` (the profile stands in for a missing config). */
export function parseProfile(o: ServerOptionValues): Profile | undefined {
  if (o.profile === undefined) return undefined;
  if (o.profile !== "iis" && o.profile !== "aspnet")
    throw new UsageError(`--profile ${JSON.stringify(o.profile)}: expected iis or aspnet`);
  if (o.config !== undefined)
    throw new UsageError(
      "--profile and --config exclude each other (the profile is only used without --config)",
    );
  return o.profile;
}

/** `--web-config URLPATH=FILE` values (the URL path starts with '/'). */
export function parseWebConfigs(list: readonly string[] | undefined): { urlPath: string; file: string }[] {
  return (list ?? []).map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0 || eq === w.length - 1)
      throw new UsageError(
        `--web-config ${JSON.stringify(w)}: expected URLPATH=FILE (e.g. /SMS_DP_SMSPKG$=web.config)`,
      );
    const urlPath = w.slice(0, eq);
    if (!urlPath.startsWith("/"))
      throw new UsageError(`--web-config ${JSON.stringify(w)}: the URL path must start with '/'`);
    return { urlPath, file: w.slice(eq + 1) };
  });
}

/** `--site`: the config's own spelling of an existing site (IIS site names are case-insensitive), or the default. */
export function pickSite(config: ServerConfig, site: string | undefined): string {
  if (site === undefined) return config.defaultSiteName;
  if (config.sites.length === 0) return site;
  const hit = config.sites.find((s) => s.name.toLowerCase() === site.toLowerCase());
  if (!hit)
    throw new UsageError(
      `--site ${JSON.stringify(site)}: no such site in ${config.origin} (sites: ${config.sites.map((s) => JSON.stringify(s.name)).join(", ")})`,
    );
  return hit.name;
}

export interface LoadedServer {
  config: ServerConfig;
  siteName: string;
  /** true when the admin gave --config (their server), false for an embedded profile. */
  given: boolean;
  /** The embedded profile used when no --config was given. */
  profile?: Profile;
  /** "no --config given: using the embedded … profile …" — to print; undefined with --config. */
  profileNote?: string;
}

/**
 * Validates the options and loads the server: `--config` (with its web.configs), else the embedded profile
 * (`aspnet` unless `--profile iis`). Bad values → UsageError; unreadable or malformed files → positioned InputError.
 */
export function loadServerOptions(o: ServerOptionValues): LoadedServer {
  const chosen = parseProfile(o);
  const webConfigs = parseWebConfigs(o.webConfig);
  const profile = o.config ? undefined : (chosen ?? "aspnet");
  const config = loadServer({
    config: o.config,
    webConfigs: webConfigs.length > 0 ? webConfigs : undefined,
    profile,
  });
  const siteName = pickSite(config, o.site);
  const profileNote = profile
    ? `no --config given: using the embedded ${profile} profile (${config.files[0] ?? `profiles/${profile}/applicationHost.config`}); pass --config to judge your server`
    : undefined;
  return { config, siteName, given: o.config !== undefined, profile, profileNote };
}

/** Like loadServerOptions, but nothing is loaded when neither --config nor --profile was given (probe, diagnose). */
export function loadServerOptionsIfAsked(o: ServerOptionValues): LoadedServer | undefined {
  if (o.config === undefined && o.profile === undefined && (o.webConfig ?? []).length === 0) return undefined;
  return loadServerOptions(o);
}
