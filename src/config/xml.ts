/**
 * A small XML element tree with exact source spans, built on saxes (spec peers-and-ecosystem.md §3.1).
 *
 * Offset convention: every offset is a 0-based index into the DECODED JavaScript string `XmlDocument.text`
 * (BOM removed, line endings kept exactly as in the file). `line`/`column` are 1-based; `column` counts UTF-16
 * code units from the start of the line. Spans are half-open: `[start, end)`.
 * A writer splices `text` and re-encodes with `XmlDocument.encoding`, prefixing the BOM when `bom` is true, so a
 * byte-preserving edit only touches the spliced range (used by `fix`).
 */
import { loadSaxes } from "../cjs.js";
import { InputError } from "../errors.js";

const { SaxesParser } = loadSaxes();

export type XmlEncoding = "utf-8" | "utf-16le" | "utf-16be";

/** One attribute with the spans of its name and of its value (value span excludes the quotes). */
export interface XmlAttribute {
  name: string;
  /** Value after entity decoding (what IIS reads). */
  value: string;
  line: number;
  column: number;
  nameStart: number;
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
  quote: '"' | "'";
}

export interface XmlElement {
  name: string;
  attributes: XmlAttribute[];
  children: XmlElement[];
  parent: XmlElement | null;
  file: string;
  /** Position of the `<` of the start tag. */
  line: number;
  column: number;
  /** Start tag span: `<` … `>` (or `/>` when self-closing). */
  start: number;
  startTagEnd: number;
  /** End tag span `</name>`; equal to the start tag's end for a self-closing element. */
  endTagStart: number;
  end: number;
  selfClosing: boolean;
}

export interface XmlDocument {
  file: string;
  /** Decoded text without the BOM; all offsets index into it. */
  text: string;
  encoding: XmlEncoding;
  bom: boolean;
  /** Dominant line ending ("\r\n" when the file has CRLF lines and no bare LF). */
  eol: "\r\n" | "\n";
  root: XmlElement;
  /** 0-based offsets of every line start, for position → line/column. */
  lineStarts: number[];
}

/** Decoded bytes plus what a writer needs to re-encode them. */
export interface DecodedText {
  text: string;
  encoding: XmlEncoding;
  bom: boolean;
}

/** Sniff the encoding (BOM, or the zero-byte pattern of UTF-16 without BOM) and decode. */
export function decodeXmlBytes(bytes: Uint8Array): DecodedText {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder("utf-8").decode(bytes.subarray(3)), encoding: "utf-8", bom: true };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le", bom: true };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be", bom: true };
  }
  // UTF-16 without BOM: "<\0" or "\0<" at the start.
  if (bytes.length >= 2 && bytes[0] === 0x3c && bytes[1] === 0) {
    return { text: new TextDecoder("utf-16le").decode(bytes), encoding: "utf-16le", bom: false };
  }
  if (bytes.length >= 2 && bytes[0] === 0 && bytes[1] === 0x3c) {
    return { text: new TextDecoder("utf-16be").decode(bytes), encoding: "utf-16be", bom: false };
  }
  return { text: new TextDecoder("utf-8").decode(bytes), encoding: "utf-8", bom: false };
}

/** Re-encode text the way it was read (BOM included), for byte-preserving writes. */
export function encodeXmlText(text: string, encoding: XmlEncoding, bom: boolean): Uint8Array {
  if (encoding === "utf-8") {
    const body = Buffer.from(text, "utf8");
    return bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
  }
  const le = Buffer.from(text, "utf16le");
  if (encoding === "utf-16be") le.swap16();
  if (!bom) return le;
  return Buffer.concat([Buffer.from(encoding === "utf-16le" ? [0xff, 0xfe] : [0xfe, 0xff]), le]);
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1); // bare CR ends a line too (XML §2.11)
  }
  return starts;
}

