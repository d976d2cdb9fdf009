/**
 * Human output of `check`: refusals grouped by cause (rule → its config line → files and forms → one-line fix),
 * the per-package checks that failed, then one summary line per package and form.
 * Colour only when the caller says the stream is a TTY (and NO_COLOR is unset).
 */
import type { FormTally, PackageTally, Tally } from "../check/run.js";
import type { CheckWarning } from "../check/source.js";
import type { UrlForm } from "../logs/records.js";
import { formatCount } from "./number.js";

export interface TextContext {
  inputPath: string;
  inputKind: string;
  site: string;
  configOrigin: string;
  forms: UrlForm[];
  formVdirs: Record<string, string>;
  notes: string[];
  color: boolean;
}

const PACKAGE_LIST_LIMIT = 20;

/** Per-form counts summed over every package. */
function totalTally(t: Tally): PackageTally {
  const forms = new Map<UrlForm, FormTally>();
  for (const pt of t.packages)
    for (const [form, ft] of pt.forms) {
      const sum = forms.get(form) ?? { ok: 0, refused: 0, bySubstatus: new Map<string, number>() };
      sum.ok += ft.ok;
      sum.refused += ft.refused;
      for (const [k, n] of ft.bySubstatus) sum.bySubstatus.set(k, (sum.bySubstatus.get(k) ?? 0) + n);
      forms.set(form, sum);
    }
  const first = t.packages[0];
  return { pkg: first.pkg, files: t.files, refusedFiles: t.refusedFiles, forms, checks: [] };
}

const num = formatCount;
const plural = (n: number, w: string) => `${num(n)} ${w}${n === 1 ? "" : "s"}`;

function paint(on: boolean) {
  const c = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: c("31"), green: c("32"), yellow: c("33"), bold: c("1"), dim: c("2") };
}

/** "client form: 1,204 files OK; direct form: 3 refused (404.8 bin/, 404.7 .ldf)". */
export function formSummaryLine(t: PackageTally, forms: UrlForm[]): string {
  const parts: string[] = [];
  for (const form of forms) {
    const ft = t.forms.get(form);
    if (!ft) continue;
    if (ft.refused === 0) {
      parts.push(`${form} form: ${plural(ft.ok, "file")} OK`);
      continue;
    }
    const detail = [...ft.bySubstatus.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => (n === ft.refused && ft.bySubstatus.size === 1 ? k : `${k} ×${num(n)}`))
      .join(", ");
    parts.push(
      `${form} form: ${num(ft.refused)} refused (${detail})${ft.ok > 0 ? `, ${num(ft.ok)} OK` : ""}`,
    );
  }
  return parts.join("; ");
}

function where(w: CheckWarning): string {
  let s = w.file;
  if (w.line !== undefined) s += `:${w.line}`;
  if (w.column !== undefined) s += `:${w.column}`;
  return s;
}

export function renderCheckText(t: Tally, ctx: TextContext): string {
  const p = paint(ctx.color);
  const out: string[] = [];
  const vdirs = ctx.forms.map((f) => `${f} (/${ctx.formVdirs[f]})`).join(", ");
  out.push(
    `${p.bold("dpdoctor check")} ${ctx.inputPath} (${ctx.inputKind}) — ${ctx.configOrigin}, site "${ctx.site}"`,
    `forms: ${vdirs}`,
  );
  const causes = t.causeList(ctx.site);
  if (causes.length > 0) {
    out.push("", p.bold("Refused, by cause:"));
    for (const c of causes) {
      const r = c.reason;
      out.push(`  ${p.red(`${r.status}.${r.substatus}`)} ${r.check} — ${r.message}`);
      if (r.source)
        out.push(
          `    config: ${r.source.file}:${r.source.line}:${r.source.column}${r.source.text ? `  ${r.source.text}` : ""}`,
        );
      else out.push("    config: (IIS/http.sys default, no config line)");
      if (r.inferred) out.push(`    ${p.yellow(`inferred: ${r.inferred}`)}`);
      const more = c.files > c.samples.length ? `, … ${num(c.files - c.samples.length)} more` : "";
      if (c.files > 0)
        out.push(
          `    ${plural(c.files, "file")} in ${[...c.forms].join(", ")}: ${c.samples.join(", ")}${more}`,
        );
      if (c.checks.length > 0) out.push(`    package checks: ${c.checks.join(", ")}`);
      for (const f of c.fixes) out.push(`    fix: ${f}`);
    }
  }
  out.push("", p.bold("Summary:"));
  // Many packages (a whole content library): list the refused ones; the OK ones are counted (--json lists all).
  const listAll = t.packages.length <= PACKAGE_LIST_LIMIT;
  let okNotListed = 0;
  for (const pt of t.packages) {
    const id = pt.pkg.libraryContentId ? `${pt.pkg.id} (${pt.pkg.libraryContentId})` : pt.pkg.id;
    const failedChecks = pt.checks.filter((c) => c.refused);
    const refused = pt.refusedFiles > 0 || failedChecks.length > 0;
    if (!refused && !listAll) {
      okNotListed++;
      continue;
    }
    const status = refused ? p.red("REFUSED") : p.green("OK");
    out.push(`  ${id} ${status}: ${plural(pt.files, "file")}; ${formSummaryLine(pt, ctx.forms)}`);
    for (const c of failedChecks)
      out.push(`    ${c.name}: ${c.method} ${c.url} → ${c.verdict.status}.${c.verdict.substatus}`);
  }
  if (okNotListed > 0)
    out.push(
      `  ${plural(okNotListed, "more package")} ${p.green("OK")} (not listed; --json lists every package)`,
    );
  if (t.packages.length > 1) out.push(`  all packages: ${formSummaryLine(totalTally(t), ctx.forms)}`);
  out.push(
    `  total: ${plural(t.packages.length, "package")}, ${plural(t.files, "file")}, ${num(t.refusedFiles)} refused in at least one form` +
      (t.skipped > 0 ? `, ${num(t.skipped)} entries skipped (links, devices, non-INI files in DataLib)` : ""),
  );
  if (t.warningCount > 0) {
    out.push("", p.yellow(`Warnings (${num(t.warningCount)}):`));
    for (const w of t.warnings.slice(0, 20)) out.push(`  ${where(w)}: ${w.message}`);
    if (t.warningCount > 20) out.push(`  … ${num(t.warningCount - 20)} more (see --json)`);
  }
  const notes = [...ctx.notes, ...t.notes];
  if (notes.length > 0) {
    out.push("", p.dim("Notes:"));
    for (const n of notes) out.push(p.dim(`  ${n}`));
  }
  return `${out.join("\n")}\n`;
}
