/**
 * The fix command as a library: options in, exit code and printed report out (`dpdoctor fix` and `lab seed` both run
 * it). Plans the smallest request-filtering change scoped to the DP's virtual directory, proves it with the engine,
 * and with `apply` writes it atomically with a backup, reads it back and proves it again.
 * Spec: iis-request-filtering.md §8, configmgr-dp-bits.md §6.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { loadServerFromText } from "../config/load.js";
import { decodeXmlBytes, encodeXmlText } from "../config/xml.js";
import { evaluate } from "../engine/evaluate.js";
import { EXIT_FINDINGS, EXIT_OK, InputError, UsageError } from "../errors.js";
import { realFs, sha256, type WriterFs, writeConfigAtomically } from "./atomic-write.js";
import { type FindingsInput, readFindings } from "./findings.js";
import { DEFAULT_MIME_TYPE, type FixResult, planFix } from "./fix.js";
import type { Ask } from "./model.js";
import { type FixFormat, renderAppcmd, renderDiff, renderPowerShell } from "./render.js";
import { findLocations } from "./splice.js";
import { prove } from "./verify.js";

/** The options of `dpdoctor fix`, as commander parses them (flag names in camelCase). */
export interface FixRunOptions {
  from?: string[];
  config?: string;
  site: string;
  vdir?: string;
  scope: string;
  format: string;
  apply?: boolean;
  json?: boolean;
  allowExtension?: string[];
  allowSegment?: string[];
  allowVerb?: string[];
  allowDoubleEscaping?: boolean;
  allowHighBit?: boolean;
  maxQueryString?: string;
  maxUrl?: string;
  mimeMap?: string[];
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0 || Number(v) > 4294967295)
    throw new UsageError(`${flag} ${v}: expected a whole number of bytes between 1 and 4294967295`);
  return Number(v);
}

