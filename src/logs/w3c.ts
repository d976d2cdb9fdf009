/**
 * Typed readers for W3C-style logs: IIS W3C extended logs (configmgr-dp-bits §4.4) and HTTP.sys HTTPERR logs (§4.5).
 * Both are `#`-directive files whose `#Fields:` line defines the columns; the field list may change mid-file
 * (corpus iis/u_ex_elastic_iis10_multiheader_test.log has three blocks), `-` means empty and `+` stands for a space.
 * Times are UTC (§4.4 [S41], §4.5).
 *
 * These build one object per line and are meant for `diagnose` and tests; `dpdoctor logs` uses the byte
 * scanner in scan.ts instead.
 */
import type { HttpErrRecord, SkippedRecord, W3CRecord } from "./records.js";
import { decodeText, splitLines } from "./text.js";

export interface ParseResult<T> {
  records: T[];
  /** Bad records (first MAX_SKIPPED_SAMPLES kept), in file order. */
  skipped: SkippedRecord[];
  /** Total number of bad records (may exceed skipped.length). */
  skippedCount: number;
  /** Physical lines read. */
  lines: number;
}

export const MAX_SKIPPED_SAMPLES = 1000;

export function pushSkipped<T>(r: ParseResult<T>, s: SkippedRecord): void {
  r.skippedCount++;
  if (r.skipped.length < MAX_SKIPPED_SAMPLES) r.skipped.push(s);
}

/** A compiled `#Fields:` line: column index of every field (lower-cased name → index). */
export interface FieldPlan {
  names: string[];
  index: Map<string, number>;
  /** Line of the `#Fields:` directive. */
  line: number;
}

export function compileFields(directive: string, line: number): FieldPlan {
  const names = directive
    .replace(/^#Fields:[ \t]*/i, "")
    .split(/[ \t]+/) // ASCII blanks only: IIS separates with one space; U+00A0 etc. stay inside a name
    .filter((s) => s.length > 0);
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    const k = n.toLowerCase();
    if (!index.has(k)) index.set(k, i);
  });
  return { names, index, line };
}

/** `-` → "" (W3C empty value). */
export function w3cValue(v: string | undefined): string {
  return v === undefined || v === "-" ? "" : v;
}

