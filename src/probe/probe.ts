/**
 * `probe`: what a BITS client experiences against a real DP (or the emulator).
 * configmgr-dp-bits.md §1 steps 6–7 (DTS lists with PROPFIND, BITS sends HEAD then a ranged GET), §2.4 (user agents),
 * §5.1 (fatal vs transient), §5.2 (HRESULT = 0x80190000 + status; BG_E_* codes).
 *
 * The probe only reports what the server answered. With a configuration (`server`), each file's request also goes
 * through the ONE engine, so a refusal is explained by the rule that produced it — and a disagreement between the
 * prediction and the answer is reported, never hidden.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatHresult, isFatalForBits } from "../diagnose/catalogue.js";
import { buildDpUrl, defaultVdir, WIRE_ENCODING_NOTE } from "../dp/urlforms.js";
import { evaluate } from "../engine/evaluate.js";
import type { Server, Verdict } from "../engine/types.js";
import { servedByWebDav, WEBDAV_NOTE } from "../lab/webdav.js";
import type { UrlForm } from "../logs/records.js";
import { Connection, type TlsOptions, TransportError } from "./http.js";
import { type ListedFile, ListingError, parseMultistatus } from "./listing.js";
import type { Credentials } from "./ntlm.js";

/** BITS/WinHTTP codes the probe reports for non-HTTP outcomes (§5.1, §5.2, §8). */
export const BG_E = {
  MISSING_FILE_SIZE: 0x80200011,
  INSUFFICIENT_RANGE_SUPPORT: 0x80200013,
  INVALID_SERVER_RESPONSE: 0x8020001b,
  CANNOT_CONNECT: 0x80072efd, // ERROR_WINHTTP_CANNOT_CONNECT
  TIMEOUT: 0x80072ee2, // ERROR_WINHTTP_TIMEOUT
  CONNECTION_ERROR: 0x80072efe, // ERROR_WINHTTP_CONNECTION_ERROR
  SECURE_FAILURE: 0x80072f8f, // ERROR_WINHTTP_SECURE_FAILURE
} as const;

export const BITS_USER_AGENT = "Microsoft BITS/7.8";
export const DTS_USER_AGENT = "SMS CCM 5.0";
/** BITS's first progress shows 256 KiB (§2.4 [INF]); the probe asks for that much in its first range. */
export const FIRST_RANGE_BYTES = 262144;

export type Outcome = "ok" | "fatal" | "transient" | "not-attempted";

/** Bytes of one file already transferred (kept across attempts, as BITS does). */
interface Progress {
  have: number;
  size?: number;
  chunks: Buffer[];
}

export interface Attempt {
  method: string;
  /** Byte range asked for by a GET ("0-262143"). */
  range?: string;
  status?: number;
  timeMs: number;
  error?: string;
}

export interface ProbeFileResult {
  path: string;
  form: UrlForm;
  url: string;
  outcome: Outcome;
  /** The request that decided the outcome (HEAD when HEAD failed, else GET). */
  method: "HEAD" | "GET";
  /** HTTP status of that request (undefined on a transport error). */
  status?: number;
  /** What BITS would report (0x8019xxxx, BG_E_*, WinHTTP); undefined on success. */
  hresult?: string;
  message: string;
  timeMs: number;
  attempts: number;
  /** Every request sent, in order (retries included). */
  requests: Attempt[];
  size?: number;
  /** The engine's prediction for the deciding request (with a configuration). */
  predicted?: Verdict;
  /** The prediction and the answer differ. */
  disagreement?: string;
  downloaded?: { file: string; bytes: number; sha256: string };
}

export interface ProbeListing {
  source: "PROPFIND" | "package-dir";
  url?: string;
  status?: number;
  timeMs?: number;
  files: number;
  error?: string;
  predicted?: Verdict;
}

export interface ProbeResult {
  origin: string;
  contentId: string;
  form: UrlForm;
  listing: ProbeListing;
  files: ProbeFileResult[];
  summary: {
    files: number;
    ok: number;
    fatal: number;
    transient: number;
    notAttempted: number;
    elapsedMs: number;
  };
  notes: string[];
}

