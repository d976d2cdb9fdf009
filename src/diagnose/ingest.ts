/**
 * Gathering what the admin collected: folders and files → typed records (through the logs readers), the DP's
 * applicationHost.config (through the config loader), and an optional package folder. Unreadable files are counted
 * and reported, never fatal; a path that does not exist is an InputError (exit 2).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { loadServer, loadServerFromText } from "../config/load.js";
import type { ServerConfig } from "../config/types.js";
import { InputError } from "../errors.js";
import { type ArtifactRead, expandPaths, readArtifact, readArtifactFromBytes } from "../logs/index.js";
import type {
  ArtifactSummary,
  BitsEventRecord,
  CmTraceRecord,
  HttpErrRecord,
  W3CRecord,
} from "../logs/records.js";
import { sniffFileBounded, streamDirectiveFile } from "../logs/stream.js";
import { decodeText } from "../logs/text.js";
import { type DiagnoseContext, DiagnoseSession, type PackageListing } from "./diagnose.js";
import type { ArtifactInfo, DiagnoseReport } from "./report.js";
import { isZip, readZip } from "./zip.js";

export interface Gathered {
  w3c: W3CRecord[];
  httperr: HttpErrRecord[];
  cmtrace: CmTraceRecord[];
  bits: BitsEventRecord[];
  artifacts: ArtifactInfo[];
  unreadable: { path: string; reason: string }[];
  config?: { path: string; server: ServerConfig; given: boolean };
  packages: PackageListing[];
}

export interface GatherOptions {
  paths: string[];
  config?: string;
  packageDir?: string;
  contentId?: string;
}

/** applicationHost.config files inside the given folders (the DP's config collected with the logs). */
export function findAppHostConfigs(paths: string[]): string[] {
  return findFiles(paths, (name) => name.toLowerCase() === "applicationhost.config");
}

/** Files whose name matches, in the given files and folders (recursive, sorted). */
export function findFiles(paths: string[], match: (name: string) => boolean): string[] {
  const found: string[] = [];
  const visit = (p: string, depth: number) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isFile()) {
      if (match(path.basename(p))) found.push(p);
      return;
    }
    if (!st.isDirectory() || depth > 6) return;
    let names: string[] = [];
    try {
      names = readdirSync(p).sort();
    } catch {
      return;
    }
    for (const n of names) visit(path.join(p, n), depth + 1);
  };
  for (const p of paths) visit(p, 0);
  return [...new Set(found)];
}

/**
 * Files of a package folder as relative paths. A content-library `DataLib\<ContentID>\` tree (every file `<name>.INI`)
 * is read as the package it describes (§3.3).
 */
export function listPackage(dir: string, contentId?: string): PackageListing {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError("package folder not found", { file: dir });
  }
  if (!st.isDirectory()) throw new InputError("--package-dir must be a folder", { file: dir });
  const files: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) files.push(r);
    }
  };
  walk(dir, "");
  const underDataLib = /(^|[\\/])DataLib[\\/][^\\/]+[\\/]?$/i.test(path.resolve(dir));
  const relPaths =
    underDataLib && files.length > 0 && files.every((f) => /\.ini$/i.test(f))
      ? files.map((f) => f.slice(0, -4))
      : files;
  return { dir, contentId: contentId ?? path.basename(path.resolve(dir)), files: relPaths };
}

/** Appends without spreading: `push(...list)` overflows the call stack on a log of a few hundred thousand lines. */
function append<T>(to: T[], list: readonly T[]): void {
  for (const x of list) to.push(x);
}

/** A DP log to stream (W3C or HTTPERR file), or DP records already in memory (a zip entry). */
export type DpLogSource =
  | { kind: "iis-w3c" | "httperr"; file: string; artifact: ArtifactInfo }
  | { kind: "iis-w3c"; records: W3CRecord[] }
  | { kind: "httperr"; records: HttpErrRecord[] };

/** What `gatherForStreaming` returns: everything but the DP logs read whole, and the DP logs to stream. */
export interface GatheredForStreaming extends Omit<Gathered, "w3c" | "httperr"> {
  dpLogs: DpLogSource[];
}

