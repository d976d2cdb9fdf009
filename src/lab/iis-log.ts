/**
 * The emulator's IIS logs, written the way IIS 10 writes them (configmgr-dp-bits.md §4.4, §4.5):
 * - W3C: `<logDir>/W3SVC<siteId>/u_exYYMMDD.log` (daily, UTC), `#Software/#Version/#Date/#Fields` header, the IIS 8+
 *   default field set, `-` for empty fields, spaces written as `+`.
 * - HTTPERR: `<logDir>/HTTPERR/httperr1.log`, HTTP API 2.0 header and fields, for faults http.sys would log.
 * Lines are buffered and flushed on a short timer and on close (a lab server must not write per request).
 */
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";

/** IIS 8+ default `logExtFileFlags` as a #Fields line (§4.4 [S41][S61]). */
export const W3C_FIELDS =
  "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";
/** HTTP.sys error log fields (§4.5 [S45]). */
export const HTTPERR_FIELDS =
  "date time c-ip c-port s-ip s-port cs-version cs-method cs-uri sc-status s-siteid s-reason s-queuename";

export interface W3CEntry {
  time: Date;
  serverIp: string;
  method: string;
  /** Decoded path as IIS logs it (spaces become `+` here). */
  uriStem: string;
  /** Raw query without `?`, or undefined. */
  uriQuery?: string;
  port: number;
  username?: string;
  clientIp: string;
  userAgent?: string;
  referer?: string;
  status: number;
  substatus: number;
  win32Status: number;
  timeTakenMs: number;
}

export interface HttpErrEntry {
  time: Date;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  protocolVersion: string; // "HTTP/1.1"
  method: string;
  uri: string;
  /** undefined → `-` (e.g. a connection dropped after the response started). */
  status?: number;
  siteId: string;
  reason: string;
  queueName?: string;
}

/** A W3C field value: `-` when empty, spaces (and other separators IIS replaces) as `+` (§4.4). */
export function w3cField(v: string | undefined): string {
  if (v === undefined || v === "") return "-";
  return v.replace(/[ \t\r\n]/g, "+");
}

/** `YYYY-MM-DD` and `HH:MM:SS` in UTC (W3C times are always UTC, §4.4). */
export function w3cDateTime(d: Date): [string, string] {
  const iso = d.toISOString();
  return [iso.slice(0, 10), iso.slice(11, 19)];
}

export function formatW3CLine(e: W3CEntry): string {
  const [date, time] = w3cDateTime(e.time);
  return [
    date,
    time,
    e.serverIp,
    w3cField(e.method),
    w3cField(e.uriStem),
    w3cField(e.uriQuery),
    String(e.port),
    w3cField(e.username),
    e.clientIp,
    w3cField(e.userAgent),
    w3cField(e.referer),
    String(e.status),
    String(e.substatus),
    String(e.win32Status),
    String(Math.max(0, Math.round(e.timeTakenMs))),
  ].join(" ");
}

export function formatHttpErrLine(e: HttpErrEntry): string {
  const [date, time] = w3cDateTime(e.time);
  return [
    date,
    time,
    e.clientIp,
    String(e.clientPort),
    e.serverIp,
    String(e.serverPort),
    e.protocolVersion,
    w3cField(e.method),
    w3cField(e.uri),
    e.status === undefined ? "-" : String(e.status),
    e.siteId,
    e.reason,
    w3cField(e.queueName),
  ].join(" ");
}

/** Daily W3C file name `u_exYYMMDD.log` for a UTC date (§4.4). */
export function w3cFileName(d: Date): string {
  const iso = d.toISOString();
  return `u_ex${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}.log`;
}

function header(software: string, d: Date, fields: string): string {
  const [date, time] = w3cDateTime(d);
  return `#Software: ${software}\r\n#Version: 1.0\r\n#Date: ${date} ${time}\r\n#Fields: ${fields}\r\n`;
}

/** Buffered append-only log; a header block is written whenever a file is started (new day, new process). */
class BufferedLog {
  private pending: { file: string; text: string }[] = [];
  private started = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  constructor(
    private readonly dir: string,
    private readonly software: string,
    private readonly fields: string,
  ) {}

  add(file: string, line: string, when: Date): void {
    if (!this.started.has(file)) {
      this.started.add(file);
      // IIS writes a new header block after each start (§4.4), also into an existing file
      this.pending.push({ file, text: header(this.software, when, this.fields) });
    }
    this.pending.push({ file, text: `${line}\r\n` });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        try {
          this.flush();
        } catch (e) {
          // a full disk must not crash the emulator: say it once, keep serving (lines are lost, not hidden)
          if (!this.warned)
            process.stderr.write(`dpdoctor lab: cannot write ${this.dir}: ${(e as Error).message}\n`);
          this.warned = true;
        }
      }, 200);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    const byFile = new Map<string, string>();
    for (const p of this.pending) byFile.set(p.file, (byFile.get(p.file) ?? "") + p.text);
    this.pending = [];
    for (const [file, text] of byFile) appendFileSync(path.join(this.dir, file), text, "utf8");
  }
}

/** The emulator's two logs. `flush()` is called by the server's close(). */
export class IisLogs {
  readonly w3cDir: string;
  readonly httpErrDir: string;
  private readonly w3c: BufferedLog;
  private readonly httpErr: BufferedLog;
  constructor(logDir: string, siteId = 1) {
    this.w3cDir = path.join(logDir, `W3SVC${siteId}`);
    this.httpErrDir = path.join(logDir, "HTTPERR");
    this.w3c = new BufferedLog(this.w3cDir, "Microsoft Internet Information Services 10.0", W3C_FIELDS);
    this.httpErr = new BufferedLog(this.httpErrDir, "Microsoft HTTP API 2.0", HTTPERR_FIELDS);
  }
  writeW3C(e: W3CEntry): void {
    this.w3c.add(w3cFileName(e.time), formatW3CLine(e), e.time);
  }
  writeHttpErr(e: HttpErrEntry): void {
    this.httpErr.add("httperr1.log", formatHttpErrLine(e), e.time);
  }
  flush(): void {
    this.w3c.flush();
    this.httpErr.flush();
  }
  /** Paths of the files written so far (after a flush). */
  files(): string[] {
    const out: string[] = [];
    for (const d of [this.w3cDir, this.httpErrDir]) if (existsSync(d)) out.push(d);
    return out;
  }
}
