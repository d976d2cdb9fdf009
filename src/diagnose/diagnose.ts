/**
 * The correlator: typed records from every artifact → findings of the failure catalogue with evidence.
 * Spec: ../shared/spec/configmgr-dp-bits.md §5.4 (why downloads hang), §6 (catalogue), §7 (correlation rules).
 *
 * Pure: no file I/O (the CLI reads files through the logs readers and the config loader). The engine is passed in,
 * so the same refusal is explained by the same code as `dpdoctor check`.
 */
import type { ServerConfig } from "../config/types.js";
import { buildDpUrl, parseDpUrl } from "../dp/urlforms.js";
import { ruleValue } from "../engine/reason-source.js";
import type { HttpRequest, Server, Verdict } from "../engine/types.js";
import { describeStatus } from "../iis/status.js";
import type { BitsEventRecord, CmTraceRecord, HttpErrRecord, UrlForm, W3CRecord } from "../logs/records.js";
import {
  CATALOGUE,
  CLIENT_CODES,
  formatHresult,
  hangExplanation,
  httpStatusOfHresult,
  isFatalForBits,
  parseHresult,
} from "./catalogue.js";
import { buildClientModel, type ClientJob, type ClientLine, jobOutcome } from "./client-jobs.js";
import {
  CappedValues,
  DpGroupAgg,
  type DpLine,
  hash53,
  LIMITS,
  RecentKeys,
  TimelineLane,
} from "./dp-aggregate.js";
import {
  checkOfSubstatus,
  classifyDpLine,
  contentKey,
  type DpRequest,
  fromHttpErr,
  fromW3C,
  isDpRequest,
  refusalValue,
} from "./dp-requests.js";
import { fixFor } from "./fixes.js";
import type {
  ArtifactInfo,
  Confidence,
  DiagnoseReport,
  Evidence,
  FailureId,
  Finding,
  JobSummary,
  Refusal,
  StatusCount,
  TimelineEvent,
} from "./report.js";

export interface PackageListing {
  /** Folder the admin gave (`--package-dir`). */
  dir: string;
  contentId: string;
  /** Relative paths with '/' separators. */
  files: string[];
}

export interface DiagnoseInput {
  w3c: readonly W3CRecord[];
  httperr: readonly HttpErrRecord[];
  cmtrace: readonly CmTraceRecord[];
  bits: readonly BitsEventRecord[];
  artifacts: ArtifactInfo[];
  unreadable?: { path: string; reason: string }[];
  /** applicationHost.config the admin gave (or the embedded profile when `given` is false). */
  config?: { path: string; server: ServerConfig; given: boolean };
  packages?: PackageListing[];
  /** The decision engine (`evaluate` of src/engine/evaluate.ts). */
  evaluate?: (req: HttpRequest, server: Server) => Verdict;
  contentId?: string;
  client?: string;
  /** Clock skew tolerated when joining client lines to DP lines (minutes, default 5). */
  skewMinutes?: number;
  version?: string;
  /** The diagnose arguments as the admin gave them (paths and filters), so a printed command can re-run it as-is. */
  rerunArgs?: string[];
}

const MAX_EVIDENCE_PER_SOURCE = 4;
const MAX_TIMELINE = 600;

/** Content IDs compare case-insensitively; a legacy package's content ID `ABC00123.1` matches URL `ABC00123` (§2.2). */
export function sameContent(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || contentIdKey(a) === contentIdKey(b);
}

/** The comparison key of a content ID: lower-cased, version suffix dropped (`ABC00123.1` → `abc00123`). */
export function contentIdKey(id: string): string {
  return id.toLowerCase().replace(/\.\d+$/, "");
}

export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  return `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)}Z`;
}

function evidenceText(text: string): string {
  const t = text.replace(/\r?\n/g, " ⏎ ").trim();
  return t.length > 500 ? `${t.slice(0, 497)}...` : t;
}

interface Group {
  id: FailureId;
  value?: string;
  /** Bounded aggregates of the DP lines classified into this group. */
  dp: DpGroupAgg;
  client: ClientLine[];
  bits: BitsEventRecord[];
  jobs: Set<ClientJob>;
  predicted: {
    target: string;
    contentId: string;
    path: string;
    form: UrlForm;
    vdir: string;
    verdict: Verdict;
  }[];
  /** Status the client saw (from 0x8019xxxx) when no DP line is present. */
  clientStatus?: number;
  /** Engine predictions made from client-only URLs. */
  clientPredicted?: boolean;
  extraNotes: string[];
}

/** Everything diagnose reads besides the DP logs (those stream through `DiagnoseSession.addW3C` / `addHttpErr`). */
export type DiagnoseContext = Omit<DiagnoseInput, "w3c" | "httperr">;

/** A whole-input diagnosis: the same session, fed the DP records from the arrays. */
export function diagnose(given: DiagnoseInput): DiagnoseReport {
  const session = new DiagnoseSession(given);
  for (const r of given.w3c) session.addW3C(r);
  for (const r of given.httperr) session.addHttpErr(r);
  return session.finish();
}

/**
 * A diagnosis in three steps, in bounded memory: the client logs and BITS events first (the job model: content IDs,
 * relative paths, time windows), then every DP log record folded into bounded aggregates as it streams (IIS W3C
 * records first, then HTTPERR — the order `diagnose()` reads them), then `finish()` builds the report.
 */
export class DiagnoseSession {
  private readonly input: DiagnoseContext;
  private readonly notes: string[];
  private readonly skewMs: number;
  private readonly model: ReturnType<typeof buildClientModel>;
  private readonly jobs: ClientJob[];
  private readonly bitsByJob = new Map<string, BitsEventRecord[]>();
  private readonly jobKeys = new Map<ClientJob, Set<string>>();
  /** DP join key → per job: the clients of its matching lines (in line order) and whether one was in the time window. */
  private readonly jobsOfKey = new Map<
    string,
    { job: ClientJob; clients: CappedValues; inWindow: boolean; matched: boolean }[]
  >();
  /** Join keys of client jobs and BITS events: the DP lines whose groups they attach to. */
  private readonly relevantKeys = new Set<string>();
  private seq = 0;
  private w3cCount = 0;
  private httperrCount = 0;
  private dpCount = 0;
  private readonly dpGroups = new Map<string, { id: FailureId; value?: string; agg: DpGroupAgg }>();
  private readonly success = new RecentKeys(LIMITS.successKeys);
  private readonly pending = new Map<number, { r: DpRequest; skey: number }>();
  private readonly pendingByKey = new Map<number, number[]>();
  private handshakesDecidedEarly = 0;
  private readonly linesOfContent = new Map<string, number>();
  private contentCountsCut = 0;
  private readonly timelineAll = new TimelineLane(MAX_TIMELINE);
  private readonly timelineOf = new Map<string, TimelineLane>();
  /** Content IDs the client logs, BITS events, package folder or --content name: their timeline lanes are always kept. */
  private readonly knownContent = new Set<string>();
  private readonly timelineContentNotKept = new Set<string>();
  /** DP lines of the content IDs past the lane cap share this lane (earliest events, tagged with their content ID). */
  private readonly timelineRest = new TimelineLane(MAX_TIMELINE);
  private readonly statusKinds = new Map<string, StatusCount>();
  private statusLinesNotKept = 0;
  private finished = false;

  constructor(given: DiagnoseContext) {
    const placed = placeLocalBitsTimes(given.bits, given.cmtrace);
    const input: DiagnoseContext = { ...given, bits: placed.bits };
    this.input = input;
    this.skewMs = (input.skewMinutes ?? 5) * 60_000;
    this.notes = [
      "Times: IIS W3C and HTTPERR lines are UTC; CMTrace lines are local time + bias (UTC = local + bias minutes); BITS XML SystemTime is UTC. A legacy BITS text export has a local time without zone: it is joined by BITS job ID, never by time.",
      `Client lines join DP lines by content ID + relative path, then by time window (±${input.skewMinutes ?? 5} min clock skew tolerated) and client IP.`,
    ];
    if (placed.note) this.notes.push(placed.note);

    // -- client side first: the jobs and their DP join keys are known before any DP line streams ----------------------
    this.model = buildClientModel(input.cmtrace);
    let jobs = this.model.jobs;
    if (input.contentId) {
      const cid = input.contentId;
      jobs = jobs.filter((j) => {
        const c = j.contentId ?? contentOfUrl(j.source);
        return c === undefined || sameContent(c, cid);
      });
    }
    this.jobs = jobs;
    for (const e of input.bits) {
      const uk = keyOfUrl(e.url);
      if (uk) this.relevantKeys.add(uk);
      if (!e.jobId) continue;
      const k = e.jobId.toUpperCase();
      const list = this.bitsByJob.get(k) ?? [];
      list.push(e);
      this.bitsByJob.set(k, list);
    }
    for (const c of [
      input.contentId,
      ...jobs.map((j) => j.contentId ?? contentOfUrl(j.source)),
      ...input.bits.map((e) => contentOfUrl(e.url)),
      ...(input.packages ?? []).map((p) => p.contentId),
    ])
      if (c) this.knownContent.add(contentIdKey(c));
    // per job: the DP keys it downloads (§7.2, §7.3, §7.5)
    for (const j of jobs) {
      const keys = new Set<string>();
      for (const u of [...j.fileUrls, ...(j.source ? [j.source] : [])]) {
        const k = keyOfUrl(u);
        if (k) keys.add(k);
      }
      this.jobKeys.set(j, keys);
      for (const k of keys) {
        this.relevantKeys.add(k);
        const list = this.jobsOfKey.get(k) ?? [];
        list.push({ job: j, clients: new CappedValues(), inWindow: false, matched: false });
        this.jobsOfKey.set(k, list);
      }
    }
  }

