/**
 * Chunked reading of W3C and HTTPERR logs for `diagnose` (bounded memory: a busy DP writes millions of lines a day).
 * The bytes arrive in pieces of any size; `LineDecoder` turns them into the same lines, with the same numbers, as
 * `decodeText` + `splitLines` of text.ts do for the whole file (BOM/UTF-16 sniffing on the first 512 bytes, CRLF, LF
 * and lone CR, a CRLF or a UTF-8 sequence split across two pieces, a truncated last line), and the lines go through
 * the one directive parser of w3c.ts (`DirectiveLineReader`). `.gz` logs are inflated as a stream.
 */
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { createGunzip, gunzipSync, constants as zc } from "node:zlib";
import { InputError } from "../errors.js";
import { DETECT_BYTES, type Detection, detectKind, isGzip } from "./detect.js";
import type { ArtifactSummary, HttpErrRecord, W3CRecord } from "./records.js";
import { sniffEncoding, type TextEncodingName } from "./text.js";
import { DirectiveLineReader, httpErrReader, w3cReader } from "./w3c.js";

/** Bytes the encoding sniffer looks at (text.ts sniffEncoding reads at most the first 512). */
const SNIFF_BYTES = 512;
/**
 * Read size of the file streams: 64 KiB. Measured with bench/diagnose.ts (200k vs 2M lines): a decoded chunk lives
 * while its lines are parsed; 1 MiB chunks became external strings (Node decodes more than ~1 MB outside the V8 heap,
 * freed late) and 256 KiB chunks survived young-generation collections, both making the peak RSS grow with the log.
 */
export const CHUNK_BYTES = 64 * 1024;

type Decoder = InstanceType<typeof TextDecoder>;

/**
 * Bytes in pieces → lines. Same decoding and line-end rules as `decodeText` + `splitLines` on the whole input:
 * invalid UTF-8 becomes U+FFFD, a leading BOM is dropped, a final empty line is not reported.
 */
export class LineDecoder {
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private encoding: TextEncodingName | undefined;
  private decoder: Decoder | undefined;
  /** UTF-16BE: an odd byte waiting for its pair. */
  private oddByte: number | undefined;
  /** Start of text not yet seen: a leading U+FEFF is dropped there (decodeText's stripBom for UTF-16). */
  private atStart = true;
  /** The last piece ended with CR: a LF at the start of the next piece belongs to that line end. */
  private skipLf = false;
  private partial = "";
  private lineNo = 0;

  constructor(private readonly onLine: (text: string, line: number) => void) {}

  /** Lines reported so far. */
  get lines(): number {
    return this.lineNo;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (!this.encoding) {
      this.head.push(bytes);
      this.headBytes += bytes.length;
      if (this.headBytes < SNIFF_BYTES) return;
      this.start();
      return;
    }
    this.decode(bytes, true);
  }

  end(): void {
    if (!this.encoding) this.start();
    if (this.encoding === "utf-16be") this.oddByte = undefined; // decodeText drops an odd trailing byte
    this.text((this.decoder as Decoder).decode());
    if (this.partial.length > 0) this.emit(this.partial);
    this.partial = "";
  }

  private start(): void {
    const all = Buffer.concat(this.head);
    this.head = [];
    const enc = sniffEncoding(all);
    this.encoding = enc;
    this.decoder = new TextDecoder(enc === "utf-16le" || enc === "utf-16be" ? "utf-16le" : "utf-8");
    this.decode(enc === "utf-8-bom" ? all.subarray(3) : all, true);
  }

  private decode(bytes: Uint8Array, stream: boolean): void {
    let b = bytes;
    if (this.encoding === "utf-16be") {
      // TextDecoder supports utf-16be only with full ICU: swap byte pairs (as decodeText does), carrying an odd byte
      const joined =
        this.oddByte === undefined ? Buffer.from(b) : Buffer.concat([Buffer.from([this.oddByte]), b]);
      const even = joined.length & ~1;
      this.oddByte = even < joined.length ? joined[even] : undefined;
      b = joined.subarray(0, even).swap16();
    }
    this.text((this.decoder as Decoder).decode(b, { stream }));
  }

