/**
 * Proof of a plan with the decision engine, before anything is written: every refused request passes request
 * filtering under the new configuration, and every control request (other sites, other virtual directories, the
 * rest of the package) keeps its verdict.
 */
import type { ServerConfig } from "../config/types.js";
import { extensionOf } from "../engine/evaluate.js";
import type { HttpRequest, Server, Verdict } from "../engine/types.js";
import type { ProofRequest } from "./model.js";

export type Evaluate = (req: HttpRequest, server: Server) => Verdict;

/** Layers a configuration change can move a request out of; the handler layer (404.3, 404 not found) is not ours. */
export function isRefusedByFiltering(v: Verdict): boolean {
  return v.layer === "httpsys" || v.layer === "config" || v.layer === "request-filtering";
}

/**
 * Refused in a way `fix` can change: request filtering, http.sys or config (reported when not fixable), and the
 * static file handler's missing MIME map (404.3, §9.2), which a ConfigMgr 2007 vdir meets once `.ldf` passes.
 */
export function isRefusedByConfig(v: Verdict): boolean {
  return isRefusedByFiltering(v) || v.reasons.some((r) => r.check === "static.mimeMap");
}

export function statusText(v: Verdict): string {
  return v.status === 0 || (v.layer === "pass" && v.reasons.length === 0)
    ? `${v.status || 200} (passes)`
    : `${v.status}.${v.substatus}`;
}

export interface ProofResult {
  request: ProofRequest;
  before: Verdict;
  after: Verdict;
  ok: boolean;
  /** One line for the admin. */
  line: string;
}

export interface Proof {
  ok: boolean;
  results: ProofResult[];
}

function request(p: ProofRequest): HttpRequest {
  // The engine does no I/O; without file facts it assumes the file exists, so the static-file layer does not
  // mask the filtering verdict.
  return { method: p.method, target: p.target };
}

/** Decides each proof request under the old and the new configuration. */
export function prove(
  evaluate: Evaluate,
  before: ServerConfig,
  after: ServerConfig,
  proof: readonly ProofRequest[],
  opts: { controlsMayChange?: boolean } = {},
): Proof {
  const results = proof.map((p): ProofResult => {
    const b = evaluate(request(p), { config: before, siteName: p.siteName });
    const a = evaluate(request(p), { config: after, siteName: p.siteName });
    const head = `${p.method} ${p.target} on ${p.siteName}`;
    if (p.role === "refused" && p.check) {
      // a probe: the asked check must no longer fire; other refusals are reported, not counted against the plan
      const ok = !a.reasons.some((x) => x.check === p.check);
      const other = a.status >= 400 ? a.reasons.find((x) => x.check !== p.check) : undefined;
      const hint =
        other?.check === "static.mimeMap"
          ? `; add --mime-map ${extensionOf(a.canonicalPath ?? p.target)}`
          : "";
      const line = !ok
        ? `STILL REFUSED by ${p.check}: ${head}: ${statusText(b)} → ${statusText(a)} (${a.reasons[0]?.message ?? a.layer})`
        : other
          ? `${p.check} lifted, but still refused by ${other.check} (not asked${hint}): ${head}: ${statusText(b)} → ${statusText(a)} (${other.message})`
          : `passes: ${head}: ${statusText(b)} → ${statusText(a)}`;
      return { request: p, before: b, after: a, ok, line };
    }
    if (p.role === "refused") {
      const ok = !isRefusedByConfig(a);
      const line = ok
        ? `passes: ${head}: ${statusText(b)} → ${statusText(a)}`
        : `STILL REFUSED: ${head}: ${statusText(b)} → ${statusText(a)} (${a.reasons[0]?.message ?? a.layer})`;
      return { request: p, before: b, after: a, ok, line };
    }
    const same = a.status === b.status && a.substatus === b.substatus;
    const ok = same || opts.controlsMayChange === true;
    const line = same
      ? `unchanged: ${head}: ${statusText(b)} (${p.why})`
      : `${opts.controlsMayChange ? "also opened" : "CHANGED"}: ${head}: ${statusText(b)} → ${statusText(a)} (${p.why})`;
    return { request: p, before: b, after: a, ok, line };
  });
  return { ok: results.every((r) => r.ok), results };
}
