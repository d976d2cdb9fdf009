#!/usr/bin/env node
/**
 * dpdoctor command line: a thin layer over the library. Each command lives in src/cli/<command>.ts and
 * exports `register(program)`. Exit codes: 0 clean, 1 refusals/findings, 2 usage or input error.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command as CommandType } from "commander";
import { loadCommander } from "./cjs.js";
import { EXIT_USAGE, InputError, UsageError } from "./errors.js";
import { VERSION } from "./version.js";

const { Command, CommanderError } = loadCommander();

type Register = (program: CommandType) => void;

/**
 * The commands in help order. Each is imported only when it runs: loading all of them (85 modules: engine, config,
 * readers, lab, probe, fix…) cost ~0.1–0.2 CPU-s at every start-up, a fifth of a 1.5 M-line `logs` run.
 */
const COMMANDS: readonly { name: string; load: () => Promise<{ register: Register }> }[] = [
  { name: "url", load: () => import("./cli/url.js") },
  { name: "check", load: () => import("./cli/check.js") },
  { name: "logs", load: () => import("./cli/logs.js") },
  { name: "diagnose", load: () => import("./cli/diagnose.js") },
  { name: "fix", load: () => import("./cli/fix.js") },
  { name: "probe", load: () => import("./cli/probe.js") },
  { name: "lab", load: () => import("./cli/lab.js") },
];

/** The command argv names (first word after the options of `dpdoctor` itself), when it is one of ours. */
export function commandOf(argv: readonly string[]): string | undefined {
  const first = argv.slice(2).find((a) => !a.startsWith("-"));
  return COMMANDS.some((c) => c.name === first) ? first : undefined;
}

/**
 * The program with every command registered, or only `only` (what `main` does when argv names a command: the help
 * of that command and its parsing are the same either way).
 */
export async function buildProgram(only?: string): Promise<CommandType> {
  const program = new Command();
  program
    .name("dpdoctor")
    .description(
      "Predict, explain, fix and prove IIS refusals of ConfigMgr distribution point downloads (BITS jobs that 'hang').",
    )
    .version(VERSION, "-V, --version")
    .showHelpAfterError()
    .exitOverride();
  const wanted = only ? COMMANDS.filter((c) => c.name === only) : COMMANDS;
  const modules = await Promise.all(wanted.map((c) => c.load()));
  for (const m of modules) m.register(program);
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
  try {
    const program = await buildProgram(commandOf(argv));
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
