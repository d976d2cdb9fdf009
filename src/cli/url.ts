/**
 * `dpdoctor url` — predict and explain what IIS answers to one or more request targets (spec
 * iis-request-filtering.md §1, §5–§7, §9, §10). Exit 0 = every target passes, 1 = at least one refused, 2 = bad input.
 */
import type { Command } from "commander";
import { evaluate } from "../engine/evaluate.js";
import type { HttpRequest, Reason, Verdict } from "../engine/types.js";
import { EXIT_FINDINGS, EXIT_OK, UsageError } from "../errors.js";
import { describeStatus } from "../iis/status.js";
import { addServerOptions, loadServerOptions, type ServerOptionValues } from "./server-options.js";

interface UrlOptions extends ServerOptionValues {
  method: string;
  header?: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function register(program: Command): void {
  const cmd = program
    .command("url")
    .description(
      "Predict whether IIS refuses a request (and why): http.sys, config errors, request filtering, handler and static file rules, with the config line that decides.",
    )
    .argument("<target...>", "request target(s) as sent on the wire: /path?query, or a full http(s):// URL");
  addServerOptions(cmd, {
    config: "applicationHost.config to read (default: the embedded aspnet profile)",
    webConfig: true,
    profile: "embedded profile when no --config: iis (plain IIS) or aspnet (IIS + ASP.NET)",
    site: "site name (default: the config's default site)",
  })
    .option("--method <verb>", "HTTP method (BITS sends HEAD, then GET)", "GET")
    .option("--header <header>", '"Name: value" request header (repeatable)', collect)
    .option("--json", "JSON array on stdout, one object per target")
    .addHelpText(
      "after",
      `
Examples:
  dpdoctor url --method HEAD '/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf'
  dpdoctor url --config C:\\Windows\\System32\\inetsrv\\config\\applicationHost.config \\
      '/SMS_DP_SMSPKG$/Content_0a1b2c3d-0000-4000-8000-000000000001.1/bin/setup.exe'
  dpdoctor url --profile iis '/SMS_DP_SMSPKG$/PS100012/sccm?/Tools/App.config'
  dpdoctor url --web-config '/SMS_DP_SMSPKG$=D:\\SMS_DP$\\web.config' --json '/SMS_DP_SMSPKG$/PS100012/a+b.cab'

Exit status: 0 all targets pass, 1 at least one is refused, 2 usage or input error.`,
    )
    .action((targets: string[], opts: UrlOptions) => {
      process.exitCode = runUrl(targets, opts);
    });
}

function parseHeaders(list: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of list) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header ${JSON.stringify(h)}: expected "Name: value"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return headers;
}

