/**
 * `check`: every file of a package, in every URL form, through the ONE engine (`evaluate`), streamed.
 * Spec: ../shared/spec/iis-request-filtering.md §10.1 (forms), §10.2 (verbs a DP needs; .PCK .PKG .STA .TAR),
 * §5.2 (http.sys), §9.2 (static file: mimeMap 404.3, hidden 404.9 on the 2007 form);
 * ../shared/spec/configmgr-dp-bits.md §2.4 (BITS sends HEAD then GET; DTS sends PROPFIND for the listing).
 *
 * Nothing here decides a refusal: the engine does. This module only builds the requests a DP sees, remembers
 * verdicts by URL, and tallies them by cause, package and form (bounded memory whatever the tree size).
 */

import path from "node:path";
import { encodeFileName, encodeFolderPrefix } from "../dp/url-prefix.js";
import {
  buildDpUrl,
  defaultVdir,
  dpUrlPrefix,
  encodeRelativePath,
  SIGNATURE_VDIR,
  URL_FORMS,
  vdir2007,
} from "../dp/urlforms.js";
import {
  evaluate as engineEvaluate,
  evaluateMethods,
  FileName,
  FolderVerdicts,
  type MemoEntry,
  readFileName,
} from "../engine/evaluate.js";
import { ruleValue } from "../engine/reason-source.js";
import type { CheckName, HttpRequest, Reason, Server, Verdict } from "../engine/types.js";
import type { UrlForm } from "../logs/records.js";
import type { FileFactsFn } from "./facts.js";
import { fixHint } from "./fixhint.js";
import type { CheckWarning, PackageSpec, WalkedFile, WalkedFolder } from "./source.js";

export type Evaluate = (req: HttpRequest, server: Server) => Verdict;

export interface CheckSettings {
  server: Server;
  forms: UrlForm[];
  /** Drive letter of the 2007 vdir `SMS_DP_SMSPKG<drive>$` (default C). */
  drive: string;
  /** Content vdir of the direct and client forms (default `SMS_DP_SMSPKG$`). */
  vdir: string;
  evaluate?: Evaluate;
}

export interface FormResult {
  url: string;
  /** The request whose verdict is reported: HEAD when HEAD is refused (BITS stops there), else GET. */
  method: "HEAD" | "GET";
  verdict: Verdict;
}

export interface FileResult {
  path: string;
  abs: string;
  hidden?: boolean;
  forms: Partial<Record<UrlForm, FormResult>>;
  refused: boolean;
}

/** A request every package needs besides its files (§10.2). */
export interface PackageCheckResult {
  name: string; // "listing", "verb GET", "configmgr extension .PCK"
  method: string;
  url: string;
  verdict: Verdict;
  /** Refused before any handler ran (http.sys, configuration, request filtering). Handler answers on a folder or a
   * made-up file name (403.14, 404.0) are not refusals of content. */
  refused: boolean;
}

export const isRefused = (v: Pick<Verdict, "status">): boolean => v.status >= 400;
const EARLY_LAYERS = new Set(["httpsys", "config", "request-filtering"]);

/**
 * Verdicts by "METHOD url" for the per-package requests (the same root and extension URLs recur when several content
 * IDs of a package share the URL ID). File URLs are distinct by construction — one path per file — so they are not
 * cached: hashing a long key for a cache that cannot hit cost more than it saved (bench/check.ts). Bounded: two generations of at most `limit` entries each (the older one is dropped when
 * the newer fills up), so a 1 M-file tree does not grow memory and eviction stays O(1).
 */
export class VerdictCache {
  private young = new Map<string, Verdict>();
  private old = new Map<string, Verdict>();
  hits = 0;
  misses = 0;
  constructor(
    private readonly server: Server,
    private readonly evaluate: Evaluate,
    private readonly limit = 10000,
  ) {}
  get(req: HttpRequest): Verdict {
    const key = `${req.method}${req.file?.hidden ? " H " : " "}${req.target}`;
    const hit = this.young.get(key) ?? this.old.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const v = this.evaluate(req, this.server);
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, v);
    return v;
  }
}

/** The vdir a form uses under these settings. */
export function formVdir(form: UrlForm, s: Pick<CheckSettings, "drive" | "vdir">): string {
  return form === "direct2007" ? vdir2007(s.drive) : s.vdir || defaultVdir(form);
}

/** The ID a form puts in the URL: the package ID in 2007, the content ID in CB (§2.1, §2.2). */
export function formId(form: UrlForm, pkg: PackageSpec): string {
  return form === "direct2007" ? pkg.id : pkg.contentId;
}

/** URL prefixes of one package, per form (built once per package, not per file). */
export function packagePrefixes(pkg: PackageSpec, s: CheckSettings): [UrlForm, string][] {
  return s.forms.map((form) => [
    form,
    dpUrlPrefix(form, { contentId: formId(form, pkg), vdir: formVdir(form, s) }),
  ]);
}

