/**
 * `dpdoctor logs PATH...` — DP traffic summary from IIS W3C / HTTPERR logs (and a census of CMTrace and BITS event
 * files): status.substatus table with meanings, refused requests by cause → content ID → relative path, retry
 * patterns (the "hang" signature), top failing clients. `--sql` runs a DuckDB query over the W3C records.
 * Exit: 0 nothing refused, 1 refused requests found, 2 usage/input error (or skipped records with --strict).
 */
import type { Command } from "commander";
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError } from "../errors.js";
import { URL_FORM_LABEL } from "../logs/classify.js";
import { ARTIFACT_KINDS } from "../logs/detect.js";
import type { ArtifactKind, UrlForm } from "../logs/records.js";
import { runSql } from "../logs/sql.js";
import { type LogsReport, type RefusedEntry, summarizeLogs } from "../logs/summary.js";
import { formatCount } from "../render/number.js";

interface LogsCliOptions {
  json?: boolean;
  since?: string;
  until?: string;
  content?: string;
  client?: string;
  kind?: string;
  strict?: boolean;
  workers?: string;
  sql?: string;
  top?: string;
  fields?: string;
}

/** ISO 8601 or "YYYY-MM-DD[ HH:MM[:SS]]" (read as UTC, like IIS log times). */
export function parseWhen(v: string, flag: string): number {
  const s = v.trim();
  const bare = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(s);
  let t = Number.NaN;
  if (bare)
    t = Date.UTC(
      +bare[1],
      +bare[2] - 1,
      +bare[3],
      +(bare[4] ?? 0),
      +(bare[5] ?? 0),
      +(bare[6] ?? 0),
      bare[7] ? +bare[7].padEnd(3, "0") : 0,
    );
  else if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(s)) t = Date.parse(s);
  if (Number.isNaN(t))
    throw new UsageError(
      `${flag} "${v}": expected a UTC time such as 2024-05-01, "2024-05-01 14:00" or 2024-05-01T14:00:00Z`,
    );
  return t;
}

const fmt = formatCount;
/** file:line:col of a skipped record (line 0 = the whole file). */
const where = (s: { file: string; line: number; column?: number }) =>
  `${s.file}${s.line > 0 ? `:${s.line}${s.column ? `:${s.column}` : ""}` : ""}`;
const pct = (n: number, d: number) => (d > 0 ? `${((100 * n) / d).toFixed(1)}%` : "");

function formLabel(form: string): string {
  return form ? (URL_FORM_LABEL[form as UrlForm] ?? form) : "";
}

function span(a: string, b: string): string {
  if (!a) return "";
  if (a === b) return a;
  return a.slice(0, 10) === b.slice(0, 10) ? `${a} … ${b.slice(11)}` : `${a} … ${b}`;
}

