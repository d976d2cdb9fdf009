/**
 * What `check` reads from disk: a package source folder (any tree) or a DP content library (SCCMContentLib), detected
 * automatically, walked as a stream (one directory in memory at a time; no list of the whole tree).
 * Spec: ../shared/spec/configmgr-dp-bits.md §3.1 (layout), §3.2 (INI encoding), §3.3 (rebuilding relative paths),
 * §2.2 (content IDs and the ID a URL carries).
 */
import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { InputError, UsageError } from "../errors.js";
import { type IniWarning, iniSection, parseIni } from "./ini.js";

export interface CheckWarning {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

/** One package (one content ID) to check. */
export interface PackageSpec {
  /** Package ID ("ABC00123"); for a source folder, what the admin gave or the folder name. */
  id: string;
  /** The ID the CB forms put in the URL (§2.2): bare package ID for legacy packages, `Content_<guid>.<ver>`, `<guid>`. */
  contentId: string;
  /** Content-library content ID as listed in PkgLib (`ABC00123.1`), when read from a library. */
  libraryContentId?: string;
  /** Folder walked: the source folder, or `DataLib\<ContentID>`. */
  root: string;
  source: "folder" | "content-library";
}

export interface WalkedFile {
  /** Relative path with "/" separators, as the client asks for it (§3.3 step 5). */
  rel: string;
  /** Absolute path of what is on disk (the file, or its DataLib `.INI` stand-in). */
  abs: string;
}

export type InputKind = "folder" | "content-library";

function childDirCaseInsensitive(dir: string, name: string): string | undefined {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const n = name.toLowerCase();
  const hit = entries.find((e) => e.isDirectory() && e.name.toLowerCase() === n);
  return hit ? path.join(dir, hit.name) : undefined;
}

/** A content library has PkgLib and DataLib folders (names compared case-insensitively, NTFS). */
export function detectInput(root: string): {
  kind: InputKind;
  pkgLib?: string;
  dataLib?: string;
  /** PATH was one content ID's folder, `…\DataLib\<ContentID>`: that content alone. */
  single?: PackageSpec;
} {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(root);
  } catch {
    throw new InputError("no such folder (expected a package source folder or an SCCMContentLib root)", {
      file: root,
    });
  }
  if (!st.isDirectory())
    throw new InputError("not a folder (expected a package source folder or an SCCMContentLib root)", {
      file: root,
    });
  const pkgLib = childDirCaseInsensitive(root, "PkgLib");
  const dataLib = childDirCaseInsensitive(root, "DataLib");
  if (pkgLib && dataLib) return { kind: "content-library", pkgLib, dataLib };
  const single = dataLibContent(root);
  if (single) return { kind: "content-library", single };
  return { kind: "folder" };
}

