/**
 * Rebuilds download jobs from client logs (spec configmgr-dp-bits.md §1, §4.3, §7):
 * CAS request → CTM job (locations) → DTS job (PROPFIND manifest, BITS job GUID, per-file URLs, HandleErrors, states) → outcome.
 * Input is typed CMTrace records from the logs readers; nothing here reads files.
 */
import type { CmTraceRecord } from "../logs/records.js";

const GUID = "\\{[0-9A-Fa-f-]{36}\\}";

/** What one client log line says about a download, if anything. */
export type ClientSignal =
  | { kind: "dts-created"; dts: string; url: string }
  | { kind: "bits-started"; dts: string; bits: string }
  | { kind: "dts-state"; dts: string; state: string }
  | { kind: "dts-completed"; dts: string }
  | { kind: "handle-errors"; dts: string; bits: string; oldCount: number; newCount: number; code: string }
  | { kind: "file-url"; url: string }
  | { kind: "propfind"; url: string }
  | { kind: "dav-error"; httpCode: number; statusText: string }
  | { kind: "manifest-error"; code: string; retry?: number; retrySeconds?: number }
  | { kind: "error-mapped"; from: string; to: string }
  | { kind: "connect-error"; url?: string; code: string; text?: string }
  | { kind: "progress"; dts: string; totalFiles: number; transferredFiles: number }
  | { kind: "ctm-dts"; ctm: string; dts: string; url: string }
  | { kind: "ctm-locations"; ctm: string; urls: string[] }
  | { kind: "ctm-phase"; ctm: string; phase: string }
  | { kind: "ctm-no-location"; code?: string }
  | { kind: "ctm-cleanup"; ctm: string }
  | { kind: "ctm-success" }
  | { kind: "hash-failed"; code?: string }
  | { kind: "cas-submitted"; ctm: string; contentId: string }
  | { kind: "cas-request"; contentId: string }
  | { kind: "proxy-failed"; code?: string }
  | { kind: "ts-http-status"; status: number }
  | { kind: "ts-download-error"; url: string }
  | { kind: "error-code"; code: string };

interface Rule {
  re: RegExp;
  make(m: RegExpExecArray): ClientSignal;
}

