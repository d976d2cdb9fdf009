/**
 * Shares of a check for worker threads: each package is cut into its root folder's own files and one share per
 * top-level subfolder, in walk order (the sequential walk visits a folder's files, then its subfolders by name), so
 * results merged share by share in this order are those of one sequential run (src/check/parallel.ts).
 *
 * `runUnit` checks one share with the same code as the sequential check (`runCheck` over `walkFolders`) into a
 * tally of its own, serializing file results as the output needs them; it runs in a worker (src/check/worker.ts) or
 * in the main thread alike.
 */
import path from "node:path";
import { fileJson } from "../render/check-json.js";
import { platformFileFacts } from "./facts.js";
import { type CheckSettings, type FileResult, runCheck, Tally, type TallyPartial } from "./run.js";
import {
  type CheckWarning,
  type PackageSpec,
  readFolder,
  type WalkedFolder,
  walkFolders,
  walkRoot,
} from "./source.js";

/** One share of one package. */
export interface CheckUnit {
  /** Position in walk order (merge order). */
  index: number;
  /** Position of its package in the run's package list. */
  packageIndex: number;
  pkg: PackageSpec;
  /** The root folder's own files (listed by the planner) … */
  rootFiles?: { names: string[]; diskNames: string[] };
  /** … or one top-level subfolder and everything below it. */
  subfolder?: string;
  /** What listing the package root produced (warnings, skipped entries): merged before the share's own tally. */
  pre?: { warnings: CheckWarning[]; skipped: number };
}

/** What file results a share sends back: none (text output), JSON text, or the refused results (SARIF). */
export type UnitOutput = "none" | "json" | "json-refused" | "refused";

export interface UnitResult {
  partial: TallyPartial;
}

/**
 * Messages a share's run emits while it goes (in order): JSON text, or refused file results. `json` may return a
 * promise: the run waits for it before going on (the writer is behind; bounded output in memory).
 */
export interface UnitEmit {
  json?(chunk: string): void | Promise<void>;
  refused?(files: FileResult[]): void;
}

/**
 * Cut packages into shares, in walk order. Each package gets at least its root-files share (possibly empty), so the
 * merge sees every package start and end. Reads each package root once.
 */
export async function planUnits(packages: PackageSpec[]): Promise<CheckUnit[]> {
  const units: CheckUnit[] = [];
  for (let packageIndex = 0; packageIndex < packages.length; packageIndex++) {
    const pkg = packages[packageIndex];
    const pre = { warnings: [] as CheckWarning[], skipped: 0 };
    const listing = readFolder(walkRoot(pkg.root), {
      dataLib: pkg.source === "content-library",
      onWarning: (w) => pre.warnings.push(w),
      onSkip: () => {
        pre.skipped++;
      },
    });
    units.push({
      index: units.length,
      packageIndex,
      pkg,
      rootFiles: { names: listing?.names ?? [], diskNames: listing?.diskNames ?? [] },
      pre,
    });
    for (const subfolder of listing?.subdirs ?? [])
      units.push({ index: units.length, packageIndex, pkg, subfolder });
  }
  return units;
}

const CHUNK = 1 << 18;

/**
 * Check one share. `facts`: read the platform's file facts (Windows Hidden attribute) for the share's folder, as the
 * sequential check does for the package (src/check/facts.ts).
 */
export async function runUnit(
  unit: CheckUnit,
  s: CheckSettings,
  output: UnitOutput,
  emit: UnitEmit,
  facts: boolean,
  chunkBytes = CHUNK,
): Promise<UnitResult> {
  const { pkg } = unit;
  const tally = new Tally(s, 2 * 20); // see Tally's noteLimit
  const opts = {
    dataLib: pkg.source === "content-library",
    onWarning: (w: CheckWarning) => tally.warn(w),
    onSkip: () => {
      tally.skipped++;
    },
  };
  const rootAbs = walkRoot(pkg.root);
  let folders: () => AsyncIterable<WalkedFolder>;
  let factsRoot = rootAbs;
  if (unit.subfolder !== undefined) {
    const start = { abs: rootAbs + path.sep + unit.subfolder, rel: unit.subfolder };
    factsRoot = start.abs;
    folders = () => walkFolders(pkg.root, { ...opts, start });
  } else {
    const files = unit.rootFiles ?? { names: [], diskNames: [] };
    folders = async function* () {
      if (files.names.length > 0) yield { rel: "", abs: rootAbs, ...files };
    };
  }
  let json = "";
  let refused: FileResult[] = [];
  const flush = (): void | Promise<void> => {
    const chunk = json;
    json = "";
    if (refused.length > 0) emit.refused?.(refused);
    refused = [];
    if (chunk !== "") return emit.json?.(chunk);
  };
  const fileSink =
    output === "none"
      ? undefined
      : (_p: PackageSpec, r: FileResult) => {
          if (output === "refused") {
            if (r.refused) refused.push(r);
            if (refused.length >= 1000) flush();
            return;
          }
          if (output === "json-refused" && !r.refused) return;
          json += `${json === "" ? "\n" : ",\n"}${JSON.stringify(fileJson(r))}`;
          if (json.length >= chunkBytes) return flush();
        };
  const factsFn = facts && pkg.source === "folder" ? platformFileFacts(factsRoot) : undefined;
  await runCheck(
    {
      packages: [pkg],
      walk: () => {
        throw new Error("runUnit walks by folders");
      },
      walkFolders: folders,
      packageChecks: false,
      facts: () => factsFn,
    },
    s,
    { file: fileSink },
    tally,
  );
  await flush();
  return { partial: tally.toPartial() };
}