/** The explicit asks of the command line, validated like the schema validates keys (§2.2). */
export function asksFromOptions(o: FixRunOptions): Ask[] {
  const asks: Ask[] = [];
  for (const raw of (o.allowExtension ?? []).flatMap((v) => v.split(","))) {
    const e = raw.trim();
    if (!e) continue;
    // an entry without the leading dot never matches (§6.10): accept "ldf" and write ".ldf"
    const extension = e.startsWith(".") ? e : `.${e}`;
    if (/[/\\?#]/.test(extension) || (extension.length > 1 && extension.slice(1).includes(".")))
      throw new UsageError(`--allow-extension ${raw}: expected one extension like .ldf`);
    asks.push({ kind: "allowExtension", extension });
  }
  for (const raw of (o.allowSegment ?? []).flatMap((v) => v.split(","))) {
    const s = raw.trim();
    if (!s) continue;
    if (/[/\\]/.test(s))
      throw new UsageError(`--allow-segment ${raw}: expected one folder or file name like bin`);
    asks.push({ kind: "allowSegment", segment: s });
  }
  for (const raw of (o.allowVerb ?? []).flatMap((v) => v.split(","))) {
    const v = raw.trim();
    if (!v) continue;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v))
      throw new UsageError(`--allow-verb ${raw}: expected an HTTP verb like HEAD`);
    asks.push({ kind: "allowVerb", verb: v });
  }
  if (o.allowDoubleEscaping) asks.push({ kind: "allowDoubleEscaping" });
  if (o.allowHighBit) asks.push({ kind: "allowHighBit" });
  for (const raw of (o.mimeMap ?? []).flatMap((v) => v.split(","))) {
    const t = raw.trim();
    if (!t) continue;
    const eq = t.indexOf("=");
    const ext = (eq < 0 ? t : t.slice(0, eq)).trim();
    const mimeType = eq < 0 ? DEFAULT_MIME_TYPE : t.slice(eq + 1).trim();
    const extension = ext.startsWith(".") ? ext : `.${ext}`;
    if (extension.length < 2 || /[/\\?#]/.test(extension) || !/^[\w.+-]+\/[\w.+-]+$/.test(mimeType))
      throw new UsageError(
        `--mime-map ${raw}: expected .ext or .ext=type/subtype, e.g. .ldf=application/octet-stream`,
      );
    asks.push({ kind: "addMimeMap", extension, mimeType });
  }
  const mq = positiveInt("--max-query-string", o.maxQueryString);
  if (mq !== undefined) asks.push({ kind: "maxQueryString", value: mq });
  const mu = positiveInt("--max-url", o.maxUrl);
  if (mu !== undefined) asks.push({ kind: "maxUrl", value: mu });
  return asks;
}

/** The config to fix: --config, or the server's own file when run on Windows. */
function configPath(o: FixRunOptions): string {
  if (o.config) return o.config;
  const windir = process.env.windir ?? process.env.SystemRoot;
  if (process.platform === "win32" && windir) {
    const p = path.win32.join(windir, "System32", "inetsrv", "config", "applicationHost.config");
    if (existsSync(p)) return p;
  }
  throw new UsageError(
    "--config FILE is required: the applicationHost.config to fix (a copy is fine for a dry run)",
  );
}

export const NEXT_STEPS = [
  "IIS notices changes to applicationHost.config by itself: no iisreset and no IIS restart (never stop IIS on a DP for this).",
  "Request filtering reads the new settings for the next requests [INF]; if refusals continue, recycle only the DP's application pool (Restart-WebAppPool 'SMS Distribution Points Pool').",
  "BITS clients retry refused downloads on their own; the IIS log shows the same URLs answered 200/206 once they do.",
];

function scopeLine(r: FixResult, i: number): string {
  const s = r.plan.scopes[i];
  if (!s) return "";
  if (s.locationPath === "") return "Scope: the server level (outside any <location>), by --scope server";
  const existing = findLocations(r.doc, s.locationPath)[0];
  const where = existing
    ? `reuses the existing <location> at line ${existing.line}`
    : "new <location> at the end of the file";
  return `Scope: <location path="${s.locationPath}"> (${s.reason}; ${where})`;
}

export function renderReport(r: FixResult, format: FixFormat, applied: string | null): string {
  const out: string[] = [];
  const p = r.plan;
  out.push(`dpdoctor fix: ${p.file}`);
  for (const w of p.warnings) out.push(`WARNING: ${w}`);
  for (let i = 0; i < p.scopes.length; i++) out.push(scopeLine(r, i));
  if (p.opens.length) {
    out.push("What this opens:");
    for (const s of p.opens) out.push(`  - ${s}`);
  }
  const unlocks = p.scopes.flatMap((s) => s.unlocks);
  if (unlocks.length) {
    out.push("Locks lifted explicitly (otherwise the change would be a 500.19, §8.3):");
    for (const u of unlocks)
      out.push(
        `  - ${u.why}: ${u.newValue === null ? `delete ${u.attribute}` : `${u.attribute}="${u.newValue}"`} (${u.file}:${u.line}:${u.column})`,
      );
  }
  for (const a of p.alreadyAllowed) out.push(`Already allowed: ${a}`);
  for (const n of r.notes) out.push(`Note: ${n}`);
  if (p.unfixable.length) {
    out.push("Cannot be fixed by configuration:");
    for (const u of p.unfixable)
      out.push(`  - ${u.method} ${u.target} (${u.status}.${u.substatus}): ${u.why}`);
  }
  if (p.proof.length) {
    out.push(`Proof with the engine (before → after), ${r.proof.ok ? "all as required" : "FAILED"}:`);
    for (const x of r.proof.results) out.push(`  ${x.line}`);
  }
  if (!r.changed) {
    out.push(
      "Nothing to change: the configuration already allows what was asked at this scope; nothing was written.",
    );
    return `${out.join("\n")}\n`;
  }
  out.push("");
  if (format === "diff") out.push(renderDiff(r.doc.text, r.newText, p.file).trimEnd());
  else if (format === "appcmd") out.push(renderAppcmd(p.scopes).trimEnd());
  else out.push(renderPowerShell(p.scopes).trimEnd());
  out.push("");
  if (applied) {
    out.push(
      `Applied to ${p.file}; backup: ${applied}. The written file was read again and the proof re-run: it holds.`,
    );
    out.push("Next:");
    for (const s of NEXT_STEPS) out.push(`  - ${s}`);
  } else if (r.proof.ok && p.unfixable.length === 0) {
    out.push(
      `Dry run: nothing was written. Run again with --apply to write ${p.file} (a timestamped backup is kept next to it).`,
    );
  } else out.push("Dry run: nothing was written.");
  return `${out.join("\n")}\n`;
}

function jsonReport(r: FixResult, applied: string | null): unknown {
  return {
    tool: "dpdoctor fix",
    file: r.plan.file,
    changed: r.changed,
    applied: applied !== null,
    backup: applied,
    scopes: r.plan.scopes.map((s) => ({
      ...s,
      changes: s.changes.map(({ ask, ...c }) => ({ ...c, ask })),
    })),
    opens: r.plan.opens,
    warnings: r.plan.warnings,
    alreadyAllowed: r.plan.alreadyAllowed,
    unfixable: r.plan.unfixable,
    notes: r.notes,
    proof: {
      ok: r.proof.ok,
      results: r.proof.results.map((x) => ({
        ...x.request,
        before: `${x.before.status}.${x.before.substatus}`,
        after: `${x.after.status}.${x.after.substatus}`,
        ok: x.ok,
      })),
    },
    diff: renderDiff(r.doc.text, r.newText, r.plan.file),
    appcmd: renderAppcmd(r.plan.scopes),
    powershell: renderPowerShell(r.plan.scopes),
  };
}

/** Reads every --from file into one list of requests (diagnose and check output can be combined). */
function readAllFindings(files: string[]): FindingsInput | undefined {
  if (files.length === 0) return undefined;
  const all = files.map((f) => readFindings(readFileSync(f, "utf8"), f));
  return {
    kind: all.every((f) => f.kind === "check") ? "check" : "diagnose",
    requests: all.flatMap((f, i) => f.requests.map((r) => ({ ...r, from: `${files[i]}: ${r.from}` }))),
    skipped: all.flatMap((f) => f.skipped),
  };
}

export interface RunFixIo {
  fs?: WriterFs;
  now?: Date;
  /** Called between planning and writing (tests simulate a concurrent edit). */
  beforeWrite?: () => void;
}

/** The whole command, for tests: returns the exit code and the text it prints. */
export function runFix(o: FixRunOptions, io: RunFixIo = {}): { code: number; stdout: string } {
  const format = o.format as FixFormat;
  if (!["diff", "appcmd", "powershell"].includes(format))
    throw new UsageError(`--format ${o.format}: expected diff, appcmd or powershell`);
  if (o.scope !== "vdir" && o.scope !== "server")
    throw new UsageError(`--scope ${o.scope}: expected vdir or server`);
  const asks = asksFromOptions(o);
  const fromFiles = o.from ?? [];
  if (fromFiles.length === 0 && asks.length === 0)
    throw new UsageError(
      "nothing to fix: give --from FINDINGS.json (from check --json or diagnose --json) or an ask such as --allow-extension .ldf",
    );
  const file = configPath(o);
  const findings = readAllFindings(fromFiles);
  const fs = io.fs ?? realFs;
  const bytes = fs.readFileSync(file);
  const hash = sha256(bytes);
  const decoded = decodeXmlBytes(bytes);
  const load = (a: { text: string; file: string }) => loadServerFromText(a);
  const r = planFix({
    text: decoded.text,
    file,
    site: o.site,
    vdir: o.vdir,
    scope: o.scope,
    asks,
    findings,
    evaluate,
    load,
  });
  if (findings && findings.requests.length === 0 && asks.length === 0)
    r.notes.push(
      `${fromFiles.join(", ")} name${fromFiles.length === 1 ? "s" : ""} no request (${findings.skipped.length} entries skipped): nothing to plan.`,
    );
  const failed = !r.proof.ok || r.plan.unfixable.length > 0;
  let applied: string | null = null;
  if (o.apply && r.changed) {
    if (!r.proof.ok)
      throw new InputError("the proof failed: nothing was written (see the proof above)", { file });
    io.beforeWrite?.();
    const newBytes = encodeXmlText(r.newText, decoded.encoding, decoded.bom);
    const { backup } = writeConfigAtomically(file, newBytes, hash, { fs, now: io.now });
    applied = backup;
    // Read the written file again: it must be what was written, parse, load and pass the same proof.
    const reread = fs.readFileSync(file);
    if (sha256(reread) !== sha256(newBytes))
      throw new InputError(
        `the file read back differs from what dpdoctor wrote (another writer?): left as it is; compare it with the backup ${backup}`,
        { file },
      );
    let failure: string | null = null;
    try {
      const reloaded = load({ text: decodeXmlBytes(reread).text, file });
      const proof = prove(evaluate, r.before, reloaded, r.plan.proof, {
        controlsMayChange: o.scope === "server",
      });
      if (!proof.ok) failure = proof.results.find((x) => !x.ok)?.line ?? "the proof failed";
    } catch (e) {
      failure = e instanceof InputError ? e.format() : String(e);
    }
    if (failure) {
      writeConfigAtomically(file, bytes, sha256(reread), { fs, now: io.now });
      throw new InputError(
        `the written file did not pass the proof again (${failure}); the original was put back (backup ${backup})`,
        { file },
      );
    }
  }
  const stdout = o.json
    ? `${JSON.stringify(jsonReport(r, applied), null, 2)}\n`
    : renderReport(r, format, applied);
  return { code: failed ? EXIT_FINDINGS : EXIT_OK, stdout };
}