const PACKAGE_ID = /^[A-Z0-9]{3}[0-9A-F]{5}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The ID a DP URL carries for a content-library content ID (§2.2): `ABC00123.1` → `ABC00123` (legacy package, "the URL
 * uses the bare package ID"); `<guid>.1` → `<guid>` (software updates); `Content_<guid>.<ver>` unchanged.
 */
export function urlIdForContent(packageId: string, contentId: string): string {
  const m = /^(.*)\.(\d+)$/.exec(contentId);
  if (m && (m[1].toLowerCase() === packageId.toLowerCase() || GUID.test(m[1]))) return m[1];
  return contentId;
}

/**
 * `…\DataLib\<ContentID>` given directly (its files are `<name>.INI` stand-ins, §3.1): the content's package ID is
 * the content ID without its version for legacy packages; otherwise the content ID itself.
 */
export function dataLibContent(root: string): PackageSpec | undefined {
  const abs = path.resolve(root);
  const parent = path.dirname(abs);
  if (path.basename(parent).toLowerCase() !== "datalib") return undefined;
  if (!childDirCaseInsensitive(path.dirname(parent), "PkgLib")) return undefined;
  const cid = path.basename(abs);
  const legacy = /^([A-Z0-9]{3}[0-9A-F]{5})\.\d+$/i.exec(cid);
  const id = legacy ? legacy[1] : cid;
  return {
    id,
    contentId: urlIdForContent(id, cid),
    libraryContentId: cid,
    root: abs,
    source: "content-library",
  };
}

/** Package from a source folder: the package ID is `--package-id` or the folder name; content ID defaults to it. */
export function folderPackage(
  root: string,
  opts: { packageId?: string; contentId?: string },
): { pkg: PackageSpec; notes: string[] } {
  const notes: string[] = [];
  const abs = path.resolve(root);
  const folderName = path.basename(abs);
  let id = opts.packageId;
  if (!id) {
    id = folderName;
    if (!PACKAGE_ID.test(id))
      notes.push(
        `package ID taken from the folder name "${id}" (not the shape of a package ID such as ABC00123): URL lengths ` +
          "and segment checks use it — pass --package-id / --content-id for the real IDs",
      );
  }
  return { pkg: { id, contentId: opts.contentId ?? id, root: abs, source: "folder" }, notes };
}

/**
 * Packages of a content library (§3.3 steps 1–2): PkgLib\<PackageID>.INI, section [Packages], one key per content ID;
 * each content ID's files live under DataLib\<ContentID>\. `only` restricts to the named package IDs.
 */
export function libraryPackages(
  lib: { root: string; pkgLib: string; dataLib: string },
  only: string[],
): { packages: PackageSpec[]; warnings: CheckWarning[] } {
  const warnings: CheckWarning[] = [];
  const iniFiles = readdirSync(lib.pkgLib, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ini$/i.test(e.name))
    .map((e) => e.name)
    .sort();
  const byId = new Map(iniFiles.map((n) => [n.slice(0, -4).toLowerCase(), n]));
  let selected = iniFiles;
  if (only.length > 0) {
    const missing = only.filter((id) => !byId.has(id.toLowerCase()));
    if (missing.length > 0)
      throw new UsageError(
        `package ${missing.join(", ")} not found in ${lib.pkgLib} (${iniFiles.length} package INI file(s) there)`,
      );
    selected = only.map((id) => byId.get(id.toLowerCase()) as string);
  }
  const dataDirs = new Map(
    readdirSync(lib.dataLib, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => [e.name.toLowerCase(), e.name]),
  );
  const packages: PackageSpec[] = [];
  for (const name of selected) {
    const file = path.join(lib.pkgLib, name);
    const id = name.slice(0, -4);
    let contentIds: string[] = [];
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      warnings.push({ file, message: `cannot read: ${(e as Error).message}` });
    }
    if (bytes) {
      const ini = parseIni(bytes, file);
      warnings.push(...ini.warnings.map(toWarning));
      const sec = iniSection(ini, "Packages");
      if (sec) contentIds = sec.entries.map((e) => e.key).filter((k) => k !== "");
      else
        warnings.push({
          file,
          line: 1,
          column: 1,
          message: "no [Packages] section (expected one key per content ID)",
        });
    }
    if (contentIds.length === 0) {
      // Fallback: DataLib folders named <PackageID>.<version> (§3.1 legacy content IDs).
      const re = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.\\d+$`, "i");
      contentIds = [...dataDirs.values()].filter((d) => re.test(d)).sort();
      if (contentIds.length > 0)
        warnings.push({
          file,
          message: `content IDs not readable; using DataLib folders ${contentIds.join(", ")}`,
        });
    }
    for (const cid of contentIds) {
      const dir = dataDirs.get(cid.toLowerCase());
      if (!dir) {
        warnings.push({
          file,
          message: `content ID ${cid} has no DataLib\\${cid} folder (content not on this DP?)`,
        });
        continue;
      }
      packages.push({
        id,
        contentId: urlIdForContent(id, cid),
        libraryContentId: cid,
        root: path.join(lib.dataLib, dir),
        source: "content-library",
      });
    }
  }
  return { packages, warnings };
}

function toWarning(w: IniWarning): CheckWarning {
  return { file: w.file, line: w.line, column: w.column, message: w.message };
}

/** One folder of a package tree with the files directly in it (what `walkFolders` yields). */
export interface WalkedFolder {
  /** Relative path of the folder, "/" separators, "" for the package root. */
  rel: string;
  /** Absolute path of the folder on disk. */
  abs: string;
  /** Names of its files as the client asks for them (DataLib: without the `.INI`), in ordinal order. */
  names: string[];
  /** The names on disk (DataLib: `<name>.INI`), index for index with `names`. */
  diskNames: string[];
}

export interface WalkOptions {
  dataLib: boolean;
  onWarning: (w: CheckWarning) => void;
  onSkip?: () => void;
  /** Start below the package root: the folder's absolute path exactly as the whole walk spells it, and its
   * relative path (a share of the tree for one worker, src/check/units.ts). Default: the package root. */
  start?: { abs: string; rel: string };
}

/** A folder's listing split the way the walk uses it: files (names as the client asks for them) and subfolders. */
export interface FolderListing {
  names: string[];
  diskNames: string[];
  /** Subfolder names, in ordinal order. */
  subdirs: string[];
}

/**
 * Sort a folder's entries (ordinal name order: deterministic output) and split them into files and subfolders. For a
 * content library (`dataLib`), every `<name>.INI` stands for the file `<name>` (§3.3 step 2); other files there are
 * not package files (skipped). Anything neither file nor folder — symbolic links, junctions — is skipped too.
 */
export function splitListing(
  entries: Dirent[],
  opts: Pick<WalkOptions, "dataLib" | "onSkip">,
): FolderListing {
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names: string[] = [];
  const diskNames: string[] = [];
  const subdirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) subdirs.push(e.name);
    else if (e.isFile()) {
      const name = e.name;
      if (opts.dataLib) {
        if (!INI_NAME.test(name)) {
          opts.onSkip?.();
          continue;
        }
        names.push(name.slice(0, -4));
      } else names.push(name);
      diskNames.push(name);
    } else opts.onSkip?.();
  }
  return { names, diskNames, subdirs };
}

/** Read one folder for the walk; a folder that cannot be read is a warning (the walk goes on). */
export function readFolder(abs: string, opts: WalkOptions): FolderListing | undefined {
  return listingOrWarning(abs, readdirNow(abs), opts);
}

/**
 * One folder's entries, read synchronously: on a warm cache Node's promise readdir costs ~35 µs more per folder than
 * the synchronous call (bench/check.ts "walk only": 200,000 files in 2,000 folders, 190 → 115 ms; find 100 ms), and
 * the walk of a large tree runs in several threads anyway (src/check/parallel.ts).
 */
function readdirNow(abs: string): Dirent[] | NodeJS.ErrnoException {
  try {
    return readdirSync(abs, { withFileTypes: true });
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

function listingOrWarning(
  abs: string,
  listed: Dirent[] | NodeJS.ErrnoException,
  opts: WalkOptions,
): FolderListing | undefined {
  if (Array.isArray(listed)) return splitListing(listed, opts);
  opts.onWarning({ file: abs, message: `cannot read folder: ${listed.code ?? listed.message}` });
  return undefined;
}

/** The absolute path of the package root as the walk spells it (every file's path starts with it). */
export function walkRoot(root: string): string {
  return path.resolve(root);
}

/**
 * Walk a package tree depth-first, one directory read at a time, entries in ordinal name order (deterministic output),
 * yielding each folder that has files, with its files (one yield per folder, not per file: the check encodes a
 * folder's URL part once and loops over its names without an async step per file). See `splitListing` for what
 * counts as a file. Symbolic links / junctions are not followed (counted in `skipped`).
 */
export async function* walkFolders(root: string, opts: WalkOptions): AsyncGenerator<WalkedFolder> {
  // Depth-first with a stack of folders still to read (memory: the subfolder names of one path of the tree).
  type Dir = { abs: string; rel: string };
  const stack: Dir[] = [opts.start ? { ...opts.start } : { abs: walkRoot(root), rel: "" }];
  while (stack.length > 0) {
    const dir = stack.pop() as Dir;
    const l = readFolder(dir.abs, opts);
    if (!l) continue;
    if (l.names.length > 0) yield { rel: dir.rel, abs: dir.abs, names: l.names, diskNames: l.diskNames };
    for (let i = l.subdirs.length - 1; i >= 0; i--) {
      const name = l.subdirs[i];
      stack.push({ abs: dir.abs + path.sep + name, rel: dir.rel === "" ? name : `${dir.rel}/${name}` });
    }
  }
}

const INI_NAME = /\.ini$/i;

/** The files of `walkFolders`, one by one (relative path and absolute path of each). */
export async function* walkPackage(root: string, opts: WalkOptions): AsyncGenerator<WalkedFile> {
  for await (const d of walkFolders(root, opts))
    for (let i = 0; i < d.names.length; i++)
      yield {
        rel: d.rel === "" ? d.names[i] : `${d.rel}/${d.names[i]}`,
        abs: d.abs + path.sep + d.diskNames[i],
      };
}
