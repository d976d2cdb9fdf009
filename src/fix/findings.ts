/**
 * Reads the requests a fix must make pass from `diagnose --json` (findings[].refusals[]) or `check --json`
 * (packages[].files[].forms). Only the requests are taken from the file; what refuses them is decided again by
 * the engine against the configuration being fixed, so a stale or hand-edited findings file cannot mislead the plan.
 */
import { InputError } from "../errors.js";

/** A request named in a findings file. */
export interface FindingRequest {
  method: string;
  /** Raw request target ("/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf"). */
  target: string;
  site?: string;
  /** What the findings file said about it ("404.7", "200"), for messages. */
  reported?: string;
  /** Did the findings file say it was refused? (diagnose refusals: yes; check: its verdict) */
  reportedRefused: boolean;
  /** Where in the findings file (for messages): "findings[0].refusals[1]". */
  from: string;
}

export interface FindingsInput {
  kind: "diagnose" | "check";
  requests: FindingRequest[];
  /** Entries that could not be used, with why (counted, never fatal). */
  skipped: string[];
}

/** Offset of the first JSON syntax error (RFC 8259), for the message; -1 when the text is valid. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const str = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          ws();
          if (text[i] !== '"') fail();
          str();
          ws();
          if (text[i] !== ":") fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    const words: Record<string, string> = { t: "true", f: "false", n: "null" };
    if (c === '"') str();
    else if (c !== undefined && words[c]) lit(words[c] as string);
    else {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m || m[0] === "" || m[0] === "-") fail();
      i += (m as RegExpExecArray)[0].length;
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === "number" ? Math.min(at, text.length) : 0;
  }
}

/** Parses JSON with a positioned error: `file:line:col: invalid JSON: …`. */
export function parseJsonPositioned(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0] as string;
    const off = Math.max(0, jsonErrorOffset(body)) + (body === text ? 0 : 1);
    const before = text.slice(0, off);
    throw new InputError(
      `invalid JSON (expected the output of \`dpdoctor check --json\` or \`diagnose --json\`): ${msg.slice(0, 120)}`,
      { file, line: before.split("\n").length, column: off - before.lastIndexOf("\n") },
    );
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "http://dp:80/SMS_DP_SMSPKG$/x" → "/SMS_DP_SMSPKG$/x"; a target is kept as it is. */
export function requestTargetOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  const rest = m ? url.slice(m[0].length) : url;
  return rest.startsWith("/") ? rest : `/${rest}`;
}

function statusOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isRecord(v) && typeof v.status === "number")
    return typeof v.substatus === "number" && v.substatus !== 0
      ? `${v.status}.${v.substatus}`
      : String(v.status);
  return undefined;
}

/** A verdict of the findings file that refused (status ≥ 400); unknown counts as refused, the engine decides. */
function isRefusedStatus(v: unknown): boolean {
  return isRecord(v) && typeof v.status === "number" ? v.status >= 400 : true;
}

/** The requests of a findings document (diagnose or check JSON). */
export function readFindings(text: string, file: string): FindingsInput {
  const doc = parseJsonPositioned(text, file);
  const skipped: string[] = [];
  const requests: FindingRequest[] = [];
  if (isRecord(doc) && Array.isArray(doc.findings)) {
    doc.findings.forEach((f, i) => {
      if (!isRecord(f) || !Array.isArray(f.refusals)) {
        skipped.push(`findings[${i}]: no "refusals" list`);
        return;
      }
      f.refusals.forEach((r, j) => {
        const from = `findings[${i}].refusals[${j}]`;
        if (!isRecord(r) || typeof r.url !== "string" || r.url === "") {
          skipped.push(`${from}: no "url"`);
          return;
        }
        requests.push({
          method: typeof r.method === "string" && r.method ? r.method : "HEAD",
          target: requestTargetOf(r.url),
          site: typeof r.site === "string" && r.site ? r.site : undefined,
          reported:
            typeof r.status === "number"
              ? `${r.status}${typeof r.substatus === "number" && r.substatus ? `.${r.substatus}` : ""}`
              : undefined,
          reportedRefused: true,
          from,
        });
      });
    });
    return { kind: "diagnose", requests, skipped };
  }
  if (isRecord(doc) && Array.isArray(doc.packages)) {
    const site = typeof doc.site === "string" && doc.site ? doc.site : undefined;
    doc.packages.forEach((p, i) => {
      // package-level requests (listing, verbs, ConfigMgr extensions): kept as requests like the files
      if (isRecord(p) && Array.isArray(p.checks))
        p.checks.forEach((c, j) => {
          if (!isRecord(c) || typeof c.url !== "string" || c.url === "") return;
          requests.push({
            method: typeof c.method === "string" && c.method ? c.method : "HEAD",
            target: requestTargetOf(c.url),
            site,
            reported: statusOf(c.verdict),
            reportedRefused: typeof c.refused === "boolean" ? c.refused : isRefusedStatus(c.verdict),
            from: `packages[${i}].checks[${j}]`,
          });
        });
      if (!isRecord(p) || !Array.isArray(p.files)) {
        skipped.push(`packages[${i}]: no "files" list`);
        return;
      }
      p.files.forEach((f, j) => {
        if (!isRecord(f) || !isRecord(f.forms)) {
          skipped.push(`packages[${i}].files[${j}]: no "forms"`);
          return;
        }
        for (const [form, v] of Object.entries(f.forms)) {
          const from = `packages[${i}].files[${j}].forms.${form}`;
          if (!isRecord(v) || typeof v.url !== "string") {
            skipped.push(`${from}: no "url"`);
            continue;
          }
          requests.push({
            method: typeof v.method === "string" && v.method ? v.method : "HEAD",
            target: requestTargetOf(v.url),
            site,
            reported: statusOf(v.verdict),
            reportedRefused: isRefusedStatus(v.verdict),
            from,
          });
        }
      });
    });
    return { kind: "check", requests, skipped };
  }
  throw new InputError(
    'expected the JSON of `dpdoctor diagnose --json` (with "findings") or `dpdoctor check --json` (with "packages")',
    { file, line: 1, column: 1 },
  );
}