  /** One IIS W3C record (all of them count in the status breakdown; DP content lines are diagnosed). */
  addW3C(rec: W3CRecord): void {
    this.w3cCount++;
    const r = fromW3C(rec);
    this.countStatus(r);
    this.addDp(r);
  }

  /** One HTTP.sys error log record. */
  addHttpErr(rec: HttpErrRecord): void {
    this.httperrCount++;
    this.addDp(fromHttpErr(rec));
  }

  private countStatus(r: DpRequest): void {
    const dpContent = isDpRequest(r);
    const k = `${r.status}.${r.substatus}.${r.win32Status}.${dpContent}`;
    const c = this.statusKinds.get(k);
    if (c) c.count++;
    else if (this.statusKinds.size < LIMITS.statusKinds)
      this.statusKinds.set(k, {
        status: r.status,
        substatus: r.substatus,
        win32Status: r.win32Status,
        meaning: describeStatus(r.status, r.substatus).meaning,
        count: 1,
        dpContent,
      });
    else this.statusLinesNotKept++;
  }

  private addDp(r: DpRequest): void {
    if (this.finished) throw new Error("DiagnoseSession: a record was added after finish()");
    const ord = this.seq++;
    if (!isDpRequest(r)) return;
    const input = this.input;
    if (input.contentId) {
      if (r.parts.contentId === undefined || !sameContent(r.parts.contentId, input.contentId)) return;
    }
    if (input.client && r.clientIp !== input.client) return;
    this.dpCount++;

    // the timeline keeps the earliest lines per content ID (the findings pick which content IDs it shows)
    const cidKey = r.parts.contentId !== undefined ? contentIdKey(r.parts.contentId) : undefined;
    if (cidKey !== undefined) {
      const n = this.linesOfContent.get(cidKey);
      if (n !== undefined) this.linesOfContent.set(cidKey, n + 1);
      else if (this.linesOfContent.size < LIMITS.contentIdCounts) this.linesOfContent.set(cidKey, 1);
      else this.contentCountsCut++;
    }
    if (Number.isFinite(r.time)) {
      const offerTo = (lane: TimelineLane, k?: string) =>
        (r.status >= 400 ? lane.notable : lane.ok).offer(r.time, ord, () => dpTimelineEvent(r), k);
      offerTo(this.timelineAll);
      if (cidKey !== undefined) {
        let lane = this.timelineOf.get(cidKey);
        if (!lane && (this.timelineOf.size < LIMITS.timelineContentIds || this.knownContent.has(cidKey))) {
          lane = new TimelineLane(MAX_TIMELINE);
          this.timelineOf.set(cidKey, lane);
        }
        if (lane) offerTo(lane);
        else {
          offerTo(this.timelineRest, cidKey);
          if (this.timelineContentNotKept.size < LIMITS.contentIdCounts)
            this.timelineContentNotKept.add(cidKey);
        }
      }
    }

    // DP lines that join client jobs: content ID + path, then the job's time window (§7.2, §7.3, §7.5)
    if (r.key) {
      for (const jk of this.jobsOfKey.get(r.key) ?? []) {
        const j = jk.job;
        const inWindow = r.time >= j.firstSeen - this.skewMs && r.time <= j.lastSeen + this.skewMs;
        if (!inWindow && Number.isFinite(j.firstSeen)) continue;
        jk.matched = true;
        jk.clients.add(r.clientIp);
        if (inWindow) jk.inWindow = true;
      }
    }

    // 401.2 then 2xx for the same client and URL is the NTLM/Negotiate handshake, not a refusal (F08 inference): a
    // 401.2 waits until a 2xx answers it, a 2xx seen before it answers it at once
    const skey = hash53(`${r.clientIp}|${r.url.toLowerCase()}`);
    if (r.status >= 200 && r.status < 300) {
      const waiting = this.pendingByKey.get(skey);
      if (waiting) {
        for (const o of waiting) this.pending.delete(o);
        this.pendingByKey.delete(skey);
      }
      this.success.add(skey);
    }
    if (r.source === "iis" && r.status === 401 && r.substatus === 2) {
      if (this.success.has(skey)) return;
      this.pending.set(ord, { r, skey });
      const list = this.pendingByKey.get(skey);
      if (list) list.push(ord);
      else this.pendingByKey.set(skey, [ord]);
      if (this.pending.size > LIMITS.pendingHandshakes) {
        const oldest = this.pending.entries().next().value;
        if (oldest) {
          const [o, p] = oldest;
          this.pending.delete(o);
          const l = this.pendingByKey.get(p.skey);
          l?.shift();
          if (l && l.length === 0) this.pendingByKey.delete(p.skey);
          this.handshakesDecidedEarly++;
          this.fold(p.r, o);
        }
      }
      return;
    }
    this.fold(r, ord);
  }

  private fold(r: DpRequest, ord: number): void {
    const id = classifyDpLine(r, false);
    if (!id) return;
    const value = refusalValue(id, r);
    const k = `${id}|${(value ?? "").toLowerCase()}`;
    let g = this.dpGroups.get(k);
    if (!g) {
      g = { id, value, agg: new DpGroupAgg() };
      this.dpGroups.set(k, g);
    }
    g.agg.add(r, ord, this.relevantKeys.has(r.key));
  }

  /** Objects the aggregates hold now (requests, listed and counted values, pending lines, timeline events …). */
  retained(): number {
    let n = this.success.size + this.pending.size + this.linesOfContent.size + this.statusKinds.size;
    for (const g of this.dpGroups.values()) n += g.agg.retained;
    n += this.timelineAll.size + this.timelineRest.size;
    for (const l of this.timelineOf.values()) n += l.size;
    for (const list of this.jobsOfKey.values()) for (const jk of list) n += jk.clients.retained;
    return n;
  }