const HEAD_THEN_GET = ["HEAD", "GET"] as const;
// What the request says of the file on disk (shared: the engine only reads it).
const EXISTS: HttpRequest["file"] = Object.freeze({ exists: true });
const EXISTS_HIDDEN: HttpRequest["file"] = Object.freeze({ exists: true, hidden: true });
const EXISTS_VISIBLE: HttpRequest["file"] = Object.freeze({ exists: true, hidden: false });

/** What the request says of the file: it exists, and whether it is hidden when the platform can tell. */
function fileFacts(hidden: boolean | undefined): HttpRequest["file"] {
  return hidden === undefined ? EXISTS : hidden ? EXISTS_HIDDEN : EXISTS_VISIBLE;
}

/** One FolderVerdicts per URL form, indexed as URL_FORMS (undefined: the form is not checked). */
function formVerdicts(folderPrefixes: [UrlForm, string][], server: Server): (FolderVerdicts | undefined)[] {
  const out: (FolderVerdicts | undefined)[] = URL_FORMS.map(() => undefined);
  for (const [form, prefix] of folderPrefixes)
    out[URL_FORMS.indexOf(form)] = new FolderVerdicts(server, prefix);
  return out;
}

/** judgeFile's reading of the name (one file at a time). */
const fileName = new FileName();

/** judgeFile's answers. */
const UNJUDGED = 0;
const SERVED = 1;
const REFUSED = 2;

/**
 * The fast path of a file: the engine's memo answers HEAD then GET (§2.4: BITS sends both) of the file in every form
 * (FolderVerdicts, one per form of its folder): SERVED when no form refuses it, REFUSED when one does; `out[i]` is
 * then the memo entry of the verdict form i reports — exactly what checkFile's evaluateMethods gives: HEAD's when HEAD
 * is refused, else GET's, which is HEAD's when the method does not matter to it. UNJUDGED: checkFile evaluates the
 * file (a name the memo cannot answer for yet, or a refusal whose cause needs the URL's length: maxUrl, maxQueryString).
 */
function judgeFile(
  forms: readonly (FolderVerdicts | undefined)[],
  encName: string,
  file: HttpRequest["file"],
  out: (MemoEntry | undefined)[],
): typeof UNJUDGED | typeof SERVED | typeof REFUSED {
  let answer: typeof SERVED | typeof REFUSED = SERVED;
  const name = readFileName(encName, fileName);
  for (let i = 0; i < forms.length; i++) {
    const fv = forms[i];
    if (fv === undefined) {
      out[i] = undefined;
      continue;
    }
    const head = fv.entryOf(name, "HEAD", file);
    if (head === null) return UNJUDGED;
    const v = head.status >= 400 || !head.methodMatters ? head : fv.entryOf(name, "GET", file);
    if (v === null) return UNJUDGED;
    if (v.status >= 400) {
      const check = v.reasons[0]?.check;
      if (check === "maxUrl" || check === "maxQueryString") return UNJUDGED;
      answer = REFUSED;
    }
    out[i] = v;
  }
  return answer;
}

/**
 * HEAD then GET, as BITS does (§2.4). Each file URL is distinct, so files are not cached (see VerdictCache).
 * `server` given: the engine's evaluateMethods evaluates the pair, sharing the work when the configuration treats
 * HEAD and GET alike; otherwise `evaluate` is called per method (an injected evaluator).
 * `encodedRel`: what follows each prefix, when the caller already has it (the walk by folders puts the encoded
 * folder in the prefixes and passes the encoded file name); by default `encodeRelativePath(f.rel)`.
 */
export function checkFile(
  evaluate: (req: HttpRequest) => Verdict,
  prefixes: [UrlForm, string][],
  f: WalkedFile,
  hidden: boolean | undefined,
  server?: Server,
  encodedRel: string = encodeRelativePath(f.rel),
): FileResult {
  const forms: Partial<Record<UrlForm, FormResult>> = {};
  let refused = false;
  const file = fileFacts(hidden);
  const rel = encodedRel;
  for (const [form, prefix] of prefixes) {
    const url = prefix + rel;
    let r: FormResult;
    if (server) {
      const [head, get] = evaluateMethods(
        { method: "HEAD", target: url, file },
        HEAD_THEN_GET,
        server,
        isRefused,
      );
      r = get ? { url, method: "GET", verdict: get } : { url, method: "HEAD", verdict: head };
    } else {
      const head = evaluate({ method: "HEAD", target: url, file });
      if (isRefused(head)) r = { url, method: "HEAD", verdict: head };
      else r = { url, method: "GET", verdict: evaluate({ method: "GET", target: url, file }) };
    }
    if (isRefused(r.verdict)) refused = true;
    forms[form] = r;
  }
  return { path: f.rel, abs: f.abs, hidden, forms, refused };
}

