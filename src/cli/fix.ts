/**
 * `dpdoctor fix` — the smallest request-filtering change, scoped to the DP's virtual directory, that makes the
 * refused requests pass; proven with the engine before anything is written. Dry run by default; `--apply` writes
 * with a backup. Exit 0 planned or applied, 1 a refusal could not be planned (or the proof failed), 2 usage/input.
 * Thin: the command is src/fix/run.ts. Spec: iis-request-filtering.md §8, configmgr-dp-bits.md §6.
 */
import type { Command } from "commander";
import { type FixRunOptions, runFix } from "../fix/run.js";
import { addServerOptions } from "./server-options.js";

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export function register(program: Command): void {
  const cmd = program
    .command("fix")
    .description(
      "Plan (and with --apply, write) the smallest request-filtering change, scoped to the DP's virtual directory, that makes refused downloads pass - proven with the engine first",
    )
    .option(
      "--from <file>",
      "findings JSON from `dpdoctor check --json` or `dpdoctor diagnose --json` (repeatable)",
      collect,
    );
  // the file itself is edited: no --profile or --web-config here (an embedded profile is not the DP's file)
  addServerOptions(cmd, {
    config: "the applicationHost.config to fix",
    site: "IIS site of the DP",
    siteDefault: "Default Web Site",
  })
    .option(
      "--vdir <name>",
      "virtual directory for explicit asks (default SMS_DP_SMSPKG$; refused requests bring their own)",
    )
    .option(
      "--scope <scope>",
      "vdir (a <location> for the DP's virtual directory) or server (every site: with a warning)",
      "vdir",
    )
    .option(
      "--allow-extension <ext>",
      "let files with this extension be served, e.g. .ldf (repeatable)",
      collect,
    )
    .option(
      "--allow-segment <name>",
      "stop hiding folders/files with this name, e.g. bin (repeatable)",
      collect,
    )
    .option("--allow-verb <verb>", "accept this HTTP verb, e.g. HEAD (case-sensitive, repeatable)", collect)
    .option("--allow-double-escaping", "accept '+' and double escapes in URLs (allowDoubleEscaping)")
    .option("--allow-high-bit", "accept non-ASCII characters in URLs (allowHighBitCharacters)")
    .option("--max-query-string <bytes>", "raise requestLimits maxQueryString to at least this")
    .option("--max-url <bytes>", "raise requestLimits maxUrl to at least this")
    .option(
      "--mime-map <ext[=type]>",
      "give an extension a MIME type so the static file handler serves it (404.3; default type application/octet-stream)",
      collect,
    )
    .option("--format <format>", "diff | appcmd | powershell", "diff")
    .option("--apply", "write the change (backup next to the file); the default is a dry run")
    .option("--json", "machine-readable plan, proof and renderings")
    .action((opts: FixRunOptions) => {
      const { code, stdout } = runFix(opts);
      process.stdout.write(stdout);
      process.exitCode = code;
    });
}
