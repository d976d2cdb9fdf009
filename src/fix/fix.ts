/**
 * `dpdoctor fix` as a library: refused requests and explicit asks → a scoped plan → the edited text → the proof.
 * Nothing here writes a file (see atomic-write.ts); the same function serves the dry run and `--apply`.
 * Spec: iis-request-filtering.md §6 (what each check needs), §8 (merging, locks); configmgr-dp-bits.md §6.
 */
import type { ServerConfig } from "../config/types.js";
import { parseXmlText, type XmlDocument } from "../config/xml.js";
import { DEFAULT_CONTENT_VDIR, SIGNATURE_VDIR } from "../dp/urlforms.js";
import { canonicalizePath, splitTarget, utf8Length } from "../engine/canonical.js";
import { extensionOf } from "../engine/evaluate.js";
import type { CheckName, Reason, Verdict } from "../engine/types.js";
import { UsageError } from "../errors.js";
import type { FindingsInput } from "./findings.js";
import {
  type Ask,
  askKey,
  askLabel,
  type Plan,
  type ProofRequest,
  type ScopePlan,
  type Unfixable,
} from "./model.js";
import { planScope, type ScopeTarget } from "./plan.js";
import { editText } from "./splice.js";
import { type Evaluate, isRefusedByConfig, type Proof, prove, statusText } from "./verify.js";

export type LoadFromText = (appHost: { text: string; file: string }) => ServerConfig;

export interface FixOptions {
  /** applicationHost.config as decoded text, and its path (for messages and the diff). */
  text: string;
  file: string;
  /** Default "Default Web Site". */
  site: string;
  /** Explicit --vdir; default SMS_DP_SMSPKG$ for explicit asks; refused requests bring their own. */
  vdir?: string;
  scope: "vdir" | "server";
  asks: Ask[];
  findings?: FindingsInput;
  evaluate: Evaluate;
  load: LoadFromText;
}

export interface FixResult {
  plan: Plan;
  doc: XmlDocument;
  before: ServerConfig;
  after: ServerConfig;
  newText: string;
  changed: boolean;
  proof: Proof;
  /** Notes for the admin (choices made, inferences). */
  notes: string[];
}

/** A refused request with the asks that would make it pass. */
interface Refused {
  site: string;
  method: string;
  target: string;
  vdir: string;
  verdict: Verdict;
  why: string;
}

export const DEFAULT_MIME_TYPE = "application/octet-stream";
const PROBE_CONTENT_ID = "DPD00001"; // synthetic package ID for proof requests built from explicit asks

function canonicalOf(target: string, v?: Verdict): string {
  if (v?.canonicalPath) return v.canonicalPath;
  const c = canonicalizePath(splitTarget(target).rawPath, target.length);
  return typeof c === "string" ? c : splitTarget(target).rawPath;
}

/** The first path segment of a request: the virtual directory it is served from. */
export function vdirOf(target: string, v?: Verdict): string {
  return canonicalOf(target, v).split("/").filter(Boolean)[0] ?? "";
}

/** Checks a configuration change cannot answer, and what to do instead. */
const NOT_CONFIG: Partial<Record<CheckName, string>> = {
  "httpsys.segmentTooLong":
    "a path segment is longer than http.sys allows (260 by default, §5.2): rename the file or folder",
  "httpsys.urlTooLong": "the URL is longer than http.sys allows (16 KB, §5.2): shorten the package path",
  "httpsys.tooManySegments": "the URL has more than 255 segments (§5.2): shorten the package's folder depth",
  "httpsys.invalidCharacter": "http.sys refuses a character of the URL (§5.2): rename the file",
  "httpsys.badEscape": "the URL carries an invalid % escape (§5.2): rename the file",
  "httpsys.aboveRoot": "the URL climbs above the site root (§5.2)",
  "httpsys.badTarget": "http.sys refuses the request target (§5.2)",
  "config.invalid": "the configuration itself is invalid (500.19, §8.4): fix the reported config line first",
  denyUrlSequences:
    "a denyUrlSequences entry matches (404.5): review that hardening rule by hand; fix does not remove deny sequences",
  denyQueryStringSequences: "a denyQueryStringSequences entry matches (404.18): review that rule by hand",
  filteringRules: "a filteringRule matches (404.19): review that rule by hand",
  headerLimits: "a headerLimits entry refuses a request header (431): review that limit by hand",
  maxAllowedContentLength: "the request body is too large (413.1): not a download problem",
};

