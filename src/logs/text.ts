/**
 * Bytes → text for the log readers: BOM sniffing (UTF-8, UTF-16LE, UTF-16BE), UTF-16 without BOM,
 * and a line splitter that accepts CRLF, LF and lone CR in one file (configmgr-dp-bits §4.1: a real smsts.log
 * mixes all three).
 */

export type TextEncodingName = "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be";

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

/** Guesses the encoding from the BOM, or from the NUL pattern of ASCII text written as UTF-16. */
export function sniffEncoding(bytes: Uint8Array): TextEncodingName {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8-bom";
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  // No BOM: ASCII text in UTF-16LE has a NUL at every odd offset.
  const n = Math.min(bytes.length, 512) & ~1;
  if (n >= 8) {
    let oddNul = 0;
    let evenNul = 0;
    for (let i = 0; i < n; i += 2) {
      if (bytes[i] === 0) evenNul++;
      if (bytes[i + 1] === 0) oddNul++;
    }
    if (oddNul > n / 4 && evenNul === 0) return "utf-16le";
    if (evenNul > n / 4 && oddNul === 0) return "utf-16be";
  }
  return "utf-8";
}

/** Decodes a whole file (invalid UTF-8 becomes U+FFFD, never an exception). */
export function decodeText(input: string | Uint8Array): DecodedText {
  if (typeof input === "string") {
    const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
    return { text, encoding: "utf-8" };
  }
  const encoding = sniffEncoding(input);
  switch (encoding) {
    case "utf-8-bom":
      return { text: new TextDecoder("utf-8").decode(input.subarray(3)), encoding };
    case "utf-16le":
      return { text: stripBom(new TextDecoder("utf-16le").decode(input)), encoding };
    case "utf-16be": {
      // TextDecoder in Node supports utf-16be only with full ICU; swap bytes to stay portable.
      const swapped = Buffer.from(input.subarray(0, input.length & ~1));
      swapped.swap16();
      return { text: stripBom(new TextDecoder("utf-16le").decode(swapped)), encoding };
    }
    default:
      return { text: new TextDecoder("utf-8").decode(input), encoding };
  }
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export interface TextLine {
  text: string;
  /** 1-based line number. */
  line: number;
  /** Offset (UTF-16 code units) of the first character in the decoded text. */
  offset: number;
}

/** Splits on CRLF, LF or a lone CR (each counts as one line end). A final empty line is not returned. */
export function splitLines(text: string): TextLine[] {
  const out: TextLine[] = [];
  let start = 0;
  let line = 1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      out.push({ text: text.slice(start, i), line, offset: start });
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      line++;
    }
  }
  if (start < n) out.push({ text: text.slice(start), line, offset: start });
  return out;
}

/** Line number (1-based) of a character offset, using the same line-end rules as splitLines. */
export function lineIndex(text: string): (offset: number) => number {
  const starts: number[] = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** True when the bytes look binary (NULs or many control characters) after any BOM/UTF-16 handling. */
export function looksBinary(bytes: Uint8Array): boolean {
  const enc = sniffEncoding(bytes);
  if (enc === "utf-16le" || enc === "utf-16be") return false;
  const n = Math.min(bytes.length, 4096);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) bad++;
  }
  return n > 0 && bad / n > 0.1;
}
