/**
 * The fix for each catalogue entry (spec configmgr-dp-bits.md §6 "Fix" lines): the `dpdoctor fix` command that
 * repairs an IIS config cause, the equivalent appcmd, and the caution an admin must read first.
 */
import type { Ask, AttributeOwner, Change, CollectionName } from "../fix/model.js";
import { appcmdCommand, appcmdLocation } from "../fix/render.js";
import type { FailureId, Fix } from "./report.js";

export interface FixContext {
  /** applicationHost.config path as the admin gave it; undefined = not given (the DP's default path is shown). */
  configPath?: string;
  site: string;
  /** vdir name without slashes, e.g. "SMS_DP_SMSPKGE$". */
  vdir?: string;
  /**
   * Every vdir the finding's refusals name, observed or predicted (`vdir` first). With more than one, the printed
   * `dpdoctor fix` goes through the findings JSON (each refusal brings its own vdir) and appcmd gets one line per vdir.
   */
  vdirs?: string[];
  /** Rule value: ".ldf", "bin", "HEAD", "maxQueryString"... */
  value?: string;
  /** The collection is an allow-list (allowUnlisted="false"): the fix adds an allowed entry instead of removing a deny. */
  allowList?: boolean;
  /** Extension the static file handler has no mimeMap for (CM2007 static serving → 404.3 after the filter is lifted). */
  mimeMap?: string;
  /** The vdirs whose refusals need that mimeMap (the 2007 form, served statically); default: `vdir`. */
  mimeMapVdirs?: string[];
  /** diagnose's own arguments, so a command that re-runs it is runnable as printed (else `…` stands for them). */
  rerunArgs?: string[];
}

/** Where applicationHost.config lives on the DP (for commands printed when no --config was given). */
export const DP_APPHOST = "%windir%\\System32\\inetsrv\\config\\applicationHost.config";

/** Quotes an argument for cmd, PowerShell and POSIX shells alike when it needs it. */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_.:\\/$%@+=,-]+$/.test(s) ? s : `"${s.replace(/"/g, '\\"')}"`;
}

