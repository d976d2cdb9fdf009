/**
 * SARIF 2.1.0 for `check --sarif`: one rule per engine check (CheckName), one result per refused file and form,
 * location = the file on disk; the config line that decided it is a related location.
 * Schema: OASIS SARIF 2.1.0 (validated in test/check/sarif.test.ts against test/fixtures/sarif-schema-2.1.0.json).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { FileResult, PackageCheckResult } from "../check/run.js";
import type { PackageSpec } from "../check/source.js";
import { URL_FORMS } from "../dp/urlforms.js";
import type { CheckName, Reason, Verdict } from "../engine/types.js";
import type { JsonStream } from "./check-json.js";

const RULE_TEXT: Partial<Record<CheckName, string>> = {
  fileExtensions: "Request filtering denies the file extension (404.7)",
  hiddenSegments: "Request filtering hides a folder name in the path (404.8)",
  doubleEscaping: "Request filtering refuses '+' or a double escape in the URL (404.11)",
  highBitCharacters: "Request filtering refuses non-ASCII characters (404.12)",
  maxUrl: "URL longer than requestLimits/@maxUrl (404.14)",
  maxQueryString: "Query string longer than requestLimits/@maxQueryString (404.15)",
  verbs: "Request filtering denies a verb the DP needs (404.6)",
  denyUrlSequences: "Request filtering denies a URL sequence (404.5)",
  denyQueryStringSequences: "Request filtering denies a query-string sequence (404.18)",
  filteringRules: "A request-filtering rule denies the request (404.19)",
  "httpsys.segmentTooLong": "http.sys: a path segment is longer than UrlSegmentMaxLength (400)",
  "httpsys.tooManySegments": "http.sys: more segments than UrlSegmentMaxCount (400)",
  "httpsys.urlTooLong": "http.sys: URL longer than MaxFieldLength (414)",
  "static.mimeMap": "Static file handler: no MIME map for the extension (404.3)",
  "static.hiddenFile": "Static file handler: the file has the Hidden attribute (404.9)",
  "handler.dynamic": "A dynamic handler (ASP.NET, ASP) would execute the file instead of sending it",
  "config.invalid": "Configuration error (500.19)",
};

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: "error";
  message: { text: string };
  locations: unknown[];
  relatedLocations?: unknown[];
  properties: Record<string, unknown>;
}

/** file:// URI for an absolute path; a relative reference (e.g. the embedded profile) stays relative. */
function fileUri(file: string): string {
  if (path.isAbsolute(file)) return pathToFileURL(file).href;
  if (/^[A-Za-z]:[\\/]/.test(file)) return `file:///${encodeURI(file.replace(/\\/g, "/"))}`; // Windows path read elsewhere
  return encodeURI(file.replace(/\\/g, "/"));
}

function firstReason(v: Verdict): Reason | undefined {
  return v.reasons[0];
}

function sourceLocation(r: Reason, id: number) {
  if (!r.source) return undefined;
  return {
    id,
    physicalLocation: {
      artifactLocation: { uri: fileUri(r.source.file) },
      region: {
        startLine: r.source.line,
        startColumn: r.source.column,
        ...(r.source.text ? { snippet: { text: r.source.text } } : {}),
      },
    },
    message: { text: "the configuration line that decided it" },
  };
}

/**
 * Builds SARIF results for refused files and per-package requests. `toLog()` returns the whole document (results kept
 * in memory: fine for tests and small runs); `sarifSink` streams the same results to stdout as they come, so
 * `check --sarif` on a library with millions of refusals does not hold them all.
 */
export class SarifBuilder {
  private readonly results: SarifResult[] = [];
  private readonly rules = new Map<string, number>();
  constructor(
    private readonly version: string,
    /** When given, each result goes here instead of being kept for `toLog()`. */
    private readonly onResult?: (r: SarifResult) => void,
  ) {}

  private ruleIndex(check: string): number {
    let i = this.rules.get(check);
    if (i === undefined) {
      i = this.rules.size;
      this.rules.set(check, i);
    }
    return i;
  }

