/**
 * `dpdoctor diagnose --html FILE`: one self-contained HTML file (no script, no network access: inline CSS and a
 * hand-made SVG). Log text is attacker-controllable (a URL, a user agent), so every string goes through `esc()`.
 * Sections: findings (with evidence and fix), a timeline of client, BITS and DP events on one UTC axis, and the
 * status/substatus breakdown.
 */
import { utc } from "../diagnose/diagnose.js";
import type { DiagnoseReport, Evidence, Finding, Refusal, TimelineEvent } from "../diagnose/report.js";

/** HTML-escapes text for element content and double-quoted attributes. */
export function esc(s: string | number | undefined | null): string {
  return String(s ?? "").replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{--err:#b42318;--warn:#b54708;--ok:#067647;--ink:#101828;--mute:#667085;--line:#eaecf0;--bg:#f9fafb}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;background:var(--bg)}
header{background:#101828;color:#fff;padding:16px 28px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#d0d5dd}
main{padding:20px 28px;max-width:1400px}section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:18px}
h2{font-size:16px;margin:0 0 12px}h3{font-size:15px;margin:0 0 6px}
.finding{border-left:4px solid var(--err);padding:10px 14px;margin:0 0 14px;background:#fffbfa}
.finding.medium{border-color:var(--warn);background:#fffcf5}.finding.low{border-color:var(--mute);background:#fcfcfd}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--err);margin-left:6px}
.badge.medium{background:var(--warn)}.badge.low{background:var(--mute)}
dl{display:grid;grid-template-columns:110px 1fr;gap:3px 12px;margin:8px 0}dt{color:var(--mute)}dd{margin:0}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12.5px}
pre{background:#f2f4f7;padding:8px 10px;border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:4px 0}
pre.cmd{background:#ecfdf3;border:1px solid #abefc6}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mute);font-weight:600;font-size:12.5px}td.num{text-align:right;font-variant-numeric:tabular-nums}
.predicted{border:1px dashed var(--mute);border-radius:6px;padding:6px 12px;margin-top:10px;background:#fff}.predicted h4{margin:0 0 4px;font-size:13px;color:var(--mute)}.predicted ul{margin:0;padding-left:18px}
.ev td{font-size:12.5px}.src{font-weight:600}.muted{color:var(--mute)}.none{color:var(--ok);font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:#344054}svg .lane{fill:#f2f4f7}svg .error{fill:var(--err)}svg .warning{fill:var(--warn)}svg .ok{fill:var(--ok)}
`;

export function renderHtml(report: DiagnoseReport): string {
  const n = report.findings.length;
  const title =
    n === 0
      ? "No finding"
      : `${n} finding${n === 1 ? "" : "s"}: ${report.findings.map((f) => f.id).join(", ")}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>dpdoctor diagnose — ${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>dpdoctor diagnose — ${esc(title)}</h1>
<p>${esc(report.tool)} ${esc(report.version)} · ${esc(report.artifacts.length)} artifact(s)${report.config ? ` · config ${esc(report.config)}` : ""}</p></header>
<main>
${findingsSection(report)}
${jobsSection(report)}
${timelineSection(report.timeline)}
${statusSection(report)}
${artifactsSection(report)}
</main></body></html>
`;
}

function findingsSection(report: DiagnoseReport): string {
  if (report.findings.length === 0)
    return `<section id="findings"><h2>Findings</h2><p class="none">No finding: nothing in these artifacts matches the failure catalogue (F01–F19).</p></section>`;
  return `<section id="findings"><h2>Findings</h2>${report.findings.map(findingHtml).join("\n")}</section>`;
}

/** Values shown inline up to LIST_INLINE, the rest folded (no script: `<details>`); counted-only values said. */
const LIST_INLINE = 30;
export function valueList(values: readonly string[], countedOnly = 0): string {
  const shown = `<span class="mono">${esc(values.slice(0, LIST_INLINE).join(", "))}</span>`;
  const folded =
    values.length > LIST_INLINE
      ? `<details><summary>${values.length - LIST_INLINE} more</summary><span class="mono">${esc(values.slice(LIST_INLINE).join(", "))}</span></details>`
      : "";
  const counted =
    countedOnly > 0 ? ` <span class="muted">(+${countedOnly} more counted, not listed)</span>` : "";
  return shown + folded + counted;
}

function findingHtml(f: Finding): string {
  const cfg = f.evidence.find((e) => e.source === "config");
  const rows: [string, string][] = [
    ["Cause", esc(f.cause)],
    ["Why stuck", esc(f.hang)],
  ];
  if (f.contentIds.length) rows.push(["Content", valueList(f.contentIds, f.more?.contentIds)]);
  if (f.files.length) rows.push(["Files", valueList(f.files, f.more?.files)]);
  if (f.clients.length) rows.push(["Clients", valueList(f.clients, f.more?.clients)]);
  if (cfg)
    rows.push([
      "Config line",
      `<span class="mono">${esc(cfg.file)}:${esc(cfg.line)}</span><pre>${esc(cfg.text)}</pre>`,
    ]);
  let fix = esc(f.fix.summary);
  if (f.fix.command) fix += `<pre class="cmd">${esc(f.fix.command)}</pre>`;
  if (f.fix.appcmd) fix += `<div class="muted">or with appcmd:</div><pre>${esc(f.fix.appcmd)}</pre>`;
  if (f.fix.caution) fix += `<div class="muted">${esc(f.fix.caution)}</div>`;
  rows.push(["Fix", fix]);
  if (f.joinedBy.length) rows.push(["Joined by", esc(f.joinedBy.join(", "))]);
  for (const m of f.missing) rows.push(["Would help", esc(m)]);
  for (const i of f.inferred) rows.push(["Inferred", esc(i)]);
  const ev = f.evidence.filter((e) => e.source !== "config");
  return `<article class="finding ${esc(f.confidence)}" data-finding="${esc(f.id)}">
<h3>${esc(f.id)} ${esc(f.title)}<span class="badge ${esc(f.confidence)}">${esc(f.confidence)}</span></h3>
<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>
${ev.length ? `<table class="ev"><thead><tr><th>Source</th><th>Where</th><th>UTC</th><th>Line</th></tr></thead><tbody>${ev.map(evidenceRow).join("")}</tbody></table>` : ""}
${predictedList(f.refusals)}
</article>`;
}

/**
 * Refusals no log line shows (`observed === false`): the engine predicts them from the config (the same file in
 * another DP URL form, a package-folder prediction). Listed apart from the evidence so a prediction is never read
 * as something the DP logged.
 */
function predictedList(refusals: readonly Refusal[]): string {
  const predicted = refusals.filter((r) => r.observed === false);
  if (predicted.length === 0) return "";
  const item = (r: Refusal) =>
    `<li><span class="mono">${esc(r.method)} ${esc(r.url)}</span> → ${esc(r.engineStatus ?? `${r.status}.${r.substatus}`)}${r.vdir ? ` <span class="muted">on ${esc(r.vdir)}${r.form ? `, ${esc(r.form)} form` : ""}</span>` : ""}</li>`;
  return `<div class="predicted"><h4>Predicted refusals — predicted by the engine, no log line shows it</h4><ul>${predicted.map(item).join("")}</ul></div>`;
}

function evidenceRow(e: Evidence): string {
  return `<tr><td class="src">${esc(e.source)}</td><td class="mono">${esc(e.file)}:${esc(e.line)}</td><td class="mono">${e.time !== undefined ? esc(utc(e.time)) : ""}</td><td>${e.note ? `<div class="muted">${esc(e.note)}</div>` : ""}<pre>${esc(e.text)}</pre></td></tr>`;
}

const LANES: { lane: TimelineEvent["lane"]; label: string }[] = [
  { lane: "client", label: "Client (DTS/CTM)" },
  { lane: "bits", label: "BITS events" },
  { lane: "dp", label: "DP (IIS/HTTPERR)" },
];

function timelineSection(events: TimelineEvent[]): string {
  if (events.length === 0)
    return `<section id="timeline"><h2>Timeline (UTC)</h2><p class="muted">No timed event.</p></section>`;
  const t0 = events[0]?.time ?? 0;
  const t1 = events.at(-1)?.time ?? t0;
  const span = Math.max(t1 - t0, 1000);
  const left = 140;
  const width = 1100;
  const laneH = 34;
  const top = 24;
  const height = top + LANES.length * laneH + 24;
  const x = (t: number) => left + ((t - t0) / span) * (width - left - 60);
  const parts: string[] = [];
  LANES.forEach((l, i) => {
    const y = top + i * laneH;
    parts.push(
      `<rect class="lane" x="${left}" y="${y + 4}" width="${width - left - 10}" height="${laneH - 8}" rx="4"/>`,
    );
    parts.push(`<text x="8" y="${y + laneH / 2 + 4}">${esc(l.label)}</text>`);
  });
  for (const e of events) {
    const i = LANES.findIndex((l) => l.lane === e.lane);
    const y = top + i * laneH + laneH / 2;
    const cx = x(e.time).toFixed(1);
    const shape =
      e.level === "error"
        ? `<rect class="error" x="${(Number(cx) - 4).toFixed(1)}" y="${y - 8}" width="8" height="16"/>`
        : `<circle class="${esc(e.level)}" cx="${cx}" cy="${y}" r="${e.level === "warning" ? 6 : 4}"/>`;
    parts.push(
      `<g>${shape}<title>${esc(utc(e.time))}${e.timeAssumed ? " (time placed by assumption)" : ""} ${esc(e.label)} — ${esc(e.file)}:${esc(e.line)}</title></g>`,
    );
  }
  const ticks = 6;
  for (let k = 0; k <= ticks; k++) {
    const t = t0 + (span * k) / ticks;
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${height - 6}" text-anchor="middle">${esc(utc(t).slice(11, 19))}</text>`,
    );
  }
  const rows = events
    .slice(0, 300)
    .map(
      (e) =>
        `<tr><td class="mono">${esc(utc(e.time))}${e.timeAssumed ? "*" : ""}</td><td>${esc(e.lane)}</td><td class="${e.level === "error" ? "src" : ""}">${esc(e.label)}</td><td class="mono">${esc(e.file)}:${esc(e.line)}</td></tr>`,
    )
    .join("");
  return `<section id="timeline"><h2>Timeline (UTC) ${esc(utc(t0))} – ${esc(utc(t1))}</h2>
<svg role="img" aria-label="timeline" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg>
<p class="muted">Red bars: refusals and errors · orange: cancels and warnings · green: normal. Hover for details. * = local time placed by assumption.</p>
<details><summary>${esc(events.length)} events</summary><table><thead><tr><th>UTC</th><th>Lane</th><th>Event</th><th>Where</th></tr></thead><tbody>${rows}</tbody></table></details>
</section>`;
}

function jobsSection(report: DiagnoseReport): string {
  if (report.jobs.length === 0) return "";
  const rows = report.jobs
    .map(
      (j) =>
        `<tr><td class="mono">${esc(j.dtsJobId ?? "")}<br>${esc(j.bitsJobId ?? "")}</td><td class="mono">${esc(j.contentId ?? "")}</td><td class="${j.outcome === "completed" ? "" : "src"}">${esc(j.outcome)}${j.lastState ? ` <span class="muted">(${esc(j.lastState)})</span>` : ""}</td><td class="num">${esc(j.errorCount ?? "")}</td><td class="mono">${esc(j.lastErrorCode ?? "")}</td><td class="mono">${esc(j.clients.join(", "))}</td><td>${esc(j.joinedBy.join(", "))}</td></tr>`,
    )
    .join("");
  return `<section id="jobs"><h2>Download jobs rebuilt from client logs</h2><table><thead><tr><th>DTS / BITS job</th><th>Content</th><th>Outcome</th><th>BITS errors</th><th>Last error</th><th>Client</th><th>Joined by</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function statusSection(report: DiagnoseReport): string {
  if (report.statusBreakdown.length === 0)
    return `<section id="statuses"><h2>Status / substatus</h2><p class="muted">No IIS log given.</p></section>`;
  const rows = report.statusBreakdown
    .map(
      (s) =>
        `<tr><td class="num">${esc(s.count)}</td><td class="mono">${esc(s.status)}.${esc(s.substatus)}${s.win32Status ? ` (win32 ${esc(s.win32Status)})` : ""}</td><td>${esc(s.meaning)}</td><td>${s.dpContent ? "DP content" : "other"}</td></tr>`,
    )
    .join("");
  return `<section id="statuses"><h2>Status / substatus breakdown (IIS)</h2><table><thead><tr><th>Count</th><th>Status</th><th>Meaning</th><th>Requests</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function artifactsSection(report: DiagnoseReport): string {
  const rows = report.artifacts
    .map(
      (a) =>
        `<tr><td>${esc(a.kind)}</td><td class="mono">${esc(a.path)}</td><td class="num">${esc(a.records)}</td><td class="num">${esc(a.skipped)}</td><td>${esc(a.message ?? "")}</td></tr>`,
    )
    .join("");
  const unread = report.unreadable
    .map((u) => `<li class="mono">${esc(u.path)}: ${esc(u.reason)}</li>`)
    .join("");
  const missing = report.missingArtifacts.map((m) => `<li>${esc(m)}</li>`).join("");
  const notes = report.notes.map((m) => `<li>${esc(m)}</li>`).join("");
  return `<section id="artifacts"><h2>Artifacts</h2><table><thead><tr><th>Kind</th><th>Path</th><th>Records</th><th>Skipped</th><th></th></tr></thead><tbody>${rows}</tbody></table>
${unread ? `<h3>Unreadable</h3><ul>${unread}</ul>` : ""}${missing ? `<h3>Not given (would raise confidence)</h3><ul>${missing}</ul>` : ""}${notes ? `<h3>Notes</h3><ul>${notes}</ul>` : ""}</section>`;
}
