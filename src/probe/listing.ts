/**
 * Reads a DP's PROPFIND answer (207 multistatus) into the package's file list, as DTS does with its "manifest"
 * (configmgr-dp-bits.md §2.3, §5.3; corpus logs/cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log).
 * Hrefs come in the `sccm?` form (`…/<id>/sccm?/<rel>`) or plain WebDAV form (`…/<id>/<rel>`); both are taken apart
 * by `parseDpUrl`. Malformed XML is an error naming the line and column.
 */
import { loadSaxes } from "../cjs.js";

import { parseDpUrl } from "../dp/urlforms.js";

const { SaxesParser } = loadSaxes();

export interface ListedFile {
  /** Relative path with '/' separators. */
  path: string;
  size?: number;
  href: string;
}

export interface Listing {
  files: ListedFile[];
  folders: string[];
  /** Entries whose href was not a content URL of the asked ID. */
  ignored: number;
}

export class ListingError extends Error {
  override name = "ListingError";
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

interface Entry {
  href: string;
  collection: boolean;
  length?: number;
}

/** Elements compared by local name in the DAV: namespace (prefixes vary between servers). */
export function parseMultistatus(xml: string, contentId: string): Listing {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const entries: Entry[] = [];
  let cur: Entry | undefined;
  let text = "";
  let error: ListingError | undefined;
  parser.on("error", (e) => {
    error ??= new ListingError(
      `PROPFIND answer is not well-formed XML: ${e.message.replace(/^.*?:\d+:\d+: /, "")}`,
      parser.line,
      parser.column,
    );
  });
  parser.on("opentag", (t) => {
    const dav = t.uri === "DAV:";
    if (dav && t.local === "response") {
      cur = { href: "", collection: false };
    }
    if (cur && dav && t.local === "collection") cur.collection = true;
    text = "";
  });
  parser.on("text", (t) => {
    text += t;
  });
  parser.on("cdata", (t) => {
    text += t;
  });
  parser.on("closetag", (t) => {
    if (!cur) return;
    const dav = t.uri === "DAV:";
    if (dav && t.local === "href" && cur.href === "") cur.href = text.trim();
    else if (dav && t.local === "iscollection" && text.trim() === "1") cur.collection = true;
    else if (dav && t.local === "getcontentlength" && /^\d+$/.test(text.trim()))
      cur.length = Number(text.trim());
    if (dav && t.local === "response") {
      entries.push(cur);
      cur = undefined;
    }
    text = "";
  });
  try {
    parser.write(xml).close();
  } catch (e) {
    error ??= new ListingError(
      `PROPFIND answer is not well-formed XML: ${(e as Error).message}`,
      parser.line,
      parser.column,
    );
  }
  if (error) throw error;
  const files: ListedFile[] = [];
  const folders: string[] = [];
  let ignored = 0;
  const id = contentId.toLowerCase();
  for (const e of entries) {
    const parts = parseDpUrl(e.href);
    if (parts.kind !== "dp-content" || parts.contentId?.toLowerCase() !== id) {
      ignored++;
      continue;
    }
    if (!parts.relativePath) continue; // the package itself
    if (e.collection) folders.push(parts.relativePath);
    else files.push({ path: parts.relativePath, size: e.length, href: e.href });
  }
  return { files, folders, ignored };
}