  private push(r: Omit<SarifResult, "ruleIndex">): void {
    // rules are numbered in the order first met, so a result's index is final when it is made
    const { ruleId, ...rest } = r;
    const full: SarifResult = { ruleId, ruleIndex: this.ruleIndex(ruleId), ...rest };
    if (this.onResult) this.onResult(full);
    else this.results.push(full);
  }

  addFile(pkg: PackageSpec, r: FileResult): void {
    if (!r.refused) return;
    for (const form of URL_FORMS) {
      const fr = r.forms[form];
      if (!fr || fr.verdict.status < 400) continue;
      const reason = firstReason(fr.verdict);
      const check = reason?.check ?? "config.invalid";
      const related = reason ? sourceLocation(reason, 1) : undefined;
      this.push({
        ruleId: check,
        level: "error",
        message: {
          text: `${fr.method} ${fr.url} → ${fr.verdict.status}.${fr.verdict.substatus} (${form} form): ${reason?.message ?? "refused"}`,
        },
        locations: [{ physicalLocation: { artifactLocation: { uri: fileUri(r.abs) } } }],
        ...(related ? { relatedLocations: [related] } : {}),
        properties: {
          packageId: pkg.id,
          contentId: pkg.contentId,
          relativePath: r.path,
          form,
          method: fr.method,
          url: fr.url,
          status: fr.verdict.status,
          substatus: fr.verdict.substatus,
          layer: fr.verdict.layer,
          ...(reason?.inferred ? { inferred: reason.inferred } : {}),
        },
      });
    }
  }

  addPackageCheck(pkg: PackageSpec, c: PackageCheckResult): void {
    if (!c.refused) return;
    const reason = firstReason(c.verdict);
    const check = reason?.check ?? "config.invalid";
    const related = reason ? sourceLocation(reason, 1) : undefined;
    this.push({
      ruleId: check,
      level: "error",
      message: {
        text: `${c.name}: ${c.method} ${c.url} → ${c.verdict.status}.${c.verdict.substatus}: ${reason?.message ?? "refused"}`,
      },
      locations: [{ physicalLocation: { artifactLocation: { uri: fileUri(pkg.root) } } }],
      ...(related ? { relatedLocations: [related] } : {}),
      properties: {
        packageId: pkg.id,
        check: c.name,
        method: c.method,
        url: c.url,
        status: c.verdict.status,
        substatus: c.verdict.substatus,
      },
    });
  }

  /** `tool.driver`: the rules met so far, in index order. */
  driver() {
    const rules = [...this.rules.keys()].map((id) => ({
      id,
      name: id.replace(/[^A-Za-z0-9]/g, ""),
      shortDescription: { text: RULE_TEXT[id as CheckName] ?? id },
      defaultConfiguration: { level: "error" },
    }));
    return { name: "dpdoctor", version: this.version, rules };
  }

  toLog(): unknown {
    return {
      $schema: SARIF_SCHEMA,
      version: "2.1.0",
      runs: [{ tool: { driver: this.driver() }, results: this.results }],
    };
  }
}

/**
 * `check --sarif` written as the check runs: results stream out one per line; the rules (known only at the end) come
 * after them in the run object — JSON members have no order, and the document is the same SARIF as `toLog()`'s.
 */
export function sarifSink(stream: JsonStream, version: string) {
  let first = true;
  let pending = "";
  const builder = new SarifBuilder(version, (r) => {
    pending += `${first ? "" : ","}\n${JSON.stringify(r)}`;
    first = false;
  });
  const drain = async () => {
    if (pending === "") return;
    const s = pending;
    pending = "";
    await stream.write(s);
  };
  return {
    refusedOnly: true, // results are refusals only (addFile)
    async begin() {
      await stream.write(`{"$schema":${JSON.stringify(SARIF_SCHEMA)},"version":"2.1.0","runs":[{"results":[`);
    },
    async packageStart(pkg: PackageSpec, checks: PackageCheckResult[]) {
      for (const c of checks) builder.addPackageCheck(pkg, c);
      await drain();
    },
    async file(pkg: PackageSpec, r: FileResult) {
      builder.addFile(pkg, r);
      await drain();
    },
    async end() {
      await drain();
      await stream.write(`\n],"tool":{"driver":${JSON.stringify(builder.driver())}}}]}\n`);
      await stream.flush();
    },
  };
}