  finish(): DiagnoseReport {
    if (this.finished) throw new Error("DiagnoseSession: finish() called twice");
    // the 401.2 lines no 2xx answered are refusals
    for (const [o, p] of this.pending) this.fold(p.r, o);
    const retainedPeak = this.retained();
    this.pending.clear();
    this.pendingByKey.clear();
    this.finished = true;
    const input = this.input;
    const notes = this.notes;
    const server = input.config?.server;
    const siteOf = (vdir?: string): string => (server ? siteForVdir(server, vdir) : "Default Web Site");
    const { model, jobs, bitsByJob, jobKeys } = this;
    const jobClients = new Map<ClientJob, Set<string>>();
    const jobJoins = new Map<ClientJob, Set<string>>();
    for (const j of jobs) {
      const clients = new Set<string>();
      const joins = new Set<string>();
      if (j.bitsJobId && bitsByJob.has(j.bitsJobId)) joins.add("BITS job ID");
      let matched = false;
      let inWindow = false;
      for (const k of jobKeys.get(j) ?? [])
        for (const jk of this.jobsOfKey.get(k) ?? []) {
          if (jk.job !== j || !jk.matched) continue;
          matched = true;
          if (jk.inWindow) inWindow = true;
          for (const c of jk.clients.listed) clients.add(c);
        }
      if (matched) {
        joins.add("content ID + path");
        if (inWindow) joins.add("time window");
        if (input.client) joins.add("client IP");
      }
      jobClients.set(j, clients);
      jobJoins.set(j, joins);
    }

    // -- groups: one per (catalogue entry, rule value) -----------------------------------------------------------------
    const groups = new Map<string, Group>();
    const group = (id: FailureId, value?: string, dp?: DpGroupAgg): Group => {
      const k = `${id}|${(value ?? "").toLowerCase()}`;
      let g = groups.get(k);
      if (!g) {
        g = {
          id,
          value,
          dp: dp ?? new DpGroupAgg(),
          client: [],
          bits: [],
          jobs: new Set(),
          predicted: [],
          extraNotes: [],
        };
        groups.set(k, g);
      }
      return g;
    };
    for (const dg of [...this.dpGroups.values()].sort((a, b) => a.agg.firstOrdinal - b.agg.firstOrdinal))
      group(dg.id, dg.value, dg.agg);
    // F12 from a 200 alone is weak: keep it only when BITS/DTS also report range trouble (see below)
    const f12 = [...groups.values()].filter((g) => g.id === "F12");

    // attach client jobs and BITS events to the DP groups they explain (§7.6: substatus wins)
    const groupOfKey = new Map<string, Group[]>();
    for (const g of groups.values())
      for (const key of g.dp.keys) {
        const list = groupOfKey.get(key) ?? [];
        if (!list.includes(g)) list.push(g);
        groupOfKey.set(key, list);
      }
    const explained = new Set<ClientJob>();
    for (const j of jobs) {
      for (const k of jobKeys.get(j) ?? []) {
        for (const g of groupOfKey.get(k) ?? []) {
          if (g.id === "F12") continue;
          g.jobs.add(j);
          explained.add(j);
        }
      }
    }

    // client-only evidence: HandleErrors with BG_E_HTTP_ERROR_<status> and no DP line (§5.2)
    for (const j of jobs) {
      if (explained.has(j) || j.errors.length === 0) continue;
      // §1, §7.1: DTS also downloads from MPs, WSUS and the internet — classify by URL before blaming the DP
      const source = sourceKind(j.source ?? j.fileUrls[0]);
      if (source === "not-dp") {
        notes.push(
          `DTS job ${j.dtsJobId} downloads from ${j.source ?? j.fileUrls[0]} (not a distribution point); its errors are not diagnosed here (§7.1).`,
        );
        continue;
      }
      if (source === "alternate") {
        group("F17").jobs.add(j);
        continue;
      }
      const codes = j.errors.map((l) => (l.signal.kind === "handle-errors" ? l.signal.code : ""));
      const status = codes.map(httpStatusOfHresult).find((s) => s !== undefined);
      const otherCode = codes
        .map(parseHresult)
        .find((n) => n !== undefined && CLIENT_CODES.some((c) => c.code === n));
      if (status !== undefined) {
        const predicted = predictForJob(j, input, status);
        if (predicted) {
          const g = group(predicted.id, predicted.value);
          g.jobs.add(j);
          g.clientPredicted = true;
          g.clientStatus = status;
          g.predicted.push(...predicted.items);
        } else {
          const g = group(idForClientStatus(status));
          g.jobs.add(j);
          g.clientStatus = status;
        }
      } else if (otherCode !== undefined) {
        const c = CLIENT_CODES.find((x) => x.code === otherCode);
        if (c) group(c.id).jobs.add(j);
      }
    }

    // loose client signals (manifest, CTM, CAS, TS, error codes)
    const davErrors = model.all.filter((l) => l.signal.kind === "dav-error");
    const tsStatus = new Map<string, ClientLine>();
    for (const l of model.all) {
      if (!withinContent(l, input.contentId)) continue;
      const s = l.signal;
      switch (s.kind) {
        case "dav-error":
          if (s.httpCode === 405) group("F07", "PROPFIND").client.push(l);
          else if (s.httpCode === 600) group("F13").client.push(l);
          else if (s.httpCode === 400 && /downloadrestservice|cmg/i.test(l.record.message))
            group("F17").client.push(l);
          else if (s.httpCode === 401 || s.httpCode === 403) group("F08").client.push(l);
          else if (s.httpCode === 500) group("F10").client.push(l);
          else if (s.httpCode === 503) group("F11").client.push(l);
          break;
        case "manifest-error": {
          const n = parseHresult(s.code);
          if (
            n === 0x87d0027e &&
            davErrors.some((d) => d.signal.kind === "dav-error" && d.signal.httpCode === 405)
          )
            group("F07", "PROPFIND").client.push(l);
          else if (n === 0x800704cf) group("F13").client.push(l);
          break;
        }
        case "error-mapped":
        case "connect-error":
          group("F13").client.push(l);
          break;
        case "ctm-no-location":
          group("F14").client.push(l);
          break;
        case "hash-failed":
          group("F15").client.push(l);
          break;
        case "proxy-failed":
          group("F19").client.push(l);
          break;
        case "error-code": {
          const n = parseHresult(s.code);
          const c = CLIENT_CODES.find((x) => x.code === n);
          if (c) group(c.id).client.push(l);
          break;
        }
        case "ts-http-status":
          // the task sequence names the file on the next "Error downloading file from" line (§4.3, F01 [S34])
          if (s.status >= 400) tsStatus.set(l.record.file, l);
          break;
        case "ts-download-error": {
          const st = tsStatus.get(l.record.file);
          tsStatus.delete(l.record.file);
          const status = st?.signal.kind === "ts-http-status" ? st.signal.status : 404;
          const lines = st ? [st, l] : [l];
          const predicted = predictForUrls([s.url], input, status);
          if (predicted) {
            const g = group(predicted.id, predicted.value);
            g.client.push(...lines);
            g.predicted.push(...predicted.items);
            g.clientPredicted = true;
            g.clientStatus = status;
          } else if (sourceKind(s.url) !== "not-dp") {
            const g = group(idForClientStatus(status));
            g.client.push(...lines);
            g.clientStatus = status;
          }
          break;
        }
        default:
          break;
      }
    }

    for (const l of tsStatus.values())
      if (l.signal.kind === "ts-http-status") {
        const g = group(idForClientStatus(l.signal.status));
        g.client.push(l);
        g.clientStatus = l.signal.status;
      }

    // BITS events (§4.6, §7.4): 60/61 with hr ≠ 0, 202, 16398/16392/16404
    for (const e of input.bits) {
      // a transfer for Windows Update, an MP or anything else is not a DP download (§7.1)
      if (e.url && sourceKind(e.url) === "not-dp") continue;
      if (!e.url && e.jobTitle && e.jobTitle !== "CCMDTS Job" && !bitsByJob.has(e.jobId.toUpperCase()))
        continue;
      if (input.contentId && e.url) {
        const c = contentOfUrl(e.url);
        if (c && !sameContent(c, input.contentId)) continue;
      }
      if ((e.eventId === 60 || e.eventId === 61) && e.hr && parseHresult(e.hr) !== 0) {
        const status = httpStatusOfHresult(e.hr);
        const k = keyOfUrl(e.url);
        const dpGroups = k ? (groupOfKey.get(k) ?? []) : [];
        if (dpGroups.length > 0) for (const g of dpGroups) g.bits.push(e);
        else if (status !== undefined) {
          // no DP line: the engine says which rule would refuse this URL (config given, or the ASP.NET defaults)
          const predicted = e.url ? predictForUrls([e.url], input, status) : undefined;
          const g = predicted ? group(predicted.id, predicted.value) : group(idForClientStatus(status));
          if (predicted) {
            for (const it of predicted.items)
              if (!g.predicted.some((x) => x.target === it.target)) g.predicted.push(it);
            g.clientPredicted = true;
          }
          g.clientStatus = status;
          g.bits.push(e);
        } else {
          const c = CLIENT_CODES.find((x) => x.code === parseHresult(e.hr));
          if (c) group(c.id).bits.push(e);
        }
      } else if (e.eventId === 202) group("F12").bits.push(e);
      else if (e.eventId === 16398 || e.eventId === 16392 || e.eventId === 16404) group("F16").bits.push(e);
    }
    // job-level BITS events (cancel 5/16384, 59/60/61 of the job) go with the group that explains the job
    for (const g of groups.values())
      for (const j of g.jobs)
        for (const e of j.bitsJobId ? (bitsByJob.get(j.bitsJobId) ?? []) : [])
          if (!g.bits.includes(e)) g.bits.push(e);

    // F12 from DP 200s only counts when a range error corroborates it
    for (const g of f12) {
      const corroborated =
        g.bits.some((e) => e.eventId === 202 || [0x80200013, 0x80200011].includes(parseHresult(e.hr) ?? 0)) ||
        g.client.length > 0;
      if (!corroborated) groups.delete(`F12|${(g.value ?? "").toLowerCase()}`);
    }

    // -- config + package folder only: predict what clients would be refused --------------------------------------------
    if (input.packages && input.packages.length > 0 && server && input.evaluate) {
      for (const pkg of input.packages) predictPackage(pkg, server, input.evaluate, group);
    }

    // -- findings ------------------------------------------------------------------------------------------------------
    const have = {
      iis: this.w3cCount > 0,
      httperr: this.httperrCount > 0,
      client: input.cmtrace.length > 0,
      bits: input.bits.length > 0,
      config: input.config?.given === true,
    };
    const findings: Finding[] = [];
    for (const g of groups.values()) {
      const f = buildFinding(g, input, have, jobClients, jobJoins, siteOf);
      if (f) findings.push(f);
    }
    const rank: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };
    findings.sort((a, b) => rank[a.confidence] - rank[b.confidence] || a.id.localeCompare(b.id));

    // -- jobs, timeline, breakdown -------------------------------------------------------------------------------------
    const jobSummaries: JobSummary[] = jobs.map((j) => summarizeJob(j, bitsByJob, jobClients, jobJoins));
    // the timeline follows the packages the findings are about (a day of DP traffic would bury the job)
    const focus = [...new Set(findings.flatMap((f) => f.contentIds))];
    const focusKeys = new Set(focus.map(contentIdKey));
    let focusLines = 0;
    for (const k of focusKeys) focusLines += this.linesOfContent.get(k) ?? 0;
    if (focus.length > 0 && focusLines < this.dpCount)
      notes.push(
        `Timeline: DP lines of ${focus.join(", ")} only (${this.dpCount - focusLines} other DP lines left out).`,
      );
    const lanes =
      focus.length > 0
        ? [...focusKeys].flatMap((k) => {
            const lane = this.timelineOf.get(k);
            return lane ? [lane] : [];
          })
        : [this.timelineAll];
    // content IDs past the lane cap: their earliest lines from the shared lane — exact when nothing was left out of it
    // or when every content ID in it is in focus
    const inRest = focus.length > 0 ? [...focusKeys].filter((k) => this.timelineContentNotKept.has(k)) : [];
    const rest = this.timelineRest;
    const restEvents =
      inRest.length > 0
        ? [...rest.notable.list(), ...rest.ok.list()].filter((x) => x.k !== undefined && focusKeys.has(x.k))
        : [];
    const restExact =
      !(rest.notable.dropped || rest.ok.dropped) ||
      [...this.timelineContentNotKept].every((k) => focusKeys.has(k));
    const dpEvents = [...lanes.flatMap((l) => [...l.notable.list(), ...l.ok.list()]), ...restEvents]
      .sort((a, b) => a.ord - b.ord)
      .map((x) => x.e);
    const timeline = buildTimeline(dpEvents, model.all, input.bits);
    const statusBreakdown = [...this.statusKinds.values()].sort((a, b) => b.count - a.count);
    const lost = restExact ? [] : inRest;
    const limits = this.limitNotes(groups, lost);
    for (const l of limits) notes.push(l);

