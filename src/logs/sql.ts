/**
 * `dpdoctor logs --sql`: the W3C records as a DuckDB table with Log Parser-style column names (the W3C field names,
 * e.g. "cs-uri-stem", "sc-status"; "-" becomes NULL), plus the ConfigMgr meaning of each request.
 * DuckDB (`@duckdb/node-api`) is an optional dependency: a clear message when it is not installed.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { InputError, UsageError } from "../errors.js";
import { agentLabel, urlInfo } from "./aggregate.js";
import { isGzip } from "./detect.js";
import { expandPaths, readFileBytes, sniffFile } from "./read.js";
import type { ArtifactKind, W3CRecord } from "./records.js";
import { sniffEncoding } from "./text.js";
import { parseW3C } from "./w3c.js";

export const SQL_TABLE = "logs";

/** Columns of the `logs` table: [name, DuckDB type]. */
export const SQL_COLUMNS: [string, string][] = [
  ["LogFilename", "VARCHAR"],
  ["LogRow", "INTEGER"],
  ["date", "VARCHAR"],
  ["time", "VARCHAR"],
  ["s-sitename", "VARCHAR"],
  ["s-ip", "VARCHAR"],
  ["cs-method", "VARCHAR"],
  ["cs-uri-stem", "VARCHAR"],
  ["cs-uri-query", "VARCHAR"],
  ["s-port", "INTEGER"],
  ["cs-username", "VARCHAR"],
  ["c-ip", "VARCHAR"],
  ["cs(User-Agent)", "VARCHAR"],
  ["cs(Referer)", "VARCHAR"],
  ["cs-host", "VARCHAR"],
  ["sc-status", "INTEGER"],
  ["sc-substatus", "INTEGER"],
  ["sc-win32-status", "BIGINT"],
  ["sc-bytes", "BIGINT"],
  ["cs-bytes", "BIGINT"],
  ["time-taken", "BIGINT"],
  ["ts_ms", "BIGINT"],
  ["request-kind", "VARCHAR"],
  ["url-form", "VARCHAR"],
  ["content-id", "VARCHAR"],
  ["relative-path", "VARCHAR"],
  ["agent", "VARCHAR"],
];

export interface SqlResult {
  columns: string[];
  rows: Record<string, unknown>[];
  /** W3C records loaded, and files that were not W3C logs (skipped). */
  loaded: number;
  ignored: string[];
}

type Duck = typeof import("@duckdb/node-api");

async function loadDuckDb(): Promise<Duck> {
  try {
    return (await import("@duckdb/node-api")) as Duck;
  } catch {
    throw new UsageError(
      "--sql needs DuckDB, an optional dependency that is not installed here: run `npm install @duckdb/node-api` (prebuilt for Windows x64, Linux and macOS)",
    );
  }
}

/** Bytes of W3C text parsed at a time by `--sql` (whole lines; the records of one piece are in memory at once). */
export const SQL_CHUNK_BYTES = 4 << 20;
/** DuckDB's memory limit for `--sql` (the table beyond it lives in the scratch database file). */
export const SQL_MEMORY_LIMIT = "256MB";

/** Start of the last `#Fields:` line (case-insensitive, at a line start) in b[0, end), or -1. */
function lastFieldsDirective(b: Buffer, end: number): number {
  let found = -1;
  for (let i = b.indexOf(35, 0); i !== -1 && i < end; i = b.indexOf(35, i + 1))
    if (
      (i === 0 || b[i - 1] === 10 || b[i - 1] === 13) &&
      b.toString("latin1", i, Math.min(i + 8, end)).toLowerCase() === "#fields:"
    )
      found = i;
  return found;
}

/** Line breaks as the typed reader counts them: LF, CRLF (one) and a lone CR. */
function countLines(b: Buffer, end: number): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = b[i];
    if (c === 10) n++;
    else if (c === 13 && b[i + 1] !== 10) n++;
  }
  return n;
}

/**
 * Cuts a W3C byte stream into whole-line pieces of about SQL_CHUNK_BYTES and parses each with the typed reader
 * (parseW3C), the `#Fields:` line in force prepended: the same records, with the same line numbers, as parsing the
 * whole file, but only one piece's records are in memory at a time. A file without any LF (lone-CR line ends) is one
 * piece.
 */
