/**
 * `dpdoctor logs --sql`: the W3C records as a DuckDB table with Log Parser-style column names (the W3C field names,
 * e.g. "cs-uri-stem", "sc-status"; "-" becomes NULL), plus the ConfigMgr meaning of each request.
 * DuckDB (`@duckdb/node-api`) is an optional dependency: a clear message when it is not installed.
 */
import { UsageError } from "../errors.js";
import { agentLabel, urlInfo } from "./aggregate.js";
import { expandPaths, readFileBytes, sniffFile } from "./read.js";
import type { ArtifactKind } from "./records.js";
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

/** Loads every W3C log in `paths` into DuckDB and runs `sql` against the `logs` table. */
export async function runSql(
  paths: string[],
  sql: string,
  opts: { kind?: ArtifactKind; fields?: string } = {},
): Promise<SqlResult> {
  const duck = await loadDuckDb();
  const inst = await duck.DuckDBInstance.create(":memory:");
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
      for (const r of parseW3C(readFileBytes(file), file, { fields: opts.fields }).records) {
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
      }
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
  }
}