/** The asks that would lift each request-filtering reason of a verdict (§6.3–§6.10). */
export function asksForVerdict(
  method: string,
  target: string,
  v: Verdict,
  server: ServerConfig,
  site: string,
): { asks: Ask[]; unfixable: string[] } {
  const asks: Ask[] = [];
  const unfixable: string[] = [];
  const canonical = canonicalOf(target, v);
  for (const r of v.reasons as Reason[]) {
    switch (r.check) {
      case "fileExtensions":
        asks.push({ kind: "allowExtension", extension: extensionOf(canonical) });
        break;
      case "hiddenSegments": {
        const idx = server.effective(site, canonical).requestFiltering.hiddenSegments.index;
        for (const s of canonical.split("/").filter(Boolean)) {
          const e = idx.get(s.toLowerCase());
          if (e) asks.push({ kind: "allowSegment", segment: e.segment });
        }
        break;
      }
      case "verbs":
        asks.push({ kind: "allowVerb", verb: method });
        break;
      case "doubleEscaping":
        asks.push({ kind: "allowDoubleEscaping" });
        break;
      case "highBitCharacters":
        asks.push({ kind: "allowHighBit" });
        break;
      case "maxQueryString":
        asks.push({ kind: "maxQueryString", value: utf8Length(splitTarget(target).query ?? "") });
        break;
      case "maxUrl":
        asks.push({ kind: "maxUrl", value: utf8Length(canonical) });
        break;
      case "static.mimeMap":
        // [INF] any type works for BITS, which stores bytes; application/octet-stream is what IIS uses for unknown binaries
        asks.push({ kind: "addMimeMap", extension: extensionOf(canonical), mimeType: DEFAULT_MIME_TYPE });
        break;
      default: {
        const why = NOT_CONFIG[r.check];
        if (why || r.check.startsWith("httpsys.") || r.check === "config.invalid")
          unfixable.push(why ?? r.message);
      }
    }
  }
  return { asks, unfixable };
}

/** The request-filtering check each ask lifts (§6). */
export const CHECK_OF_ASK: Record<Ask["kind"], CheckName> = {
  allowExtension: "fileExtensions",
  allowSegment: "hiddenSegments",
  allowVerb: "verbs",
  allowDoubleEscaping: "doubleEscaping",
  allowHighBit: "highBitCharacters",
  maxQueryString: "maxQueryString",
  maxUrl: "maxUrl",
  addMimeMap: "static.mimeMap",
};

/** A path of exactly `length` bytes below `prefix`, cut in segments http.sys accepts. */
function pathOfLength(prefix: string, length: number): string {
  let p = prefix;
  while (p.length < length - 4) p += `/${"a".repeat(Math.min(200, length - 4 - p.length - 1))}`;
  return `${p}${".txt".slice(0, Math.max(0, length - p.length))}`;
}

/** Requests that show an explicit ask at work (refused before, passing after) inside the virtual directory. */
export function probeRequests(ask: Ask, site: string, vdir: string): ProofRequest[] {
  const base = `/${vdir}/${PROBE_CONTENT_ID}`;
  const why = `probe for "${askLabel(ask)}"`;
  const r = (method: string, target: string): ProofRequest => ({
    role: "refused",
    siteName: site,
    method,
    target,
    why,
    check: CHECK_OF_ASK[ask.kind],
  });
  switch (ask.kind) {
    case "allowExtension":
      return [r("HEAD", `${base}/sample${ask.extension === "." ? "" : ask.extension}`)];
    case "allowSegment":
      return [r("HEAD", `${base}/${encodeURIComponent(ask.segment)}/sample.txt`)];
    case "allowVerb":
      return [r(ask.verb, `${base}/sample.txt`)];
    case "allowDoubleEscaping":
      return [r("HEAD", `${base}/Microsoft+Visual+C++/vcredist_x86.exe`)];
    case "allowHighBit":
      return [r("HEAD", `${base}/caf%C3%A9.txt`)];
    case "maxQueryString":
      return [r("HEAD", `${base}/sccm?/${"a".repeat(Math.max(0, ask.value - 1))}`)];
    case "maxUrl":
      return [r("HEAD", pathOfLength(base, ask.value))];
    case "addMimeMap":
      return [r("HEAD", `${base}/sample${ask.extension}`)];
  }
}