export interface ProbeOptions {
  /** `http(s)://DP[:port]` */
  origin: string;
  contentId: string;
  form?: UrlForm;
  vdir?: string;
  drive?: string;
  /** List files from this local package folder instead of PROPFIND. */
  packageDir?: string;
  /** With a configuration: engine explanations. */
  server?: Server;
  credentials?: Credentials;
  tls?: TlsOptions;
  concurrency?: number;
  requestTimeoutMs?: number;
  totalTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  /** Download whole files into this folder (nothing is written otherwise). */
  download?: string;
  firstRangeBytes?: number;
  onFile?: (r: ProbeFileResult) => void;
  /** Injectable sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function transportHresult(e: unknown): { hr: number; text: string } {
  const code = e instanceof TransportError ? e.code : (e as NodeJS.ErrnoException)?.code;
  const msg = (e as Error)?.message ?? String(e);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH")
    return { hr: BG_E.CANNOT_CONNECT, text: `cannot connect (${code})` };
  if (code === "ETIMEDOUT") return { hr: BG_E.TIMEOUT, text: "timed out" };
  if (code === "ABORT_ERR")
    return { hr: BG_E.TIMEOUT, text: "stopped by the total time limit (--total-timeout)" };
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code))
    return { hr: BG_E.SECURE_FAILURE, text: `TLS failure (${code}): ${msg}` };
  return { hr: BG_E.CONNECTION_ERROR, text: `connection error (${code ?? msg})` };
}

/** Local package folder → relative paths (sorted), links not followed. */
function listFolder(dir: string): ListedFile[] {
  const out: ListedFile[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.isFile()) out.push({ path: r, size: statSync(path.join(d, e.name)).size, href: "" });
    }
  };
  walk(dir, "");
  return out;
}