const RULES: Rule[] = [
  {
    re: new RegExp(`DTSJob (${GUID}) created to download from '([^']*)'`),
    make: (m) => ({ kind: "dts-created", dts: up(m[1]), url: m[2] ?? "" }),
  },
  {
    re: new RegExp(`Starting BITS job '(${GUID})' for DTS job '(${GUID})'`),
    make: (m) => ({ kind: "bits-started", bits: up(m[1]), dts: up(m[2]) }),
  },
  {
    re: new RegExp(
      `HandleErrors: DTS Job '(${GUID})' BITS Job '(${GUID})'.*?OldErrorCount (\\d+) NewErrorCount (\\d+) ErrorCode (0x[0-9A-Fa-f]+)`,
    ),
    make: (m) => ({
      kind: "handle-errors",
      dts: up(m[1]),
      bits: up(m[2]),
      oldCount: Number(m[3]),
      newCount: Number(m[4]),
      code: m[5] ?? "",
    }),
  },
  {
    re: new RegExp(`DTSJob (${GUID}) in state '([A-Za-z]+)'`),
    make: (m) => ({ kind: "dts-state", dts: up(m[1]), state: m[2] ?? "" }),
  },
  {
    re: new RegExp(`Execute called for DTS job '(${GUID})'\\.\\s+Current state: '([A-Za-z]+)'`),
    make: (m) => ({ kind: "dts-state", dts: up(m[1]), state: m[2] ?? "" }),
  },
  {
    re: new RegExp(`DTSJob (${GUID}) successfully completed download`),
    make: (m) => ({ kind: "dts-completed", dts: up(m[1]) }),
  },
  {
    re: new RegExp(`Job: (${GUID}), Total Files: (\\d+), Transferred Files: (\\d+)`),
    make: (m) => ({
      kind: "progress",
      dts: up(m[1]),
      totalFiles: Number(m[2]),
      transferredFiles: Number(m[3]),
    }),
  },
  {
    re: /(?:BITSHelper, remote name = |BITSHelper: Full source path to be transferred = |NEW URL - )(\S+?)(?:,|\s|$)/,
    make: (m) => ({ kind: "file-url", url: m[1] ?? "" }),
  },
  { re: /Sending PROPFIND request using URL (\S+)/, make: (m) => ({ kind: "propfind", url: m[1] ?? "" }) },
  {
    re: /Error sending DAV request\. HTTP code (\d+), status '([^']*)'/,
    make: (m) => ({ kind: "dav-error", httpCode: Number(m[1]), statusText: m[2] ?? "" }),
  },
  {
    re: /Error retrieving manifest \((0x[0-9A-Fa-f]+)\)(?:\.\s+Will attempt retry (\d+) in (\d+) seconds)?/,
    make: (m) => ({
      kind: "manifest-error",
      code: m[1] ?? "",
      retry: m[2] ? Number(m[2]) : undefined,
      retrySeconds: m[3] ? Number(m[3]) : undefined,
    }),
  },
  {
    re: /mapping original error (0x[0-9A-Fa-f]+) to (0x[0-9A-Fa-f]+)/,
    make: (m) => ({ kind: "error-mapped", from: m[1] ?? "", to: m[2] ?? "" }),
  },
  {
    re: /\[CCMHTTP\] ERROR: URL=([^,\s]+).*?Code=(\d+)(?:, Text=(\S+))?/,
    make: (m) => ({ kind: "connect-error", url: m[1], code: winhttpToHr(Number(m[2])), text: m[3] }),
  },
  {
    re: /Failed to send request to (\S+) at host \S+, error (0x[0-9A-Fa-f]+)/,
    make: (m) => ({ kind: "connect-error", url: m[1], code: widenWinHttp(m[2] ?? "") }),
  },
  {
    re: new RegExp(`CTM job (${GUID}) \\(corresponding DTS job (${GUID})\\) started download from '([^']*)'`),
    make: (m) => ({ kind: "ctm-dts", ctm: up(m[1]), dts: up(m[2]), url: m[3] ?? "" }),
  },
  {
    re: new RegExp(`Persisted locations for CTM job (${GUID}):([\\s\\S]*)`),
    make: (m) => ({
      kind: "ctm-locations",
      ctm: up(m[1]),
      urls: [...(m[2] ?? "").matchAll(/\(([A-Z]+)\)\s+(\S+)/g)].map((x) => x[2] ?? ""),
    }),
  },
  {
    re: new RegExp(`CTM job (${GUID}) entered phase (\\w+)`),
    make: (m) => ({ kind: "ctm-phase", ctm: up(m[1]), phase: m[2] ?? "" }),
  },
  {
    re: /(?:Received empty location update for CTM Job|Recieved no suitable locations|Received no suitable locations|_GetNextLocation failed with code (0x[0-9A-Fa-f]+)|CCM_DOWNLOADSTATUS_WAITING_CONTENTLOCATIONS)/,
    make: (m) => ({ kind: "ctm-no-location", code: m[1] }),
  },
  {
    re: new RegExp(`_Cleanup\\(JobID=(${GUID})\\) - Cancelling DTS job`),
    make: (m) => ({ kind: "ctm-cleanup", ctm: up(m[1]) }),
  },
  {
    re: /ProcessDownloadSuccess|successfully processed download completion/,
    make: () => ({ kind: "ctm-success" }),
  },
  {
    re: /failed to verify hash|[Hh]ash verification failed|hash mismatch/,
    make: (m) => ({ kind: "hash-failed", code: /0x[0-9A-Fa-f]{8}/.exec(m.input)?.[0] }),
  },
  {
    re: new RegExp(`Submitted CTM job (${GUID}) to download Content (\\S+) under context`),
    make: (m) => ({ kind: "cas-submitted", ctm: up(m[1]), contentId: m[2] ?? "" }),
  },
  { re: /Requesting content (\S+?),? size/, make: (m) => ({ kind: "cas-request", contentId: m[1] ?? "" }) },
  {
    re: /Requesting content from CAS for package (\S+) version (\d+)/,
    make: (m) => ({ kind: "cas-request", contentId: `${m[1]}.${m[2]}` }),
  },
  {
    re: /Failed to set proxy to bits job|All proxy types and no proxy have been tried but failed/,
    make: (m) => ({ kind: "proxy-failed", code: /0x[0-9A-Fa-f]{8}/.exec(m.input)?.[0] }),
  },
  {
    re: /WinHttpQueryHeaders\(\) returns status code (\d+)/,
    make: (m) => ({ kind: "ts-http-status", status: Number(m[1]) }),
  },
  { re: /Error downloading file from (\S+)/, make: (m) => ({ kind: "ts-download-error", url: m[1] ?? "" }) },
  { re: /\b(0x8[0-9A-Fa-f]{7})\b/, make: (m) => ({ kind: "error-code", code: m[1] ?? "" }) },
];

