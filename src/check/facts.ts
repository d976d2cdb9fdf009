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

/** Facts for files of `root`, computed in one pass; `undefined` when this platform cannot tell. */
export function platformFileFacts(root: string): FileFactsFn | undefined {
  if (process.platform !== "win32") return undefined;
  const r = spawnSync("cmd.exe", ["/u", "/d", "/c", "dir", "/s", "/b", "/a:h-d", root], {
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
      .map((l) => path.win32.normalize(l.trim()).toLowerCase()), // NTFS names are case-insensitive
  );
  return (abs) => ({ hidden: hidden.has(path.win32.normalize(abs).toLowerCase()) });
}
