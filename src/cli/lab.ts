/**
 * `dpdoctor lab serve <package-or-content-library>`: a loopback DP emulator (every request decided by the engine,
 * real W3C/HTTPERR logs, fault injection). `dpdoctor lab seed`: the reference scenario end to end. Thin: options →
 * startLab / runSeed.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "../errors.js";
import { runSeed } from "../lab/seed.js";
import { type LabFaults, startLab } from "../lab/server.js";
import { splitUser } from "../probe/ntlm.js";
import { addServerOptions, loadServerOptions, type ServerOptionValues } from "./server-options.js";

interface ServeOptions extends ServerOptionValues {
  packageId?: string;
  contentId?: string;
  host: string;
  port: string;
  logDir?: string;
  fail?: string[];
  range: boolean;
  dropAfter?: string;
  delay?: string;
  stopPool?: boolean;
  ntlmUser?: string;
  passwordEnv: string;
  maxConnections: string;
  tlsCert?: string;
  sigDir?: string;
  tlsKey?: string;
}

function int(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`${flag} ${v}: expected a whole number between ${min} and ${max}`);
  return Number(v);
}

/** `--fail 500 PATH [--fail 503 PATH2]` (pairs). */
export function parseFail(values: string[] | undefined): LabFaults["fail"] {
  if (!values || values.length === 0) return undefined;
  if (values.length % 2 !== 0)
    throw new UsageError("--fail takes pairs: --fail 500|503 PATH (give the package folder before --fail)");
  const out: NonNullable<LabFaults["fail"]> = [];
  for (let i = 0; i < values.length; i += 2) {
    const status = values[i];
    if (status !== "500" && status !== "503") throw new UsageError(`--fail ${status}: expected 500 or 503`);
    out.push({ status: Number(status) as 500 | 503, path: values[i + 1] });
  }
  return out;
}

export function register(program: Command): void {
  const lab = program
    .command("lab")
    .description("a ConfigMgr DP emulator on loopback, and the seed scenario end to end");
  const serve = lab
    .command("serve")
    .description(
      "serve a package folder or a content library the way a DP does (IIS decisions by the engine)",
    )
    .argument("<root>", "package source folder, or an SCCMContentLib root (PkgLib, DataLib, FileLib)");
  addServerOptions(serve, {
    config: "applicationHost.config deciding every request",
    webConfig: true,
    profile: "embedded profile without --config: iis | aspnet (default aspnet)",
    site: "IIS site (default: the config's default site)",
  })
    .option("--package-id <id>", "package folder: its package ID (default: the folder name)")
    .option("--content-id <id>", "package folder: the content ID CB URLs carry (default: the package ID)")
    .option("--host <addr>", "bind address (loopback unless told otherwise)", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", "0")
    .option(
      "--log-dir <dir>",
      "where W3SVC1/u_exYYMMDD.log and HTTPERR/httperr1.log go (default: a temp folder)",
    )
    .option("--fail <status-and-path...>", "answer 500 or 503 for URLs containing PATH: --fail 503 setup.exe")
    .option("--no-range", "ignore Range: 200 with the whole file (F12)")
    .option("--drop-after <bytes>", "reset the connection after BYTES of each body")
    .option("--delay <ms>", "wait before each answer")
    .option(
      "--stop-pool",
      "application pool stopped: 503 from http.sys, HTTPERR AppOffline, no W3C line (F11)",
    )
    .option("--ntlm-user <DOMAIN\\name>", "require NTLM for this user (password from --password-env)")
    .option(
      "--password-env <var>",
      "environment variable with the --ntlm-user password",
      "DPDOCTOR_LAB_PASSWORD",
    )
    .option("--max-connections <n>", "connection limit", "256")
    .option("--sig-dir <dir>", "folder of <ContentID>.tar signature files served under SMS_DP_SMSSIG$")
    .option("--tls-cert <file>", "serve HTTPS with this PEM certificate (with --tls-key)")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .addHelpText(
      "after",
      "\nExamples:\n  dpdoctor lab serve ./ABC00123 --port 8080\n  dpdoctor lab serve D:\\SCCMContentLib --config applicationHost.config --fail 503 setup.exe --log-dir ./dp-logs",
    )
    .action(async (root: string, o: ServeOptions) => {
      const loaded = loadServerOptions(o);
      let ntlmUsers: { domain: string; user: string; password: string }[] | undefined;
      if (o.ntlmUser) {
        const pw = process.env[o.passwordEnv];
        if (pw === undefined) throw new UsageError(`--ntlm-user needs its password in ${o.passwordEnv}`);
        ntlmUsers = [{ ...splitUser(o.ntlmUser), password: pw }];
      }
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
        throw new UsageError("--tls-cert and --tls-key go together");
      const tls =
        o.tlsCert && o.tlsKey ? { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } : undefined;
      const server = await startLab({
        tls,
        signatureDir: o.sigDir,
        root,
        packageId: o.packageId,
        contentId: o.contentId,
        server: loaded.config,
        site: loaded.siteName,
        host: o.host,
        port: int("--port", o.port, 0, 65535),
        logDir: o.logDir,
        ntlmUsers,
        maxConnections: int("--max-connections", o.maxConnections, 1, 100000),
        faults: {
          fail: parseFail(o.fail),
          noRange: o.range === false,
          dropAfterBytes:
            o.dropAfter !== undefined ? int("--drop-after", o.dropAfter, 0, 2 ** 52) : undefined,
          delayMs: o.delay !== undefined ? int("--delay", o.delay, 0, 600000) : undefined,
          stopPool: o.stopPool === true,
        },
      });
      process.stdout.write(`dpdoctor lab: serving ${root} at ${server.url}\n`);
      if (loaded.profileNote) process.stdout.write(`  note: ${loaded.profileNote}\n`);
      for (const p of server.packages)
        process.stdout.write(
          `  package ${p.packageId} (content ID ${p.contentId}): ${server.url}/SMS_DP_SMSPKG$/${p.contentId}/sccm?/…  ${server.url}/SMS_DP_SMSPKG<any drive letter>$/${p.packageId}/…\n`,
        );
      for (const w of server.warnings) process.stdout.write(`  note: ${w}\n`);
      process.stdout.write(`  logs: ${server.w3cDir}  ${server.httpErrDir}\n`);
      for (const n of server.inferences) process.stdout.write(`  assumption: ${n}\n`);
      process.stdout.write("  Ctrl+C to stop\n");
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
      process.stdout.write(`dpdoctor lab: stopped; logs in ${server.logDir}\n`);
      process.exitCode = EXIT_OK;
    });
  lab
    .command("seed")
    .description(
      "the reference case end to end: serve ABC00123 (blah/file.ldf, bin/), watch BITS hang, diagnose, fix, succeed",
    )
    .option("--dir <dir>", "working folder (default: a new temp folder)")
    .action(async (o: { dir?: string }) => {
      const r = await runSeed({ dir: o.dir, say: (s) => process.stdout.write(`${s}\n`) });
      process.stdout.write(
        r.ok
          ? `seed: the final download succeeded (files in ${r.dir})\n`
          : `seed: the final download did NOT succeed (files in ${r.dir})\n`,
      );
      process.exitCode = r.ok ? EXIT_OK : EXIT_FINDINGS;
    });
}
