/**
 * What the platform can tell about a file that IIS cares about: the Windows Hidden attribute (the static file
 * handler answers 404.9 for hidden files, iis spec §9.2; configmgr field report DSPOT §10.4).
 *
 * Node's fs has no file attributes. On Windows the hidden files of a tree are listed once with
 * `cmd /u /d /c dir /s /b /a:h-d <root>` (one process per package, not per file; `/u` makes cmd write UTF-16LE, so
 * non-ASCII names survive whatever the console code page). Elsewhere (Linux/macOS reading a copied
 * tree) the attribute cannot be known: `hidden` stays undefined and the output says so.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

export interface FileFacts {
  hidden?: boolean;
}

/** absolute path → facts, or undefined when the platform cannot tell. */
export type FileFactsFn = (absPath: string) => FileFacts | undefined;

/**
 * Facts for files of `root` (and below it, unless `recursive` is false: a share of the tree that is one folder's own
 * files, src/check/units.ts), computed in one pass; `undefined` when this platform cannot tell.
 */
export function platformFileFacts(root: string, recursive = true): FileFactsFn | undefined {
  if (process.platform !== "win32") return undefined;
  const args = ["/u", "/d", "/c", "dir", ...(recursive ? ["/s"] : []), "/b", "/a:h-d", root];
  const r = spawnSync("cmd.exe", args, {
    encoding: "utf16le",
    windowsHide: true,
    maxBuffer: 1 << 28,
  });
  // `dir` exits 1 with "File Not Found" when there is no hidden file: that is an answer, not a failure.
  if (r.error || (r.status !== 0 && r.status !== 1)) return undefined;
  const hidden = new Set(
    r.stdout
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "")
      // `dir /s /b` prints full paths, `dir /b` bare names; NTFS names are case-insensitive
      .map((l) => path.win32.normalize(recursive ? l.trim() : path.win32.join(root, l.trim())).toLowerCase()),
  );
  return (abs) => ({ hidden: hidden.has(path.win32.normalize(abs).toLowerCase()) });
}