/** The vdirs a fix covers: `vdirs` (deduplicated case-insensitively, as IIS compares them) or the one `vdir`. */
export function fixVdirs(ctx: FixContext): string[] {
  const all = [...(ctx.vdir ? [ctx.vdir] : []), ...(ctx.vdirs ?? [])];
  const seen = new Set<string>();
  return all.filter((v) => {
    const k = v.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Stands for the paths diagnose was given when the caller did not pass them (`FixContext.rerunArgs`). */
const SAME_INPUTS = "…";

function dpdoctorFix(ctx: FixContext, change: string): string {
  const config = shellArg(ctx.configPath ?? DP_APPHOST);
  const vdirs = fixVdirs(ctx);
  // several vdirs (e.g. a predicted refusal in the other URL form): `fix --vdir` takes one, the findings JSON names
  // each refused request with its own vdir — `…` stands for the same inputs diagnose was given
  if (vdirs.length > 1)
    return `dpdoctor diagnose ${ctx.rerunArgs?.length ? ctx.rerunArgs.map(shellArg).join(" ") : SAME_INPUTS} --json > findings.json && dpdoctor fix --from findings.json --config ${config}`;
  const parts = ["dpdoctor fix", "--config", config, change, "--site", shellArg(ctx.site)];
  if (vdirs[0]) parts.push("--vdir", shellArg(vdirs[0]));
  return parts.join(" ");
}

/** One appcmd line per change per vdir (newline-separated), rendered by src/fix/render.ts like `dpdoctor fix --format appcmd`. */
function appcmd(ctx: FixContext, changes: readonly Change[]): string {
  const vdirs = fixVdirs(ctx);
  if (vdirs.length === 0) return changes.map((c) => appcmdCommand(c, ctx.site)).join("\n");
  const mimeVdirs = new Set((ctx.mimeMapVdirs ?? (ctx.vdir ? [ctx.vdir] : [])).map((v) => v.toLowerCase()));
  return vdirs
    .flatMap((vdir) =>
      changes
        .filter((c) => c.op !== "addMimeMap" || mimeVdirs.has(vdir.toLowerCase()))
        .map((c) => appcmdCommand(c, appcmdLocation({ site: ctx.site, vdir }))),
    )
    .join("\n");
}

/** Remove the deny entry, or add an allowed entry when the collection is an allow-list (allowUnlisted="false"). */
function allowItem(ctx: FixContext, collection: CollectionName, key: string, ask: Ask): Change {
  return ctx.allowList
    ? { op: "addItem", collection, key, allowed: true, ask }
    : { op: "removeItem", collection, key, ask };
}

function setAttribute(owner: AttributeOwner, name: string, value: string, ask: Ask): Change {
  return { op: "setAttribute", owner, name, value, ask };
}

const OCTET_STREAM = "application/octet-stream";

const SCOPE_CAUTION =
  "Scope the change to the DP's content virtual directory: a server-level change affects every site on this server (MS docs, prepare-windows-servers [S16]).";

export function fixFor(id: FailureId, ctx: FixContext): Fix {
  const fix = fixForEntry(id, ctx);
  if (fix.command?.startsWith(`dpdoctor diagnose ${SAME_INPUTS} `))
    fix.summary += `. The refusals name ${fixVdirs(ctx).length} vdirs, so the command re-runs diagnose (${SAME_INPUTS} = the paths you gave it) and \`fix --from\` plans and proves every refused request, observed or predicted, on each vdir`;
  return fix;
}

function fixForEntry(id: FailureId, ctx: FixContext): Fix {
  const v = ctx.value;
  switch (id) {
    case "F01": {
      const mime = ctx.mimeMap
        ? ` and give it a MIME type (the static file handler answers 404.3 for an extension without a mimeMap)`
        : "";
      const changes: Change[] = v
        ? [allowItem(ctx, "fileExtensions", v, { kind: "allowExtension", extension: v })]
        : [];
      if (v && ctx.mimeMap)
        changes.push({
          op: "addMimeMap",
          extension: ctx.mimeMap,
          mimeType: OCTET_STREAM,
          ask: { kind: "addMimeMap", extension: ctx.mimeMap, mimeType: OCTET_STREAM },
        });
      return {
        summary: v
          ? `Allow the file extension ${v} on ${fixVdirs(ctx).join(", ") || "the DP content vdir"} (request filtering <fileExtensions>)${mime}, then let the client retry`
          : "Allow the denied file extension on the DP content vdir (request filtering <fileExtensions>)",
        command: v
          ? dpdoctorFix(
              ctx,
              `--allow-extension ${shellArg(v)}${ctx.mimeMap ? ` --mime-map ${shellArg(ctx.mimeMap)}` : ""}`,
            )
          : null,
        appcmd: v ? appcmd(ctx, changes) : undefined,
        caution: SCOPE_CAUTION,
      };
    }
    case "F02":
      return {
        summary: v
          ? `Stop hiding the segment "${v}" on ${fixVdirs(ctx).join(", ") || "the DP content vdir"} (request filtering <hiddenSegments>)`
          : "Remove the hidden segment from request filtering on the DP content vdir",
        command: v ? dpdoctorFix(ctx, `--allow-segment ${shellArg(v)}`) : null,
        appcmd: v
          ? appcmd(ctx, [
              {
                op: "removeItem",
                collection: "hiddenSegments",
                key: v,
                ask: { kind: "allowSegment", segment: v },
              },
            ])
          : undefined,
        caution: SCOPE_CAUTION,
      };
    case "F03":
      return {
        summary: `Set allowDoubleEscaping="true" on ${fixVdirs(ctx).join(", ") || "the DP content vdir"}, or rename the files with '+' in their names`,
        command: dpdoctorFix(ctx, "--allow-double-escaping"),
        appcmd: appcmd(ctx, [
          setAttribute("", "allowDoubleEscaping", "true", { kind: "allowDoubleEscaping" }),
        ]),
        caution: SCOPE_CAUTION,
      };
    case "F04": {
      const limit = v === "maxUrl" ? "maxUrl" : "maxQueryString";
      const value = limit === "maxUrl" ? 8192 : 4096;
      const flag = limit === "maxUrl" ? `--max-url ${value}` : `--max-query-string ${value}`;
      if (v && v !== "maxUrl" && v !== "maxQueryString")
        return {
          summary: `HTTP.sys refused the request (${v}): raise the HTTP.sys limits (MaxFieldLength / UrlSegmentMaxLength) or shorten the package paths`,
          command: null,
        };
      return {
        summary: `Raise requestLimits ${limit} on ${fixVdirs(ctx).join(", ") || "the DP content vdir"}, or shorten the package's folder names`,
        command: dpdoctorFix(ctx, flag),
        appcmd: appcmd(ctx, [setAttribute("requestLimits", limit, String(value), { kind: limit, value })]),
        caution: SCOPE_CAUTION,
      };
    }
    case "F05":
      return {
        summary: v
          ? `Allow the verb ${v} on ${fixVdirs(ctx).join(", ") || "the DP content vdir"}: a DP needs GET, HEAD and PROPFIND [S16]`
          : "Relax the request-filtering rule that refuses the DP's requests (the engine names it when --config is given)",
        command: v ? dpdoctorFix(ctx, `--allow-verb ${shellArg(v)}`) : null,
        appcmd: v ? appcmd(ctx, [allowItem(ctx, "verbs", v, { kind: "allowVerb", verb: v })]) : undefined,
      };
    case "F06":
      return {
        summary:
          'Serve the package files statically: run "SMS Distribution Points Pool" in Classic pipeline mode (appcmd set apppool "SMS Distribution Points Pool" /managedPipelineMode:"Classic", then iisreset) [S24]',
        command: null,
      };
    case "F07":
      return {
        summary:
          "Remove the WebDAV Publishing role service from the CB DP (it answers PROPFIND with 405 before the ConfigMgr ISAPI); the client retries on its own [S1]",
        command: null,
        caution: "ConfigMgr 2007 DPs need WebDAV; only CB DPs must not have it (spec §6 F07)",
      };
    case "F08":
      return {
        summary:
          "Fix authentication on the DP vdir: enable anonymous or Windows authentication as the DP is configured, fix NTFS ACLs on the content (401.3), client certificates (403.7/13/16/17)",
        command: null,
      };
    case "F09":
      return {
        summary:
          "Fix the DP certificate chain: reachable CRL, root/intermediate in the computer's stores, DP certificate FQDN/SAN [S66]",
        command: null,
      };
    case "F10":
      return {
        summary:
          "Fix the DP's server error: 500.19 = invalid or locked configuration (read the config error); 500 from the ISAPI = check the DP (e.g. WMI firewall rules, SCCMdocs#608 [S7])",
        command: null,
      };
    case "F11":
      return {
        summary:
          'Start or repair the "SMS Distribution Points Pool" application pool (check the System event log for the rapid-fail reason)',
        command: null,
      };
    case "F12":
      return {
        summary:
          "Let Range / Content-Range through: bypass or fix the proxy or firewall between client and DP (BITS needs HTTP/1.1 ranges) [S31][S51]",
        command: null,
      };
    case "F13":
      return {
        summary:
          "Restore connectivity from the client to the DP: name resolution, routing, firewall on port 80/443; `dpdoctor probe` tests it from the client's network",
        command: null,
      };
    case "F14":
      return {
        summary:
          "Make the content reachable: distribute it to a DP in the client's boundary group, or validate/redistribute it when the DP is missing files",
        command: null,
      };
    case "F15":
      return {
        summary:
          "Redistribute or update the content (content changed without a version bump), exclude it from proxies/AV rewriting; cloud DP: KB 4458143 [S4]",
        command: null,
      };
    case "F16":
      return {
        summary:
          "Clear stale CCMDTS jobs (bitsadmin /reset /allusers) and repair the BITS service configuration [S3][S51]",
        command: null,
      };
    case "F17":
      return {
        summary:
          "Fix the alternate source: peer cache port 8003 reachable and peer in the client's boundary group; CMG content service reachable [S48][S65]",
        command: null,
      };
    case "F18":
      return { summary: "Enlarge or clean the client cache (ccmcache), or free disk space", command: null };
    case "F19":
      return {
        summary:
          "Fix the proxy the SYSTEM account uses (netsh winhttp show proxy), or bypass the proxy for the DP [S66b]",
        command: null,
      };
  }
}