export function renderText(r: LogsReport, top = 10): string {
  const out: string[] = [];
  const w3cFiles = r.files.length;
  out.push(
    `dpdoctor logs: ${fmt(w3cFiles)} file${w3cFiles === 1 ? "" : "s"}, ${fmt(r.records)} requests` +
      (r.skipped ? `, ${fmt(r.skipped)} bad records skipped` : "") +
      (r.filtered ? `, ${fmt(r.filtered)} left out by filters` : "") +
      (r.timeRange ? `\n  time range (UTC): ${span(r.timeRange.first, r.timeRange.last)}` : ""),
  );
  out.push("", "Files");
  // Files that are not logs (docs excerpts, notes) are summarised in one line instead of one each.
  const isUnknown = (f: { message?: string }) => f.message?.startsWith("no known log signature") ?? false;
  const shown = r.files.filter((f) => !isUnknown(f));
  const maxFiles = Math.max(top, 20);
  for (const f of shown.slice(0, maxFiles)) {
    out.push(
      `  ${f.kind.padEnd(10)} ${fmt(f.records).padStart(11)} records ${fmt(f.skipped).padStart(6)} skipped  ${f.path}`,
    );
    if (f.message) out.push(`      ${f.message}`);
    for (const s of f.skippedSamples.slice(0, 3)) out.push(`      ${where(s)}: ${s.reason}`);
    if (f.skipped > 3)
      out.push(`      … ${fmt(f.skipped - Math.min(3, f.skippedSamples.length))} more skipped`);
  }
  if (shown.length > maxFiles) out.push(`  … ${shown.length - maxFiles} more files`);
  const unknown = r.files.filter(isUnknown);
  if (unknown.length)
    out.push(
      `  ${unknown.length} file${unknown.length === 1 ? " is" : "s are"} not a log dpdoctor reads (no "#Fields:", "<![LOG[", "$$<…><thread=", "<Event>", Export-Csv header or "Event[n]:"/"Event Type:"; see --json, or use --kind / --fields):`,
      ...unknown.slice(0, maxFiles).map((f) => `      ${f.path}`),
      ...(unknown.length > maxFiles ? [`      … ${unknown.length - maxFiles} more`] : []),
    );
  if (r.byKind.length) {
    out.push("", "Requests by kind and URL form");
    for (const k of r.byKind)
      out.push(
        `  ${k.kind.padEnd(13)} ${fmt(k.count).padStart(11)} ${pct(k.count, r.records).padStart(6)}  ${formLabel(k.form)}`,
      );
  }
  if (r.byAgent.length) {
    out.push("", "Client agents");
    for (const a of r.byAgent.slice(0, top))
      out.push(`  ${a.agent.padEnd(28)} ${fmt(a.count).padStart(11)} ${pct(a.count, r.records).padStart(6)}`);
  }
  if (r.byStatus.length) {
    out.push("", "Status (sc-status.sc-substatus)");
    for (const s of r.byStatus)
      out.push(
        `  ${`${s.status}.${s.substatus}`.padEnd(7)} ${fmt(s.count).padStart(11)}  ${s.layer.padEnd(17)} ${s.meaning}`,
      );
  }
  if (r.byReason.length) {
    out.push("", "HTTP.sys refusals (HTTPERR s-reason)");
    for (const s of r.byReason)
      out.push(`  ${s.reason.padEnd(32)} ${fmt(s.count).padStart(9)}  ${s.meaning}`);
  }
  if (r.refused.length) {
    out.push("", "Refused requests (cause → content ID → relative path)");
    const byCause = new Map<string, RefusedEntry[]>();
    for (const e of r.refused) {
      const k = e.reason !== undefined ? `HTTPERR ${e.reason}` : `${e.status}.${e.substatus}`;
      byCause.set(k, [...(byCause.get(k) ?? []), e]);
    }
    for (const [cause, entries] of byCause) {
      const n = entries.reduce((a, e) => a + e.count, 0);
      out.push(`  ${cause}  ${entries[0].meaning} — ${fmt(n)} request${n === 1 ? "" : "s"}`);
      const summary = r.causes.find(
        (c) =>
          (c.reason ?? `${c.status}.${c.substatus}`) ===
          (entries[0].reason ?? `${entries[0].status}.${entries[0].substatus}`),
      );
      if (summary?.extensions?.length)
        out.push(
          `    extensions refused: ${summary.extensions
            .slice(0, top)
            .map((x) => `${x.extension || "(none)"} ×${fmt(x.count)}`)
            .join(", ")}`,
        );
      const byContent = new Map<string, RefusedEntry[]>();
      for (const e of entries) byContent.set(e.contentId, [...(byContent.get(e.contentId) ?? []), e]);
      const contents = [...byContent].sort(
        (a, b) => b[1].reduce((x, e) => x + e.count, 0) - a[1].reduce((x, e) => x + e.count, 0),
      );
      for (const [cid, list] of contents.slice(0, top)) {
        const first = list[0];
        out.push(`    ${cid || `(${first.kind})`}${first.form ? `  ${formLabel(first.form)}` : ""}`);
        const sorted = [...list].sort((a, b) => b.count - a.count);
        for (const e of sorted.slice(0, top)) {
          const clients = `${e.clientsOverflow > 0 ? "≥" : ""}${e.clientCount}`;
          out.push(
            `      ${(e.path || e.stem || "/").padEnd(40)} ${fmt(e.count).padStart(8)}× ${clients.padStart(5)} client${e.clientCount === 1 && !e.clientsOverflow ? " " : "s"}  ${e.methods.join(",")}  ${span(e.firstSeen, e.lastSeen)}`,
          );
        }
        if (sorted.length > top) out.push(`      … ${sorted.length - top} more paths`);
      }
      if (contents.length > top) out.push(`    … ${contents.length - top} more content IDs`);
    }
  }
  if (r.retries.length) {
    out.push("", 'Retry patterns (same client and URL again and again: the "hang" signature)');
    for (const p of r.retries.slice(0, top)) {
      out.push(
        `  ${p.client.padEnd(15)} ${`${p.status}.${p.substatus}`.padEnd(7)} ${p.contentId ? `${p.contentId}/` : ""}${p.path || p.stem}  ` +
          `${p.attempts} attempts (${p.requests} requests), ${p.steady ? "every" : "about every"} ${p.intervalSeconds} s` +
          (p.steady ? "" : ` (${p.minIntervalSeconds}–${p.maxIntervalSeconds} s)`) +
          (p.cadence ? ` — ${p.cadence}` : "") +
          `  ${span(p.firstSeen, p.lastSeen)}`,
      );
    }
    if (r.retries.length > top) out.push(`  … ${r.retries.length - top} more`);
  }
  if (r.topFailingClients.length) {
    out.push("", "Top failing clients");
    for (const c of r.topFailingClients)
      out.push(
        `  ${c.client.padEnd(40)} ${fmt(c.failures).padStart(9)} refused  ${span(c.firstSeen, c.lastSeen)}`,
      );
  }
  const o = r.overflow;
  if (o.refusedGroups || o.groupClients || o.failingClients)
    out.push(
      "",
      `Memory caps reached (counted, not listed): ${fmt(o.refusedGroups)} refused URLs, ${fmt(o.groupClients)} client entries, ${fmt(o.failingClients)} failing clients`,
    );
  out.push("", ...r.notes.map((n) => `note: ${n}`));
  return `${out.join("\n")}\n`;
}

