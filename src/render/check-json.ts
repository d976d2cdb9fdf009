/**
 * `check --json`, streamed: the header, then each package's files as they are checked, then the summary. Memory stays
 * bounded whatever the tree size (a 1 M-file package never becomes one object).
 *
 * Shape (consumed by `dpdoctor fix --from`):
 * {
 *   "tool": "dpdoctor", "command": "check", "version",
 *   "input": { "path", "kind": "folder" | "content-library" },
 *   "site", "vdir", "drive", "forms": [...],
 *   "config": { "origin", "files": [...] },
 *   "notes": [...],                        // inferences the result depends on (wire encoding, package ID, hidden)
 *   "packages": [ { "id", "contentId", "libraryContentId"?, "root", "source",
 *       "checks": [ { "name", "method", "url", "refused", "verdict": { status, substatus, layer }, "reasons": [...] } ],
 *       "files": [ { "path", "hidden"?, "forms": { "direct2007" | "direct" | "client":
 *                    { "url", "method", "verdict": { status, substatus, layer }, "reasons": [...] } } } ],
 *       "summary": { "files", "refusedFiles", "forms": { <form>: { ok, refused, bySubstatus: { "404.7 .ldf": n } } } } } ],
 *   "summary": { "packages", "files", "refusedFiles", "skipped", "warnings", "notes",
 *                "causes": [ { check, status, substatus, message, source, inferred?, label, forms, vdirs, files, samples, checks, fixes: [one line per vdir] } ] },
 *   "warnings": [ { file, line?, column?, message } ]
 * }
 * A reason is `{ check, status, substatus, message, source: { file, line, column, text? } | null, inferred? }`.
 */
import type { Writable } from "node:stream";
import type { CheckSink, FileResult, PackageCheckResult, PackageTally, Tally } from "../check/run.js";
import type { PackageSpec } from "../check/source.js";
import { URL_FORMS } from "../dp/urlforms.js";
import type { Reason, Verdict } from "../engine/types.js";

export interface CheckHeader {
  version: string;
  input: { path: string; kind: string };
  site: string;
  vdir: string;
  drive: string;
  forms: string[];
  config: { origin: string; files: string[] };
  notes: string[];
}

export function reasonJson(r: Reason) {
  const o: Record<string, unknown> = {
    check: r.check,
    status: r.status,
    substatus: r.substatus,
    message: r.message,
    source: r.source,
  };
  if (r.inferred) o.inferred = r.inferred;
  return o;
}

export function verdictJson(v: Verdict) {
  return { status: v.status, substatus: v.substatus, layer: v.layer };
}

/**
 * Buffered writer that honours back-pressure. When the reader goes away (`dpdoctor check --json | head`: EPIPE),
 * `closed` turns true and further writes are dropped, so the caller can stop instead of failing with a stack.
 */
export class JsonStream {
  private buf = "";
  closed = false;
  constructor(private readonly out: Writable) {
    out.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") this.closed = true;
      else throw e;
    });
  }
  /** Buffers `s`; a promise (to await) only when the buffer was handed to the stream: most writes cost no await. */
  write(s: string): Promise<void> | undefined {
    if (this.closed) return;
    this.buf += s;
    if (this.buf.length >= 1 << 16) return this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf === "" || this.closed) return;
    const chunk = this.buf;
    this.buf = "";
    if (this.out.write(chunk)) return;
    // wait for 'drain', or for the reader to go away
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off("drain", done);
        this.out.off("error", done);
        this.out.off("close", done);
        resolve();
      };
      this.out.on("drain", done);
      this.out.on("error", done);
      this.out.on("close", done);
    });
  }
}

/**
 * JSON.stringify(fileJson(r)), byte for byte, built with each form's `"verdict":…,"reasons":[…]` part kept per reasons
 * array when the engine shares it (frozen: a memo entry's, which every file with that verdict carries), so a 1 M-file
 * `--json` does not serialize the same reasons a million times (test/check/json-text.test.ts).
 */
export function fileJsonText(r: FileResult): string {
  let out = `{"path":${JSON.stringify(r.path)}`;
  if (r.hidden !== undefined) out += `,"hidden":${r.hidden}`;
  out += ',"forms":{';
  let first = true;
  for (const form of URL_FORMS) {
    const fr = r.forms[form];
    if (!fr) continue;
    out += `${first ? "" : ","}"${form}":{"url":${JSON.stringify(fr.url)},"method":${JSON.stringify(fr.method)},${verdictText(fr.verdict)}}`;
    first = false;
  }
  return `${out}}}`;
}

