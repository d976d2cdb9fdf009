/**
 * `dpdoctor check PATH` — would this DP serve every file of a package, in every URL form?
 * PATH is a package source folder or an SCCMContentLib root (detected). Exit 0 nothing refused, 1 something refused,
 * 2 usage or input error. Spec: iis-request-filtering.md §10, configmgr-dp-bits.md §2, §3.
 */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { platformFileFacts } from "../check/facts.js";
import { type ParallelOptions, runCheckParallel } from "../check/parallel.js";
import { type CheckSettings, type CheckSink, formVdir, runCheck, Tally } from "../check/run.js";
import {
  detectInput,
  folderPackage,
  libraryPackages,
  type PackageSpec,
  type WalkedFile,
  type WalkedFolder,
  walkFolders,
  walkPackage,
} from "../check/source.js";
import type { UnitOutput } from "../check/units.js";
import { loadCommander } from "../cjs.js";
import type { ServerConfig } from "../config/types.js";
import { URL_FORMS, WIRE_ENCODING_NOTE } from "../dp/urlforms.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "../errors.js";
import type { UrlForm } from "../logs/records.js";
import { JsonStream, jsonSink } from "../render/check-json.js";
import { renderCheckText } from "../render/check-text.js";
import { formatCount } from "../render/number.js";
import { sarifSink } from "../render/sarif.js";
import { VERSION } from "../version.js";
import { addServerOptions, loadServerOptions, parseProfile, parseWebConfigs } from "./server-options.js";

const { Option } = loadCommander();

interface CheckCliOptions {
  config?: string;
  webConfig?: string[];
  profile?: string;
  site?: string;
  vdir: string;
  drive: string;
  form: string[];
  package: string[];
  packageId?: string;
  contentId?: string;
  json?: boolean;
  sarif?: boolean;
  onlyRefused?: boolean;
  progress: boolean;
  workers: number;
  workersAfter: number;
}

/**
 * Default thread count: 1. Measured on the 2-core bench machine (bench/check.ts tree of 1,000,000 files, 2026-12-07),
 * a second thread never saved wall time once files are judged from the engine's memo — the walk (readdir) does not
 * scale over threads there, warm or cold cache — and cost 0.7–0.8 CPU-s: text 1.46–1.51 s alone vs 1.60–1.66 s,
 * --json 6.6–6.9 s vs 9.0–9.1 s, --sarif 5.0–5.1 s vs 6.0–6.1 s, cold cache 2.3–3.7 s vs 3.0–3.7 s. `--workers N`
 * stays for machines where it pays (more cores, storage that serves several directory reads at once).
 */
export const DEFAULT_THREADS = 1;