function renderSqlText(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.slice(0, 60).padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return `${[line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n")}\n(${rows.length} row${rows.length === 1 ? "" : "s"})\n`;
}

export function register(program: Command): void {
  program
    .command("logs")
    .description(
      "Summarise DP traffic from IIS W3C and HTTP.sys logs (files, folders, globs): statuses with meanings, refused requests by cause → content ID → path, retry patterns, failing clients",
    )
    .argument(
      "<paths...>",
      "log files, folders (W3SVC*/u_ex*.log, httperr*.log) or globs; .gz files are read too",
    )
    .option("--json", "machine-readable report")
    .option(
      "--since <time>",
      "only records at or after this UTC time (2024-05-01, '2024-05-01 14:00', ISO 8601)",
    )
    .option("--until <time>", "only records at or before this UTC time (a bare date includes that whole day)")
    .option("--content <id>", "only requests for this content/package ID (case-insensitive)")
    .option("--client <ip>", "only requests from this client IP")
    .option(
      "--kind <kind>",
      `read every file as this kind (${ARTIFACT_KINDS.filter((k) => k !== "unknown").join(", ")})`,
    )
    .option(
      "--fields <list>",
      'W3C field list for pasted lines without a "#Fields:" header, e.g. "s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status sc-bytes time-taken"',
    )
    .option("--strict", "exit 2 when any record could not be read")
    .option("--workers <n>", "worker threads for big logs (default: number of cores)")
    .option("--top <n>", "rows per section in the text report", "10")
    .option(
      "--sql <query>",
      'run a DuckDB query over the W3C records (table "logs", Log Parser column names such as "sc-status")',
    )
    .action(async (paths: string[], o: LogsCliOptions) => {
      // The report is written in one piece at the end: a reader that went away (`| head`, `| more` quit) is fine.
      process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
      });
      if (o.kind && !ARTIFACT_KINDS.includes(o.kind as ArtifactKind))
        throw new UsageError(`--kind "${o.kind}": expected one of ${ARTIFACT_KINDS.join(", ")}`);
      const workers = o.workers === undefined ? undefined : Number(o.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
        throw new UsageError(`--workers "${o.workers}": expected a whole number ≥ 1`);
      const top = Number(o.top ?? 10);
      if (!(Number.isInteger(top) && top >= 1))
        throw new UsageError(`--top "${o.top}": expected a whole number ≥ 1`);
      if (o.sql !== undefined) {
        const r = await runSql(paths, o.sql, { kind: o.kind as ArtifactKind | undefined, fields: o.fields });
        process.stdout.write(
          o.json ? `${JSON.stringify(r.rows, null, 2)}\n` : renderSqlText(r.columns, r.rows),
        );
        if (r.ignored.length)
          process.stderr.write(
            `dpdoctor logs --sql: ${r.ignored.length} file(s) are not W3C logs and were not loaded: ${r.ignored.join(", ")}\n`,
          );
        process.exitCode = EXIT_OK;
        return;
      }
      const since = o.since !== undefined ? parseWhen(o.since, "--since") : undefined;
      // A bare date in --until means the whole day (through 23:59:59.999 UTC).
      const until =
        o.until !== undefined
          ? parseWhen(o.until, "--until") + (/^\d{4}-\d{2}-\d{2}$/.test(o.until.trim()) ? 86_399_999 : 0)
          : undefined;
      if (since !== undefined && until !== undefined && since > until)
        throw new UsageError("--since is after --until");
      const report = await summarizeLogs(paths, {
        kind: o.kind as ArtifactKind | undefined,
        workers,
        fields: o.fields,
        filters: { since, until, contentId: o.content, client: o.client },
      });
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, top));
      const skipped = report.files.reduce((n, f) => n + f.skipped, 0);
      if (o.strict && skipped > 0) {
        const first = report.files.flatMap((f) => f.skippedSamples)[0];
        process.stderr.write(
          `dpdoctor: ${first ? `${where(first)}: ${first.reason}` : "bad records"} (${skipped} record${skipped === 1 ? "" : "s"} skipped; --strict)\n`,
        );
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.exitCode = report.refused.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}