/** `"verdict":{…},"reasons":[…]` of a verdict (see fileJsonText). */
function verdictText(v: Verdict): string {
  const reasons = v.reasons;
  const frozen = Object.isFrozen(reasons);
  if (frozen) {
    const known = verdictTexts.get(reasons);
    if (known && known.status === v.status && known.substatus === v.substatus && known.layer === v.layer)
      return known.text;
  }
  const text = `"verdict":${JSON.stringify(verdictJson(v))},"reasons":${JSON.stringify(reasons.map(reasonJson))}`;
  if (frozen) verdictTexts.set(reasons, { status: v.status, substatus: v.substatus, layer: v.layer, text });
  return text;
}
const verdictTexts = new WeakMap<
  readonly Reason[],
  { status: number; substatus: number; layer: string; text: string }
>();

export function fileJson(r: FileResult) {
  const forms: Record<string, unknown> = {};
  for (const form of URL_FORMS) {
    const fr = r.forms[form];
    if (!fr) continue;
    const o: Record<string, unknown> = {
      url: fr.url,
      method: fr.method,
      verdict: verdictJson(fr.verdict),
      reasons: fr.verdict.reasons.map(reasonJson),
    };
    forms[form] = o;
  }
  const o: Record<string, unknown> = { path: r.path };
  if (r.hidden !== undefined) o.hidden = r.hidden;
  o.forms = forms;
  return o;
}

function checkJson(c: PackageCheckResult) {
  return {
    name: c.name,
    method: c.method,
    url: c.url,
    refused: c.refused,
    verdict: verdictJson(c.verdict),
    reasons: c.verdict.reasons.map(reasonJson),
  };
}

export function packageSummaryJson(t: PackageTally) {
  const forms: Record<string, unknown> = {};
  for (const [form, ft] of t.forms)
    forms[form] = { ok: ft.ok, refused: ft.refused, bySubstatus: Object.fromEntries(ft.bySubstatus) };
  return { files: t.files, refusedFiles: t.refusedFiles, forms };
}

export function summaryJson(t: Tally, site: string) {
  return {
    packages: t.packages.length,
    files: t.files,
    refusedFiles: t.refusedFiles,
    skipped: t.skipped,
    warnings: t.warningCount,
    /** Inferences the verdicts rest on (engine notes), once for the run instead of once per file. */
    notes: [...t.notes],
    causes: t.causeList(site).map((c) => ({
      ...reasonJson(c.reason),
      label: c.label,
      forms: [...c.forms],
      vdirs: [...c.vdirs],
      files: c.files,
      samples: c.samples,
      checks: c.checks,
      fixes: c.fixes,
    })),
  };
}

/** Sink writing the JSON document as the check runs. `onlyRefused` lists only refused files. */
export function jsonSink(stream: JsonStream, header: CheckHeader, onlyRefused: boolean) {
  let firstPackage = true;
  let firstFile = true;
  const sink: CheckSink & {
    begin(): Promise<void>;
    end(t: Tally): Promise<void>;
    fileChunk(chunk: string): Promise<void>;
  } = {
    refusedOnly: onlyRefused,
    async begin() {
      const h = JSON.stringify({ tool: "dpdoctor", command: "check", ...header });
      await stream.write(`${h.slice(0, -1)},"packages":[`);
    },
    async packageStart(pkg: PackageSpec, checks: PackageCheckResult[]) {
      const head: Record<string, unknown> = { id: pkg.id, contentId: pkg.contentId };
      if (pkg.libraryContentId) head.libraryContentId = pkg.libraryContentId;
      head.root = pkg.root;
      head.source = pkg.source;
      head.checks = checks.map(checkJson);
      const s = JSON.stringify(head);
      await stream.write(`${firstPackage ? "" : ","}\n${s.slice(0, -1)},"files":[`);
      firstPackage = false;
      firstFile = true;
    },
    file(_pkg: PackageSpec, r: FileResult) {
      if (onlyRefused && !r.refused) return;
      const wrote = stream.write(`${firstFile ? "" : ","}\n${fileJsonText(r)}`);
      firstFile = false;
      return wrote;
    },
    /** File entries serialized elsewhere (a worker thread, src/check/units.ts): "\n{…}" joined by ",". */
    async fileChunk(chunk: string) {
      if (chunk === "") return;
      await stream.write(`${firstFile ? "" : ","}${chunk}`);
      firstFile = false;
    },
    async packageEnd(t: PackageTally) {
      await stream.write(`],"summary":${JSON.stringify(packageSummaryJson(t))}}`);
    },
    async end(t: Tally) {
      await stream.write(
        `\n],"summary":${JSON.stringify(summaryJson(t, header.site))},"warnings":${JSON.stringify(t.warnings)}}\n`,
      );
      await stream.flush();
    },
  };
  return sink;
}
