/**
 * Per-folder URL encoding for `check`: every file of a folder shares the URL up to its folder, so the folder part is
 * encoded once per folder and each file adds only its encoded name. Same bytes as `buildDpUrl` of the whole path
 * (test/check/url-prefix.test.ts checks it property-wise: spaces, '+', '%', '#', '\', non-ASCII, dots).
 * The encoding itself (the [INF] wire-encoding assumption) lives in ./urlforms.ts and is not repeated here.
 */
import { encodeRelativePath, encodeSegment } from "./urlforms.js";

/**
 * The encoded folder part of a relative path, ready to take an encoded file name: "" for the package root, else
 * `enc(folder)/`. `folderRel` is "/"-separated as the walk builds it (a `\` in a name splits it, as in
 * `encodeRelativePath`).
 */
export function encodeFolderPrefix(folderRel: string): string {
  const enc = encodeRelativePath(folderRel);
  return enc === "" ? "" : `${enc}/`;
}

/**
 * The encoded file name to append to `encodeFolderPrefix(folder)`, or undefined when the name cannot be encoded on
 * its own: a `\` (or `/`) in it is a folder separator for `encodeRelativePath` (Windows paths), so the caller
 * encodes the whole relative path instead.
 */
export function encodeFileName(name: string): string | undefined {
  if (name === "") return undefined;
  let out = "";
  let from = 0; // start of the run of raw characters not yet copied
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // UTF-8 bytes: the general encoder (unless a separator follows)
    if (c >= 128) return name.includes("\\") || name.includes("/") ? undefined : encodeSegment(name);
    const esc = ASCII_ESCAPE[c];
    if (esc === "") continue;
    if (esc === undefined) return undefined; // '\' or '/': a separator, not a character of the name
    out += name.slice(from, i) + esc;
    from = i + 1;
  }
  return from === 0 ? name : out + name.slice(from);
}

/**
 * What `encodeSegment` makes of each ASCII character ("" = sent raw), taken from `encodeSegment` itself so the two
 * cannot disagree; undefined for the separators `\` and `/`.
 */
const ASCII_ESCAPE: (string | undefined)[] = Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  if (ch === "\\" || ch === "/") return undefined;
  const e = encodeSegment(ch);
  return e === ch ? "" : e;
});