const CONFIGMGR_EXTENSIONS = [".PCK", ".PKG", ".STA", ".TAR"]; // §10.2 CM-PREP, configmgr §3.4

/** Per-package requests: the PROPFIND listing, the verbs a DP needs, ConfigMgr's own extensions (§10.2). */
export function packageChecks(cache: VerdictCache, pkg: PackageSpec, s: CheckSettings): PackageCheckResult[] {
  const out: PackageCheckResult[] = [];
  const seen = new Set<string>();
  const add = (name: string, method: string, url: string, file?: HttpRequest["file"]) => {
    const key = `${method} ${url}`;
    if (seen.has(key)) return;
    seen.add(key);
    const verdict = cache.get({ method, target: url, file });
    out.push({ name, method, url, verdict, refused: isRefused(verdict) && EARLY_LAYERS.has(verdict.layer) });
  };
  const roots = new Map<string, string>(); // vdir → root URL
  for (const form of s.forms) {
    const vdir = formVdir(form, s);
    roots.set(vdir, buildDpUrl("direct", { contentId: formId(form, pkg), relativePath: "", vdir }));
  }
  for (const [, root] of roots) {
    add("listing (DTS PROPFIND)", "PROPFIND", root, { exists: true, isDirectory: true });
    for (const verb of ["GET", "HEAD"]) add(`verb ${verb}`, verb, root, { exists: true, isDirectory: true });
  }
  const extVdirs = [...new Set([SIGNATURE_VDIR, ...roots.keys()])];
  for (const vdir of extVdirs) {
    const id = vdir === SIGNATURE_VDIR ? (pkg.libraryContentId ?? pkg.contentId) : pkg.id;
    for (const ext of CONFIGMGR_EXTENSIONS)
      add(
        `ConfigMgr extension ${ext}`,
        "GET",
        buildDpUrl("direct", { contentId: `${id}${ext}`, relativePath: "", vdir }),
        {
          exists: true,
        },
      );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Tally: by cause, by package and form — bounded by the number of causes, not files.

export interface Cause {
  key: string;
  reason: Reason;
  /** e.g. ".ldf", "bin" — what the rule names, or the check name. */
  label: string;
  vdirs: Set<string>;
  forms: Set<UrlForm | string>;
  files: number;
  samples: string[];
  /** Per-package requests (listing, verbs, ConfigMgr extensions) refused for this cause: "verb HEAD /…". */
  checks: string[];
  /** Longest length a limit must allow (maxUrl: canonical path bytes; maxQueryString: raw query bytes). */
  needed: number;
}

export interface FormTally {
  ok: number;
  refused: number;
  /** "404.7 .ldf" → count */
  bySubstatus: Map<string, number>;
}

export interface PackageTally {
  pkg: PackageSpec;
  files: number;
  refusedFiles: number;
  forms: Map<UrlForm, FormTally>;
  checks: PackageCheckResult[];
}

const SAMPLE_LIMIT = 5;
/** Distinct engine notes a report keeps. */
export const NOTE_LIMIT = 20;
const WARNING_LIMIT = 200;

export function reasonKey(r: Reason): string {
  const src = r.source ? `${r.source.file}:${r.source.line}:${r.source.column}` : "default";
  return `${r.status}.${r.substatus} ${r.check} ${src}`;
}

/** Short labels for checks that name no value (summary lines such as "404.15 query > maxQueryString"). */
const CHECK_LABEL: Partial<Record<CheckName, string>> = {
  doubleEscaping: "double escape",
  highBitCharacters: "non-ASCII",
  maxUrl: "URL > maxUrl",
  maxQueryString: "query > maxQueryString",
  "httpsys.segmentTooLong": "segment > 260",
  "httpsys.tooManySegments": "> 255 segments",
  "httpsys.urlTooLong": "URL > 16 KB",
  "static.hiddenFile": "hidden file",
};

/**
 * What a cause is about, in the admin's words: the value its `<add …/>` line names (".ldf", "bin/", "HEAD"), or for
 * checks without such a line, the extension IIS judged where the check is about extensions (static.mimeMap 404.3,
 * fileExtensions allowUnlisted="false" 404.7: the extension of the URL path's last segment — `judgedPath`, the
 * verdict's canonical path, else the file's relative path — which in the sccm? form is "sccm"'s: none), else the check
 * name ('+' for a double-escaping refusal of a path with a '+').
 */
export function causeLabel(r: Reason, relPath?: string, judgedPath: string | undefined = relPath): string {
  return ruleLabel(r) ?? pathLabel(r, relPath, judgedPath);
}

/** causeLabel when it is the same for every file (the rule's value or the check's name), else undefined. */
function ruleLabel(r: Reason): string | undefined {
  const value = ruleValue(r);
  if (value !== undefined) return r.check === "hiddenSegments" ? `${value}/` : value;
  if (r.check === "doubleEscaping" || r.check === "static.mimeMap" || r.check === "fileExtensions")
    return undefined;
  return CHECK_LABEL[r.check] ?? r.check;
}

/** causeLabel of a reason whose rule names no value: what the path says ('+', the extension judged). */
function pathLabel(r: Reason, relPath: string | undefined, judgedPath: string | undefined): string {
  const named = CHECK_LABEL[r.check];
  if (named) return r.check === "doubleEscaping" && relPath?.includes("+") ? "'+'" : named;
  if ((r.check === "static.mimeMap" || r.check === "fileExtensions") && judgedPath !== undefined) {
    const name = judgedPath.slice(judgedPath.lastIndexOf("/") + 1);
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot).toLowerCase() : "(no extension)";
  }
  return r.check;
}

/** What the tally reads of the verdict a form reports: a Verdict, or the engine's memo entry of one (MemoEntry). */
export type Judged = Pick<Verdict, "status" | "substatus" | "reasons" | "notes"> & { canonicalPath?: string };

function causeIdFor(reason: Reason, label: string): CauseId {
  return {
    label,
    substatusKey: `${reason.status}.${reason.substatus} ${label}`,
    key: causeKey(reason, label),
  };
}

/** Entry ids a FileClass key holds (three of them and a bit in a safe integer). */
const CLASS_ID_LIMIT = 1 << 17;

/** Files judged alike from the memo (Tally.addJudged): what each adds to the tally, and how many are not added yet. */
interface FileClass {
  count: number;
  /** Per form checked: its counters, and the "404.7 .ldf" key when the form refuses (undefined: it serves). */
  forms: { t: FormTally; substatusKey: string | undefined }[];
  /** The causes of its refusals (each counted once per file). */
  causes: Cause[];
  /** Some cause has fewer than SAMPLE_LIMIT samples: the next files' paths are samples. */
  sampling: boolean;
}

interface CauseId {
  label: string;
  /** "404.7 .ldf": the per-form count's key. */
  substatusKey: string;
  /** causeKey. */
  key: string;
}

/**
 * Causes group by rule line; rules without a line of their own (mimeMap), and attribute lines whose fix depends on
 * what the path says (allowUnlisted="false": the extension to allow), also by their label.
 */
function causeKey(r: Reason, label: string): string {
  return r.source && ruleLabel(r) !== undefined ? reasonKey(r) : `${reasonKey(r)} ${label}`;
}

function primary(v: Judged): Reason {
  return (
    v.reasons[0] ?? {
      status: v.status,
      substatus: v.substatus,
      check: "config.invalid",
      message: `refused with ${v.status}.${v.substatus} (no reason given by the engine)`,
      source: null,
    }
  );
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

export class Tally {
  readonly causes = new Map<string, Cause>();
  readonly packages: PackageTally[] = [];
  files = 0;
  refusedFiles = 0;
  skipped = 0;
  warnings: CheckWarning[] = [];
  /** Distinct engine notes (inferences the verdicts rest on), bounded. */
  readonly notes = new Set<string>();
  warningCount = 0;
  private current?: PackageTally;
  /** The vdir each form's URLs name, as `addCause` reads it back from a URL (decoded first segment). */
  private readonly vdirOfForm = new Map<string, string>();

  /**
   * `noteLimit`: distinct engine notes kept (20 in a report). A share of the tree tallied apart (a worker's, see
   * `toPartial`) keeps twice as many, so that merging it keeps exactly the notes one tally would have kept.
   */
  constructor(
    private readonly settings: Pick<CheckSettings, "drive" | "vdir" | "forms">,
    private readonly noteLimit = NOTE_LIMIT,
  ) {
    for (const f of settings.forms)
      this.vdirOfForm.set(
        f,
        decodeURIComponentSafe(dpUrlPrefix(f, { contentId: "x", vdir: formVdir(f, settings) }).split("/")[1]),
      );
  }

  startPackage(pkg: PackageSpec, checks: PackageCheckResult[]): void {
    this.settle();
    this.classes.clear();
    this.current = { pkg, files: 0, refusedFiles: 0, forms: new Map(), checks };
    for (const f of this.settings.forms)
      this.current.forms.set(f, { ok: 0, refused: 0, bySubstatus: new Map() });
    this.packages.push(this.current);
    for (const c of checks)
      if (c.refused)
        this.addCause(
          c.verdict,
          causeLabel(primary(c.verdict), undefined, c.verdict.canonicalPath),
          [],
          `${c.name} ${c.url}`,
          [c.url],
          true,
        );
  }

  warn(w: CheckWarning): void {
    this.warningCount++;
    if (this.warnings.length < WARNING_LIMIT) this.warnings.push(w);
  }

  addFile(r: FileResult): void {
    const verdicts = this.formVerdicts;
    const urls = this.formUrls;
    for (let i = 0; i < URL_FORMS.length; i++) {
      const fr = r.forms[URL_FORMS[i]];
      verdicts[i] = fr?.verdict;
      urls[i] = fr?.url;
    }
    this.addForms(verdicts, urls, r.path, r.refused);
  }

  /** addFile's per-form verdicts and URLs (reused: one file at a time). */
  private readonly formVerdicts: (Judged | undefined)[] = [];
  private readonly formUrls: (string | undefined)[] = [];

  /**
   * A file whose forms' verdicts are known: `verdicts[i]` is what form URL_FORMS[i] reports (undefined: the form is
   * not checked) — a Verdict, or the engine's memo entry of one (runCheck's fast path, see judgeFile) — and `urls[i]`
   * its URL (read only for the lengths a maxUrl or maxQueryString refusal needs; the fast path gives none, having
   * none of those). `refused`: some form refuses it. `judged[i]`: the URL path form i's verdict judged, when the
   * verdict does not say (a memo entry: see causeLabel); else its canonicalPath, else `path`.
   */
  addForms(
    verdicts: readonly (Judged | undefined)[],
    urls: readonly (string | undefined)[] | undefined,
    path: string,
    refused: boolean,
    judged?: readonly (string | undefined)[],
  ): void {
    const p = this.current as PackageTally;
    this.files++;
    p.files++;
    if (!refused) {
      // the common case: counters only
      for (let i = 0; i < verdicts.length; i++) {
        const v = verdicts[i];
        if (v === undefined) continue;
        (p.forms.get(URL_FORMS[i]) as FormTally).ok++;
        if (v.notes !== undefined && this.lastNotes[i] !== v.notes) this.addNotes(i, v.notes);
      }
      return;
    }
    this.refusedFiles++;
    p.refusedFiles++;
    // one count per file and cause, whatever the number of forms it hits (the forms are listed)
    const hitIds = this.hitIds;
    let hits = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const v = verdicts[i];
      if (v === undefined) continue;
      const t = p.forms.get(URL_FORMS[i]) as FormTally;
      this.addNotes(i, v.notes);
      if (!isRefused(v)) {
        t.ok++;
        continue;
      }
      t.refused++;
      const id = this.causeIdOf(primary(v), path, judged?.[i] ?? v.canonicalPath ?? path);
      t.bySubstatus.set(id.substatusKey, (t.bySubstatus.get(id.substatusKey) ?? 0) + 1);
      hitIds[hits] = id;
      this.hitForms[hits++] = i;
    }
    // the causes in first-seen order, each with the forms it refuses
    for (let a = 0; a < hits; a++) {
      const id = hitIds[a];
      if (id === undefined) continue;
      const i = this.hitForms[a];
      const forms: string[] = [URL_FORMS[i]];
      const causeUrls = [urls?.[i]];
      for (let b = a + 1; b < hits; b++)
        if (hitIds[b]?.key === id.key) {
          const j = this.hitForms[b];
          forms.push(URL_FORMS[j]);
          causeUrls.push(urls?.[j]);
          hitIds[b] = undefined;
        }
      this.addCause(verdicts[i] as Judged, id.label, forms, path, causeUrls, false);
    }
    hitIds.fill(undefined);
  }

  /** addForms' refusals of the file being added: their causes, and the forms (indexes in URL_FORMS). */
  private readonly hitIds: (CauseId | undefined)[] = URL_FORMS.map(() => undefined);
  private readonly hitForms = new Int8Array(URL_FORMS.length);

  /**
   * A cause's label and keys (causeLabel, causeKey, the "404.7 .ldf" sub-status key) for a refusal's reason, kept
   * per reason when it is one of the engine's shared (frozen) reasons — per label when the label is the file's ('+',
   * its extension: pathLabel).
   */
  private causeIdOf(reason: Reason, path: string, judgedPath: string): CauseId {
    if (!Object.isFrozen(reason)) return causeIdFor(reason, causeLabel(reason, path, judgedPath));
    let known = this.causeIds.get(reason);
    if (known === undefined) {
      const label = ruleLabel(reason);
      known = label === undefined ? new Map<string, CauseId>() : causeIdFor(reason, label);
      this.causeIds.set(reason, known);
    }
    if (!(known instanceof Map)) return known;
    const label = pathLabel(reason, path, judgedPath);
    let id = known.get(label);
    if (id === undefined) known.set(label, (id = causeIdFor(reason, label)));
    return id;
  }
  private readonly causeIds = new WeakMap<Reason, CauseId | Map<string, CauseId>>();

  /**
   * A file judged from the engine's memo (runCheck's fast path, see judgeFile): `entries[i]` is the memo entry of the
   * verdict form URL_FORMS[i] reports (undefined: the form is not checked), `refused` whether one of them is a
   * refusal; the file is `name` in the folder `rel` ("" for the package root), whose relative path has a '+' or not
   * (`plus`: what causeLabel reads of a path besides the name's extension, see pathLabel). The same tally as addFile
   * of its FileResult, with less work: files whose forms report the same entries (in a folder with or without a '+')
   * make a FileClass, whose first file is added by addForms and the others are counted (settle adds them up).
   */
  addJudged(
    entries: readonly (MemoEntry | undefined)[],
    refused: boolean,
    plus: boolean,
    rel: string,
    name: string,
    judged: readonly (string | undefined)[],
  ): void {
    // the class key: the entries' ids (each below 2^17) and the '+'
    let key = plus ? 1 : 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const id = e === undefined ? 0 : e.id;
      if (id >= CLASS_ID_LIMIT) {
        this.addForms(entries, undefined, rel === "" ? name : `${rel}/${name}`, refused, judged);
        return;
      }
      key = key * CLASS_ID_LIMIT + id;
    }
    const cls = this.classes.get(key);
    if (cls === undefined) {
      const path = rel === "" ? name : `${rel}/${name}`;
      this.addForms(entries, undefined, path, refused, judged);
      this.classes.set(key, this.fileClass(entries, path, judged));
      return;
    }
    const p = this.current as PackageTally;
    this.files++;
    p.files++;
    cls.count++;
    if (!refused) return;
    this.refusedFiles++;
    p.refusedFiles++;
    if (cls.sampling) {
      // the first SAMPLE_LIMIT files of each cause, in walk order (as addCause keeps them)
      const path = rel === "" ? name : `${rel}/${name}`;
      let room = false;
      for (const c of cls.causes)
        if (c.samples.length < SAMPLE_LIMIT) {
          c.samples.push(path);
          room ||= c.samples.length < SAMPLE_LIMIT;
        }
      cls.sampling = room;
    }
  }

  /** Files judged from the memo, by class key (see addJudged); cleared with each package (their counters are its). */
  private readonly classes = new Map<number, FileClass>();

  /** The class of files judged like the one addForms just added (`entries`, at `path`): what addForms did for it. */
  private fileClass(
    entries: readonly (MemoEntry | undefined)[],
    path: string,
    judged: readonly (string | undefined)[],
  ): FileClass {
    const p = this.current as PackageTally;
    const forms: FileClass["forms"] = [];
    const causes: Cause[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e === undefined) continue;
      const t = p.forms.get(URL_FORMS[i]) as FormTally;
      if (!isRefused(e)) {
        forms.push({ t, substatusKey: undefined });
        continue;
      }
      const id = this.causeIdOf(primary(e), path, judged[i] ?? path);
      forms.push({ t, substatusKey: id.substatusKey });
      const c = this.causes.get(id.key) as Cause;
      if (!causes.includes(c)) causes.push(c);
    }
    return { count: 0, forms, causes, sampling: causes.some((c) => c.samples.length < SAMPLE_LIMIT) };
  }

  /** Add up the files counted by class (addJudged) since the last settle: before anything reads the counts. */
  settle(): void {
    for (const cls of this.classes.values()) {
      const k = cls.count;
      if (k === 0) continue;
      cls.count = 0;
      for (const { t, substatusKey } of cls.forms)
        if (substatusKey === undefined) t.ok += k;
        else {
          t.refused += k;
          t.bySubstatus.set(substatusKey, (t.bySubstatus.get(substatusKey) ?? 0) + k);
        }
      for (const c of cls.causes) c.files += k;
    }
  }

  /** Per form, the last notes list added: most files of a form carry the same notes, already in the set. */
  private readonly lastNotes: (string[] | undefined)[] = [];

  /** Add a verdict's notes (first-seen order, at most `noteLimit`). */
  private addNotes(form: number, notes: string[] | undefined): void {
    if (!notes || this.notes.size >= this.noteLimit) return;
    const last = this.lastNotes[form];
    if (last !== undefined && last.length === notes.length) {
      let same = true;
      for (let i = 0; i < notes.length && same; i++) same = last[i] === notes[i];
      if (same) return; // every one of them was added when `last` was
    }
    for (const n of notes) if (this.notes.size < this.noteLimit) this.notes.add(n);
    // the array itself when it cannot change (the engine's shared notes are frozen), else a copy
    this.lastNotes[form] = Object.isFrozen(notes) ? notes : notes.slice();
  }

  private addCause(
    v: Judged,
    label: string,
    forms: string[],
    sample: string,
    urls: (string | undefined)[],
    packageCheck: boolean,
  ): void {
    const reason = primary(v);
    const key = causeKey(reason, label);
    let c = this.causes.get(key);
    if (!c) {
      c = {
        key,
        reason,
        label,
        vdirs: new Set(),
        forms: new Set(),
        files: 0,
        samples: [],
        checks: [],
        needed: 0,
      };
      this.causes.set(key, c);
    }
    if (packageCheck) {
      if (c.checks.length < 50) c.checks.push(sample);
    } else {
      c.files++;
      for (const f of forms) c.forms.add(f);
      if (c.samples.length < SAMPLE_LIMIT) c.samples.push(sample);
    }
    for (let i = 0; i < urls.length; i++) {
      const url = urls[i];
      // a file's URL names its form's vdir (known once per run); a package check's URL is read back
      const vdir = packageCheck ? undefined : this.vdirOfForm.get(forms[i]);
      c.vdirs.add(vdir ?? decodeURIComponentSafe(url?.split("/")[1] ?? ""));
      if (reason.check === "maxQueryString") {
        const q = url === undefined ? -1 : url.indexOf("?");
        if (q >= 0) c.needed = Math.max(c.needed, utf8Bytes((url as string).slice(q + 1)));
      } else if (reason.check === "maxUrl" && v.canonicalPath)
        c.needed = Math.max(c.needed, utf8Bytes(v.canonicalPath));
    }
  }

  /**
   * What this tally counted for its (one) package, as plain data a worker thread can post (src/check/parallel.ts).
   * Everything in it keeps first-seen order, so merging partials in walk order gives the tally of one sequential run.
   */
  toPartial(): TallyPartial {
    this.settle();
    const p = this.packages[this.packages.length - 1];
    return {
      files: this.files,
      refusedFiles: this.refusedFiles,
      skipped: this.skipped,
      warningCount: this.warningCount,
      warnings: this.warnings,
      notes: [...this.notes],
      forms: p ? [...p.forms].map(([form, t]) => [form, t.ok, t.refused, [...t.bySubstatus]]) : [],
      causes: [...this.causes.values()].map((c) => ({
        key: c.key,
        reason: c.reason,
        label: c.label,
        vdirs: [...c.vdirs],
        forms: [...c.forms],
        files: c.files,
        samples: c.samples,
        needed: c.needed,
      })),
    };
  }

  /**
   * Add a share of the current package tallied apart (`toPartial`), as if its files had been added here one by one:
   * counters add up, first-seen order is kept (causes, forms, vdirs, sub-statuses, notes, warnings) and the bounded
   * lists (samples, notes, warnings) keep their first entries.
   */
  mergePartial(q: TallyPartial): void {
    const p = this.current as PackageTally;
    this.files += q.files;
    p.files += q.files;
    this.refusedFiles += q.refusedFiles;
    p.refusedFiles += q.refusedFiles;
    this.skipped += q.skipped;
    this.warningCount += q.warningCount;
    for (const w of q.warnings) if (this.warnings.length < WARNING_LIMIT) this.warnings.push(w);
    for (const n of q.notes) if (this.notes.size < this.noteLimit) this.notes.add(n);
    for (const [form, ok, refused, bySubstatus] of q.forms) {
      const t = p.forms.get(form) as FormTally;
      t.ok += ok;
      t.refused += refused;
      for (const [k, n] of bySubstatus) t.bySubstatus.set(k, (t.bySubstatus.get(k) ?? 0) + n);
    }
    for (const qc of q.causes) {
      let c = this.causes.get(qc.key);
      if (!c) {
        c = { ...qc, vdirs: new Set(), forms: new Set(), files: 0, samples: [], checks: [], needed: 0 };
        this.causes.set(qc.key, c);
      }
      c.files += qc.files;
      for (const f of qc.forms) c.forms.add(f);
      for (const v of qc.vdirs) c.vdirs.add(v);
      for (const x of qc.samples) if (c.samples.length < SAMPLE_LIMIT) c.samples.push(x);
      c.needed = Math.max(c.needed, qc.needed);
    }
  }

  /** Causes, biggest first, with the one-line fix. */
  causeList(site: string): (Cause & { fixes: string[] })[] {
    this.settle();
    return [...this.causes.values()]
      .sort((a, b) => b.files - a.files || a.key.localeCompare(b.key))
      .map((c) => ({
        ...c,
        fixes: [
          ...new Set(
            [...c.vdirs].map((vdir) => fixHint(c.reason, { site, vdir, label: c.label, needed: c.needed })),
          ),
        ],
      }));
  }
}