/** `+` → space (W3C escaping of spaces, §4.4). */
export function unplus(v: string): string {
  return v.replace(/\+/g, " ");
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

/** UTC milliseconds of a W3C `date` + `time` pair; NaN when either is missing or malformed. */
export function w3cTime(date: string | undefined, time: string | undefined): number {
  if (!date || !time) return Number.NaN;
  const d = DATE_RE.exec(date);
  const t = TIME_RE.exec(time);
  if (!d || !t) return Number.NaN;
  const ms = t[4] ? Number(t[4].padEnd(3, "0")) : 0;
  const mo = Number(d[2]);
  const day = Number(d[3]);
  const h = Number(t[1]);
  const mi = Number(t[2]);
  const s = Number(t[3]);
  if (mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return Number.NaN;
  return Date.UTC(Number(d[1]), mo - 1, day, h, mi, s, ms);
}

function num(v: string | undefined): number {
  if (v === undefined || v === "-" || v === "") return Number.NaN;
  return /^\d+$/.test(v) ? Number(v) : Number.NaN;
}

/** Characters of an IPv4/IPv6 address as IIS logs it (IPv6 may carry a `%zone`). */
const IP_RE = /^[0-9A-Fa-f:.%]+$/;

export function isLoggedIp(v: string): boolean {
  return v.length > 0 && v.length <= 64 && IP_RE.test(v);
}

/** Why a data line was not read (1-based column of the bad field). */
export class Skip {
  constructor(
    readonly reason: string,
    readonly column?: number,
  ) {}
}

export interface DirectiveReader<T> {
  /** Builds a record from the tokens of a data line, or returns a reason to skip it. */
  build(tokens: string[], plan: FieldPlan, line: number, text: string): T | Skip;
}

/**
 * The line-by-line state of a directive log: the current `#Fields:` plan and the skipped-line counts. The whole-file
 * readers below and the chunked reader of stream.ts (diagnose's bounded-memory path) feed it the same lines, so there
 * is one parser whatever the reading strategy.
 */
export class DirectiveLineReader<T> {
  plan: FieldPlan | undefined;
  readonly skipped: SkippedRecord[] = [];
  skippedCount = 0;
  lines = 0;
  constructor(
    readonly file: string,
    private readonly reader: DirectiveReader<T>,
    private readonly onRecord: (r: T) => void,
    fields?: string,
  ) {
    this.plan = fields ? compileFields(`#Fields: ${fields}`, 0) : undefined;
  }

  private skip(s: SkippedRecord): void {
    this.skippedCount++;
    if (this.skipped.length < MAX_SKIPPED_SAMPLES) this.skipped.push(s);
  }

  /** One physical line (without its line end), 1-based line number. */
  line(s: string, line: number): void {
    this.lines = line;
    const file = this.file;
    if (s.length === 0) return;
    if (s.charCodeAt(0) === 35 /* # */) {
      if (/^#Fields:/i.test(s)) this.plan = compileFields(s, line);
      return;
    }
    if (/^[ \t]*$/.test(s)) return; // blank (spaces/tabs only): ignored, as in the byte scanner
    const plan = this.plan;
    if (!plan) {
      this.skip({ file, line, column: 1, reason: 'data line before any "#Fields:" directive' });
      return;
    }
    const tokens = s.split(" ");
    if (tokens.length !== plan.names.length) {
      this.skip({
        file,
        line,
        column: 1,
        reason: `expected ${plan.names.length} space-separated fields (per ${plan.line > 0 ? `"#Fields:" on line ${plan.line}` : "--fields"}), found ${tokens.length}`,
      });
      return;
    }
    const r = this.reader.build(tokens, plan, line, s);
    if (r instanceof Skip) this.skip({ file, line, column: r.column, reason: r.reason });
    else this.onRecord(r);
  }
}

function parseDirectiveLog<T>(
  input: string | Uint8Array,
  file: string,
  reader: DirectiveReader<T>,
  fields?: string,
): ParseResult<T> {
  const { text } = decodeText(input);
  const lines = splitLines(text);
  const records: T[] = [];
  const lr = new DirectiveLineReader(file, reader, (r: T) => records.push(r), fields);
  for (const l of lines) lr.line(l.text, l.line);
  return { records, skipped: lr.skipped, skippedCount: lr.skippedCount, lines: lines.length };
}

/** 1-based column where token i starts in a single-space separated line. */
export function tokenColumn(tokens: string[], i: number): number {
  let col = 1;
  for (let k = 0; k < i; k++) col += tokens[k].length + 1;
  return col;
}

function get(tokens: string[], plan: FieldPlan, name: string): string | undefined {
  const i = plan.index.get(name);
  return i === undefined ? undefined : tokens[i];
}

export const w3cReader = (file: string): DirectiveReader<W3CRecord> => ({
  build(tokens, plan, line, text) {
    const statusIdx = plan.index.get("sc-status");
    const status = num(get(tokens, plan, "sc-status"));
    if (statusIdx !== undefined && !(status >= 100 && status <= 999))
      return new Skip(
        `sc-status is not a 3-digit HTTP status: "${tokens[statusIdx].slice(0, 40)}"`,
        tokenColumn(tokens, statusIdx),
      );
    for (const ipField of ["c-ip", "s-ip"]) {
      const i = plan.index.get(ipField);
      if (i !== undefined && tokens[i] !== "-" && !isLoggedIp(tokens[i]))
        return new Skip(
          `${ipField} is not an IP address: "${tokens[i].slice(0, 60)}"`,
          tokenColumn(tokens, i),
        );
    }
    const date = get(tokens, plan, "date");
    const time = get(tokens, plan, "time");
    const t = w3cTime(date, time);
    if (date !== undefined && Number.isNaN(t))
      return new Skip(`date/time is not "YYYY-MM-DD HH:MM:SS": "${date} ${time ?? ""}"`, 1);
    const ua = w3cValue(get(tokens, plan, "cs(user-agent)"));
    const sub = num(get(tokens, plan, "sc-substatus"));
    const win32 = num(get(tokens, plan, "sc-win32-status"));
    const taken = num(get(tokens, plan, "time-taken"));
    return {
      file,
      line,
      time: t,
      serverIp: w3cValue(get(tokens, plan, "s-ip")),
      method: w3cValue(get(tokens, plan, "cs-method")),
      uriStem: w3cValue(get(tokens, plan, "cs-uri-stem")),
      uriQuery: w3cValue(get(tokens, plan, "cs-uri-query")),
      port: num(get(tokens, plan, "s-port")),
      username: w3cValue(get(tokens, plan, "cs-username")),
      clientIp: w3cValue(get(tokens, plan, "c-ip")),
      userAgent: unplus(ua),
      userAgentRaw: ua,
      referer: w3cValue(get(tokens, plan, "cs(referer)")),
      host: w3cValue(get(tokens, plan, "cs-host")),
      status: Number.isNaN(status) ? 0 : status,
      substatus: Number.isNaN(sub) ? 0 : sub,
      win32Status: Number.isNaN(win32) ? 0 : win32,
      timeTaken: Number.isNaN(taken) ? 0 : taken,
      bytesSent: num(get(tokens, plan, "sc-bytes")),
      bytesReceived: num(get(tokens, plan, "cs-bytes")),
      siteName: w3cValue(get(tokens, plan, "s-sitename")),
      text,
    };
  },
});

/** Reads an IIS W3C extended log (any field set, `#Fields:` changes followed). */
export function parseW3C(
  input: string | Uint8Array,
  file = "<input>",
  opts: { fields?: string } = {},
): ParseResult<W3CRecord> {
  return parseDirectiveLog(input, file, w3cReader(file), opts.fields);
}

export const httpErrReader = (file: string): DirectiveReader<HttpErrRecord> => ({
  build(tokens, plan, line, text) {
    const statusIdx = plan.index.get("sc-status");
    const statusTok = get(tokens, plan, "sc-status");
    const status = num(statusTok);
    if (statusIdx !== undefined && statusTok !== "-" && !(status >= 100 && status <= 999))
      return new Skip(
        `sc-status is not a 3-digit HTTP status or "-": "${String(statusTok).slice(0, 40)}"`,
        tokenColumn(tokens, statusIdx),
      );
    const ci = plan.index.get("c-ip");
    if (ci !== undefined && tokens[ci] !== "-" && !isLoggedIp(tokens[ci]))
      return new Skip(`c-ip is not an IP address: "${tokens[ci].slice(0, 60)}"`, tokenColumn(tokens, ci));
    const date = get(tokens, plan, "date");
    const t = w3cTime(date, get(tokens, plan, "time"));
    if (date !== undefined && Number.isNaN(t)) return new Skip(`date/time is not "YYYY-MM-DD HH:MM:SS"`, 1);
    return {
      file,
      line,
      time: t,
      clientIp: w3cValue(get(tokens, plan, "c-ip")),
      clientPort: num(get(tokens, plan, "c-port")),
      serverIp: w3cValue(get(tokens, plan, "s-ip")),
      serverPort: num(get(tokens, plan, "s-port")),
      protocolVersion: w3cValue(get(tokens, plan, "cs-version")),
      method: w3cValue(get(tokens, plan, "cs-method")),
      uri: w3cValue(get(tokens, plan, "cs-uri")),
      status,
      siteId: w3cValue(get(tokens, plan, "s-siteid")),
      reason: w3cValue(get(tokens, plan, "s-reason")),
      queueName: w3cValue(get(tokens, plan, "s-queuename")),
      text,
    };
  },
});

/** Reads an HTTP.sys error log (httperr*.log, §4.5). */
export function parseHttpErr(input: string | Uint8Array, file = "<input>"): ParseResult<HttpErrRecord> {
  return parseDirectiveLog(input, file, httpErrReader(file));
}

/** HTTP.sys s-reason meanings (§4.5 [S45]). */
export const HTTPERR_REASONS: Record<string, string> = {
  AppOffline: "503: application pool taken offline after application errors (rapid-fail protection)",
  AppPoolTimer: "503: application pool process too busy to handle the request",
  AppShutdown: "503: application pool shut down automatically (policy)",
  BadRequest: "400: parse error while processing the request",
  Client_Reset: "connection reset by the client before the response",
  Connection_Abandoned_By_AppPool: "worker process quit unexpectedly or an orphaned request was left",
  Connection_Abandoned_By_ReqQueue:
    "worker process quit unexpectedly or an orphaned request was left (queue)",
  Connection_Dropped: "connection dropped before the final response was sent",
  Connection_Dropped_List_Full: "too many dropped connections to log",
  ConnLimit: "503: site or global connection limit reached",
  Connections_Refused: "kernel non-paged pool low: connections refused",
  Disabled: "503: an administrator took the application offline",
  EntityTooLarge: "413: entity exceeds the maximum size",
  FieldLength: "400: a field exceeds the length limit",
  Forbidden: "403: forbidden element or sequence",
  Header: "400: problem in a header",
  Hostname: "400: problem in the Host header",
  Internal: "500: internal server error in http.sys",
  Invalid_CR_LF: "400: illegal carriage return or line feed",
  LengthRequired: "411: required length value missing",
  "N/A": "503: service unavailable (internal error)",
  "N/I": "501: unknown transfer encoding",
  NumberOfFields: "400: too many headers",
  Precondition: "412: precondition failed",
  QueueFull: "503: application request queue full",
  RequestLength: "400: request too long",
  Timer_AppPool: "connection expired: request waited too long in the application pool queue",
  Timer_ConnectionIdle: "connection expired and stayed idle (ConnectionTimeout)",
  Timer_EntityBody: "connection expired before the request body arrived",
  Timer_HeaderWait: "connection expired before the request headers were parsed",
  Timer_MinBytesPerSecond: "connection expired: client received data slower than MinBytesPerSecond (240 B/s)",
  Timer_ReqQueue: "connection expired: request waited too long in the queue",
  Timer_Response: "reserved",
  Timer_SslRenegotiation: "connection expired during SSL renegotiation",
  URL: "400: problem in the URL",
  URL_Length: "414: URL exceeds the maximum length",
  Verb: "400: invalid verb",
  Version_N_S: "505: HTTP version not supported",
  "Version_N/S": "505: HTTP version not supported",
  NotFound: "404: no site or application bound to this URL (http.sys)",
};