/** Gathers everything in memory (the DP logs too): tests and small inputs. */
export function gather(opts: GatherOptions): Gathered {
  const g = collect(opts, false);
  const w3c: W3CRecord[] = [];
  const httperr: HttpErrRecord[] = [];
  for (const s of g.dpLogs)
    if ("records" in s) {
      if (s.kind === "iis-w3c") append(w3c, s.records);
      else append(httperr, s.records);
    }
  const { dpLogs: _, ...rest } = g;
  return { ...rest, w3c, httperr };
}

/**
 * Gathers the client logs, BITS exports, config and package folder whole (they are small), and lists the W3C and
 * HTTPERR logs to stream (`streamDpLogs`): a DP's IIS logs can hold millions of lines.
 */
export function gatherForStreaming(opts: GatherOptions): GatheredForStreaming {
  return collect(opts, true);
}

/**
 * Feeds the DP logs to a diagnosis session, W3C logs first then HTTPERR (in path order, zip entries after files: the
 * order `gather` + `diagnose` read them). A file that cannot be read is moved to `unreadable`.
 */
export async function streamDpLogs(g: GatheredForStreaming, session: DiagnoseSession): Promise<void> {
  for (const kind of ["iis-w3c", "httperr"] as const)
    for (const src of g.dpLogs) {
      if (src.kind !== kind) continue;
      if ("records" in src) {
        if (src.kind === "iis-w3c") for (const r of src.records) session.addW3C(r);
        else for (const r of src.records) session.addHttpErr(r);
        continue;
      }
      try {
        const add =
          kind === "iis-w3c"
            ? (r: W3CRecord | HttpErrRecord) => session.addW3C(r as W3CRecord)
            : (r: W3CRecord | HttpErrRecord) => session.addHttpErr(r as HttpErrRecord);
        const { summary } = await streamDirectiveFile(src.file, kind, add);
        src.artifact.records = summary.records;
        src.artifact.skipped = summary.skipped;
        src.artifact.skippedSamples = formatSkipped(summary.skippedSamples);
      } catch (e) {
        const i = g.artifacts.indexOf(src.artifact);
        if (i >= 0) g.artifacts.splice(i, 1);
        g.unreadable.push({ path: src.file, reason: reasonOf(e) });
      }
    }
}

/** `dpdoctor diagnose`: gather, stream the DP logs through a session, report — in memory bounded by the caps. */
export async function diagnosePaths(
  opts: GatherOptions,
  extra: Omit<DiagnoseContext, keyof Gathered> = {},
): Promise<DiagnoseReport> {
  const g = gatherForStreaming(opts);
  const { dpLogs, ...rest } = g;
  const session = new DiagnoseSession({ ...rest, ...extra });
  await streamDpLogs(g, session);
  return session.finish();
}

function formatSkipped(samples: ArtifactSummary["skippedSamples"]): string[] {
  return samples.map(
    (x) => `${x.file}:${x.line}${x.column !== undefined ? `:${x.column}` : ""}: ${x.reason}`,
  );
}

function reasonOf(e: unknown): string {
  return e instanceof InputError ? e.format() : e instanceof Error ? e.message : `unreadable (${String(e)})`;
}

