/**
 * HTTP byte ranges as BITS needs them (RFC 9110 §14; iis spec §10.2, configmgr-dp-bits.md §2.4 "GET must honour
 * Content-Range/Content-Length"; multipart limits of [S31]: ≤180 bytes of other headers, ≤2 CR/LFs before the first
 * boundary).
 */

export interface ByteRange {
  start: number; // inclusive
  end: number; // inclusive
}

export type RangeRequest =
  | { kind: "none" } // no Range header, or one we must ignore (bad syntax, other unit): answer 200
  | { kind: "unsatisfiable" } // 416 with `Content-Range: bytes */size`
  | { kind: "ranges"; ranges: ByteRange[] };

/** More ranges than this in one request are treated as abuse and ignored (200 with the whole file). */
export const MAX_RANGES = 64;

/**
 * Parses a `Range` header against a file of `size` bytes. Syntax errors mean "ignore the header" (RFC 9110 §14.2);
 * a syntactically valid set with no satisfiable range is 416 (§15.5.17).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "none" };
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return { kind: "none" };
  const parts = m[1].split(",");
  if (parts.length > MAX_RANGES) return { kind: "none" };
  const ranges: ByteRange[] = [];
  let sawAny = false;
  for (const raw of parts) {
    const p = raw.trim();
    if (p === "") continue; // RFC 9110 allows empty list elements
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(p);
    if (!r || (r[1] === "" && r[2] === "")) return { kind: "none" };
    sawAny = true;
    if (r[1] === "") {
      // suffix range: last N bytes
      const n = Number(r[2]);
      if (n === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    let end = r[2] === "" ? size - 1 : Number(r[2]);
    if (r[2] !== "" && end < start) return { kind: "none" }; // invalid range-spec: ignore the header
    if (start >= size) continue; // unsatisfiable element
    if (end >= size) end = size - 1;
    ranges.push({ start, end });
  }
  if (!sawAny) return { kind: "none" };
  if (ranges.length === 0) return { kind: "unsatisfiable" };
  return { kind: "ranges", ranges };
}

/** `Content-Range` value of one part. */
export function contentRange(r: ByteRange, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/** A multipart/byteranges body layout: the header block before each part and the closing delimiter. */
export interface MultipartPlan {
  boundary: string;
  parts: { head: Buffer; range: ByteRange }[];
  tail: Buffer;
  length: number;
}

export function multipartPlan(
  ranges: ByteRange[],
  size: number,
  contentType: string,
  boundary: string,
): MultipartPlan {
  let length = 0;
  const parts = ranges.map((range, i) => {
    // The first delimiter starts the body (no preamble): BITS accepts at most 2 CR/LFs before it [S31].
    const head = Buffer.from(
      `${i === 0 ? "" : "\r\n"}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(range, size)}\r\n\r\n`,
      "latin1",
    );
    length += head.length + (range.end - range.start + 1);
    return { head, range };
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, "latin1");
  length += tail.length;
  return { boundary, parts, tail, length };
}