    const missingArtifacts: string[] = [];
    if (!have.iis) missingArtifacts.push(MISSING.iis);
    if (!have.client) missingArtifacts.push(MISSING.client);
    if (!have.bits) missingArtifacts.push(MISSING.bits);
    if (!have.config) missingArtifacts.push(MISSING.config);
    if (!have.httperr) missingArtifacts.push(MISSING.httperr);
    if (input.config && !input.config.given)
      notes.push(
        "No applicationHost.config was given: client-only refusals were re-evaluated against the embedded ASP.NET default profile (assumption; a DP without ASP.NET may have empty deny lists, spec §6 F01).",
      );

    return {
      tool: "dpdoctor diagnose",
      version: input.version ?? "",
      findings,
      artifacts: input.artifacts,
      jobs: jobSummaries,
      timeline,
      statusBreakdown,
      config: input.config?.given ? input.config.path : null,
      notes,
      missingArtifacts,
      unreadable: input.unreadable ?? [],
      stats: {
        dpLines: this.dpCount,
        w3cRecords: this.w3cCount,
        httperrRecords: this.httperrCount,
        retained: retainedPeak,
        retainedCap: retainedCap(),
        limitsHit: limits.length,
      },
    };
  }

  /** What a cap left out, in the admin's words (empty below every cap). */
  private limitNotes(groups: Map<string, Group>, timelineLost: string[]): string[] {
    const out: string[] = [];
    for (const g of groups.values()) {
      const a = g.dp;
      const parts: string[] = [];
      if (a.requestLinesNotListed > 0)
        parts.push(
          `refusals and evidence listed for the first ${LIMITS.requestsPerFinding} distinct requests (${a.requestLinesNotListed} lines of further requests counted only)`,
        );
      for (const [name, v] of [
        ["content IDs", a.contentIds],
        ["files", a.files],
        ["clients", a.clients],
      ] as const)
        if (v.more > 0)
          parts.push(`${v.listed.size} ${name} listed, ${v.saturated ? "at least " : ""}${v.more} more`);
      if (a.seriesNotKept > 0)
        parts.push(`retry cadence read from the first ${LIMITS.cadenceSeries} (client, URL) series`);
      if (a.seriesTimesCut)
        parts.push(`retry gaps read from the first ${LIMITS.cadenceTimes} times of a series`);
      if (parts.length > 0)
        out.push(
          `Limit: ${g.id}${g.value ? ` ${g.value}` : ""} (${a.lineCount} DP lines, counted exactly): ${parts.join("; ")}.`,
        );
    }
    if (this.handshakesDecidedEarly > 0)
      out.push(
        `Limit: ${this.handshakesDecidedEarly} 401.2 lines were counted as refusals without waiting for a later 2xx (more than ${LIMITS.pendingHandshakes} unanswered 401.2 lines at once).`,
      );
    if (this.success.forgotten > 0)
      out.push(
        `Limit: ${this.success.forgotten} client|URL pairs answered 2xx were pushed out of the table of recent ones (${LIMITS.successKeys} slots); a 401.2 of one of them afterwards, with no 2xx after it, counts as a refusal.`,
      );
    if (timelineLost.length > 0)
      out.push(
        `Limit: the timeline may miss DP lines of ${timelineLost.slice(0, 10).join(", ")}${timelineLost.length > 10 ? ` and ${timelineLost.length - 10} more content IDs` : ""}: past the first ${LIMITS.timelineContentIds} content IDs (and those the client logs, BITS events, package folder or --content name), content IDs share one lane of the ${MAX_TIMELINE} earliest lines.`,
      );
    if (this.statusLinesNotKept > 0)
      out.push(
        `Limit: ${this.statusLinesNotKept} IIS lines with a status kind beyond the first ${LIMITS.statusKinds} are not in the status breakdown.`,
      );
    if (this.contentCountsCut > 0)
      out.push(
        `Limit: ${this.contentCountsCut} DP lines of content IDs beyond the first ${LIMITS.contentIdCounts} are not counted per content ID.`,
      );
    return out;
  }
}

/** The most objects the DP aggregates can hold, whatever the input (a finding's lists are capped, so are the sets). */
export function retainedCap(): number {
  const perGroup =
    LIMITS.requestsPerFinding +
    3 * (LIMITS.listedValues + LIMITS.countedValues) +
    LIMITS.cadenceSeries * (1 + LIMITS.cadenceTimes) +
    64;
  // groups are one per (catalogue entry, rule value): a few dozen on a real DP; 64 is the budget the cap states
  return (
    64 * perGroup +
    LIMITS.successKeys +
    LIMITS.pendingHandshakes +
    LIMITS.contentIdCounts +
    LIMITS.statusKinds +
    (LIMITS.timelineContentIds + 1) * 4 * MAX_TIMELINE
  );
}

/**
 * A legacy BITS text export has a local time without zone; the reader reads it as UTC (its [INF]). When the client's
 * CMTrace logs carry one bias, the export comes from the same machine (assumption): UTC = local + bias (§4.1).
 */
export function placeLocalBitsTimes(
  bits: readonly BitsEventRecord[],
  cmtrace: readonly CmTraceRecord[],
): { bits: readonly BitsEventRecord[]; note?: string } {
  const local = bits.filter((b) => b.inferred?.some((i) => i.includes("no UTC offset")));
  if (local.length === 0) return { bits };
  const biases = new Set(cmtrace.map((r) => r.biasMinutes).filter((b): b is number => typeof b === "number"));
  if (biases.size !== 1) {
    return {
      bits,
      note: `${local.length} BITS event(s) from a text export have a local time without zone; read as UTC (no single client bias to place them). They are joined by BITS job ID only.`,
    };
  }
  const bias = [...biases][0] as number;
  const shifted = bits.map((b) =>
    local.includes(b) && Number.isFinite(b.time)
      ? {
          ...b,
          time: b.time + bias * 60_000,
          inferred: [
            ...(b.inferred ?? []),
            `placed with the client's CMTrace bias ${bias >= 0 ? "+" : ""}${bias} min`,
          ],
        }
      : b,
  );
  return {
    bits: shifted,
    note: `${local.length} BITS event(s) from a text export have a local time without zone: placed on the UTC axis with the client's CMTrace bias (${bias >= 0 ? "+" : ""}${bias} min), assuming the export comes from that client.`,
  };
}

const MISSING = {
  iis: "the DP's IIS log (%SystemDrive%\\inetpub\\logs\\LogFiles\\W3SVC1\\u_exYYMMDD.log for the download's date): only it shows the status.substatus that names the cause",
  client:
    "the client's DataTransferService.log and ContentTransferManager.log (%windir%\\CCM\\Logs): they tie the refusal to the stuck job",
  bits: "the client's BITS events (wevtutil qe Microsoft-Windows-Bits-Client/Operational /f:xml > bits.xml): they show the BITS job's error and cancels",
  config:
    "the DP's applicationHost.config (%windir%\\System32\\inetsrv\\config): to name the exact config line and print the fix command",
  httperr:
    "the DP's HTTPERR log (%SystemRoot%\\System32\\LogFiles\\HTTPERR): 503s and dropped connections appear only there",
};