/** Controls: the refused path on every other site, on another virtual directory, and at the site root. */
function controlsFor(p: ProofRequest, server: ServerConfig, vdir: string): ProofRequest[] {
  const out: ProofRequest[] = [];
  for (const s of server.sites)
    if (s.name.toLowerCase() !== p.siteName.toLowerCase())
      out.push({ ...p, role: "control", siteName: s.name, why: `same path on site "${s.name}"` });
  if (!vdir) return out;
  const { rawPath, query } = splitTarget(p.target);
  const rest = rawPath.replace(/^\/[^/]*/, "");
  const q = query === undefined ? "" : `?${query}`;
  const other = vdir.toLowerCase() === SIGNATURE_VDIR.toLowerCase() ? DEFAULT_CONTENT_VDIR : SIGNATURE_VDIR;
  out.push({
    ...p,
    role: "control",
    target: `/${other}${rest}${q}`,
    why: `other virtual directory ${other}`,
  });
  out.push({
    ...p,
    role: "control",
    target: `${rest || "/"}${q}`,
    why: "same path outside the virtual directory",
  });
  return out;
}

function dedupeProof(list: ProofRequest[]): ProofRequest[] {
  const seen = new Map<string, ProofRequest>();
  for (const p of list) {
    const k = `${p.siteName.toLowerCase()} ${p.method} ${p.target}`;
    const prev = seen.get(k);
    if (!prev || (prev.role === "control" && p.role === "refused")) seen.set(k, p);
  }
  return [...seen.values()];
}

function addAsk(list: Ask[], ask: Ask): void {
  const k = askKey(ask);
  const i = list.findIndex((a) => askKey(a) === k);
  if (i < 0) list.push(ask);
  else {
    const prev = list[i] as Ask;
    // keep the largest limit asked for
    if (
      (prev.kind === "maxUrl" || prev.kind === "maxQueryString") &&
      prev.kind === ask.kind &&
      ask.value > prev.value
    )
      list[i] = ask;
  }
}

