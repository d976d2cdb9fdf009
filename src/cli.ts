#!/usr/bin/env node
/**
 * dpdoctor command line: a thin layer over the library. Each command lives in src/cli/<command>.ts and
 * exports `register(program)`. Exit codes: 0 clean, 1 refusals/findings, 2 usage or input error.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { register as registerCheck } from "./cli/check.js";
import { register as registerDiagnose } from "./cli/diagnose.js";
import { register as registerFix } from "./cli/fix.js";
import { register as registerLab } from "./cli/lab.js";
import { register as registerLogs } from "./cli/logs.js";
import { register as registerProbe } from "./cli/probe.js";
import { register as registerUrl } from "./cli/url.js";
import { EXIT_USAGE, InputError, UsageError } from "./errors.js";
import { VERSION } from "./version.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("dpdoctor")
    .description(
      "Predict, explain, fix and prove IIS refusals of ConfigMgr distribution point downloads (BITS jobs that 'hang').",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .exitOverride();
  registerUrl(program);
  registerCheck(program);
  registerLogs(program);
  registerDiagnose(program);
  registerFix(program);
  registerProbe(program);
  registerLab(program);
  return program;
}

/** Reports an error the way an admin wants it: one line, no stack trace, exit code 2. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed help/usage/version text
    if (
      err.code === "commander.helpDisplayed" ||
      err.code === "commander.version" ||
      err.code === "commander.help"
    )
      return 0;
    return EXIT_USAGE;
  }
  if (err instanceof InputError) {
    process.stderr.write(`dpdoctor: ${err.format()}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`dpdoctor: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === "object" && typeof e.code === "string" && typeof e.path === "string") {
    // file-system errors on user input: ENOENT, EACCES, EISDIR...
    process.stderr.write(
      `dpdoctor: ${e.path}: ${e.code === "ENOENT" ? "no such file or directory" : e.message}\n`,
    );
    return EXIT_USAGE;
  }
  process.stderr.write(`dpdoctor: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.DPDOCTOR_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  return 3;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
