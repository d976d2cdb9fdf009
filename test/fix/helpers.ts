/** Shared helpers of the fix tests: the embedded aspnet profile as a base config, and a planner bound to the engine. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadServerFromText } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";
import { evaluate } from "../../src/engine/evaluate.js";
import type { Verdict } from "../../src/engine/types.js";
import type { FindingsInput } from "../../src/fix/findings.js";
import { type FixResult, planFix } from "../../src/fix/fix.js";
import type { Ask } from "../../src/fix/model.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const corpusDir = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));

/** profiles/aspnet/applicationHost.config (CRLF, ASP.NET deny lists: `.ldf`, `bin`, …). */
export function aspnetProfile(): string {
  return readFileSync(`${repoRoot}profiles/aspnet/applicationHost.config`, "utf8");
}

/** The aspnet profile with the DP's content vdirs added to Default Web Site (as ConfigMgr creates them). */
export function dpConfig(): string {
  const t = aspnetProfile();
  const anchor = '<virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />';
  const i = t.indexOf(anchor);
  if (i < 0) throw new Error("profile changed: no Default Web Site root vdir");
  const indent = t.slice(t.lastIndexOf("\n", i) + 1, i);
  const add = (p: string, phys: string) =>
    `\r\n${indent}<virtualDirectory path="${p}" physicalPath="${phys}" />`;
  return (
    t.slice(0, i + anchor.length) +
    add("/SMS_DP_SMSPKG$", "D:\\SCCMContentLib") +
    add("/SMS_DP_SMSPKGE$", "E:\\SMSPKGE$") +
    add("/SMS_DP_SMSSIG$", "C:\\SMSSIG$") +
    t.slice(i + anchor.length)
  );
}

export const FILE = "applicationHost.config";

export function load(text: string, file = FILE): ServerConfig {
  return loadServerFromText({ text, file });
}

export function plan(
  text: string,
  asks: Ask[],
  opts: { scope?: "vdir" | "server"; vdir?: string; site?: string; findings?: FindingsInput } = {},
): FixResult {
  return planFix({
    text,
    file: FILE,
    site: opts.site ?? "Default Web Site",
    vdir: opts.vdir,
    scope: opts.scope ?? "vdir",
    asks,
    findings: opts.findings,
    evaluate,
    load: (a) => loadServerFromText(a),
  });
}

export function decide(
  config: ServerConfig,
  target: string,
  method = "HEAD",
  siteName = "Default Web Site",
): Verdict {
  return evaluate({ method, target, file: { exists: true } }, { config, siteName });
}

/** "404.7" / "200.0" */
export function code(v: Verdict): string {
  return `${v.status}.${v.substatus}`;
}

/** When `after` is `before` with one block inserted, the offset of the insertion; otherwise -1. */
export function insertionPoint(before: string, after: string): number {
  let i = 0;
  while (i < before.length && before[i] === after[i]) i++;
  const inserted = after.length - before.length;
  if (inserted <= 0) return -1;
  return after.slice(i + inserted) === before.slice(i) ? i : -1;
}