function positiveInt(flag: string, max: number, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max)
      throw new UsageError(`${flag} ${v}: expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function parseForms(values: string[]): UrlForm[] {
  const list = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  if (list.length === 0 || list.includes("all")) return [...URL_FORMS];
  const out: UrlForm[] = [];
  for (const f of list) {
    const form = URL_FORMS.find((x) => x.toLowerCase() === f);
    if (!form) throw new UsageError(`--form ${f}: expected direct2007, direct, client or all`);
    if (!out.includes(form)) out.push(form);
  }
  return out;
}

export function register(program: Command): void {
  const cmd = program
    .command("check")
    .description(
      "Check every file of a package source folder or a DP content library (SCCMContentLib) against the DP's IIS configuration, in each URL form BITS and other downloaders use",
    )
    .argument("<path>", "package source folder, or a content library root (PkgLib, DataLib, FileLib)");
  addServerOptions(cmd, {
    webConfig: true,
    profile: "embedded IIS profile when no --config: iis | aspnet (default aspnet)",
    site: 'IIS site (default: the config\'s default site, normally "Default Web Site")',
  })
    .option("--vdir <name>", "content vdir of the direct and client forms", "SMS_DP_SMSPKG$")
    .option("--drive <letter>", "drive letter of the ConfigMgr 2007 vdir SMS_DP_SMSPKG<drive>$", "C")
    .option(
      "--form <form>",
      "direct2007 | direct | client | all (repeatable or comma-separated)",
      collect,
      [],
    )
    .option("--package <id>", "content library: check only this package ID (repeatable)", collect, [])
    .option("--package-id <id>", "source folder: the package ID in 2007 URLs (default: the folder name)")
    .option(
      "--content-id <id>",
      "source folder: the content ID in direct/client URLs (default: the package ID)",
    )
    .option("--json", "JSON report on stdout (streamed)")
    .option("--sarif", "SARIF 2.1.0 on stdout")
    .option("--only-refused", "with --json: list only refused files")
    .option("--no-progress", "no progress line on stderr")
    .option(
      "--workers <n>",
      `threads checking files, this one included (default 1: no worker thread; try ${Math.max(2, Math.min(4, availableParallelism()))} on a machine whose storage serves several directory reads at once). Same output whatever the number`,
      positiveInt("--workers", 64),
      DEFAULT_THREADS,
    )
    .addOption(
      // 150,000: a worker thread costs ~0.5 CPU-s to start (load, configuration, a second engine warming up), which a
      // 100k-file content library does not pay back (2 cores, quiet: --workers 1 0.60-0.71 s, a worker after 20,000
      // files 1.09-1.11 s) and a 1M-file tree does (--workers 1 3.42-3.83 s, a worker after 150,000 files 2.86-3.31 s)
      new Option("--workers-after <files>", "start worker threads once this many files are checked")
        .argParser(positiveInt("--workers-after", Number.MAX_SAFE_INTEGER, 0))
        .default(150000)
        .hideHelp(),
    )
    .action(async (path: string, o: CheckCliOptions) => {
      process.exitCode = await runCheckCommand(path, o);
    });
}

async function* stopWhen<T>(it: AsyncIterable<T>, stop: () => boolean): AsyncGenerator<T> {
  for await (const x of it) {
    if (stop()) return;
    yield x;
  }
}

/** Which of the vdirs the forms use are declared in the site (when the config declares sites at all). */
function vdirDeclared(
  config: ServerConfig,
  site: string,
  forms: UrlForm[],
  o: CheckCliOptions,
): { missing: string[] } {
  const s = config.sites.find((x) => x.name.toLowerCase() === site.toLowerCase());
  if (!s) return { missing: [] };
  const paths = new Set(
    s.applications.flatMap((a) =>
      a.virtualDirectories.map((v) =>
        `${a.path === "/" ? "" : a.path}${v.path === "/" ? "" : v.path}`.toLowerCase(),
      ),
    ),
  );
  const wanted = [
    ...new Set(forms.map((f) => formVdir(f, { drive: o.drive.slice(0, 1).toUpperCase(), vdir: o.vdir }))),
  ];
  return { missing: wanted.filter((v) => !paths.has(`/${v}`.toLowerCase())) };
}

async function runCheckCommand(inputPath: string, o: CheckCliOptions): Promise<number> {
  if (o.json && o.sarif) throw new UsageError("--json and --sarif are exclusive");
  if (o.onlyRefused && !o.json)
    throw new UsageError(
      "--only-refused applies to --json (the text and SARIF outputs list only refusals anyway)",
    );
  parseProfile(o); // usage errors before walking the input
  if (!/^[A-Za-z]:?$/.test(o.drive)) throw new UsageError(`--drive ${o.drive}: expected one letter, e.g. E`);
  let forms = parseForms(o.form);
  parseWebConfigs(o.webConfig);
  const input = detectInput(inputPath);
  const notes: string[] = [WIRE_ENCODING_NOTE];
  if (input.kind === "content-library" && o.form.length === 0) {
    // A content library exists only on ConfigMgr 2012+ DPs; the 2007 form (SMS_DP_SMSPKG<drive>$) never serves it.
    forms = forms.filter((f) => f !== "direct2007");
    notes.push(
      "content library: the ConfigMgr 2007 form is not checked by default (2007 DPs have no content library); --form all adds it",
    );
  }
  const tallyWarnings: Parameters<Tally["warn"]>[0][] = [];

  let packages: PackageSpec[];
  if (input.kind === "content-library") {
    if (o.packageId || o.contentId)
      throw new UsageError(
        "--package-id/--content-id are for a source folder; use --package ID with a content library",
      );
    const lib = libraryPackages(
      { root: inputPath, pkgLib: input.pkgLib as string, dataLib: input.dataLib as string },
      o.package,
    );
    packages = lib.packages;
    tallyWarnings.push(...lib.warnings);
  } else {
    if (o.package.length > 0)
      throw new UsageError("--package is for a content library; use --package-id for a folder");
    const f = folderPackage(inputPath, { packageId: o.packageId, contentId: o.contentId });
    packages = [f.pkg];
    notes.push(...f.notes);
  }

  const { config, siteName: site, profileNote } = loadServerOptions(o);
  if (profileNote) notes.push(profileNote);
  // Only for the admin's own config: the embedded profiles are a bare IIS without DP vdirs by design.
  const declared = o.config ? vdirDeclared(config, site, forms, o) : { missing: [] };
  for (const v of declared.missing)
    notes.push(
      `vdir /${v} is not declared under site "${site}" in ${config.origin}: checked with the configuration that applies to that URL path anyway`,
    );
  const settings: CheckSettings = {
    server: { config, siteName: site },
    forms,
    drive: o.drive.slice(0, 1).toUpperCase(),
    vdir: o.vdir,
  };

  const factsAvailable = process.platform === "win32";
  if (forms.includes("direct2007") && input.kind === "folder" && !factsAvailable)
    notes.push(
      "Hidden attribute: this platform cannot read it, so 404.9 (static file handler, 2007 form) is not checked — run on Windows",
    );
  const tally = new Tally(settings);
  for (const w of tallyWarnings) tally.warn(w);
  const walkOptions = {
    onWarning: (w: Parameters<Tally["warn"]>[0]) => tally.warn(w),
    onSkip: () => {
      tally.skipped++;
    },
  };
  let walk = (pkg: PackageSpec): AsyncIterable<WalkedFile> =>
    walkPackage(pkg.root, { dataLib: pkg.source === "content-library", ...walkOptions });
  let byFolder = (pkg: PackageSpec): AsyncIterable<WalkedFolder> =>
    walkFolders(pkg.root, { dataLib: pkg.source === "content-library", ...walkOptions });
  const facts = (pkg: PackageSpec) => (pkg.source === "folder" ? platformFileFacts(pkg.root) : undefined);
  const showProgress = o.progress && process.stderr.isTTY === true;
  const onProgress = showProgress
    ? (n: number) => process.stderr.write(`\rdpdoctor check: ${formatCount(n)} files…`)
    : undefined;
  const threads = o.workers;
  const parallel = (output: UnitOutput): ParallelOptions => ({
    threads,
    startAfter: o.workersAfter,
    init: {
      serverOptions: { config: o.config, webConfig: o.webConfig, profile: o.profile, site: o.site },
      siteName: site,
      forms,
      drive: settings.drive,
      vdir: settings.vdir,
      output,
      facts: factsAvailable,
    },
  });
  const formVdirs = Object.fromEntries(forms.map((f) => [f, formVdir(f, settings)]));
  /** One run over every package, on this thread or on `threads` threads (same output either way). */
  const check = (sink: CheckSink, output: UnitOutput, stop?: () => boolean) =>
    threads > 1
      ? runCheckParallel({ packages, onProgress, stop }, settings, sink, tally, parallel(output))
      : runCheck({ packages, walk, walkFolders: byFolder, facts, onProgress }, settings, sink, tally);

  // --json and --sarif stream as the check runs, and stop walking when the reader of stdout has gone (`| head`)
  const stream = o.json || o.sarif ? new JsonStream(process.stdout) : undefined;
  if (stream) {
    const walkAll = walk;
    walk = (pkg: PackageSpec) => stopWhen(walkAll(pkg), () => stream.closed);
    const byFolderAll = byFolder;
    byFolder = (pkg: PackageSpec) => stopWhen(byFolderAll(pkg), () => stream.closed);
  }
  // the text report is written at the end in one piece: a reader that went away (`| more` quit) is not an error
  else
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
    });
  if (o.json && stream) {
    const sink = jsonSink(
      stream,
      {
        version: VERSION,
        input: { path: inputPath, kind: input.kind },
        site,
        vdir: settings.vdir,
        drive: settings.drive,
        forms,
        config: { origin: config.origin, files: config.files },
        notes,
      },
      o.onlyRefused === true,
    );
    await sink.begin();
    await check(sink, o.onlyRefused ? "json-refused" : "json", () => stream.closed);
    await sink.end(tally);
  } else if (o.sarif && stream) {
    // memory holds no result, whatever the number of refusals
    const sink = sarifSink(stream, VERSION);
    await sink.begin();
    await check(sink, "refused", () => stream.closed);
    await sink.end();
  } else {
    await check({}, "none");
    if (showProgress) process.stderr.write("\r\x1b[K");
    process.stdout.write(
      renderCheckText(tally, {
        inputPath,
        inputKind: input.kind === "folder" ? "package source folder" : "content library",
        site,
        configOrigin: config.origin,
        forms,
        formVdirs,
        notes,
        color: process.stdout.isTTY === true && !process.env.NO_COLOR,
      }),
    );
  }
  if (showProgress) process.stderr.write("\r\x1b[K");
  const refusedChecks = tally.packages.some((p) => p.checks.some((c) => c.refused));
  return tally.refusedFiles > 0 || refusedChecks ? EXIT_FINDINGS : EXIT_OK;
}
