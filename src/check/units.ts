/**
 * Shares of a check for worker threads: each package is cut into folders' own files and subtrees (`planUnits`), in
 * walk order (the sequential walk visits a folder's files, then its subfolders by name), so results merged share by
 * share in this order are those of one sequential run (src/check/parallel.ts).
 *
 * `runUnit` checks one share with the same code as the sequential check (`runCheck` over `walkFolders`) into a
 * tally of its own, serializing file results as the output needs them; it runs in a worker (src/check/worker.ts) or
 * in the main thread alike.
 */
import path from "node:path";
import { fileJsonText } from "../render/check-json.js";
import { platformFileFacts } from "./facts.js";
import {
  type CheckSettings,
  type FileResult,
  NOTE_LIMIT,
  runCheck,
  Tally,
  type TallyPartial,
} from "./run.js";
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
  /** The folder: its relative path ("" = package root) and absolute path as the whole walk spells them. */
  rel: string;
  abs: string;
  /** The folder's own files, listed by the planner (no subfolder) … or, absent, the folder and everything below. */
  files?: { names: string[]; diskNames: string[] };
  /** What the planner's listing of the folder produced (warnings, skipped entries): merged before the share. */
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
 * Cut packages into shares, in walk order. A package's root is always listed here: its own files make one share
 * (possibly empty: the merge sees every package start and end) and each subfolder one share; while a package has
 * fewer than `2 × threads` folder shares, they are cut one level further (at most 3 levels down), so a package whose
 * files all sit under one or two top folders still spreads over the threads. No folder is read twice: a folder the
 * planner lists becomes its own files' share and its subfolders' shares.
 */
export function planUnits(packages: PackageSpec[], threads: number): CheckUnit[] {
  const units: CheckUnit[] = [];
  for (let packageIndex = 0; packageIndex < packages.length; packageIndex++) {
    const pkg = packages[packageIndex];
    const opts = { dataLib: pkg.source === "content-library" };
    type Share = Omit<CheckUnit, "index">;
    /** A folder share cut into its own files' share and one share per subfolder (walk order). */
    const cut = (f: Share): Share[] => {
      const pre = { warnings: [] as CheckWarning[], skipped: 0 };
      const listing = readFolder(f.abs, {
        ...opts,
        onWarning: (w) => pre.warnings.push(w),
        onSkip: () => {
          pre.skipped++;
        },
      });
      const files = { names: listing?.names ?? [], diskNames: listing?.diskNames ?? [] };
      return [
        { ...f, files, pre },
        ...(listing?.subdirs ?? []).map((name) => ({
          packageIndex,
          pkg,
          rel: f.rel === "" ? name : `${f.rel}/${name}`,
          abs: f.abs + path.sep + name,
        })),
      ];
    };
    let shares = cut({ packageIndex, pkg, rel: "", abs: walkRoot(pkg.root) });
    for (let depth = 1; depth < 3; depth++) {
      const folders = shares.filter((x) => !x.files).length;
      if (folders === 0 || folders >= 2 * threads) break;
      shares = shares.flatMap((x) => (x.files ? [x] : cut(x)));
    }
    for (const x of shares) units.push({ index: units.length, ...x });
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
  pause?: () => Promise<void> | undefined,
): Promise<UnitResult> {
  const { pkg } = unit;
  const tally = new Tally(s, 2 * NOTE_LIMIT); // see Tally's noteLimit: merging keeps exactly the first NOTE_LIMIT
  const opts = {
    dataLib: pkg.source === "content-library",
    onWarning: (w: CheckWarning) => tally.warn(w),
    onSkip: () => {
      tally.skipped++;
    },
  };
  const { rel, abs, files } = unit;
  const folders = files
    ? async function* (): AsyncIterable<WalkedFolder> {
        if (files.names.length > 0) yield { rel, abs, ...files };
      }
    : () => walkFolders(pkg.root, { ...opts, start: { abs, rel } });
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
          json += `${json === "" ? "\n" : ",\n"}${fileJsonText(r)}`;
          if (json.length >= chunkBytes) return flush();
        };
  const factsFn = facts && pkg.source === "folder" ? platformFileFacts(abs, files === undefined) : undefined;
  await runCheck(
    {
      packages: [pkg],
      walk: () => {
        throw new Error("runUnit walks by folders");
      },
      walkFolders: folders,
      packageChecks: false,
      facts: () => factsFn,
      pause,
    },
    s,
    { file: fileSink, refusedOnly: output === "refused" || output === "json-refused" },
    tally,
  );
  await flush();
  return { partial: tally.toPartial() };
}