function up(s: string | undefined): string {
  return (s ?? "").toUpperCase();
}

/** WinHTTP error number (12029) → HRESULT text ("0x80072EFD"). */
function winhttpToHr(code: number): string {
  return `0x${(0x80070000 + code).toString(16).toUpperCase()}`;
}
/** "0x2efd" → "0x80072EFD" (DTS logs the bare WinHTTP error). */
function widenWinHttp(code: string): string {
  const n = Number.parseInt(code.slice(2), 16);
  return n < 0x10000 ? winhttpToHr(n) : code.toUpperCase();
}

/** Reads what a client log line says; the first matching rule wins (most specific first). */
export function readClientSignal(message: string): ClientSignal | undefined {
  for (const r of RULES) {
    const m = r.re.exec(message);
    if (m) return r.make(m);
  }
  return undefined;
}

export interface ClientLine {
  record: CmTraceRecord;
  signal: ClientSignal;
}

/** A DTS download job (plus its CTM parent) rebuilt from client lines. */
export interface ClientJob {
  dtsJobId: string;
  bitsJobId?: string;
  ctmJobId?: string;
  contentId?: string;
  source?: string;
  fileUrls: string[];
  states: { state: string; line: ClientLine }[];
  errors: ClientLine[]; // HandleErrors lines
  completed?: ClientLine;
  cleanup?: ClientLine;
  lines: ClientLine[];
  firstSeen: number;
  lastSeen: number;
}

export interface ClientModel {
  jobs: ClientJob[];
  /** Signals not tied to a DTS job (manifest errors before a job ID is known, CTM location failures, TS lines). */
  loose: ClientLine[];
  all: ClientLine[];
}

/**
 * Groups client lines into jobs. Lines without a job GUID (BITSHelper URLs, DAV errors) belong to the last DTS job
 * named earlier in the same file — DTS logs them on the job's thread right after (§4.3; inference, threads interleave).
 */