function collect(opts: GatherOptions, streaming: boolean): GatheredForStreaming {
  const g: GatheredForStreaming = {
    dpLogs: [],
    cmtrace: [],
    bits: [],
    artifacts: [],
    unreadable: [],
    packages: [],
  };
  for (const p of opts.paths)
    if (!existsSync(p)) throw new InputError("no such file or directory", { file: p });

  const logPaths = opts.paths.filter((p) => {
    try {
      return statSync(p).isDirectory() || path.basename(p).toLowerCase() !== "applicationhost.config";
    } catch {
      return true;
    }
  });
  let files: string[] = [];
  for (const p of logPaths) {
    try {
      append(files, expandPaths([p]));
    } catch (e) {
      // a folder without logs (e.g. only a config or a package folder) is fine when something else was given
      if (e instanceof InputError && statSync(p).isDirectory()) continue;
      throw e;
    }
  }
  files = [...new Set(files)];
  const zips = findFiles(opts.paths, (name) => /\.zip$/i.test(name));
  files = files.filter((f) => !zips.includes(f));
  const add = (a: ArtifactRead) => {
    g.artifacts.push({
      path: a.summary.path,
      kind: a.summary.kind,
      records: a.summary.records,
      skipped: a.summary.skipped,
      skippedSamples: formatSkipped(a.summary.skippedSamples),
      message: a.summary.message,
    });
    switch (a.kind) {
      case "iis-w3c":
        g.dpLogs.push({ kind: "iis-w3c", records: a.records });
        break;
      case "httperr":
        g.dpLogs.push({ kind: "httperr", records: a.records });
        break;
      case "cmtrace":
      case "sms-simple":
        append(g.cmtrace, a.records);
        break;
      case "bits-xml":
      case "bits-csv":
      case "bits-text":
        append(g.bits, a.records);
        break;
      default:
        break;
    }
  };
  const unreadable = (file: string, e: unknown) => g.unreadable.push({ path: file, reason: reasonOf(e) });
  for (const file of files) {
    try {
      if (streaming) {
        // W3C and HTTPERR logs are streamed later (after every client log and BITS export is known)
        const kind = sniffFileBounded(file).kind;
        if (kind === "iis-w3c" || kind === "httperr") {
          const artifact: ArtifactInfo = {
            path: file,
            kind,
            records: 0,
            skipped: 0,
            skippedSamples: [],
            message: undefined,
          };
          g.artifacts.push(artifact);
          g.dpLogs.push({ kind, file, artifact });
          continue;
        }
      }
      add(readArtifact(file));
    } catch (e) {
      unreadable(file, e);
    }
  }
  // zip archives (bonus): every entry detected and read like a file; an applicationHost.config inside is the DP's
  const zippedConfigs: { text: string; file: string }[] = [];
  for (const zip of zips) {
    try {
      const bytes = readFileSync(zip);
      if (!isZip(bytes)) throw new InputError("not a zip archive (no PK signature)", { file: zip });
      const { entries, skipped } = readZip(bytes, zip);
      for (const sk of skipped) g.unreadable.push({ path: zip, reason: sk });
      for (const e of entries) {
        const name = `${zip}!/${e.name}`;
        if (path.posix.basename(e.name).toLowerCase() === "applicationhost.config")
          zippedConfigs.push({ text: decodeText(e.bytes).text, file: name });
        else if (/\.(?:log|lo_|txt|xml|csv|gz)$/i.test(e.name))
          try {
            add(readArtifactFromBytes(name, e.bytes)); // the logs helper's detection and readers (gzip inflated)
          } catch (err) {
            unreadable(name, err); // one bad entry (corrupt gzip) does not hide the rest of the archive
          }
      }
    } catch (e) {
      unreadable(zip, e);
    }
  }

  // the DP config: --config, or the one applicationHost.config found among the inputs
  let configPath = opts.config;
  if (!configPath) {
    const found = findAppHostConfigs(opts.paths);
    if (found.length > 1)
      throw new InputError(
        `several applicationHost.config files found (${found.join(", ")}); pick the DP's with --config`,
        { file: found[0] },
      );
    configPath = found[0];
  }
  if (!configPath && zippedConfigs.length === 1 && zippedConfigs[0]) {
    const z = zippedConfigs[0];
    const server = loadServerFromText(z);
    g.config = { path: z.file, server, given: true };
    g.artifacts.push({ path: z.file, kind: "iis-config", records: server.sites.length, skipped: 0 });
  } else if (configPath) {
    const server = loadServer({ config: configPath }); // throws a positioned InputError on a broken config
    g.config = { path: configPath, server, given: true };
    g.artifacts.push({ path: configPath, kind: "iis-config", records: server.sites.length, skipped: 0 });
  } else {
    // client-only refusals are re-evaluated against the embedded ASP.NET defaults (stated in the report notes)
    const server = loadServer({ profile: "aspnet" });
    g.config = { path: server.origin, server, given: false };
  }
  if (g.artifacts.length === 0 && g.unreadable.length === 0 && !configPath && !opts.packageDir)
    throw new InputError(
      "nothing to diagnose: no IIS/HTTPERR log, client log, BITS event export, applicationHost.config or .zip found",
      { file: opts.paths[0] },
    );
  if (opts.packageDir) {
    const pkg = listPackage(opts.packageDir, opts.contentId);
    g.packages.push(pkg);
    g.artifacts.push({ path: opts.packageDir, kind: "package-dir", records: pkg.files.length, skipped: 0 });
  }
  return g;
}