/** Plans, edits (in memory) and proves. Iterates when lifting one check reveals the next one (§7 order). */
export function planFix(o: FixOptions): FixResult {
  const doc = parseXmlText(o.text, o.file);
  const before = o.load({ text: o.text, file: o.file });
  const notes: string[] = [];
  const unfixable: Unfixable[] = [];
  const alreadyAllowed: string[] = [];
  const refused: Refused[] = [];
  const controls: ProofRequest[] = [];

  // Sites and virtual directories are checked against the configuration (names as IIS spells them).
  const siteName = (name: string): string => {
    if (before.sites.length === 0) return name;
    const site = before.sites.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!site)
      throw new UsageError(
        `site "${name}" is not in ${o.file} (sites: ${before.sites.map((x) => x.name).join(", ")}): use --site`,
      );
    return site.name;
  };
  const vdirNote = (site: string, vdir: string) => {
    const s = before.sites.find((x) => x.name === site);
    if (!s || !vdir) return;
    const paths = s.applications.flatMap((a) =>
      a.virtualDirectories.map((v) =>
        `${a.path.replace(/\/$/, "")}${v.path === "/" ? "" : v.path}`.toLowerCase(),
      ),
    );
    if (!paths.includes(`/${vdir}`.toLowerCase()))
      notes.push(
        `${site} declares no virtual directory /${vdir} in ${o.file}: the <location> then applies to a folder of that name under the site root.`,
      );
  };

  // 1. Requests from the findings: the engine decides again, against this configuration.
  for (const r of o.findings?.requests ?? []) {
    const site = siteName(r.site ?? o.site);
    const control = (why: string) =>
      controls.push({ role: "control", siteName: site, method: r.method, target: r.target, why });
    // what the findings file saw served stays a control: it must keep its verdict
    if (!r.reportedRefused) {
      control(o.findings?.kind === "check" ? `rest of the package (${r.from})` : r.from);
      continue;
    }
    const v = o.evaluate({ method: r.method, target: r.target }, { config: before, siteName: site });
    if (isRefusedByConfig(v)) {
      refused.push({
        site,
        method: r.method,
        target: r.target,
        vdir: vdirOf(r.target, v),
        verdict: v,
        why: r.from,
      });
      continue;
    }
    control(`${r.from}, not refused under this configuration`);
    notes.push(
      `${r.method} ${r.target} (${r.from}, reported ${r.reported ?? "refused"}) is ${statusText(v)} under ${o.file}: already served by this configuration (fixed before, or the findings come from another one); nothing planned for it.`,
    );
  }

  // 2. Scope targets: the refused requests' virtual directories, or --vdir / the default for explicit asks.
  const targets = new Map<string, { target: ScopeTarget; asks: Ask[]; refused: Refused[] }>();
  const targetFor = (site: string, vdir: string, reason: string) => {
    const server = o.scope === "server";
    const key = server ? "" : `${site.toLowerCase()}/${vdir.toLowerCase()}`;
    let t = targets.get(key);
    if (!t) {
      if (!server) vdirNote(site, vdir);
      t = {
        target: {
          siteName: site,
          vdir: server ? "" : vdir,
          server,
          reason: server ? "--scope server" : reason,
        },
        asks: [],
        refused: [],
      };
      targets.set(key, t);
    }
    return t;
  };
  const explicitVdir = o.vdir ?? DEFAULT_CONTENT_VDIR;
  const defaultSite = siteName(o.site);
  for (const ask of o.asks)
    addAsk(targetFor(defaultSite, explicitVdir, o.vdir ? "--vdir" : "default scope").asks, ask);
  for (const r of refused) {
    const reason = "the virtual directory of the refused requests";
    if (o.vdir && r.vdir.toLowerCase() !== o.vdir.toLowerCase() && o.scope !== "server")
      notes.push(
        `${r.target} is served from ${r.vdir}, not --vdir ${o.vdir}: the scope follows the refused request.`,
      );
    targetFor(r.site, r.vdir, reason).refused.push(r);
  }

  // 3. Plan, edit, prove; when lifting one check reveals another (§7: only the first may be reported), plan again.
  let plan: Plan | undefined;
  let newText = o.text;
  let after = before;
  let proof: Proof = { ok: true, results: [] };
  for (let round = 0; round < 4; round++) {
    for (const t of targets.values())
      for (const r of t.refused) {
        const v =
          round === 0
            ? r.verdict
            : o.evaluate({ method: r.method, target: r.target }, { config: after, siteName: r.site });
        if (!isRefusedByConfig(v)) continue;
        const { asks, unfixable: why } = asksForVerdict(
          r.method,
          r.target,
          v,
          round === 0 ? before : after,
          r.site,
        );
        for (const a of asks) addAsk(t.asks, a);
        for (const w of why)
          if (!unfixable.some((u) => u.target === r.target && u.why === w))
            unfixable.push({
              siteName: r.site,
              method: r.method,
              target: r.target,
              status: v.status,
              substatus: v.substatus,
              why: w,
            });
      }
    const scopes: ScopePlan[] = [];
    const opens: string[] = [];
    alreadyAllowed.length = 0;
    for (const t of targets.values()) {
      if (t.asks.length === 0) continue;
      const p = planScope(doc, o.file, before, t.target, t.asks);
      if (p.scope.changes.length > 0) scopes.push(p.scope);
      opens.push(...p.opens);
      alreadyAllowed.push(...p.already);
      for (const n of p.notes) if (!notes.includes(n)) notes.push(n);
    }
    const proofList: ProofRequest[] = [];
    for (const t of targets.values()) {
      const vdir = t.target.server ? "" : t.target.vdir;
      const mine: ProofRequest[] = t.refused.map((r) => ({
        role: "refused",
        siteName: r.site,
        method: r.method,
        target: r.target,
        why: `refused in the findings (${r.why})`,
      }));
      if (t.refused.length === 0)
        for (const a of t.asks) mine.push(...probeRequests(a, t.target.siteName, vdir || explicitVdir));
      proofList.push(...mine);
      for (const p of mine) proofList.push(...controlsFor(p, before, vdir || vdirOf(p.target)));
    }
    proofList.push(...controls);
    plan = {
      file: o.file,
      scopes,
      opens,
      warnings:
        o.scope === "server"
          ? [
              "--scope server opens these rules for every site and virtual directory of this server, not only the DP (what ConfigMgr's documentation warns about).",
            ]
          : [],
      alreadyAllowed: [...alreadyAllowed],
      unfixable,
      proof: dedupeProof(proofList),
    };
    newText = scopes.length > 0 ? editText(doc, scopes) : o.text;
    after = newText === o.text ? before : o.load({ text: newText, file: o.file });
    proof = prove(o.evaluate, before, after, plan.proof, { controlsMayChange: o.scope === "server" });
    const stillFixable = proof.results.some(
      (r) =>
        r.request.role === "refused" &&
        !r.ok &&
        asksForVerdict(r.request.method, r.request.target, r.after, after, r.request.siteName).asks.some(
          (a) => !targetsHaveAsk(targets, a),
        ),
    );
    if (!stillFixable) break;
  }
  return {
    plan: plan as Plan,
    doc,
    before,
    after,
    newText,
    changed: newText !== o.text,
    proof,
    notes,
  };
}

function targetsHaveAsk(targets: Map<string, { asks: Ask[] }>, a: Ask): boolean {
  for (const t of targets.values()) if (t.asks.some((x) => askKey(x) === askKey(a))) return true;
  return false;
}
