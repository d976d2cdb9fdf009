/**
 * `dpdoctor probe http(s)://DP[:port] --content ID`: list the package (PROPFIND or a local folder), then HEAD and
 * ranged GET each file as BITS does; per-file outcome, BITS's view (fatal/transient, HRESULT) and, with --config, the
 * engine's explanation. Thin: options → runProbe → render. Exit 0 all files ok, 1 otherwise, 2 usage.
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "../errors.js";
import type { UrlForm } from "../logs/records.js";
import { type Credentials, splitUser } from "../probe/ntlm.js";
import { runProbe } from "../probe/probe.js";
import { fileLine, probeJson, renderListing, renderProbeHeader, renderSummary } from "../probe/render.js";
import { addServerOptions, loadServerOptionsIfAsked, type ServerOptionValues } from "./server-options.js";

interface ProbeCliOptions extends ServerOptionValues {
  content: string;
  form: string;
  vdir?: string;
  drive?: string;
  packageDir?: string;
  user?: string;
  passwordEnv: string;
  ca?: string;
  insecure?: boolean;
  concurrency: string;
  timeout: string;
  totalTimeout: string;
  retries: string;
  retryDelay: string;
  download?: string;
  json?: boolean;
}

function num(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag} ${v}: expected a number between ${min} and ${max}`);
  return n;
}

/** Password: from the environment variable, else a prompt on a terminal; never from the command line. */
async function password(envName: string): Promise<string> {
  const v = process.env[envName];
  if (v !== undefined) return v;
  if (!process.stdin.isTTY)
    throw new UsageError(`--user needs a password: set ${envName} (it is never read from the command line)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
  let prompted = false;
  out._writeToOutput = (s: string) => {
    if (!prompted) {
      process.stderr.write(s);
      prompted = true;
    }
  };
  return new Promise((resolve) =>
    rl.question("Password: ", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    }),
  );
}

export function register(program: Command): void {
  const cmd = program
    .command("probe")
    .description(
      "download a package from a DP the way BITS does (PROPFIND, HEAD, ranged GET) and report per file",
    )
    .argument("<url>", "the DP: http(s)://DP[:port]")
    .requiredOption("--content <id>", "package or content ID (ABC00123, Content_<guid>.1)")
    .option("--form <form>", "URL form: client (sccm?), direct, direct2007", "client")
    .option("--vdir <name>", "content vdir (default SMS_DP_SMSPKG$, or SMS_DP_SMSPKG<drive>$ for direct2007)")
    .option("--drive <letter>", "drive letter of the 2007 vdir", "C")
    .option("--package-dir <dir>", "list files from this local package folder instead of PROPFIND");
  addServerOptions(cmd, {
    config: "the DP's applicationHost.config: explain refusals with the engine",
    webConfig: true,
    profile: "embedded profile (iis | aspnet) for explanations without --config",
    site: "IIS site for explanations (default: the config's default site)",
  })
    .option("--user <DOMAIN\\name>", "NTLM credentials (password from --password-env or a prompt)")
    .option("--password-env <var>", "environment variable holding the password", "DPDOCTOR_PASSWORD")
    .option("--ca <file>", "PEM CA certificate(s) to trust for an HTTPS DP")
    .option("--insecure", "HTTPS: do not verify the DP's certificate")
    .option("--concurrency <n>", "files in flight at once", "4")
    .option("--timeout <s>", "per request", "30")
    .option("--total-timeout <s>", "for the whole run", "600")
    .option("--retries <n>", "retries per file after a transient error (BITS rules, §5.1)", "0")
    .option("--retry-delay <s>", "wait between retries (BITS MinimumRetryDelay is 600 s)", "5")
    .option("--download <dir>", "download whole files into DIR (nothing is written otherwise)")
    .option("--json", "JSON report on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  dpdoctor probe http://dp01 --content ABC00123 --form direct2007 --drive E --config applicationHost.config\n  DPDOCTOR_PASSWORD=... dpdoctor probe https://dp01 --content Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1 --user CONTOSO\\cmnaa --ca root.pem",
    )
    .action(async (url: string, o: ProbeCliOptions) => {
      let origin: URL;
      try {
        origin = new URL(url);
      } catch {
        throw new UsageError(`${url}: expected http://DP[:port] or https://DP[:port]`);
      }
      if (origin.protocol !== "http:" && origin.protocol !== "https:")
        throw new UsageError(`${url}: expected an http:// or https:// URL`);
      if (!["client", "direct", "direct2007"].includes(o.form))
        throw new UsageError(`--form ${o.form}: expected client, direct or direct2007`);
      if (o.drive !== undefined && !/^[A-Za-z]$/.test(o.drive))
        throw new UsageError(`--drive ${o.drive}: expected one letter`);
      let credentials: Credentials | undefined;
      if (o.user) {
        const u = splitUser(o.user);
        credentials = { ...u, password: await password(o.passwordEnv) };
      }
      const server = loadServerOptionsIfAsked(o);
      const json = o.json === true;
      if (!json)
        process.stdout.write(
          renderProbeHeader({ origin: origin.origin, contentId: o.content, form: o.form as UrlForm }),
        );
      const result = await runProbe({
        origin: origin.origin,
        contentId: o.content,
        form: o.form as UrlForm,
        vdir: o.vdir,
        drive: o.drive,
        packageDir: o.packageDir,
        server: server ? { config: server.config, siteName: server.siteName } : undefined,
        credentials,
        tls: { ca: o.ca ? readFileSync(o.ca) : undefined, insecure: o.insecure === true },
        concurrency: num("--concurrency", o.concurrency, 1, 64),
        requestTimeoutMs: num("--timeout", o.timeout, 0.1, 3600) * 1000,
        totalTimeoutMs: num("--total-timeout", o.totalTimeout, 0.1, 86400) * 1000,
        retries: num("--retries", o.retries, 0, 100),
        retryDelayMs: num("--retry-delay", o.retryDelay, 0, 3600) * 1000,
        download: o.download,
      });
      if (json) process.stdout.write(`${JSON.stringify(probeJson(result), null, 2)}\n`);
      else {
        process.stdout.write(renderListing(result));
        for (const f of result.files) process.stdout.write(fileLine(f));
        process.stdout.write(renderSummary(result));
      }
      const ok = !result.listing.error && result.summary.ok === result.summary.files;
      process.exitCode = ok ? EXIT_OK : EXIT_FINDINGS;
    });
}