/** 1-based line/column of a 0-based offset. */
export function positionOf(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((lineStarts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
}

/** The trimmed text of a 1-based line (for SourceRef.text). */
export function lineText(doc: Pick<XmlDocument, "text" | "lineStarts">, line: number): string {
  const s = doc.lineStarts[line - 1];
  if (s === undefined) return "";
  const e = doc.lineStarts[line] ?? doc.text.length;
  return doc.text.slice(s, e).trim();
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Parse bytes (any supported encoding) into an element tree. Throws InputError `file:line:col: message`. */
export function parseXmlBytes(bytes: Uint8Array, file: string): XmlDocument {
  const d = decodeXmlBytes(bytes);
  return parseXmlText(d.text, file, d.encoding, d.bom);
}

/**
 * Parse decoded text. A leading U+FEFF is treated as a BOM and stripped (offsets then index the stripped text).
 * Malformed XML → InputError positioned at the offending character.
 */
export function parseXmlText(
  input: string,
  file: string,
  encoding: XmlEncoding = "utf-8",
  bom = false,
): XmlDocument {
  let text = input;
  let hasBom = bom;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    hasBom = true;
  }
  const lineStarts = computeLineStarts(text);
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let pendingAttrs: XmlAttribute[] = [];
  let failure: InputError | null = null;

  const fail = (message: string, offset: number): never => {
    const at = positionOf(lineStarts, Math.max(0, Math.min(offset, text.length)));
    throw new InputError(message, { file, line: at.line, column: at.column });
  };

  parser.on("error", (err) => {
    // saxes prefixes "line:col: "; we give our own position (of the last character read).
    const msg = String(err.message).replace(/^\d+:\d+: /, "");
    const off = parser.position - 1;
    const at = positionOf(lineStarts, Math.max(0, Math.min(off, text.length)));
    failure ??= new InputError(`malformed XML: ${msg}`, { file, line: at.line, column: at.column });
    throw failure;
  });
  parser.on("opentagstart", () => {
    pendingAttrs = [];
  });
  parser.on("attribute", (a) => {
    // Cursor is just after the closing quote.
    const valueEnd = parser.position - 1;
    const q = text[valueEnd] === "'" ? "'" : '"';
    const valueStart = text.lastIndexOf(q, valueEnd - 1) + 1;
    let i = valueStart - 2; // before the opening quote
    while (i > 0 && isSpace(text.charCodeAt(i))) i--;
    // text[i] is "="
    i--;
    while (i > 0 && isSpace(text.charCodeAt(i))) i--;
    const nameEnd = i + 1;
    const nameStart = nameEnd - a.name.length;
    const at = positionOf(lineStarts, nameStart);
    pendingAttrs.push({
      name: a.name,
      value: a.value,
      line: at.line,
      column: at.column,
      nameStart,
      nameEnd,
      valueStart,
      valueEnd,
      quote: q,
    });
  });
  parser.on("opentag", (tag) => {
    const startTagEnd = parser.position;
    const start = text.lastIndexOf("<", pendingAttrs[0]?.nameStart ?? startTagEnd - 1);
    const at = positionOf(lineStarts, start);
    const parent = stack[stack.length - 1] ?? null;
    const el: XmlElement = {
      name: tag.name,
      attributes: pendingAttrs,
      children: [],
      parent,
      file,
      line: at.line,
      column: at.column,
      start,
      startTagEnd,
      endTagStart: startTagEnd,
      end: startTagEnd,
      selfClosing: tag.isSelfClosing,
    };
    pendingAttrs = [];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on("closetag", () => {
    const el = stack.pop();
    if (!el) return;
    if (!el.selfClosing) {
      el.end = parser.position;
      el.endTagStart = text.lastIndexOf("</", el.end - 1);
    }
  });

  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof InputError) throw e;
    fail(`malformed XML: ${e instanceof Error ? e.message : String(e)}`, parser.position - 1);
  }
  if (failure) throw failure;
  if (!root) fail("no XML element found (expected a configuration file)", 0);
  const crlf = text.indexOf("\r\n");
  const bareLf = /(^|[^\r])\n/.test(text);
  return {
    file,
    text,
    encoding,
    bom: hasBom,
    eol: crlf >= 0 && !bareLf ? "\r\n" : "\n",
    root: root as unknown as XmlElement,
    lineStarts,
  };
}

/** Attribute lookup by exact name (XML names are case-sensitive, and so is IIS for attribute names). */
export function attr(el: XmlElement, name: string): XmlAttribute | undefined {
  for (const a of el.attributes) if (a.name === name) return a;
  return undefined;
}