export function runUrl(targets: string[], opts: UrlOptions): number {
  const headers = parseHeaders(opts.header ?? []);
  const { config, siteName, profileNote } = loadServerOptions(opts);
  if (profileNote) process.stderr.write(`dpdoctor: ${profileNote}\n`);
  const color = !opts.json && process.stdout.isTTY === true && !process.env.NO_COLOR;

  const results = targets.map((target) => {
    const req: HttpRequest = { method: opts.method, target, headers };
    return { target, verdict: evaluate(req, { config, siteName }) };
  });

  if (opts.json) {
    const out = results.map(({ target, verdict }) =>
      toJson(target, opts.method, siteName, verdict, profileNote),
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const text = results
      .map(({ target, verdict }) => renderHuman(target, opts.method, verdict, color))
      .join("\n");
    const header = `site "${siteName}", config: ${config.origin}\n${profileNote ? `note: ${profileNote}\n` : ""}\n`;
    process.stdout.write(header + text);
  }
  return results.some((r) => refusedVerdict(r.verdict)) ? EXIT_FINDINGS : EXIT_OK;
}

/** A verdict the admin must act on: anything but a pass (301 to the folder URL is not a refusal). */
export function refusedVerdict(v: Verdict): boolean {
  return v.layer !== "pass" && v.status >= 400;
}

/** Where an admin finds this verdict: http.sys refusals never reach the IIS W3C log (configmgr-dp-bits.md §4.5). */
export function logWhere(v: Verdict): { log: "w3c" | "httperr"; text: string } | null {
  if (v.layer === "pass") return null;
  if (v.layer === "httpsys")
    return {
      log: "httperr",
      text: `logged by http.sys in the HTTPERR log (%SystemRoot%\\System32\\LogFiles\\HTTPERR) as ${v.status}, never in the IIS W3C log`,
    };
  return {
    log: "w3c",
    text: `IIS W3C log: sc-status ${v.status} sc-substatus ${v.substatus}; the client (BITS) sees a plain ${v.status}`,
  };
}

function toJson(target: string, method: string, site: string, v: Verdict, profileNote: string | undefined) {
  return {
    url: target,
    method,
    site,
    verdict: { status: v.status, substatus: v.substatus, layer: v.layer },
    refused: refusedVerdict(v),
    meaning: describeStatus(v.status, v.substatus).meaning,
    reasons: v.reasons.map((r) => ({
      status: r.status,
      substatus: r.substatus,
      check: r.check,
      message: r.message,
      source: r.source
        ? { file: r.source.file, line: r.source.line, column: r.source.column, text: r.source.text }
        : null,
      ...(r.inferred ? { inferred: r.inferred } : {}),
    })),
    orderInferred: v.orderInferred,
    log: logWhere(v)?.log ?? null,
    canonicalPath: v.canonicalPath ?? null,
    handler: v.handler ?? null,
    notes: [...(v.notes ?? []), ...(profileNote ? [profileNote] : [])],
  };
}

const paint = (on: boolean, code: string, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

const LAYER_WORDS: Record<Verdict["layer"], string> = {
  httpsys: "refused by http.sys, before IIS",
  config: "configuration error (IIS cannot read its configuration)",
  "request-filtering": "refused by IIS request filtering",
  handler: "refused by the handler / static file handler",
  pass: "passes",
};

function code(status: number, substatus: number): string {
  return substatus ? `${status}.${substatus}` : `${status}`;
}

function renderReason(r: Reason, primary: boolean, color: boolean): string {
  const mark = primary ? paint(color, "1;31", "✗") : paint(color, "31", "✗");
  let s = `    ${mark} ${code(r.status, r.substatus)} ${r.check}: ${r.message}\n`;
  if (r.source)
    s += `        ${paint(color, "36", `${r.source.file}:${r.source.line}`)}${r.source.text ? `  ${r.source.text}` : ""}\n`;
  else
    s += `        ${paint(color, "2", r.check.startsWith("httpsys.") ? "(http.sys: decided before IIS, not by IIS configuration)" : "(schema default: no line in any config file)")}\n`;
  if (r.inferred) s += `        ${paint(color, "33", `inferred: ${r.inferred}`)}\n`;
  return s;
}

export function renderHuman(target: string, method: string, v: Verdict, color: boolean): string {
  const refused = refusedVerdict(v);
  const status = code(v.status, v.substatus);
  const meaning = describeStatus(v.status, v.substatus).meaning;
  let s = `${paint(color, "1", `${method} ${target}`)}\n`;
  const verdictText = refused
    ? paint(color, "1;31", `${status} ${LAYER_WORDS[v.layer]}`)
    : v.layer === "pass"
      ? paint(color, "1;32", `${status} passes${v.handler ? ` (served by ${v.handler})` : ""}`)
      : paint(color, "1;33", `${status} ${LAYER_WORDS[v.layer]}`);
  s += `  ${verdictText} — ${meaning}\n`;
  const log = logWhere(v);
  if (log) s += `  ${paint(color, "2", log.text)}\n`;
  if (v.canonicalPath && v.canonicalPath !== target) s += `  canonical path: ${v.canonicalPath}\n`;
  v.reasons.forEach((r, i) => {
    s += renderReason(r, i === 0, color);
  });
  for (const n of v.notes ?? []) s += `  note: ${n}\n`;
  return s;
}
