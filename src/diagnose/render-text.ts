/**
 * Terminal rendering of a diagnose report: findings first (cause, config line, fix command), evidence after.
 * Pure function of the report; colour only when asked (the CLI honours NO_COLOR and non-TTY output).
 */
import { utc } from "./diagnose.js";
import type { DiagnoseReport, Evidence, Finding } from "./report.js";

export interface TextOptions {
  color?: boolean;
  /** Evidence lines shown per finding (default 8). */
  maxEvidence?: number;
}

interface Paint {
  bold(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  cyan(s: string): string;
}

function paint(on: boolean): Paint {
  const w = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: w("1"), red: w("31"), yellow: w("33"), green: w("32"), dim: w("2"), cyan: w("36") };
}

/** Log text is attacker-controllable: never let it move the cursor or recolour the terminal. */
export function safeTerminalText(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "�");
}

export function renderText(report: DiagnoseReport, opts: TextOptions = {}): string {
  const p = paint(opts.color === true);
  const max = opts.maxEvidence ?? 10;
  const out: string[] = [];
  const n = report.findings.length;
  if (n === 0) {
    out.push(p.green("No finding: nothing in these artifacts matches the failure catalogue (F01–F19)."));
  } else {
    out.push(p.bold(`${n} finding${n === 1 ? "" : "s"}:`));
  }
  out.push("");
  report.findings.forEach((f, i) => {
    out.push(...renderFinding(f, i + 1, p, max));
    out.push("");
  });
  if (report.jobs.length > 0) {
    out.push(p.bold("Download jobs rebuilt from client logs:"));
    for (const j of report.jobs) {
      const state = j.lastState ? `state ${j.lastState}` : "";
      const errs =
        j.errorCount !== undefined ? `, ${j.errorCount} BITS error(s), last ${j.lastErrorCode}` : "";
      out.push(
        `  DTS ${j.dtsJobId ?? "?"}${j.bitsJobId ? ` / BITS ${j.bitsJobId}` : ""}: ${j.contentId ?? "?"} — ${j.outcome}${state ? ` (${state}${errs})` : ""}`,
      );
      if (j.clients.length > 0)
        out.push(p.dim(`    client ${j.clients.join(", ")}; joined by ${j.joinedBy.join(", ")}`));
    }
    out.push("");
  }
  const dpStatuses = report.statusBreakdown.filter((s) => s.dpContent);
  if (dpStatuses.length > 0) {
    out.push(p.bold("DP content requests by status:"));
    for (const s of dpStatuses.slice(0, 10))
      out.push(`  ${String(s.count).padStart(6)}  ${s.status}.${s.substatus}  ${s.meaning}`);
    out.push("");
  }
  out.push(p.bold("Artifacts read:"));
  const unknown = report.artifacts.filter((a) => a.kind === "unknown");
  for (const a of report.artifacts.filter((x) => x.kind !== "unknown")) {
    const skipped = a.skipped > 0 ? p.yellow(`, ${a.skipped} skipped`) : "";
    out.push(
      `  ${a.kind.padEnd(11)} ${safeTerminalText(a.path)} (${a.records} records${skipped})${a.message ? ` — ${a.message}` : ""}`,
    );
    for (const s of (a.skippedSamples ?? []).slice(0, 3))
      out.push(p.dim(`      skipped ${safeTerminalText(s)}`));
  }
  if (unknown.length > 0) {
    out.push(
      p.yellow(`  ${unknown.length} file(s) not recognised as a log, export or config (--json lists why):`),
    );
    for (const a of unknown.slice(0, 5)) out.push(p.dim(`      ${safeTerminalText(a.path)}`));
    if (unknown.length > 5) out.push(p.dim(`      … ${unknown.length - 5} more`));
  }
  for (const u of report.unreadable)
    out.push(p.yellow(`  unreadable  ${safeTerminalText(u.path)}: ${u.reason}`));
  if (report.config) out.push(`  config      ${report.config}`);
  if (report.missingArtifacts.length > 0) {
    out.push("");
    out.push(p.bold("Not given (would raise confidence):"));
    for (const m of report.missingArtifacts) out.push(`  - ${m}`);
  }
  out.push("");
  for (const note of report.notes) out.push(p.dim(`note: ${note}`));
  return `${out.join("\n")}\n`;
}

function confidenceLabel(f: Finding, p: Paint): string {
  const c = f.confidence;
  return c === "high" ? p.red(c) : c === "medium" ? p.yellow(c) : p.dim(c);
}

function renderFinding(f: Finding, index: number, p: Paint, max: number): string[] {
  const out: string[] = [];
  out.push(p.bold(`[${index}] ${f.id} ${f.title}`) + `  (confidence: ${confidenceLabel(f, p)})`);
  out.push(`    Cause:    ${safeTerminalText(f.cause)}`);
  if (f.lineCount !== undefined && f.lineCount > 1) out.push(`    DP lines: ${f.lineCount}`);
  const list = (values: string[], shown: number, more = 0) => {
    const rest = values.length - Math.min(values.length, shown) + more;
    return `${safeTerminalText(values.slice(0, shown).join(", "))}${rest > 0 ? ` (+${rest} more)` : ""}`;
  };
  if (f.contentIds.length) out.push(`    Content:  ${list(f.contentIds, 20, f.more?.contentIds)}`);
  if (f.files.length) out.push(`    Files:    ${list(f.files, 6, f.more?.files)}`);
  if (f.clients.length) out.push(`    Clients:  ${list(f.clients, 10, f.more?.clients)}`);
  const cfg = f.evidence.find((e) => e.source === "config");
  if (cfg) out.push(`    Config:   ${cfg.file}:${cfg.line}  ${p.cyan(safeTerminalText(cfg.text))}`);
  out.push(`    Why stuck: ${safeTerminalText(f.hang)}`);
  out.push(`    Fix:      ${f.fix.summary}`);
  if (f.fix.command) out.push(`              ${p.green(f.fix.command)}`);
  // one appcmd line per change per vdir: "or:" once, the other lines aligned under the first command
  if (f.fix.appcmd)
    f.fix.appcmd.split("\n").forEach((line, i) => {
      out.push(p.dim(`              ${i === 0 ? "or: " : "    "}${line}`));
    });
  if (f.fix.caution) out.push(p.dim(`              caution: ${f.fix.caution}`));
  const ev = f.evidence.filter((e) => e.source !== "config");
  if (ev.length > 0) {
    out.push("    Evidence:");
    for (const e of ev.slice(0, max)) out.push(...renderEvidence(e, p));
    if (ev.length > max) out.push(p.dim(`      … ${ev.length - max} more (--json lists all)`));
  }
  if (f.joinedBy.length) out.push(p.dim(`    Joined by: ${f.joinedBy.join(", ")}`));
  for (const m of f.missing) out.push(p.dim(`    Would raise confidence: ${m}`));
  for (const i of f.inferred) out.push(p.dim(`    Inferred: ${safeTerminalText(i)}`));
  return out;
}

function renderEvidence(e: Evidence, p: Paint): string[] {
  const when = e.time !== undefined ? ` ${utc(e.time)}` : "";
  const head = `      ${e.source.padEnd(7)} ${safeTerminalText(e.file)}:${e.line}${when}`;
  const lines = [`${head}${e.note ? p.dim(`  — ${safeTerminalText(e.note)}`) : ""}`];
  lines.push(`        ${safeTerminalText(e.text.length > 240 ? `${e.text.slice(0, 237)}...` : e.text)}`);
  return lines;
}