class W3CPieces {
  private carry: Buffer | undefined;
  private fields: string | undefined;
  private lineBase = 0;
  constructor(
    private readonly file: string,
    private readonly fieldsOpt: string | undefined,
    private readonly onRecord: (r: W3CRecord) => void,
  ) {}
  private first = true;
  push(chunk0: Buffer): void {
    let chunk = chunk0;
    if (this.first && chunk.length > 0) {
      this.first = false;
      // a UTF-8 BOM would hide a "#Fields:" on the first line from lastFieldsDirective (parseW3C drops it anyway)
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    const b = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    const cut = b.lastIndexOf(10) + 1;
    if (cut === 0) {
      this.carry = Buffer.from(b);
      return;
    }
    this.parse(b, cut);
    if (cut < b.length) this.carry = Buffer.from(b.subarray(cut));
  }
  end(): void {
    if (this.carry) this.parse(this.carry, this.carry.length);
    this.carry = undefined;
  }
  private parse(b: Buffer, end: number): void {
    const piece = b.subarray(0, end);
    const prefix = this.fields;
    const text = prefix === undefined ? piece : Buffer.concat([Buffer.from(`${prefix}\n`, "utf8"), piece]);
    const shift = this.lineBase - (prefix === undefined ? 0 : 1);
    for (const r of parseW3C(text, this.file, { fields: this.fieldsOpt }).records) {
      r.line += shift;
      this.onRecord(r);
    }
    const at = lastFieldsDirective(b, end);
    if (at >= 0) {
      let z = at;
      while (z < end && b[z] !== 10 && b[z] !== 13) z++;
      this.fields = b.toString("utf8", at, z);
    }
    this.lineBase += countLines(b, end);
  }
}

/**
 * Every W3C record of a file, streamed: plain files are read SQL_CHUNK_BYTES at a time, .gz files inflated as a
 * stream. UTF-16 files (re-saved by tools, never written by IIS) are small and parsed whole.
 */
export async function forEachW3CRecord(
  file: string,
  fields: string | undefined,
  onRecord: (r: W3CRecord) => void,
  chunkBytes = SQL_CHUNK_BYTES,
): Promise<void> {
  const fd = openSync(file, "r");
  const buf = Buffer.allocUnsafe(Math.max(512, chunkBytes));
  try {
    const head = buf.subarray(0, readSync(fd, buf, 0, 512, 0));
    const enc = sniffEncoding(head);
    if (enc === "utf-16le" || enc === "utf-16be") {
      for (const r of parseW3C(readFileBytes(file), file, { fields }).records) onRecord(r);
      return;
    }
    const pieces = new W3CPieces(file, fields, onRecord);
    if (isGzip(head)) {
      const stream = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
        createGunzip({ finishFlush: 2 }),
      );
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) pieces.push(chunk);
      } catch (e) {
        throw new InputError(`gzip data is corrupt (${(e as Error).message})`, { file });
      }
    } else
      for (let pos = 0; ; ) {
        const n = readSync(fd, buf, 0, Math.max(16, Math.min(chunkBytes, buf.length)), pos);
        if (n === 0) break;
        pos += n;
        pieces.push(buf.subarray(0, n));
      }
    pieces.end();
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads every W3C log in `paths` into DuckDB (appender, streamed: bounded memory on the JS side) and runs `sql`
 * against the `logs` table.
 */
export async function runSql(
  paths: string[],
  sql: string,
  opts: { kind?: ArtifactKind; fields?: string } = {},
): Promise<SqlResult> {
  const duck = await loadDuckDb();
  // A scratch database file in the OS temp folder (deleted below), not ":memory:": DuckDB's buffer manager then keeps
  // at most SQL_MEMORY_LIMIT of the table in memory and pages the rest out, so a multi-GB log does not need its size
  // in RAM. Nothing is written next to the user's logs.
  const dbDir = mkdtempSync(path.join(tmpdir(), "dpdoctor-sql-"));
  const inst = await duck.DuckDBInstance.create(path.join(dbDir, "logs.duckdb"), {
    memory_limit: SQL_MEMORY_LIMIT,
    temp_directory: dbDir,
  });
  const con = await inst.connect();
  try {
    const cols = SQL_COLUMNS.map(([n, t]) => `"${n}" ${t}`).join(", ");
    await con.run(`CREATE TABLE w3c_raw (${cols})`);
    const app = await con.createAppender("w3c_raw");
    let loaded = 0;
    const ignored: string[] = [];
    const str = (v: string) => (v === "" ? app.appendNull() : app.appendVarchar(v));
    const int = (v: number) => (Number.isFinite(v) ? app.appendInteger(v) : app.appendNull());
    const big = (v: number) =>
      Number.isFinite(v) ? app.appendBigInt(BigInt(Math.trunc(v))) : app.appendNull();
    for (const file of expandPaths(paths)) {
      const d = sniffFile(file, { kind: opts.kind });
      if (d.kind !== "iis-w3c" && !(opts.fields && d.kind === "unknown")) {
        ignored.push(file);
        continue;
      }
      await forEachW3CRecord(file, opts.fields, (r) => {
        const u = urlInfo(r.uriStem, r.uriQuery);
        app.appendVarchar(file);
        app.appendInteger(r.line);
        const iso = Number.isFinite(r.time) ? new Date(r.time).toISOString() : "";
        str(iso.slice(0, 10));
        str(iso.slice(11, 19));
        str(r.siteName);
        str(r.serverIp);
        str(r.method);
        str(r.uriStem);
        str(r.uriQuery);
        int(r.port);
        str(r.username);
        str(r.clientIp);
        str(r.userAgentRaw);
        str(r.referer);
        str(r.host);
        int(r.status);
        int(r.substatus);
        big(r.win32Status);
        big(r.bytesSent);
        big(r.bytesReceived);
        big(r.timeTaken);
        big(r.time);
        str(u.kind);
        str(u.form);
        str(u.contentId);
        str(u.path);
        str(r.userAgentRaw ? agentLabel(r.userAgentRaw) : "");
        app.endRow();
        loaded++;
      });
    }
    app.closeSync();
    await con.run(
      `CREATE VIEW ${SQL_TABLE} AS SELECT * EXCLUDE (ts_ms), CASE WHEN ts_ms IS NULL THEN NULL ELSE epoch_ms(ts_ms) END AS "timestamp" FROM w3c_raw`,
    );
    let reader: Awaited<ReturnType<typeof con.runAndReadAll>>;
    try {
      reader = await con.runAndReadAll(sql);
    } catch (e) {
      throw new UsageError(
        `--sql: ${(e as Error).message.split("\n")[0]} (the table is "${SQL_TABLE}"; quote names with dashes: "sc-status")`,
      );
    }
    return {
      columns: reader.columnNames(),
      rows: reader.getRowObjectsJson() as Record<string, unknown>[],
      loaded,
      ignored,
    };
  } finally {
    con.closeSync();
    inst.closeSync();
    rmSync(dbDir, { recursive: true, force: true });
  }
}