function withinContent(l: ClientLine, contentId?: string): boolean {
  if (!contentId) return true;
  const m = /SMS_DP_SMSPKG[A-Z]?(?:\$|%24)\/([^/\s'?]+)/i.exec(l.record.message);
  return !m?.[1] || sameContent(m[1], contentId);
}

function keyOfUrl(url: string | undefined): string {
  if (!url) return "";
  return contentKey(parseUrl(url));
}
function contentOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return parseUrl(url).contentId;
}
function parseUrl(url: string) {
  return parseDpUrl(url);
}

/** What a download URL is (§7.1): DP content/signatures, an alternate source (peer cache, CMG), or not a DP at all. */
function sourceKind(url: string | undefined): "dp" | "alternate" | "not-dp" | "unknown" {
  if (!url) return "unknown";
  const k = parseUrl(url).kind;
  if (k === "dp-content" || k === "dp-signature") return "dp";
  if (k === "peer-cache" || k === "cmg") return "alternate";
  return "not-dp";
}

/** HTTP status the client saw, without a DP line to refine it (§5.2: substatus is never visible to the client). */
function idForClientStatus(status: number): FailureId {
  if (status === 404) return "F14";
  if (status === 405) return "F07";
  if (status === 401 || status === 403) return "F08";
  if (status === 407) return "F19";
  if (status === 503) return "F11";
  if (status === 414 || status === 400) return "F04";
  return "F10";
}

/** The site that holds a vdir in the loaded config (Default Web Site for CM2007 and most CB DPs, §2.1, §2.2). */
export function siteForVdir(server: ServerConfig, vdir?: string): string {
  if (vdir) {
    const want = `/${vdir}`.toLowerCase();
    for (const site of server.sites)
      for (const app of site.applications) {
        if (app.path.toLowerCase() === want) return site.name;
        for (const v of app.virtualDirectories)
          if (`${app.path === "/" ? "" : app.path}${v.path}`.toLowerCase() === want) return site.name;
      }
  }
  return server.defaultSiteName;
}

/** A client job refused with `status` and no DP line: ask the engine which rule would refuse its file URLs. */
function predictForJob(
  j: ClientJob,
  input: DiagnoseContext,
  status: number,
): { id: FailureId; value?: string; items: Group["predicted"] } | undefined {
  return predictForUrls(j.fileUrls, input, status);
}

/** Client URLs refused with `status` and no DP line: which config rule would refuse them (the engine decides). */
function predictForUrls(
  urls: readonly string[],
  input: DiagnoseContext,
  status: number,
): { id: FailureId; value?: string; items: Group["predicted"] } | undefined {
  const server = input.config?.server;
  if (!server || !input.evaluate) return undefined;
  const items: Group["predicted"] = [];
  let found: { id: FailureId; value?: string } | undefined;
  for (const u of urls) {
    const p = parseDpUrl(u);
    if (p.kind !== "dp-content" || !p.contentId || p.relativePath === undefined) continue;
    const form = p.form ?? "direct";
    const target = buildDpUrl(form, { contentId: p.contentId, relativePath: p.relativePath, vdir: p.vdir });
    const siteName = siteForVdir(server, p.vdir);
    const verdict = input.evaluate(
      { method: "HEAD", target, headers: { "User-Agent": "Microsoft BITS/7.8" } },
      {
        config: server,
        siteName,
      },
    );
    if (verdict.status !== status) continue;
    const id = idOfVerdict(verdict);
    if (!id) continue;
    const value = valueOfVerdict(id, verdict, p.relativePath, "HEAD");
    found ??= { id, value };
    if (found.id === id)
      items.push({ target, contentId: p.contentId, path: p.relativePath, form, vdir: p.vdir ?? "", verdict });
  }
  return found ? { ...found, items } : undefined;
}

function idOfVerdict(v: Verdict): FailureId | undefined {
  const r = {
    status: v.status,
    substatus: v.substatus,
    method: "HEAD",
  };
  if (r.status === 404) {
    const map: Record<number, FailureId> = { 7: "F01", 8: "F02", 11: "F03", 14: "F04", 15: "F04" };
    return map[r.substatus] ?? (r.substatus === 0 ? undefined : "F05");
  }
  if (r.status === 500 && r.substatus === 19) return "F10";
  return undefined;
}

function valueOfVerdict(id: FailureId, v: Verdict, path: string, method: string): string | undefined {
  const check = v.reasons[0]?.check;
  const reason = v.reasons[0];
  if (id === "F01") return (reason && ruleValue(reason)) ?? extensionOfPath(path);
  if (id === "F02") return reason && ruleValue(reason);
  if (id === "F03") return "+";
  if (id === "F04") return check === "maxUrl" ? "maxUrl" : "maxQueryString";
  if (id === "F05" && check === "verbs") return method;
  return undefined;
}

function extensionOfPath(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : undefined;
}

/** Config + package folder only: every file of the package, in the forms clients use on this DP (§10 q1). */
function predictPackage(
  pkg: PackageListing,
  server: ServerConfig,
  evaluate: NonNullable<DiagnoseInput["evaluate"]>,
  group: (id: FailureId, value?: string) => Group,
): void {
  const vdirs = contentVdirs(server);
  // drive-letter vdirs (the CM2007 layout, served as files) first: their refusals are the ones clients hit
  const ordered = [...vdirs].sort(
    (a, b) => Number(/SMSPKG[A-Z]\$$/i.test(b)) - Number(/SMSPKG[A-Z]\$$/i.test(a)),
  );
  for (const vdir of ordered.length > 0 ? ordered : ["SMS_DP_SMSPKG$"]) {
    for (const form of formsOfVdir(vdir))
      for (const path of pkg.files) {
        const target = buildDpUrl(form, { contentId: pkg.contentId, relativePath: path, vdir });
        const verdict = evaluate(
          { method: "HEAD", target, headers: { "User-Agent": "Microsoft BITS/7.8" } },
          {
            config: server,
            siteName: siteForVdir(server, vdir),
          },
        );
        const id = idOfVerdict(verdict);
        if (!id) continue;
        group(id, valueOfVerdict(id, verdict, path, "HEAD")).predicted.push({
          target,
          contentId: pkg.contentId,
          path,
          form,
          vdir,
          verdict,
        });
      }
  }
}

/**
 * The URL forms a DP content vdir serves (§2.1–§2.3, §10 q1): a drive-letter vdir is the CM2007 layout (direct2007);
 * SMS_DP_SMSPKG$ (and its NOCERT_/CCMTOKENAUTH_ twins) is CB: the client form (sccm?) and the plain form used by task
 * sequences and alternate content providers.
 */
export function formsOfVdir(vdir: string): UrlForm[] {
  return /SMSPKG[A-Z]\$$/i.test(vdir) ? ["direct2007"] : ["client", "direct"];
}

/**
 * Observed refusals, asked again in the other URL forms whose vdirs the given config declares: the same file is
 * usually refused there too (the deny rule is server-wide), and a fix scoped to the observed vdir alone would leave
 * those forms broken. Returns the requests the engine refuses for the same failure, marked as predictions
 * (`observed: false`, `engine: "predicted"`, count 0) — never mixed with what the logs show.
 */
function predictOtherForms(observed: readonly Refusal[], id: FailureId, input: DiagnoseContext): Refusal[] {
  const server = input.config?.server;
  const evaluate = input.evaluate;
  if (!server || !evaluate || !input.config?.given) return [];
  const vdirs = contentVdirs(server);
  const seen = new Set(observed.map((r) => `${r.method.toUpperCase()} ${r.url}`));
  const out: Refusal[] = [];
  for (const r of observed) {
    if (r.engine !== "confirmed" || !r.contentId || r.path === undefined || r.path === "") continue;
    for (const vdir of vdirs)
      for (const form of formsOfVdir(vdir)) {
        const target = buildDpUrl(form, { contentId: r.contentId, relativePath: r.path, vdir });
        const key = `${r.method.toUpperCase()} ${target}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const site = siteForVdir(server, vdir);
        const verdict = evaluate(
          { method: r.method, target, headers: { "User-Agent": "Microsoft BITS/7.8" } },
          { config: server, siteName: site },
        );
        if (verdict.layer === "pass" || verdict.status < 400 || idOfVerdict(verdict) !== id) continue;
        const reason = verdict.reasons[0];
        out.push({
          method: r.method,
          url: target,
          form,
          contentId: r.contentId,
          path: r.path,
          status: verdict.status,
          substatus: verdict.substatus,
          check: reason?.check,
          value: valueOfVerdict(id, verdict, r.path, r.method) ?? r.value,
          site,
          vdir,
          count: 0,
          configSource: reason?.source ?? null,
          engine: "predicted",
          engineStatus: `${verdict.status}.${verdict.substatus}`,
          observed: false,
        });
      }
  }
  return out;
}

const FORM_WORDS: Record<UrlForm, string> = {
  direct2007: "ConfigMgr 2007 form",
  direct: "direct form",
  client: "client (sccm?) form",
};

/** "Also refused in the direct form (predicted): ..." — one line per form, for text/HTML (JSON has the refusals). */
function describeOtherForms(predicted: readonly Refusal[]): string[] {
  const byForm = new Map<string, Refusal[]>();
  for (const r of predicted) {
    const k = `${r.form ?? "direct"}|${r.vdir ?? ""}`;
    byForm.set(k, [...(byForm.get(k) ?? []), r]);
  }
  return [...byForm.values()].map((list) => {
    const first = list[0] as Refusal;
    const urls = list.slice(0, 3).map((r) => `${r.method} ${r.url} → ${r.engineStatus}`);
    const more = list.length > 3 ? ` (+${list.length - 3} more)` : "";
    return `Also refused in the ${FORM_WORDS[first.form ?? "direct"] ?? first.form} on /${first.vdir} (predicted by the engine from the given config; no log line shows it): ${urls.join("; ")}${more}`;
  });
}

/** DP content vdirs declared in the config (`SMS_DP_SMSPKG$`, `SMS_DP_SMSPKGE$`, `NOCERT_…`), §2.1, §2.2. */
export function contentVdirs(server: ServerConfig): string[] {
  const out: string[] = [];
  for (const site of server.sites)
    for (const app of site.applications) {
      const names = [
        app.path,
        ...app.virtualDirectories.map((v) => `${app.path === "/" ? "" : app.path}${v.path}`),
      ];
      for (const n of names) {
        const name = n.replace(/^\/+/, "");
        if (/^(NOCERT_|CCMTOKENAUTH_)?SMS_DP_SMSPKG[A-Z]?\$$/i.test(name) && !out.includes(name))
          out.push(name);
      }
    }
  return out;
}

function cadenceOf(dp: DpGroupAgg): string | undefined {
  const b = dp.busiestSeries();
  if (!b) return undefined;
  const mins = Math.round(b.medianGap / 60_000);
  const every = mins >= 1 ? `every ~${mins} min` : `every ~${Math.round(b.medianGap / 1000)} s`;
  return `The same request was refused ${b.count} times between ${utc(b.first)} and ${utc(b.last)} (${every}).`;
}

function dpEvidence(r: DpLine, note: string): Evidence {
  return {
    file: r.record.file,
    line: r.record.line,
    text: evidenceText(r.record.text),
    source: r.source,
    time: Number.isFinite(r.time) ? r.time : undefined,
    note,
  };
}

function clientEvidence(l: ClientLine, note: string): Evidence {
  return {
    file: l.record.file,
    line: l.record.line,
    text: evidenceText(l.record.message),
    source: "client",
    time: Number.isFinite(l.record.time) ? l.record.time : undefined,
    note,
  };
}

function bitsEvidence(e: BitsEventRecord, note: string): Evidence {
  return {
    file: e.file,
    line: e.line,
    text: evidenceText(e.message || bitsDataText(e) || e.text),
    source: "bits",
    time: Number.isFinite(e.time) ? e.time : undefined,
    note,
  };
}

/** An XML export has no rendered message: show its EventData as `Event 16384: Id=… Title=…`. */
function bitsDataText(e: BitsEventRecord): string {
  const pairs = Object.entries(e.data).filter(([, v]) => v !== "");
  return pairs.length ? `Event ${e.eventId}: ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}` : "";
}

/** Samples a list for evidence: the first few and the last (the retry cadence shows in first/last). */
function sample<T>(list: readonly T[], n = MAX_EVIDENCE_PER_SOURCE): T[] {
  if (list.length <= n) return [...list];
  return [...list.slice(0, n - 1), list[list.length - 1] as T];
}

function buildFinding(
  g: Group,
  input: DiagnoseContext,
  have: { iis: boolean; httperr: boolean; client: boolean; bits: boolean; config: boolean },
  jobClients: Map<ClientJob, Set<string>>,
  jobJoins: Map<ClientJob, Set<string>>,
  siteOf: (vdir?: string) => string,
): Finding | undefined {
  const server = input.config?.server;
  const evidence: Evidence[] = [];
  const refusals: Refusal[] = [];
  const inferred: string[] = [];
  const contentIds = new Set<string>();
  const files = new Set<string>();
  const clients = new Set<string>();
  const joinedBy = new Set<string>();

  // DP refusals, grouped per (method, url, client), re-evaluated by the engine when a config is given
  let engineConfirmed = false;
  let configSourceEvidence: Evidence | undefined;
  for (const v of g.dp.contentIds.listed) contentIds.add(v);
  for (const v of g.dp.files.listed) files.add(v);
  for (const v of g.dp.clients.listed) clients.add(v);
  for (const req of g.dp.requests.values()) {
    const r = req.first;
    const p = r.parts;
    const refusal: Refusal = {
      method: r.method,
      url:
        p.form && p.contentId
          ? buildDpUrl(p.form, { contentId: p.contentId, relativePath: p.relativePath ?? "", vdir: p.vdir })
          : r.url,
      loggedUrl: r.url,
      form: p.form,
      contentId: p.contentId,
      path: p.relativePath,
      status: r.status,
      substatus: r.substatus,
      check: checkOfSubstatus(r.status, r.substatus),
      value: g.value,
      site: siteOf(p.vdir),
      vdir: p.vdir,
      clientIp: r.clientIp || undefined,
      serverIp: r.serverIp || undefined,
      count: req.count,
      firstSeen: Number.isFinite(req.minTime) ? req.minTime : undefined,
      lastSeen: Number.isFinite(req.maxTime) ? req.maxTime : undefined,
      engine: "not-evaluated",
      observed: true,
    };
    if (server && input.evaluate && input.config?.given && p.contentId && p.form) {
      const target = buildDpUrl(p.form, {
        contentId: p.contentId,
        relativePath: p.relativePath ?? "",
        vdir: p.vdir,
      });
      const verdict = input.evaluate(
        { method: r.method, target, headers: { "User-Agent": r.userAgent } },
        { config: server, siteName: refusal.site ?? server.defaultSiteName },
      );
      refusal.engineStatus = `${verdict.status}.${verdict.substatus}`;
      const same = verdict.status === r.status && verdict.substatus === r.substatus;
      refusal.engine = same ? "confirmed" : "differs";
      if (!same)
        inferred.push(
          `The given config answers ${verdict.status}.${verdict.substatus} for ${r.method} ${refusal.url}, not the logged ${r.status}.${r.substatus}: the config may have changed since the log was written, it may not be this DP's, or a web.config below the vdir (not given) adds the rule.`,
        );
      const reason = verdict.reasons[0];
      if (same && reason) {
        engineConfirmed = true;
        refusal.check = reason.check;
        refusal.configSource = reason.source;
        if (reason.inferred) inferred.push(reason.inferred);
        if (reason.source && !configSourceEvidence)
          configSourceEvidence = {
            file: reason.source.file,
            line: reason.source.line,
            text: reason.source.text ?? "",
            source: "config",
            note: `the rule that refuses it: ${reason.message}`,
          };
        if (!refusal.value) refusal.value = valueOfVerdict(g.id, verdict, p.relativePath ?? "", r.method);
      }
      for (const n of verdict.notes ?? []) if (!inferred.includes(n)) inferred.push(n);
    }
    refusals.push(refusal);
    const meaning = describeStatus(r.status, r.substatus).meaning;
    for (const x of req.count >= 2 ? [req.first, req.last] : [req.first])
      evidence.push(
        dpEvidence(
          x,
          x.source === "httperr"
            ? `HTTP.sys refused ${x.method}: ${x.status} ${x.reason ?? ""}`.trim()
            : `IIS answered ${x.method} with ${x.status}.${x.substatus} (${meaning})`,
        ),
      );
  }
  if (configSourceEvidence) evidence.unshift(configSourceEvidence);
  const otherForms = predictOtherForms(refusals, g.id, input);
  refusals.push(...otherForms);
  for (const line of describeOtherForms(otherForms)) inferred.push(line);

  // predictions (client-only jobs, or config + package folder)
  for (const pr of g.predicted) {
    contentIds.add(pr.contentId);
    files.add(pr.path);
    const reason = pr.verdict.reasons[0];
    const vdir = pr.vdir || parseDpUrl(pr.target).vdir;
    refusals.push({
      method: "HEAD",
      url: pr.target,
      form: pr.form,
      contentId: pr.contentId,
      path: pr.path,
      status: pr.verdict.status,
      substatus: pr.verdict.substatus,
      check: reason?.check,
      value: g.value,
      site: siteOf(vdir),
      vdir,
      count: 0,
      configSource: reason?.source ?? null,
      engine: "confirmed",
      engineStatus: `${pr.verdict.status}.${pr.verdict.substatus}`,
      observed: false,
    });
    if (reason?.source && !evidence.some((e) => e.source === "config"))
      evidence.unshift({
        file: reason.source.file,
        line: reason.source.line,
        text: reason.source.text ?? "",
        source: "config",
        note: `the rule that would refuse it: ${reason.message}`,
      });
    if (reason?.inferred && !inferred.includes(reason.inferred)) inferred.push(reason.inferred);
  }
  if (g.predicted.length > 0 && !g.clientPredicted) {
    const forms = new Set(g.predicted.map((p) => p.form));
    if (forms.has("direct") && !forms.has("client") && !forms.has("direct2007"))
      inferred.push(
        "Only the plain-path form (/SMS_DP_SMSPKG$/<ContentID>/<path>) is refused: CB clients use the sccm? form and are not affected; task sequences and alternate content providers (1E Nomad) are (spec §2.3, §10 q1).",
      );
  }

  // client jobs
  let cancelledWhileDownloading: BitsEventRecord | undefined;
  for (const j of g.jobs) {
    const cid = contentOfUrl(j.source) ?? j.contentId;
    if (cid && ![...contentIds].some((c) => sameContent(c, cid))) contentIds.add(cid);
    for (const c of jobClients.get(j) ?? []) clients.add(c);
    for (const k of jobJoins.get(j) ?? []) joinedBy.add(k);
    const created = j.lines.find((l) => l.signal.kind === "dts-created");
    const started = j.lines.find((l) => l.signal.kind === "bits-started");
    if (created) evidence.push(clientEvidence(created, "DTS job created for this content"));
    if (started) evidence.push(clientEvidence(started, "the BITS job that downloads it"));
    for (const l of sample(j.errors, 2)) {
      const code = l.signal.kind === "handle-errors" ? l.signal.code : "";
      const st = httpStatusOfHresult(code);
      evidence.push(
        clientEvidence(
          l,
          st !== undefined
            ? `DTS counts BITS errors: ${code} = HTTP ${st} (the client never sees the IIS substatus)`
            : `DTS counts BITS errors: ${code}`,
        ),
      );
    }
    const lastState = j.states.at(-1);
    if (lastState) evidence.push(clientEvidence(lastState.line, `last DTS state: ${lastState.state}`));
    const outcome = jobOutcome(j);
    for (const e of j.bitsJobId ? g.bits.filter((b) => b.jobId.toUpperCase() === j.bitsJobId) : [])
      if ((e.eventId === 16384 || e.eventId === 5) && outcome !== "completed")
        cancelledWhileDownloading ??= e;
  }
  for (const l of sample(g.client)) evidence.push(clientEvidence(l, clientNote(l)));
  for (const e of sample(g.bits, 4)) {
    const cancel = e.eventId === 16384 || e.eventId === 5;
    evidence.push(
      bitsEvidence(
        e,
        cancel
          ? e === cancelledWhileDownloading || cancelledWhileDownloading?.jobId === e.jobId
            ? `BITS event ${e.eventId}: the job was cancelled while DTS still showed it downloading — the hang signature (§7.7)`
            : `BITS event ${e.eventId}: job cancelled`
          : `BITS event ${e.eventId}${e.hr ? ` hr ${e.hr}` : ""}`,
      ),
    );
  }
  if (g.bits.length > 0 && g.jobs.size > 0) joinedBy.add("BITS job ID");
  if (g.dp.lineCount > 0 && g.jobs.size === 0 && g.bits.some((e) => e.url))
    joinedBy.add("URL (BITS event ↔ IIS line)");

  if (evidence.length === 0) return undefined;

  // confidence (§6 per entry; corroboration across artifacts raises it)
  const dpSays = g.dp.lineCount > 0;
  const clientSays = g.jobs.size > 0 || g.client.length > 0 || g.bits.length > 0;
  let confidence: Confidence;
  if (dpSays) confidence = clientSays || engineConfirmed ? "high" : "medium";
  else if (g.clientPredicted) confidence = have.config ? "medium" : "low";
  else if (g.predicted.length > 0) confidence = "low";
  else if (g.client.length >= 2 || (g.client.length > 0 && g.bits.length > 0)) confidence = "medium";
  else confidence = g.clientStatus !== undefined ? "low" : "medium";
  if (g.id === "F12" && !dpSays) confidence = "medium";

  const entry = CATALOGUE[g.id];
  const firstRefusal = refusals[0];
  const vdir = firstRefusal?.vdir ?? parseDpUrl(firstRefusal?.url ?? "").vdir;
  const site = firstRefusal?.site ?? siteOf(vdir);
  const fix = fixFor(g.id, {
    // a config read from inside a .zip cannot be edited in place: the command targets the DP's own file
    configPath: input.config?.given && !input.config.path.includes(".zip!/") ? input.config.path : undefined,
    site,
    vdir,
    // observed and predicted refusals alike: the printed fix covers every vdir they name
    vdirs: refusals.flatMap((r) => r.vdir ?? parseDpUrl(r.url ?? "").vdir ?? []),
    value: g.value ?? firstRefusal?.value,
    allowList: /allowUnlisted="false"/i.test(firstRefusal?.configSource?.text ?? ""),
    mimeMap: needsMimeMap(g.id, firstRefusal, server),
    mimeMapVdirs: refusals.flatMap((r) => (r.vdir && needsMimeMap(g.id, r, server) ? [r.vdir] : [])),
    rerunArgs: input.rerunArgs,
  });

  const missing: string[] = [];
  if (!have.iis && !dpSays) missing.push(MISSING.iis);
  if (!have.client && g.jobs.size === 0) missing.push(MISSING.client);
  const beforeBits = g.id === "F07" || g.id === "F14" || g.dp.onlyMethod("PROPFIND");
  if (!have.bits && g.bits.length === 0 && !viaTaskSequence(g) && !beforeBits) missing.push(MISSING.bits);
  if (!have.config && ["F01", "F02", "F03", "F04", "F05"].includes(g.id)) missing.push(MISSING.config);
  if (g.id === "F11" && !have.httperr) missing.push(MISSING.httperr);

  const status = firstRefusal?.status ?? g.clientStatus;
  const hang = hangFor(g, status, cadenceOf(g.dp), cancelledWhileDownloading);
  const predictedOnly =
    g.dp.lineCount === 0 &&
    g.predicted.length > 0 &&
    g.jobs.size === 0 &&
    g.client.length === 0 &&
    g.bits.length === 0;
  const cause = `${predictedOnly ? "Predicted from the config and the package folder (no log shows it yet): " : ""}${causeFor(g, firstRefusal, [...contentIds], engineConfirmed || g.predicted.length > 0)}`;
  if (g.id === "F14" && g.dp.has404dot0)
    inferred.push("404.0 on DP content is read as 'file missing on the DP' (spec §6 F14, inference).");
  if (g.clientStatus !== undefined && !dpSays && !g.clientPredicted)
    inferred.push(
      `The client only sees HTTP ${g.clientStatus} (${formatHresult(0x80190000 + g.clientStatus)}); the DP's substatus would name the cause (§5.2).`,
    );
  if (!have.config && dpSays && ["F01", "F02", "F03"].includes(g.id))
    inferred.push(
      "Rule value read from the log line; give --config to confirm it against the DP's applicationHost.config.",
    );

  return {
    id: g.id,
    title: entry.title,
    confidence,
    cause,
    hang,
    contentIds: [...contentIds].sort(),
    files: [...files].sort(),
    clients: [...clients].sort(),
    evidence,
    fix,
    refusals,
    missing,
    joinedBy: [...joinedBy],
    inferred,
    ...(g.dp.lineCount > 0 ? { lineCount: g.dp.lineCount } : {}),
    ...moreOf(g.dp),
  };
}