/** A package share's tally as plain data (`Tally.toPartial`): what a worker thread posts back. */
export interface TallyPartial {
  files: number;
  refusedFiles: number;
  skipped: number;
  warningCount: number;
  warnings: CheckWarning[];
  notes: string[];
  /** [form, ok, refused, [["404.7 .ldf", n], …]] */
  forms: [UrlForm, number, number, [string, number][]][];
  causes: {
    key: string;
    reason: Reason;
    label: string;
    vdirs: string[];
    forms: string[];
    files: number;
    samples: string[];
    needed: number;
  }[];
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Events a renderer receives while the check streams. */
export interface CheckSink {
  packageStart?(pkg: PackageSpec, checks: PackageCheckResult[]): void | Promise<void>;
  /** Each file's result, in walk order; only those something refuses when `refusedOnly`. */
  file?(pkg: PackageSpec, r: FileResult): void | Promise<void>;
  /** `file` wants only the results of files some form refuses (SARIF, JSON --only-refused). */
  refusedOnly?: boolean;
  packageEnd?(t: PackageTally): void | Promise<void>;
}

export interface RunInput {
  packages: PackageSpec[];
  walk: (pkg: PackageSpec) => AsyncIterable<WalkedFile>;
  /** The same files by folder (`walkFolders`): when given, used instead of `walk` — each folder's URL part is
   * encoded once and its files are checked without an async step per file. */
  walkFolders?: (pkg: PackageSpec) => AsyncIterable<WalkedFolder>;
  /** false: skip the per-package requests (a share of a package checked apart; the whole run checks them once). */
  packageChecks?: boolean;
  facts?: (pkg: PackageSpec) => FileFactsFn | undefined;
  onProgress?: (files: number) => void;
  /**
   * Called after each folder (walk by folders): a promise returned is awaited before the next folder. The main
   * thread of `check --workers N` uses it to let the event loop run while it checks a share of its own (worker
   * threads' messages: next shares to hand out, results to merge; src/check/parallel.ts).
   */
  pause?: () => Promise<void> | undefined;
}

/** Run the check over every package, streaming each file result to the sink; returns the tally. */
export async function runCheck(
  input: RunInput,
  s: CheckSettings,
  sink: CheckSink,
  tally = new Tally(s),
): Promise<Tally> {
  const evaluate = s.evaluate ?? engineEvaluate;
  const cache = new VerdictCache(s.server, evaluate);
  const evalFile = (req: HttpRequest) => evaluate(req, s.server);
  for (const pkg of input.packages) {
    const checks = input.packageChecks === false ? [] : packageChecks(cache, pkg, s);
    const prefixes = packagePrefixes(pkg, s);
    tally.startPackage(pkg, checks);
    await sink.packageStart?.(pkg, checks);
    const facts = input.facts?.(pkg);
    const server = s.evaluate ? undefined : s.server;
    // files every form serves need no result of their own unless the sink lists every file, and refused files none
    // unless it lists those (see judgeFile)
    const judge = server !== undefined && (sink.file === undefined || sink.refusedOnly === true);
    const judgeRefused = sink.file === undefined;
    const entries: (MemoEntry | undefined)[] = [];
    if (input.walkFolders) {
      for await (const d of input.walkFolders(pkg)) {
        // the folder's part of each form's URL, encoded once (src/dp/url-prefix.ts)
        const folder = encodeFolderPrefix(d.rel);
        const folderPrefixes: [UrlForm, string][] = prefixes.map(([form, p]) => [form, p + folder]);
        const folderVerdicts = judge ? formVerdicts(folderPrefixes, server) : undefined;
        const plus = d.rel.includes("+");
        // the URL path each form's verdicts judged, when it is not the file's (the sccm? form's "…/sccm")
        const judgedPaths = URL_FORMS.map((_, i) => folderVerdicts?.[i]?.judgedPath);
        for (let i = 0; i < d.names.length; i++) {
          const name = d.names[i];
          const encName = encodeFileName(name);
          if (folderVerdicts !== undefined && encName !== undefined) {
            const file = fileFacts(facts?.(d.abs + path.sep + d.diskNames[i])?.hidden);
            const judged = judgeFile(folderVerdicts, encName, file, entries);
            if (judged === SERVED || (judged === REFUSED && judgeRefused)) {
              tally.addJudged(entries, judged === REFUSED, plus, d.rel, name, judgedPaths);
              if (input.onProgress && (tally.files & 0x3fff) === 0) input.onProgress(tally.files);
              continue;
            }
          }
          const f = { rel: d.rel === "" ? name : `${d.rel}/${name}`, abs: d.abs + path.sep + d.diskNames[i] };
          const hidden = facts?.(f.abs)?.hidden;
          const r =
            encName === undefined
              ? checkFile(evalFile, prefixes, f, hidden, server)
              : checkFile(evalFile, folderPrefixes, f, hidden, server, encName);
          tally.addFile(r);
          const p = sink.refusedOnly === true && !r.refused ? undefined : sink.file?.(pkg, r);
          if (p) await p;
          if (input.onProgress && (tally.files & 0x3fff) === 0) input.onProgress(tally.files);
        }
        const paused = input.pause?.();
        if (paused) await paused;
      }
    } else
      for await (const f of input.walk(pkg)) {
        const hidden = facts?.(f.abs)?.hidden;
        const r = checkFile(evalFile, prefixes, f, hidden, server);
        tally.addFile(r);
        const p = sink.refusedOnly === true && !r.refused ? undefined : sink.file?.(pkg, r);
        if (p) await p;
        if (input.onProgress && (tally.files & 0x3fff) === 0) input.onProgress(tally.files);
      }
    tally.settle();
    await sink.packageEnd?.(tally.packages[tally.packages.length - 1]);
  }
  return tally;
}
