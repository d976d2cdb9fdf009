/**
 * The `dpdoctor diagnose` report: what `--json` prints, what the text and HTML renderers format, and what
 * `dpdoctor fix --from` reads. Spec: ../shared/spec/configmgr-dp-bits.md §5.4 (hang model), §6 (catalogue), §7 (joins).
 *
 * Contract (issue 5) — these fields are stable; others may be added:
 * `{ findings: [{ id, title, confidence, contentIds, files, clients, evidence: [{file, line, text}], fix: {summary, command} }],
 *    artifacts: [{ path, kind }] }`.
 */
import type { SourceRef } from "../config/types.js";
import type { ArtifactKind, UrlForm } from "../logs/records.js";

export type FailureId =
  | "F01"
  | "F02"
  | "F03"
  | "F04"
  | "F05"
  | "F06"
  | "F07"
  | "F08"
  | "F09"
  | "F10"
  | "F11"
  | "F12"
  | "F13"
  | "F14"
  | "F15"
  | "F16"
  | "F17"
  | "F18"
  | "F19";

export type Confidence = "high" | "medium" | "low";

/** Which artifact a piece of evidence comes from. */
export type EvidenceSource = "iis" | "httperr" | "client" | "bits" | "config" | "package";

export interface Evidence {
  file: string;
  line: number; // 1-based
  text: string; // the line as written (trimmed; capped at 500 chars)
  source: EvidenceSource;
  /** UTC ms, when the line carries a time. */
  time?: number;
  /** Why this line is evidence, in the admin's words ("IIS refused the HEAD: 404.7"). */
  note?: string;
}

/**
 * A request the DP refused, in the shape `dpdoctor fix --from` reads: enough to rebuild the request, and the
 * config rule (`value`, `check`) a fix must change.
 */
export interface Refusal {
  method: string;
  /** Raw request target as the client sends it, rebuilt from the log's URL parts (src/dp/urlforms buildDpUrl). */
  url: string;
  /** The request as the log wrote it (stem + "?" + query; IIS writes spaces as '+'). */
  loggedUrl?: string;
  form?: UrlForm;
  contentId?: string;
  /** Relative path inside the content ('/' separators). */
  path?: string;
  status: number;
  substatus: number;
  /** Engine check name (`fileExtensions`, `hiddenSegments`, ...) when known from the substatus or the engine. */
  check?: string;
  /** The value the rule matched: ".ldf", "bin", "PROPFIND", "+"... */
  value?: string;
  site?: string;
  /** Virtual directory name without slashes ("SMS_DP_SMSPKGE$"). */
  vdir?: string;
  clientIp?: string;
  /** The DP that logged it (s-ip of the W3C/HTTPERR line), when logged. */
  serverIp?: string;
  /** How many log lines show this refusal. */
  count: number;
  firstSeen?: number; // UTC ms
  lastSeen?: number; // UTC ms
  /** The config line the engine blamed when the config was given (`<add fileExtension=".ldf" allowed="false" />`). */
  configSource?: SourceRef | null;
  /**
   * "confirmed" = the engine, fed the given config, refuses it the same way; "differs" = engine says otherwise;
   * "predicted" = no log line shows this request: the engine refuses it in another URL form the DP serves.
   */
  engine?: "confirmed" | "differs" | "not-evaluated" | "predicted";
  engineStatus?: string; // "404.7"
  /**
   * true = a log line shows this refusal (observed evidence); false = predicted by the engine from the config only
   * (the same file in another DP URL form, or a package-folder/client-only prediction). Absent in older reports.
   */
  observed?: boolean;
}

export interface Fix {
  summary: string;
  /** The dpdoctor command that would repair it, or null when the fix is outside IIS config. */
  command: string | null;
  /** Equivalent IIS tool command, for admins who prefer appcmd. */
  appcmd?: string;
  /** Trade-off an admin must know before applying it. */
  caution?: string;
}

export interface Finding {
  id: FailureId;
  title: string;
  confidence: Confidence;
  /** The cause in one sentence. */
  cause: string;
  /** Why the download looks like a hang: BITS fatal vs transient, the retry cadence seen. */
  hang: string;
  contentIds: string[];
  files: string[];
  clients: string[];
  evidence: Evidence[];
  fix: Fix;
  refusals: Refusal[];
  /** Which missing artifact would raise confidence, in the admin's words. */
  missing: string[];
  /** Join keys that tied the artifacts together ("BITS job ID", "content ID + path", "client IP", "time window"). */
  joinedBy: string[];
  /** Inferences the finding rests on (spec §10/§13), never hidden. */
  inferred: string[];
  /** DP log lines classified into this finding (exact, whatever the caps). Absent when no DP line shows it. */
  lineCount?: number;
  /**
   * What the capped lists leave out (present only when a cap was hit; the report's notes say it too): distinct
   * content IDs / files / clients not listed, and DP lines of requests beyond the listed refusals.
   */
  more?: { contentIds?: number; files?: number; clients?: number; requestLines?: number };
}

export interface ArtifactInfo {
  path: string;
  kind: ArtifactKind | "package-dir" | "client-log";
  records: number;
  skipped: number;
  /** The first few skipped lines (file:line: why). */
  skippedSamples?: string[];
  message?: string;
}

/** One event on the job timeline (client, BITS and DP on one UTC axis). */
export interface TimelineEvent {
  time: number; // UTC ms
  lane: "client" | "bits" | "dp";
  label: string;
  /** "error" for refusals/failures, "warning" for retries/cancels, "ok" otherwise. */
  level: "ok" | "warning" | "error";
  file: string;
  line: number;
  /** Time came from a zone-less local time (legacy BITS text export) and was placed by assumption. */
  timeAssumed?: boolean;
}

export interface StatusCount {
  status: number;
  substatus: number;
  win32Status?: number;
  meaning: string;
  count: number;
  /** Lines for DP content (SMS_DP_*) only. */
  dpContent: boolean;
}

/** A download job rebuilt from client logs (§7). */
export interface JobSummary {
  dtsJobId?: string;
  bitsJobId?: string;
  ctmJobId?: string;
  contentId?: string;
  source?: string; // DP URL the job downloads from
  files: string[];
  lastState?: string;
  outcome: "completed" | "in-progress" | "cancelled-while-downloading" | "failed" | "unknown";
  errorCount?: number;
  lastErrorCode?: string;
  firstSeen?: number;
  lastSeen?: number;
  /** Client IPs found for this job by joining DP log lines. */
  clients: string[];
  joinedBy: string[];
}

export interface DiagnoseReport {
  tool: "dpdoctor diagnose";
  version: string;
  findings: Finding[];
  artifacts: ArtifactInfo[];
  jobs: JobSummary[];
  timeline: TimelineEvent[];
  statusBreakdown: StatusCount[];
  /** The config the refusals were re-evaluated against, if any. */
  config: string | null;
  /** How times were normalised and other assumptions, in plain words. */
  notes: string[];
  /** Artifacts that were not given and would raise confidence. */
  missingArtifacts: string[];
  /** Files that could not be read, with why (counted, never fatal). */
  unreadable: { path: string; reason: string }[];
  /**
   * How much was read and how much the bounded aggregates held (diagnose streams the DP logs: memory does not grow
   * with them). `retained` = objects held at the end of the DP pass; it never exceeds `retainedCap`.
   */
  stats?: {
    dpLines: number;
    w3cRecords: number;
    httperrRecords: number;
    retained: number;
    retainedCap: number;
    /** Caps that were hit (each is explained in `notes`, starting "Limit:"). */
    limitsHit: number;
  };
}
