/**
 * `dpdoctor diagnose <paths...>`: why is this download stuck, and what do I change? (issue 5)
 * Thin: gather artifacts (client logs whole, DP logs streamed) → diagnose → render. Exit 0 no finding, 1 findings, 2 usage or input error.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { diagnosePaths } from "../diagnose/ingest.js";
import { renderText } from "../diagnose/render-text.js";
import { evaluate } from "../engine/evaluate.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "../errors.js";
import { renderHtml } from "../render/html-report.js";
import { VERSION } from "../version.js";
import { addServerOptions } from "./server-options.js";

interface DiagnoseOptions {
  config?: string;
  packageDir?: string;
  content?: string;
  client?: string;
  skew: string;
  json?: boolean;
  html?: string;
}

/** The arguments that re-run this diagnosis (the printed fix command starts with them). */
function rerunArgs(paths: string[], opts: DiagnoseOptions): string[] {
  const args = [...paths];
  if (opts.config) args.push("--config", opts.config);
  if (opts.packageDir) args.push("--package-dir", opts.packageDir);
  if (opts.content) args.push("--content", opts.content);
  if (opts.client) args.push("--client", opts.client);
  if (opts.skew !== "5") args.push("--skew", opts.skew);
  return args;
}

export function register(program: Command): void {
  const cmd = program
    .command("diagnose")
    .description(
      "Explain a stuck ConfigMgr download from what you collected: client CCM\\Logs, the DP's IIS and HTTPERR logs, BITS event exports, the DP's applicationHost.config, a package folder",
    )
    .argument(
      "<paths...>",
      "files or folders (searched recursively); an applicationHost.config among them is used as the DP's config",
    );
  addServerOptions(cmd, {
    config: "the DP's applicationHost.config (names the exact config line and prints the fix)",
  })
    .option(
      "--package-dir <dir>",
      "the package's source folder (or its DataLib\\<ContentID> folder): predict refusals file by file",
    )
    .option("--content <id>", "only this package / content ID (ABC00123, Content_<guid>.1)")
    .option("--client <ip>", "only this client IP")
    .option("--skew <minutes>", "clock skew tolerated between client and DP logs", "5")
    .option("--json", "print the report as JSON")
    .option("--html <file>", "also write a self-contained HTML report (timeline, statuses, findings)")
    .addHelpText(
      "after",
      "\nExamples:\n  dpdoctor diagnose examples/seed\n  dpdoctor diagnose C:\\collect\\PC0233 C:\\collect\\DP01 --config C:\\collect\\DP01\\applicationHost.config --html report.html\n  dpdoctor diagnose u_ex240305.log --content Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1 --json",
    )
    .action(async (paths: string[], opts: DiagnoseOptions) => {
      const skew = Number(opts.skew);
      if (!Number.isFinite(skew) || skew < 0 || skew > 24 * 60)
        throw new UsageError(`--skew must be a number of minutes between 0 and 1440, found "${opts.skew}"`);
      if (opts.client !== undefined && !/^[0-9A-Fa-f:.]+$/.test(opts.client))
        throw new UsageError(`--client must be an IP address as IIS logs it, found "${opts.client}"`);
      // the DP logs stream through bounded aggregates: memory does not grow with them
      const report = await diagnosePaths(
        { paths, config: opts.config, packageDir: opts.packageDir, contentId: opts.content },
        {
          evaluate,
          contentId: opts.content,
          client: opts.client,
          skewMinutes: skew,
          version: VERSION,
          rerunArgs: rerunArgs(paths, opts),
        },
      );
      if (opts.html) writeFileSync(opts.html, renderHtml(report));
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
        process.stdout.write(renderText(report, { color }));
        if (opts.html) process.stdout.write(`HTML report written to ${opts.html}\n`);
      }
      process.exitCode = report.findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
