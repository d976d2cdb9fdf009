/**
 * Reading the entries of a .zip the admin collected (Explorer "Send to → Compressed folder", Compress-Archive):
 * stored and deflated entries, no encryption, no ZIP64. Pure: bytes in, entries out; errors are positioned
 * InputErrors (file + byte offset as column 1 of line 1 is meaningless, so the offset is in the message).
 * Format: PKWARE APPNOTE 6.3 §4.3 (local header, central directory, end of central directory).
 */
import { inflateRawSync } from "node:zlib";
import { InputError } from "../errors.js";

export interface ZipEntry {
  /** Path inside the archive, '/' separators. */
  name: string;
  bytes: Buffer;
}

const EOCD = 0x06054b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;
/** Entries larger than this are skipped (a DP log can be large, but a zip bomb should not take the machine). */
export const MAX_ENTRY_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

/** Reads every file entry. Unsupported entries (encrypted, unknown method) are reported in `skipped`, not thrown. */
export function readZip(buf: Buffer, file: string): { entries: ZipEntry[]; skipped: string[] } {
  const bad = (msg: string, offset: number) => new InputError(`${msg} (byte offset ${offset})`, { file });
  // the end-of-central-directory record sits in the last 22 + 65535 bytes
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad("not a zip archive or truncated: no end-of-central-directory record", buf.length);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (p === 0xffffffff || count === 0xffff)
    throw bad("ZIP64 archives are not supported; extract it first", eocd);
  const entries: ZipEntry[] = [];
  const skipped: string[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CDH) throw bad("central directory entry expected", p);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    // bit 11: UTF-8 names; otherwise CP437 (read as latin1: exact for ASCII names)
    const name = buf
      .subarray(p + 46, p + 46 + nameLen)
      .toString(flags & 0x800 ? "utf8" : "latin1")
      .replace(/\\/g, "/");
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith("/")) continue;
    if (flags & 0x1) {
      skipped.push(`${name}: encrypted entry`);
      continue;
    }
    if (size > MAX_ENTRY_BYTES) {
      skipped.push(`${name}: larger than 2 GB; extract it first`);
      continue;
    }
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LFH)
      throw bad(`local header of "${name}" expected`, local);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + compressed);
    if (data.length < compressed) {
      skipped.push(`${name}: truncated archive`);
      continue;
    }
    try {
      if (method === 0) entries.push({ name, bytes: Buffer.from(data) });
      else if (method === 8)
        entries.push({ name, bytes: inflateRawSync(data, { maxOutputLength: Math.max(size, 1) }) });
      else skipped.push(`${name}: compression method ${method} not supported (stored and deflate are)`);
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message}`);
    }
  }
  return { entries, skipped };
}
