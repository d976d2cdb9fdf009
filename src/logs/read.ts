/**
 * Reading artifacts from disk: path expansion (files, folders, globs), gzip, detection, and the typed readers.
 * `readArtifacts` is the API `diagnose` consumes; `dpdoctor logs` summarises W3C/HTTPERR through scan.ts instead.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { InputError } from "../errors.js";
import { parseBitsEvents } from "./bits.js";
import { parseCmTrace, parseSmsSimple } from "./cmtrace.js";
import { DETECT_BYTES, type Detection, detectKind, isGzip } from "./detect.js";
import type {
  ArtifactKind,
  ArtifactSummary,
  BitsEventRecord,
  CmTraceRecord,
  HttpErrRecord,
  W3CRecord,
} from "./records.js";
import { type ParseResult, parseHttpErr, parseW3C } from "./w3c.js";

export type ArtifactRead =
  | { kind: "iis-w3c"; summary: ArtifactSummary; records: W3CRecord[] }
  | { kind: "httperr"; summary: ArtifactSummary; records: HttpErrRecord[] }
  | { kind: "cmtrace" | "sms-simple"; summary: ArtifactSummary; records: CmTraceRecord[] }
  | { kind: "bits-xml" | "bits-csv" | "bits-text"; summary: ArtifactSummary; records: BitsEventRecord[] }
  | { kind: "evtx" | "iis-config" | "unknown"; summary: ArtifactSummary; records: never[] };

export interface ReadOptions {
  /** Overrides detection for every file (`--kind`). */
  kind?: ArtifactKind;
}

/** What to run instead of handing us a binary .evtx (§4.6). */
export const EVTX_MESSAGE =
  "binary .evtx files are not read; export the events as XML instead: " +
  'wevtutil qe Microsoft-Windows-Bits-Client/Operational /f:xml > bits.xml   (or, for a saved file: wevtutil qe "<file>.evtx" /lf:true /f:xml > bits.xml)';

const LOG_NAME = /\.(?:log|lo_|txt|xml|csv|gz|evtx)$/i;

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        re += ".*";
        i++;
        if (pattern[i + 1] === "/" || pattern[i + 1] === "\\") i++;
      } else re += "[^/\\\\]*";
    } else if (c === "?") re += "[^/\\\\]";
    else if (c === "/" || c === "\\") re += "[/\\\\]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // NTFS names are case-insensitive; match globs the same way.
  return new RegExp(`^${re}$`, "i");
}

function walk(dir: string, out: string[], filter: (p: string) => boolean): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, filter);
    else if (e.isFile() && filter(p)) out.push(p);
  }
}

/**
 * Expands files, folders (recursively: W3SVC*\u_ex*.log, httperr*.log, *.lo_ …) and globs into a sorted file list.
 * A path that does not exist is an InputError (exit 2).
 */
export function expandPaths(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (hasGlob(input)) {
      const norm = input.replace(/\\/g, "/");
      const firstWild = norm.search(/[*?[]/);
      const baseEnd = norm.lastIndexOf("/", firstWild);
      const base = baseEnd >= 0 ? norm.slice(0, baseEnd) || "/" : ".";
      const re = globToRegExp(baseEnd >= 0 ? norm.slice(baseEnd + 1) : norm);
      const found: string[] = [];
      try {
        walk(base, found, (p) => re.test(path.relative(base, p).replace(/\\/g, "/")));
      } catch {
        throw new InputError("no such folder for this pattern", { file: input });
      }
      if (found.length === 0) throw new InputError("pattern matched no file", { file: input });
      out.push(...found);
      continue;
    }
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(input);
    } catch {
      throw new InputError("no such file or directory", { file: input });
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(input, found, (p) => LOG_NAME.test(p));
      if (found.length === 0)
        throw new InputError("folder holds no .log/.lo_/.txt/.xml/.csv/.gz/.evtx file", { file: input });
      out.push(...found);
    } else out.push(input);
  }
  return [...new Set(out)];
}