export function buildClientModel(records: readonly CmTraceRecord[]): ClientModel {
  const jobs = new Map<string, ClientJob>();
  const ctmToDts = new Map<string, string>();
  const ctmContent = new Map<string, string>();
  const ctmLines = new Map<string, ClientLine[]>();
  const loose: ClientLine[] = [];
  const all: ClientLine[] = [];
  const lastJobInFile = new Map<string, string>();

  const job = (dts: string, line: ClientLine): ClientJob => {
    let j = jobs.get(dts);
    if (!j) {
      j = {
        dtsJobId: dts,
        fileUrls: [],
        states: [],
        errors: [],
        lines: [],
        firstSeen: line.record.time,
        lastSeen: line.record.time,
      };
      jobs.set(dts, j);
    }
    const t = line.record.time;
    if (Number.isFinite(t)) {
      if (!(j.firstSeen <= t)) j.firstSeen = t;
      if (!(j.lastSeen >= t)) j.lastSeen = t;
    }
    j.lines.push(line);
    return j;
  };

  for (const record of records) {
    const signal = readClientSignal(record.message);
    if (!signal) continue;
    const line: ClientLine = { record, signal };
    all.push(line);
    const s = signal;
    switch (s.kind) {
      case "dts-created": {
        const j = job(s.dts, line);
        j.source = s.url;
        lastJobInFile.set(record.file, s.dts);
        break;
      }
      case "bits-started": {
        job(s.dts, line).bitsJobId = s.bits;
        lastJobInFile.set(record.file, s.dts);
        break;
      }
      case "dts-state": {
        job(s.dts, line).states.push({ state: s.state, line });
        break;
      }
      case "dts-completed": {
        job(s.dts, line).completed = line;
        break;
      }
      case "handle-errors": {
        const j = job(s.dts, line);
        j.bitsJobId ??= s.bits;
        j.errors.push(line);
        break;
      }
      case "progress":
        job(s.dts, line);
        break;
      case "ctm-dts": {
        ctmToDts.set(s.ctm, s.dts);
        const j = job(s.dts, line);
        j.ctmJobId = s.ctm;
        j.source ??= s.url;
        break;
      }
      case "cas-submitted":
        ctmContent.set(s.ctm, s.contentId);
        loose.push(line);
        break;
      case "ctm-locations":
      case "ctm-phase":
      case "ctm-cleanup": {
        const list = ctmLines.get(s.ctm) ?? [];
        list.push(line);
        ctmLines.set(s.ctm, list);
        break;
      }
      case "file-url":
      case "propfind":
      case "dav-error":
      case "manifest-error":
      case "error-mapped": {
        const dts = lastJobInFile.get(record.file);
        if (dts) {
          const j = job(dts, line);
          if (s.kind === "file-url" && !j.fileUrls.includes(s.url)) j.fileUrls.push(s.url);
        } else loose.push(line);
        if (s.kind !== "file-url" && s.kind !== "propfind") loose.push(line);
        break;
      }
      default:
        loose.push(line);
    }
  }
  // attach CTM lines and content IDs to their DTS job
  for (const [ctm, dts] of ctmToDts) {
    const j = jobs.get(dts);
    if (!j) continue;
    for (const l of ctmLines.get(ctm) ?? []) {
      j.lines.push(l);
      if (l.signal.kind === "ctm-cleanup") j.cleanup = l;
    }
    const cid = ctmContent.get(ctm);
    if (cid) j.contentId = cid;
  }
  for (const [ctm, list] of ctmLines) if (!ctmToDts.has(ctm)) loose.push(...list);
  return { jobs: [...jobs.values()], loose, all };
}

/**
 * §5.3, §7.7: a DTS job is complete after `successfully completed download` / NotifiedComplete / CTM cleanup;
 * the last state otherwise.
 */
export function jobOutcome(j: ClientJob): "completed" | "in-progress" | "failed" | "unknown" {
  if (j.completed || j.cleanup) return "completed";
  const last = j.states.at(-1)?.state;
  if (last === "NotifiedComplete" || last === "RetrievedData") return "completed";
  if (last === "Failed" || last === "Error") return "failed";
  if (last || j.errors.length > 0 || j.bitsJobId) return "in-progress";
  // a failing manifest (PROPFIND) is retried by DTS (hourly, §5.3): the job is still pending
  if (j.lines.some((l) => l.signal.kind === "manifest-error" || l.signal.kind === "dav-error"))
    return "in-progress";
  return "unknown";
}