/** The "and N more" counters of a finding, only when a cap was hit. */
function moreOf(a: DpGroupAgg): { more?: Finding["more"] } {
  const more: NonNullable<Finding["more"]> = {};
  if (a.contentIds.more > 0) more.contentIds = a.contentIds.more;
  if (a.files.more > 0) more.files = a.files.more;
  if (a.clients.more > 0) more.clients = a.clients.more;
  if (a.requestLinesNotListed > 0) more.requestLines = a.requestLinesNotListed;
  return Object.keys(more).length > 0 ? { more } : {};
}

/**
 * CM2007 content is served by the static file handler (§2.1, §3.4): once request filtering lets an extension through,
 * IIS answers 404.3 unless staticContent has a mimeMap for it (spec F05 404.3). Returns the extension to map, if any.
 */
function needsMimeMap(
  id: FailureId,
  r: Refusal | undefined,
  server: ServerConfig | undefined,
): string | undefined {
  if (id !== "F01" || !r || r.form !== "direct2007" || !server || !r.value) return undefined;
  const path = r.vdir && r.contentId ? `/${r.vdir}/${r.contentId}/${r.path ?? ""}` : "/";
  try {
    const eff = server.effective(r.site ?? server.defaultSiteName, path);
    return eff.staticContent.index.has(r.value.toLowerCase()) ? undefined : r.value;
  } catch {
    return undefined;
  }
}

