/** Text and JSON renderings of a probe run (the JSON per-file shape follows `check --json`: path + forms.<form>). */
import { reasonJson, verdictJson } from "../render/check-json.js";
import type { ProbeFileResult, ProbeResult } from "./probe.js";

function where(r: { source: { file: string; line: number; column: number; text?: string } | null }): string {
  return r.source
    ? ` (${r.source.file}:${r.source.line}:${r.source.column}${r.source.text ? ` ${r.source.text}` : ""})`
    : "";
}

export function fileLine(f: ProbeFileResult): string {
  const tag =
    f.outcome === "ok"
      ? "ok   "
      : f.outcome === "fatal"
        ? "FATAL"
        : f.outcome === "transient"
          ? "RETRY"
          : "skip ";
  const tries = f.attempts > 1 ? `, ${f.attempts} attempts` : "";
  let s = `  ${tag}  ${f.path}  ${f.message}  (${f.timeMs} ms${tries})\n`;
  const v = f.predicted;
  if (v && v.status >= 400 && v.reasons.length > 0) {
    for (const r of v.reasons) s += `         engine: ${r.status}.${r.substatus} ${r.message}${where(r)}\n`;
  }
  if (f.disagreement) s += `         note: ${f.disagreement}\n`;
  if (f.downloaded)
    s += `         saved ${f.downloaded.file} (${f.downloaded.bytes} bytes, sha256 ${f.downloaded.sha256})\n`;
  return s;
}

export function renderProbeHeader(r: Pick<ProbeResult, "origin" | "contentId" | "form">): string {
  return `probe ${r.origin}  content ${r.contentId}  form ${r.form}\n`;
}

export function renderListing(r: ProbeResult): string {
  const l = r.listing;
  if (l.source === "package-dir") return `listing  from the local package folder: ${l.files} file(s)\n`;
  let s = `listing  PROPFIND ${l.url} → ${l.status ?? "no answer"} (${l.files} file(s)${l.timeMs !== undefined ? `, ${l.timeMs} ms` : ""})\n`;
  if (l.error) s += `         ${l.error}\n`;
  const v = l.predicted;
  if (v && v.status >= 400)
    for (const x of v.reasons) s += `         engine: ${x.status}.${x.substatus} ${x.message}${where(x)}\n`;
  return s;
}

export function renderSummary(r: ProbeResult): string {
  const s = r.summary;
  let out = `summary: ${s.files} file(s): ${s.ok} ok, ${s.fatal} fatal, ${s.transient} transient, ${s.notAttempted} not attempted (${s.elapsedMs} ms)\n`;
  for (const n of r.notes) out += `note: ${n}\n`;
  return out;
}

/**
 * `probe --json`. Files sit under `packages[0].files[]` with `forms.<form>.{url, method, verdict, reasons}` exactly as in
 * `check --json`, so `dpdoctor fix --from probe.json` plans the fix for what the DP refused (`verdict` is the engine's
 * prediction, present with --config/--profile; `observed` is what the server answered).
 */
export function probeJson(r: ProbeResult) {
  return {
    tool: "dpdoctor",
    command: "probe",
    origin: r.origin,
    contentId: r.contentId,
    form: r.form,
    listing: {
      ...r.listing,
      predicted: r.listing.predicted
        ? { verdict: verdictJson(r.listing.predicted), reasons: r.listing.predicted.reasons.map(reasonJson) }
        : undefined,
    },
    packages: [
      {
        id: r.contentId,
        contentId: r.contentId,
        files: r.files.map((f) => ({
          path: f.path,
          forms: {
            [f.form]: {
              url: f.url,
              method: f.method,
              observed: {
                outcome: f.outcome,
                status: f.status ?? null,
                hresult: f.hresult ?? null,
                message: f.message,
                timeMs: f.timeMs,
                attempts: f.attempts,
                requests: f.requests,
                size: f.size,
              },
              verdict: f.predicted ? verdictJson(f.predicted) : undefined,
              reasons: f.predicted ? f.predicted.reasons.map(reasonJson) : undefined,
              disagreement: f.disagreement,
              downloaded: f.downloaded,
            },
          },
        })),
      },
    ],
    summary: r.summary,
    notes: r.notes,
  };
}
