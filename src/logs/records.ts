/**
 * Typed records produced by the artifact readers (`dpdoctor logs`, `dpdoctor diagnose`).
 * Spec: ../shared/spec/configmgr-dp-bits.md §4 (formats), §7 (correlation).
 * Every record keeps the file and the 1-based line it came from, and the original line text for evidence.
 */

export type ArtifactKind =
  | "iis-w3c"
  | "httperr"
  | "cmtrace"
  | "sms-simple" // $$<component><date><thread=…> server log format (§4.2)
  | "bits-xml" // wevtutil /f:xml (no root) or Event Viewer "Save as" XML
  | "bits-csv" // Get-WinEvent | Export-Csv
  | "bits-text" // wevtutil /f:text, legacy "Event Type:/Event Source: BITS" text export
  | "evtx" // binary: recognised, not read (answer with the export command)
  | "iis-config" // applicationHost.config / web.config
  | "unknown";

export interface RecordOrigin {
  file: string;
  line: number; // 1-based line where the record starts
}

/** How a DP URL was formed (configmgr-dp-bits §2, iis spec §10.1). */
export type UrlForm = "direct2007" | "direct" | "client";

/** What a request to an IIS server is (§7.1). */
export type RequestKind = "dp-content" | "dp-signature" | "peer-cache" | "mp" | "cmg" | "wsus" | "other";

export interface DpUrlParts {
  kind: RequestKind;
  form?: UrlForm; // for dp-content
  vdir?: string; // "SMS_DP_SMSPKG$", "SMS_DP_SMSPKGE$", ...
  contentId?: string; // package ID or content ID ("ABC00123", "Content_<guid>.1", "<guid>")
  relativePath?: string; // "blah/file.ldf" ('/' separators, decoded)
}

export interface W3CRecord extends RecordOrigin {
  /** Milliseconds since epoch, UTC (W3C times are always UTC). NaN when date/time fields are absent. */
  time: number;
  serverIp: string;
  method: string;
  uriStem: string; // as logged (spaces as '+')
  uriQuery: string; // "" for '-'
  port: number;
  username: string;
  clientIp: string;
  userAgent: string; // '+' turned back into spaces
  userAgentRaw: string; // as logged
  referer: string;
  host: string;
  status: number;
  substatus: number;
  win32Status: number;
  timeTaken: number; // ms
  bytesSent: number; // NaN when absent
  bytesReceived: number; // NaN when absent
  siteName: string; // s-sitename, "" when absent
  text: string; // the original line
}

export interface HttpErrRecord extends RecordOrigin {
  time: number; // UTC ms
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  protocolVersion: string;
  method: string;
  uri: string;
  status: number; // NaN for '-'
  siteId: string;
  reason: string; // s-reason, e.g. "AppOffline", "Timer_ConnectionIdle"
  queueName: string; // s-queuename, "" for '-'
  text: string;
}

export interface CmTraceRecord extends RecordOrigin {
  /** UTC ms (local time + bias); NaN when the date/time could not be read. */
  time: number;
  /** Local time as written ("10-18-2019 10:19:13.582") and the bias in minutes (UTC = local + bias), when known. */
  localTime: string;
  biasMinutes: number | null;
  component: string;
  context: string;
  type: number; // 0 verbose, 1 info, 2 warning, 3 error
  thread: number;
  sourceFile: string; // file="dtsjob.cpp:1402"
  message: string; // may contain newlines
  /** Line where the record ends (multi-line messages). */
  endLine: number;
  format: "cmtrace" | "sms-simple";
}

export interface BitsEventRecord extends RecordOrigin {
  eventId: number; // 3, 4, 5, 59, 60, 61, 202, 16384, ...
  time: number; // UTC ms
  level: string; // "Information", "Warning", "Error" or the numeric level
  provider: string; // "Microsoft-Windows-Bits-Client" or "BITS" (legacy)
  computer: string;
  /** BITS job GUID ("{9E27E462-…}") when present (Id / jobId / "The job ID was {…}"). */
  jobId: string;
  jobTitle: string; // "CCMDTS Job"
  url: string; // for 59/60/61
  hr: string; // status code as written ("0x80190194", "-2145844844", "0")
  owner: string;
  user: string;
  /** Every named field of EventData, raw. */
  data: Record<string, string>;
  message: string; // rendered message text when the export has one
  text: string; // the record's source text (first 500 chars)
  /** What the reader had to assume for this record (e.g. an event ID inferred from its fields, a local time read as UTC). */
  inferred?: string[];
}

/** A record the reader could not parse; reading went on. */
export interface SkippedRecord extends RecordOrigin {
  reason: string;
  /** 1-based column of the offending field, when known (added by the logs reader). */
  column?: number;
}

export interface ArtifactSummary {
  path: string;
  kind: ArtifactKind;
  records: number;
  skipped: number;
  /** The first few skipped records (file:line + why). */
  skippedSamples: SkippedRecord[];
  /** For evtx and unreadable files: what to do instead. */
  message?: string;
}