function clientNote(l: ClientLine): string {
  const s = l.signal;
  switch (s.kind) {
    case "dav-error":
      return `DTS directory listing (PROPFIND) failed: HTTP ${s.httpCode}${s.httpCode === 600 ? " (no HTTP answer)" : ""}`;
    case "manifest-error":
      return s.retry !== undefined
        ? `DTS will retry the manifest (attempt ${s.retry}, every ${s.retrySeconds} s)`
        : `DTS could not retrieve the manifest (${s.code})`;
    case "error-mapped":
      return `DTS maps ${s.from} to ${s.to}`;
    case "connect-error":
      return `connection to the DP failed (${s.code})`;
    case "ctm-no-location":
      return "CTM got no content location from the MP";
    case "hash-failed":
      return "hash verification failed";
    case "proxy-failed":
      return "DTS could not set a working proxy on the BITS job";
    case "ts-http-status":
      return `task sequence download answered HTTP ${s.status}`;
    case "ts-download-error":
      return "the file the task sequence could not download";
    case "error-code":
      return `error ${s.code}: ${CLIENT_CODES.find((c) => c.code === parseHresult(s.code))?.meaning ?? ""}`;
    default:
      return s.kind;
  }
}

/** Only task-sequence lines (smsts.log) show the failure: WinHTTP downloads, no BITS job (§1). */
function viaTaskSequence(g: Group): boolean {
  return g.jobs.size === 0 && g.client.length > 0 && g.client.every((l) => l.signal.kind.startsWith("ts-"));
}