/** Local file for a downloaded relative path: inside `dir`, '..' never honoured. */
function downloadPath(dir: string, rel: string): string {
  const names = rel.split("/").filter((n) => n !== "" && n !== "." && n !== "..");
  return path.join(dir, ...names.map((n) => n.replace(/[\\:*?"<>|]/g, "_")));
}

export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  const form = o.form ?? "client";
  const origin = new URL(o.origin);
  const vdir = o.vdir ?? defaultVdir(form, o.drive);
  const sleep = o.sleep ?? defaultSleep;
  const timeoutMs = o.requestTimeoutMs ?? 30_000;
  const deadline = started + (o.totalTimeoutMs ?? 600_000);
  const firstRange = Math.max(1, o.firstRangeBytes ?? FIRST_RANGE_BYTES);
  const notes: string[] = [];
  const total = new AbortController();
  const timer = setTimeout(() => total.abort(), Math.max(0, deadline - Date.now()));
  timer.unref();
  const predict = (method: string, target: string): Verdict | undefined =>
    o.server ? evaluate({ method, target, file: { exists: true } }, o.server) : undefined;

  // 1. The file list: PROPFIND (DTS "manifest", Depth infinity) or the local folder.
  const listing: ProbeListing = { source: o.packageDir ? "package-dir" : "PROPFIND", files: 0 };
  let files: ListedFile[] = [];
  if (o.packageDir) {
    files = listFolder(o.packageDir);
  } else {
    // The listing asks for the package itself (`/SMS_DP_SMSPKG$/<ID>`, §2.3), in every form.
    const target = buildDpUrl(form === "client" ? "direct" : form, {
      contentId: o.contentId,
      relativePath: "",
      vdir,
    });
    listing.url = `${origin.origin}${target}`;
    const v = predict("PROPFIND", target);
    if (v && servedByWebDav("PROPFIND", v, form)) notes.push(WEBDAV_NOTE);
    else listing.predicted = v;
    const conn = new Connection(origin, o.tls ?? {}, o.credentials);
    try {
      const r = await conn.request(
        "PROPFIND",
        target,
        { Depth: "infinity", "User-Agent": DTS_USER_AGENT, "Content-Length": "0" },
        { timeoutMs, keepBytes: 64 << 20, signal: total.signal },
      );
      listing.status = r.status;
      listing.timeMs = r.timeMs;
      if (r.status === 207) {
        try {
          files = parseMultistatus(r.body.toString("utf8"), o.contentId).files;
        } catch (e) {
          if (!(e instanceof ListingError)) throw e;
          listing.error = `${e.message}${e.line ? ` (line ${e.line}, column ${e.column})` : ""}`;
        }
      } else
        listing.error = `PROPFIND answered ${r.status}: DTS logs "Error retrieving manifest" and retries hourly (§5.3); ${
          isFatalForBits(r.status) ? "fatal" : "transient"
        } for the client`;
    } catch (e) {
      listing.error = `PROPFIND failed: ${transportHresult(e).text}`;
    } finally {
      conn.close();
    }
  }
  listing.files = files.length;
  if (listing.error && !o.packageDir)
    listing.error += " — give --package-dir DIR (the package source) to probe the files without the listing";

  // 2. Each file: HEAD, then the first range, with BITS's retry rules.
  const results: ProbeFileResult[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    const conn = new Connection(origin, o.tls ?? {}, o.credentials);
    try {
      for (;;) {
        const i = next++;
        if (i >= files.length) return;
        const f = files[i];
        const url = buildDpUrl(form, { contentId: o.contentId, relativePath: f.path, vdir });
        const r =
          Date.now() >= deadline || total.signal.aborted
            ? notAttempted(f, form, `${origin.origin}${url}`)
            : await probeFile(conn, f, url);
        results[i] = r;
        o.onFile?.(r);
      }
    } finally {
      conn.close();
    }
  };

  const notAttempted = (f: ListedFile, frm: UrlForm, url: string): ProbeFileResult => ({
    path: f.path,
    form: frm,
    url,
    outcome: "not-attempted",
    method: "HEAD",
    message: "not attempted: total time limit reached",
    timeMs: 0,
    attempts: 0,
    requests: [],
  });

  const probeFile = async (conn: Connection, f: ListedFile, target: string): Promise<ProbeFileResult> => {
    const requests: Attempt[] = [];
    const res: ProbeFileResult = {
      path: f.path,
      form,
      url: `${origin.origin}${target}`,
      outcome: "transient",
      method: "HEAD",
      message: "",
      timeMs: 0,
      attempts: 0,
      requests,
    };
    const t0 = Date.now();
    const progress: Progress = { have: 0, chunks: [] };
    const maxAttempts = 1 + Math.max(0, o.retries ?? 0);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      res.attempts = attempt;
      const step = await oneAttempt(conn, target, res, requests, progress);
      if (step === "done") break;
      if (attempt < maxAttempts) {
        if (Date.now() + (o.retryDelayMs ?? 0) >= deadline) break;
        await sleep(o.retryDelayMs ?? 0);
      }
    }
    res.timeMs = Date.now() - t0;
    const v = predict(res.method, target);
    if (v) {
      res.predicted = v;
      if (res.status !== undefined && v.status >= 400 && res.status !== v.status)
        res.disagreement = `the engine predicts ${v.status}.${v.substatus} for ${res.method}, the server answered ${res.status}`;
      else if (res.status !== undefined && v.status < 400 && res.status >= 400 && res.outcome !== "ok")
        res.disagreement = `the engine predicts no refusal for ${res.method}, the server answered ${res.status}`;
    }
    return res;
  };

  /** One BITS attempt: HEAD, then the first range (or the whole file with --download). "done" = no retry. */
  const oneAttempt = async (
    conn: Connection,
    target: string,
    res: ProbeFileResult,
    requests: Attempt[],
    progress: Progress,
  ): Promise<"done" | "retry"> => {
    const http = (status: number, method: "HEAD" | "GET", what: string): "done" | "retry" => {
      res.method = method;
      res.status = status;
      res.hresult = formatHresult(0x80190000 + status);
      const fatal = isFatalForBits(status);
      res.outcome = fatal ? "fatal" : "transient";
      res.message = `${method} ${what}: HTTP ${status} → ${res.hresult}, ${fatal ? "fatal for BITS (job goes to ERROR; DTS retries the job)" : "transient for BITS (retried after MinimumRetryDelay)"}`;
      return fatal ? "done" : "retry";
    };
    const transport = (method: "HEAD" | "GET", e: unknown): "retry" => {
      const t = transportHresult(e);
      res.method = method;
      res.status = undefined;
      res.hresult = formatHresult(t.hr);
      res.outcome = "transient";
      res.message = `${method}: ${t.text} → ${res.hresult}, transient for BITS`;
      requests.push({ method, timeMs: 0, error: t.text });
      return "retry";
    };
    const headers = { "User-Agent": BITS_USER_AGENT, Accept: "*/*" };
    let head: Awaited<ReturnType<Connection["request"]>>;
    try {
      head = await conn.request("HEAD", target, headers, { timeoutMs, keepBytes: 0, signal: total.signal });
    } catch (e) {
      return transport("HEAD", e);
    }
    requests.push({ method: "HEAD", status: head.status, timeMs: head.timeMs });
    if (head.status !== 200) return http(head.status, "HEAD", "size request refused");
    const lengthHeader = head.headers["content-length"];
    if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) {
      res.method = "HEAD";
      res.status = 200;
      res.hresult = formatHresult(BG_E.MISSING_FILE_SIZE);
      res.outcome = "fatal";
      res.message = `HEAD answered 200 without Content-Length → ${res.hresult} BG_E_MISSING_FILE_SIZE, fatal for BITS`;
      return "done";
    }
    const size = Number(lengthHeader);
    res.size = size;
    if (progress.size !== undefined && progress.size !== size) {
      // the file changed on the DP between attempts: BITS starts over (BG_E_LOCAL_FILE_CHANGED territory)
      progress.have = 0;
      progress.chunks = [];
    }
    progress.size = size;
    if (size === 0) {
      res.method = "HEAD";
      res.status = 200;
      res.outcome = "ok";
      res.hresult = undefined;
      res.message = "empty file: BITS creates it from the HEAD answer";
      return "done";
    }
    const end = o.download ? size - 1 : Math.min(size, firstRange) - 1;
    // BITS resumes where the last attempt stopped (§5.1: transient errors keep the bytes already transferred)
    const start = Math.min(progress.have, end);
    let get: Awaited<ReturnType<Connection["request"]>>;
    const received: Buffer[] = [];
    try {
      get = await conn.request(
        "GET",
        target,
        { ...headers, Range: `bytes=${start}-${end}` },
        {
          timeoutMs,
          keepBytes: 0,
          signal: total.signal,
          onData: o.download ? (c) => received.push(c) : undefined,
        },
      );
    } catch (e) {
      return transport("GET", e);
    }
    requests.push({ method: "GET", status: get.status, timeMs: get.timeMs, range: `${start}-${end}` });
    res.method = "GET";
    res.status = get.status;
    if (get.status !== 206 && get.status !== 200) return http(get.status, "GET", "range request refused");
    if (get.status === 200 && (start > 0 || end + 1 < size)) {
      res.hresult = formatHresult(BG_E.INSUFFICIENT_RANGE_SUPPORT);
      res.outcome = "fatal";
      res.message = `GET with Range answered 200 with the whole file → ${res.hresult} BG_E_INSUFFICIENT_RANGE_SUPPORT (F12), fatal for BITS`;
      return "done";
    }
    const wantRange = `bytes ${start}-${end}/${size}`;
    if (get.status === 206 && get.headers["content-range"] !== wantRange) {
      res.hresult = formatHresult(BG_E.INVALID_SERVER_RESPONSE);
      res.outcome = "fatal";
      res.message = `206 with Content-Range "${get.headers["content-range"] ?? ""}", expected "${wantRange}" → ${res.hresult}`;
      return "done";
    }
    const expected = end - start + 1;
    progress.have = start + Math.min(get.bytes, expected);
    if (o.download) progress.chunks.push(...received);
    if (get.truncated || get.bytes < expected) {
      res.hresult = formatHresult(BG_E.CONNECTION_ERROR);
      res.outcome = "transient";
      res.message = `GET: connection closed after ${get.bytes} of ${expected} bytes → ${res.hresult}, transient for BITS (resumes from byte ${progress.have})`;
      return "retry";
    }
    if (o.download) {
      const file = downloadPath(o.download, res.path);
      mkdirSync(path.dirname(file), { recursive: true });
      const bytes = Buffer.concat(progress.chunks).subarray(0, size);
      writeFileSync(file, bytes);
      res.downloaded = {
        file,
        bytes: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      };
    }
    res.outcome = "ok";
    res.hresult = undefined;
    res.message =
      get.status === 206
        ? `HEAD 200 (${size} bytes), GET bytes ${start}-${end} → 206`
        : `HEAD 200 (${size} bytes), GET → 200 (whole file)`;
    return "done";
  };

  try {
    const n = Math.max(1, Math.min(o.concurrency ?? 4, 64));
    await Promise.all(Array.from({ length: Math.min(n, Math.max(1, files.length)) }, () => worker()));
  } finally {
    clearTimeout(timer);
  }
  const list = results.filter(Boolean);
  notes.push(WIRE_ENCODING_NOTE);
  if (o.server)
    notes.push(
      "predictions use the engine with the given configuration; the DP never sends the substatus (only its IIS log has it)",
    );
  return {
    origin: origin.origin,
    contentId: o.contentId,
    form,
    listing,
    files: list,
    summary: {
      files: list.length,
      ok: list.filter((r) => r.outcome === "ok").length,
      fatal: list.filter((r) => r.outcome === "fatal").length,
      transient: list.filter((r) => r.outcome === "transient").length,
      notAttempted: list.filter((r) => r.outcome === "not-attempted").length,
      elapsedMs: Date.now() - started,
    },
    notes,
  };
}
