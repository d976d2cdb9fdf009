/**
 * What the emulator serves: one package folder, or the packages of a content library (configmgr-dp-bits.md §3.1–§3.3:
 * `DataLib\<ContentID>\<rel>.INI` → `[File] Hash` → `FileLib\<hash[0:4]>\<hash>`).
 *
 * Security: a relative path is resolved one name at a time under the package root. A name that could leave the root
 * or alias another file on NTFS (`..`, `.`, empty, `\`, `/`, `:` stream names such as `file::$DATA`, control
 * characters, Windows-reserved characters, trailing dot or space) is refused, and the real path of what was found
 * must stay under the real path of the root (symbolic links and junctions leaving the root are refused).
 * Names compare case-insensitively, as NTFS does, when no exact match exists.
 */
import {
  type Dirent,
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import path from "node:path";
import { iniSection, parseIni } from "../check/ini.js";
import { detectInput, folderPackage, libraryPackages } from "../check/source.js";

export interface ContentEntry {
  /** Relative path with '/' separators ("" for the package root). */
  rel: string;
  isDirectory: boolean;
  size: number;
  mtime: Date;
  /** Absolute path of the bytes (the file itself, or the FileLib blob). */
  abs: string;
}

export type Lookup =
  | { kind: "found"; entry: ContentEntry }
  | { kind: "missing" }
  /** The name could leave the root or alias another file: never served. */
  | { kind: "unsafe"; why: string };

export interface ServedPackage {
  packageId: string;
  /** The ID CB URLs carry (§2.2). */
  contentId: string;
  source: "folder" | "content-library";
  root: string;
  lookup(names: string[]): Lookup;
  /** Entries under the root: `depth` 1 = immediate children, Infinity = whole tree. Sorted, directories first. */
  list(depth: number): ContentEntry[];
}

/** Package ID shape (3 site-code characters + 5 hex digits, e.g. ABC00123), as check/source.ts reads it. */
const PACKAGE_ID = /^[A-Z0-9]{3}[0-9A-F]{5}$/i;

/** Why a single path name is refused (undefined = acceptable). */
export function unsafeName(name: string): string | undefined {
  if (name === "" || name === "." || name === "..") return `"${name}" is not a file name`;
  if (/[\\/]/.test(name)) return "path separator inside a name";
  if (name.includes(":")) return "':' (NTFS alternate data stream or drive)";
  if (/[\u0000-\u001f<>"|?*]/.test(name)) return "character not allowed in Windows file names";
  // Windows device names (also with an extension): on a Windows host they open a device, not a file
  if (/^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\.[^.]*)?$/i.test(name))
    return "Windows reserved device name";
  if (/[. ]$/.test(name))
    return "trailing dot or space (Windows ignores it: the name would alias another file)";
  return undefined;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Child of `dir` named `name`, exact first, else NTFS-style case-insensitive. */
function child(dir: string, name: string): string | undefined {
  const exact = path.join(dir, name);
  try {
    lstatSync(exact);
    return exact;
  } catch {
    // not there with this case
  }
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const lower = name.toLowerCase();
  const hit = entries.find((e) => e.name.toLowerCase() === lower);
  return hit ? path.join(dir, hit.name) : undefined;
}

/** Walks `names` under `realRoot`; returns the real path found or why not. */
function resolveUnder(
  realRoot: string,
  names: string[],
  lastSuffix = "",
): Lookup | { kind: "path"; p: string } {
  for (const n of names) {
    const bad = unsafeName(n);
    if (bad) return { kind: "unsafe", why: bad };
  }
  // Fast path: the exact names exist; one realpath(3) resolves every link, and the result must stay under the root.
  if (names.length > 0) {
    const exact = path.join(realRoot, ...names.slice(0, -1), names[names.length - 1] + lastSuffix);
    try {
      const real = realpathSync.native(exact);
      return isInside(realRoot, real)
        ? { kind: "path", p: real }
        : { kind: "unsafe", why: "link leaves the served root" };
    } catch {
      // not there with this case (or a dangling link): walk name by name, NTFS-style
    }
  }
  let cur = realRoot;
  for (let i = 0; i < names.length; i++) {
    const bad = unsafeName(names[i]);
    if (bad) return { kind: "unsafe", why: bad };
    const last = i === names.length - 1;
    const next = child(cur, last ? names[i] + lastSuffix : names[i]);
    if (!next) return { kind: "missing" };
    let real: string;
    try {
      real = realpathSync(next);
    } catch {
      return { kind: "missing" }; // dangling link
    }
    if (!isInside(realRoot, real)) return { kind: "unsafe", why: "link leaves the served root" };
    cur = real;
  }
  return { kind: "path", p: cur };
}

function entryOf(rel: string, abs: string, st: Stats): ContentEntry {
  return { rel, isDirectory: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, mtime: st.mtime, abs };
}

function sortEntries(list: ContentEntry[]): ContentEntry[] {
  return list.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** A package source folder served as one package (every file as is). */
export function folderServed(root: string, packageId?: string, contentId?: string): ServedPackage {
  const { pkg } = folderPackage(root, { packageId, contentId });
  const realRoot = realpathSync(pkg.root);
  return {
    packageId: pkg.id,
    contentId: pkg.contentId,
    source: "folder",
    root: realRoot,
    lookup(names) {
      const r = resolveUnder(realRoot, names);
      if (r.kind !== "path") return r;
      const st = statSync(r.p);
      if (!st.isFile() && !st.isDirectory()) return { kind: "missing" };
      return { kind: "found", entry: entryOf(names.join("/"), r.p, st) };
    },
    list(depth) {
      // links are neither listed nor followed
      return listTree(realRoot, depth, (e, abs, rel) =>
        e.isFile() || e.isDirectory() ? entryOf(joinRel(rel, e.name), abs, statSync(abs)) : undefined,
      );
    },
  };
}

const joinRel = (rel: string, name: string) => (rel === "" ? name : `${rel}/${name}`);

/**
 * Lists a tree to `depth` levels (1 = the root's children), sorted: `entryFor` turns each directory entry into a
 * listed entry (or nothing); directories are descended into. An unreadable folder lists as empty.
 */
function listTree(
  root: string,
  depth: number,
  entryFor: (e: Dirent, abs: string, rel: string) => ContentEntry | undefined,
): ContentEntry[] {
  const out: ContentEntry[] = [];
  const visit = (dir: string, rel: string, level: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const entry = entryFor(e, abs, rel);
      if (entry) out.push(entry);
      if (e.isDirectory() && level < depth) visit(abs, joinRel(rel, e.name), level + 1);
    }
  };
  visit(root, "", 1);
  return sortEntries(out);
}

/** `[File] Hash` and `Size` of a DataLib file INI (§3.2). */
function fileIni(abs: string): { hash: string; size?: number } | undefined {
  try {
    const ini = parseIni(readFileSync(abs), abs);
    const sec = iniSection(ini, "File");
    const hash = sec?.entries.find((e) => e.key.toLowerCase() === "hash")?.value.trim();
    const size = sec?.entries.find((e) => e.key.toLowerCase() === "size")?.value.trim();
    if (!hash || !/^[0-9A-F]{8,128}$/i.test(hash)) return undefined;
    return { hash: hash.toUpperCase(), size: size && /^\d+$/.test(size) ? Number(size) : undefined };
  } catch {
    return undefined;
  }
}

/** One content ID of a content library: folders from DataLib, bytes from FileLib. */
function libraryServed(libRoot: string, pkg: { id: string; contentId: string; root: string }): ServedPackage {
  const realLib = realpathSync(libRoot);
  const realRoot = realpathSync(pkg.root);
  const fileLib = (() => {
    const entries = readdirSync(realLib, { withFileTypes: true });
    const hit = entries.find((e) => e.isDirectory() && e.name.toLowerCase() === "filelib");
    return hit ? path.join(realLib, hit.name) : path.join(realLib, "FileLib");
  })();
  const blob = (iniAbs: string, rel: string): Lookup => {
    const info = fileIni(iniAbs);
    if (!info) return { kind: "missing" };
    const r = resolveUnder(realLib, [path.basename(fileLib), info.hash.slice(0, 4), info.hash]);
    if (r.kind !== "path") return r.kind === "unsafe" ? r : { kind: "missing" };
    const st = statSync(r.p);
    if (!st.isFile()) return { kind: "missing" };
    return { kind: "found", entry: entryOf(rel, r.p, st) };
  };
  return {
    packageId: pkg.id,
    contentId: pkg.contentId,
    source: "content-library",
    root: realRoot,
    lookup(names) {
      if (names.length === 0) return { kind: "found", entry: entryOf("", realRoot, statSync(realRoot)) };
      const dir = resolveUnder(realRoot, names);
      if (dir.kind === "path" && statSync(dir.p).isDirectory())
        return { kind: "found", entry: entryOf(names.join("/"), dir.p, statSync(dir.p)) };
      if (dir.kind === "unsafe") return dir;
      const ini = resolveUnder(realRoot, names, ".INI");
      if (ini.kind !== "path") return ini;
      return blob(ini.p, names.join("/"));
    },
    list(depth) {
      // DataLib: a folder per folder, one <name>.INI per file (§3.3)
      return listTree(realRoot, depth, (e, abs, rel) => {
        if (e.isDirectory()) return entryOf(joinRel(rel, e.name), abs, statSync(abs));
        if (!e.isFile() || !/\.ini$/i.test(e.name)) return undefined;
        const found = blob(abs, joinRel(rel, e.name.slice(0, -4)));
        return found.kind === "found" ? found.entry : undefined;
      });
    },
  };
}

export interface ContentStoreInfo {
  kind: "folder" | "content-library";
  packages: ServedPackage[];
  warnings: string[];
}

/**
 * Opens what `lab serve` serves: a content library (has PkgLib and DataLib) or a package folder.
 * Lookup of an ID from a URL is case-insensitive and accepts both the package ID and the content ID.
 */
export function openContent(
  root: string,
  opts: { packageId?: string; contentId?: string } = {},
): ContentStoreInfo {
  const detected = detectInput(root);
  if (detected.kind === "folder") {
    // A ConfigMgr 2007 package share (`<drive>:\SMSPKG<drive>$` holding `<PackageID>\…`, configmgr §2.1, §3.4):
    // every sub-folder named like a package ID is served as its own package.
    const name = path.basename(path.resolve(root));
    if (!opts.packageId && !PACKAGE_ID.test(name)) {
      const subs = readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && PACKAGE_ID.test(e.name))
        .map((e) => e.name)
        .sort();
      if (subs.length > 0)
        return {
          kind: "folder",
          packages: subs.map((id) => folderServed(path.join(root, id), id)),
          warnings: [
            `${root}: served as a package share: ${subs.length} package folder(s) (${subs.slice(0, 5).join(", ")}${subs.length > 5 ? ", …" : ""})`,
          ],
        };
    }
    return { kind: "folder", packages: [folderServed(root, opts.packageId, opts.contentId)], warnings: [] };
  }
  const { packages, warnings } = libraryPackages(
    { root, pkgLib: detected.pkgLib as string, dataLib: detected.dataLib as string },
    opts.packageId ? [opts.packageId] : [],
  );
  return {
    kind: "content-library",
    packages: packages.map((p) => libraryServed(root, p)),
    warnings: warnings.map((w) => `${w.file}${w.line ? `:${w.line}` : ""}: ${w.message}`),
  };
}

/** Finds a package by the ID in a URL (package ID or content ID, case-insensitive). */
export function findPackage(packages: readonly ServedPackage[], id: string): ServedPackage | undefined {
  const l = id.toLowerCase();
  return packages.find((p) => p.contentId.toLowerCase() === l || p.packageId.toLowerCase() === l);
}