function causeFor(g: Group, r: Refusal | undefined, contentIds: string[], confirmed: boolean): string {
  const pkg =
    contentIds.length > 0
      ? ` in ${contentIds.length === 1 ? "package" : "packages"} ${contentIds.slice(0, 20).join(", ")}${contentIds.length > 20 ? ` and ${contentIds.length - 20} more (listed in contentIds)` : ""}`
      : "";
  const vdir = r?.vdir ? ` on ${r.vdir}` : "";
  const by =
    confirmed && r?.configSource
      ? ` by ${r.configSource.text ?? "a config rule"} (${r.configSource.file}:${r.configSource.line})`
      : "";
  switch (g.id) {
    case "F01":
      return `IIS request filtering${vdir} refuses files with the extension ${g.value ?? "(unknown)"}${pkg}${by}, so ${viaTaskSequence(g) ? "the task sequence" : "BITS"} cannot download them.`;
    case "F02":
      return `IIS request filtering${vdir} hides the folder "${g.value ?? "?"}"${pkg}${by}, so ${viaTaskSequence(g) ? "the task sequence" : "BITS"} cannot download the files under it.`;
    case "F03":
      return `IIS request filtering${vdir} refuses URLs that need double escaping ('+' or '%25' in a file or folder name)${pkg}${by}.`;
    case "F04":
      return `The URL${pkg} is longer than the DP allows (${g.value ?? "request limits"})${by}.`;
    case "F05":
      return g.value
        ? `IIS request filtering${vdir} denies the verb ${g.value}${pkg}${by}; a DP needs GET, HEAD and PROPFIND.`
        : `IIS request filtering${vdir} refuses the DP's requests${pkg} (${r ? `${r.status}.${r.substatus}` : "404.x"})${by}.`;
    case "F06":
      return `Package files${pkg} with ASP.NET extensions are executed by a managed handler instead of being served (500).`;
    case "F07":
      return `WebDAV Publishing on the DP answers the client's PROPFIND with 405, so DTS cannot list the content${pkg}.`;
    case "F08":
      return `The DP refuses the client's credentials or access (${r ? `${r.status}.${r.substatus}` : "401/403"})${pkg}.`;
    case "F09":
      return "The client cannot establish HTTPS with the DP (certificate or revocation check failure).";
    case "F10": {
      if (r?.status === 500 && r.substatus === 19) {
        // spec §6 F10: 500.19 win32 33 = section locked at a parent level, 5 = access denied, 3 = config file not found
        const w = g.dp.first?.win32Status;
        const why =
          w === 33
            ? ": a configuration section is locked at a parent level (0x80070021)"
            : w === 5
              ? ": IIS cannot read a configuration file (access denied, 0x80070005)"
              : w === 3
                ? ": a configuration file is missing (0x80070003)"
                : "";
        return `IIS cannot read the configuration for the DP's URLs${pkg} (500.19)${why}${by}; every request there fails until it is fixed.`;
      }
      return `The DP answers with a server error (${r ? `${r.status}.${r.substatus}` : "500"})${pkg}${by}.`;
    }
    case "F11":
      return `HTTP.sys answers 503${r?.url ? "" : ""}: the DP's application pool is not serving (${g.value ?? "app pool unavailable"})${pkg}.`;
    case "F12":
      return "Something between client and DP does not honour HTTP range requests, which BITS requires.";
    case "F13":
      return "The client cannot reach the DP (connection refused, timed out, or name not resolved).";
    case "F14":
      return r
        ? `The DP answers 404.0 (file not found) for content${pkg}: the content is missing or incomplete on this DP.`
        : `The client gets no usable content location${pkg}, or the DP does not have the file.`;
    case "F15":
      return `The downloaded content${pkg} does not match its hash, so the client discards it.`;
    case "F16":
      return "The client's BITS service refuses or loses jobs (queue limit or service error).";
    case "F17":
      return "The alternate content source (peer cache, cloud DP or CMG) fails the request.";
    case "F18":
      return "The client cache is too small or full for this content.";
    case "F19":
      return "The proxy configuration of the SYSTEM account blocks the download.";
  }
}

function hangFor(
  g: Group,
  status: number | undefined,
  cadence: string | undefined,
  cancel?: BitsEventRecord,
): string {
  let text: string;
  if (viaTaskSequence(g))
    return `Task sequences download with WinHTTP, not BITS: the step fails (HTTP ${status ?? "?"}, "Download() failed with 0x80004005") with no BITS job in between, and every computer that runs this step against this DP gets the same refusal.`;

  const manifestOnly = g.dp.onlyMethod("PROPFIND");
  switch (manifestOnly && g.id !== "F07" ? "manifest" : g.id) {
    case "manifest":
      text = `The directory listing (PROPFIND) is refused with HTTP ${status ?? "?"}, before any BITS job exists: DTS logs "Error retrieving manifest" and retries, so the deployment waits for content until CTM times out (0x800705B4).`;
      break;
    case "F07":
      text =
        "The failure happens at the directory listing, before any BITS job exists: DTS retries the manifest and the deployment waits until CTM times out (0x800705B4 Download timeout).";
      break;
    case "F13":
      text =
        "Network errors are transient: DTS retries the manifest every hour and BITS every MinimumRetryDelay (600 s), so nothing fails for days.";
      break;
    case "F14":
      text =
        status === 404
          ? hangExplanation(404, cadence)
          : "CTM waits for content locations; the download stays at 0% without an error on the DP side.";
      break;
    case "F12":
      text =
        "BITS needs ranges: a full 200 answer (or a HEAD without Content-Length) gives BG_E_INSUFFICIENT_RANGE_SUPPORT 0x80200013 / BG_E_MISSING_FILE_SIZE 0x80200011, which puts the BITS job in ERROR [S51]; DTS keeps the job, so the download sits at the same percentage.";
      break;
    case "F15":
      text =
        "CAS discards the content after download and the job starts again; the client shows the content as still downloading.";
      break;
    case "F16":
    case "F18":
    case "F19":
      text =
        "The BITS job cannot proceed on the client; DTS keeps it queued, so the deployment waits for content.";
      break;
    default:
      text =
        status !== undefined
          ? hangExplanation(status, cadence)
          : "DTS keeps retrying; the deployment shows as waiting for content.";
  }
  if (status !== undefined && status >= 400 && !isFatalForBits(status) && cadence && !text.includes(cadence))
    text += ` ${cadence}`;
  if (cancel)
    text += ` BITS event ${cancel.eventId} at ${utc(cancel.time)} shows the job cancelled while DTS still showed it downloading — the hang signature, not a normal cleanup (§7.7).`;
  return text;
}

function summarizeJob(
  j: ClientJob,
  bitsByJob: Map<string, BitsEventRecord[]>,
  jobClients: Map<ClientJob, Set<string>>,
  jobJoins: Map<ClientJob, Set<string>>,
): JobSummary {
  const base = jobOutcome(j);
  const events = j.bitsJobId ? (bitsByJob.get(j.bitsJobId) ?? []) : [];
  const cancelled = events.some((e) => e.eventId === 16384 || e.eventId === 5);
  const last = j.errors.at(-1);
  return {
    dtsJobId: j.dtsJobId,
    bitsJobId: j.bitsJobId,
    ctmJobId: j.ctmJobId,
    contentId: j.contentId ?? contentOfUrl(j.source),
    source: j.source,
    files: j.fileUrls.map((u) => parseDpUrl(u).relativePath ?? u),
    lastState: j.states.at(-1)?.state,
    outcome: cancelled && base === "in-progress" ? "cancelled-while-downloading" : base,
    errorCount: last?.signal.kind === "handle-errors" ? last.signal.newCount : undefined,
    lastErrorCode: last?.signal.kind === "handle-errors" ? last.signal.code : undefined,
    firstSeen: Number.isFinite(j.firstSeen) ? j.firstSeen : undefined,
    lastSeen: Number.isFinite(j.lastSeen) ? j.lastSeen : undefined,
    clients: [...(jobClients.get(j) ?? [])],
    joinedBy: [...(jobJoins.get(j) ?? [])],
  };
}

/** A DP line on the timeline (refusals are errors). */
function dpTimelineEvent(r: DpRequest): TimelineEvent {
  return {
    time: r.time,
    lane: "dp",
    label: `${r.method} ${r.parts.relativePath ?? r.url} → ${r.status}${r.source === "iis" ? `.${r.substatus}` : ` ${r.reason ?? ""}`} (${r.clientIp})`,
    level: r.status >= 400 ? "error" : "ok",
    file: r.record.file,
    line: r.record.line,
  };
}

/** `dp`: the DP events in line order (the earliest ones per lane: enough for the cut below). */
function buildTimeline(
  dp: readonly TimelineEvent[],
  client: ClientLine[],
  bits: readonly BitsEventRecord[],
): TimelineEvent[] {
  const out: TimelineEvent[] = [...dp];
  for (const l of client) {
    if (!Number.isFinite(l.record.time)) continue;
    const s = l.signal;
    const level =
      s.kind === "handle-errors" ||
      s.kind === "dav-error" ||
      s.kind === "manifest-error" ||
      l.record.type === 3
        ? "error"
        : l.record.type === 2
          ? "warning"
          : "ok";
    out.push({
      time: l.record.time,
      lane: "client",
      label: timelineLabel(l),
      level,
      file: l.record.file,
      line: l.record.line,
    });
  }
  for (const e of bits) {
    if (!Number.isFinite(e.time)) continue;
    const failed = (e.eventId === 60 || e.eventId === 61) && e.hr && parseHresult(e.hr) !== 0;
    out.push({
      time: e.time,
      lane: "bits",
      label: `BITS ${e.eventId}${e.jobTitle ? ` ${e.jobTitle}` : ""}${e.hr && parseHresult(e.hr) !== 0 ? ` hr ${e.hr}` : ""}${e.eventId === 16384 || e.eventId === 5 ? " (job cancelled)" : ""}`,
      level: failed ? "error" : e.eventId === 16384 || e.eventId === 5 ? "warning" : "ok",
      file: e.file,
      line: e.line,
      timeAssumed: e.inferred?.some((i) => i.includes("no UTC offset")) ? true : undefined,
    });
  }
  out.sort((a, b) => a.time - b.time);
  if (out.length <= MAX_TIMELINE) return out;
  // too many to draw: keep every refusal, error and cancel first, then the earliest normal events
  const notable = out.filter((e) => e.level !== "ok").slice(0, MAX_TIMELINE);
  const rest = out.filter((e) => e.level === "ok").slice(0, MAX_TIMELINE - notable.length);
  return [...notable, ...rest].sort((a, b) => a.time - b.time);
}

function timelineLabel(l: ClientLine): string {
  const s = l.signal;
  switch (s.kind) {
    case "dts-created":
      return `DTS job created (${s.url})`;
    case "bits-started":
      return `BITS job ${s.bits} started`;
    case "dts-state":
      return `DTS state ${s.state}`;
    case "handle-errors":
      return `DTS HandleErrors #${s.newCount} ${s.code}`;
    case "file-url":
      return `file ${parseDpUrl(s.url).relativePath ?? s.url}`;
    case "ctm-dts":
      return "CTM started download";
    case "progress":
      return `progress ${s.transferredFiles}/${s.totalFiles} files`;
    default:
      return clientNote(l);
  }
}