  private text(t0: string): void {
    let t = t0;
    if (t.length === 0) return;
    if (this.atStart) {
      this.atStart = false;
      if ((this.encoding === "utf-16le" || this.encoding === "utf-16be") && t.charCodeAt(0) === 0xfeff)
        t = t.slice(1);
      if (t.length === 0) return;
    }
    let start = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (t.charCodeAt(0) === 10) start = 1;
    }
    const n = t.length;
    for (let i = start; i < n; i++) {
      const c = t.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const piece = t.slice(start, i);
      this.emit(this.partial.length > 0 ? this.partial + piece : piece);
      this.partial = "";
      if (c === 13) {
        if (i + 1 < n) {
          if (t.charCodeAt(i + 1) === 10) i++;
        } else this.skipLf = true;
      }
      start = i + 1;
    }
    if (start < n) this.partial += t.slice(start);
  }

  private emit(line: string): void {
    this.lineNo++;
    this.onLine(detach(line), this.lineNo);
  }
}

/**
 * A copy of a line that does not keep its chunk alive. V8 slices of a long string reference the whole parent: a record
 * kept for evidence (its `text`) would otherwise pin its whole chunk, and the aggregates' memory would grow with
 * the log after all. Concatenation + slice makes V8 flatten the line into a string of its own.
 */
function detach(line: string): string {
  return line.length < 13 ? line : ` ${line}`.slice(1);
}

/** What the streaming reader reports for one file: the artifact summary (counts, positioned skip samples). */
export interface StreamedLog {
  summary: ArtifactSummary;
}

/** The W3C / HTTPERR directive parser fed by a LineDecoder: push bytes, get records. */
export function directiveLineSink(
  kind: "iis-w3c" | "httperr",
  file: string,
  onRecord: (r: W3CRecord | HttpErrRecord) => void,
): { decoder: LineDecoder; reader: DirectiveLineReader<W3CRecord> | DirectiveLineReader<HttpErrRecord> } {
  const reader =
    kind === "iis-w3c"
      ? new DirectiveLineReader<W3CRecord>(file, w3cReader(file), onRecord)
      : new DirectiveLineReader<HttpErrRecord>(file, httpErrReader(file), onRecord);
  const decoder = new LineDecoder((text, line) => reader.line(text, line));
  return { decoder, reader };
}

/**
 * Streams one W3C or HTTPERR log file (plain or gzip'd) through the directive parser, `CHUNK_BYTES` at a time:
 * memory does not grow with the file. A truncated gzip stream gives what could be inflated (as readFileBytes does);
 * corrupt gzip data is a positioned InputError (the records before it have been delivered).
 */
export async function streamDirectiveFile(
  file: string,
  kind: "iis-w3c" | "httperr",
  onRecord: (r: W3CRecord | HttpErrRecord) => void,
): Promise<StreamedLog> {
  let records = 0;
  const { decoder, reader } = directiveLineSink(kind, file, (r) => {
    records++;
    onRecord(r);
  });
  const gz = isGzip(readHead(file, 2));
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  const source = gz ? raw.pipe(createGunzip({ finishFlush: zc.Z_SYNC_FLUSH, chunkSize: CHUNK_BYTES })) : raw;
  try {
    for await (const chunk of source) decoder.push(chunk as Buffer);
  } catch (e) {
    raw.destroy();
    if (gz) throw new InputError(`gzip data is corrupt (${(e as Error).message})`, { file });
    throw e;
  }
  decoder.end();
  return {
    summary: {
      path: file,
      kind,
      records,
      skipped: reader.skippedCount,
      skippedSamples: reader.skipped.slice(0, 20),
    },
  };
}

function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Detection of a file from its first bytes, inflating only the head of a gzip'd file (read.ts sniffFile inflates the
 * whole file, which a multi-GB .gz log must not cost).
 */
export function sniffFileBounded(file: string): Detection {
  let head = readHead(file, DETECT_BYTES);
  if (!isGzip(head)) return detectKind(file, head);
  try {
    head = gunzipSync(readHead(file, 256 * 1024), { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, DETECT_BYTES);
  } catch {
    head = Buffer.alloc(0);
  }
  return { ...detectKind(file, head), gzip: true };
}