/** The first bytes of a file (decompressed when gzip'd) and its detection. */
export function sniffFile(file: string, opts: ReadOptions = {}): Detection {
  const fd = openSync(file, "r");
  let head: Buffer;
  try {
    const buf = Buffer.allocUnsafe(DETECT_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    head = buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
  let gz = false;
  if (isGzip(head)) {
    gz = true;
    head = gunzipHead(file);
  }
  const d = opts.kind ? { kind: opts.kind, reason: "--kind" } : detectKind(file, head);
  return gz ? { ...d, gzip: true } : d;
}

function gunzipHead(file: string): Buffer {
  try {
    return gunzipSync(readFileSync(file), {
      finishFlush: 2 /* Z_SYNC_FLUSH: tolerate truncation */,
    }).subarray(0, DETECT_BYTES);
  } catch {
    return Buffer.alloc(0);
  }
}

/** Whole file contents, gunzipped when needed (truncated gzip streams give what could be inflated). */
export function readFileBytes(file: string): Buffer {
  return gunzipIfNeeded(readFileSync(file), file);
}

function gunzipIfNeeded(raw: Buffer, file: string): Buffer {
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw, { finishFlush: 2 });
  } catch (e) {
    throw new InputError(`gzip data is corrupt (${(e as Error).message})`, { file });
  }
}

function summaryOf<T>(file: string, kind: ArtifactKind, r: ParseResult<T>): ArtifactSummary {
  return {
    path: file,
    kind,
    records: (r.records as unknown[]).length,
    skipped: r.skippedCount,
    skippedSamples: r.skipped.slice(0, 20),
  };
}

/** Reads one artifact into typed records. Never throws for bad content (only for unreadable files). */
export function readArtifact(file: string, opts: ReadOptions = {}): ArtifactRead {
  return parseDetected(file, sniffFile(file, opts), () => readFileBytes(file));
}

/**
 * One artifact from bytes already in memory (a zip entry, a stream read elsewhere): the same detection and readers as
 * readArtifact; `file` names it in records and messages (e.g. `collect.zip!/W3SVC1/u_ex240305.log`). gzip'd bytes are
 * inflated first. Never throws for bad content (a corrupt gzip stream is a positioned InputError, as for a file).
 */
export function readArtifactFromBytes(file: string, bytes: Buffer, opts: ReadOptions = {}): ArtifactRead {
  const data = gunzipIfNeeded(bytes, file);
  const d = opts.kind
    ? { kind: opts.kind, reason: "--kind" }
    : detectKind(file, data.subarray(0, DETECT_BYTES));
  return parseDetected(file, d, () => data);
}

/** The dispatch of both entry points: detected kind → typed reader (bytes read only for the kinds that parse). */
function parseDetected(file: string, d: Detection, bytesOf: () => Buffer): ArtifactRead {
  const kind = d.kind;
  const empty = (k: "evtx" | "iis-config" | "unknown", message?: string): ArtifactRead => ({
    kind: k,
    records: [],
    summary: { path: file, kind: k, records: 0, skipped: 0, skippedSamples: [], message },
  });
  switch (kind) {
    case "evtx":
      return empty("evtx", EVTX_MESSAGE);
    case "iis-config":
      return empty("iis-config", "IIS configuration file: use `dpdoctor check --config` to read it");
    case "unknown":
      return empty("unknown", d.reason);
    default:
  }
  const bytes = bytesOf();
  switch (kind) {
    case "iis-w3c": {
      const r = parseW3C(bytes, file);
      return { kind: "iis-w3c", records: r.records, summary: summaryOf(file, "iis-w3c", r) };
    }
    case "httperr": {
      const r = parseHttpErr(bytes, file);
      return { kind: "httperr", records: r.records, summary: summaryOf(file, "httperr", r) };
    }
    case "cmtrace": {
      const r = parseCmTrace(bytes, file);
      return { kind: "cmtrace", records: r.records, summary: summaryOf(file, "cmtrace", r) };
    }
    case "sms-simple": {
      const r = parseSmsSimple(bytes, file);
      return { kind: "sms-simple", records: r.records, summary: summaryOf(file, "sms-simple", r) };
    }
    default: {
      const r = parseBitsEvents(bytes, file);
      const k = kind as "bits-xml" | "bits-csv" | "bits-text";
      return { kind: k, records: r.records, summary: summaryOf(file, k, r) };
    }
  }
}

/** Reads many artifacts (files, folders, globs), one at a time, in path order. */
export async function* readArtifacts(paths: string[], opts: ReadOptions = {}): AsyncIterable<ArtifactRead> {
  for (const file of expandPaths(paths)) {
    yield readArtifact(file, opts);
    await new Promise<void>((r) => setImmediate(r));
  }
}
