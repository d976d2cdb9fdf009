/**
 * Writes a configuration file the way an admin can trust on a production DP: refuse when the file changed since
 * it was read (hash), keep a timestamped backup next to it (never overwritten), write a temp file in the same
 * folder, fsync, rename over the original. On any failure the original is untouched and the temp file removed.
 */
import { createHash } from "node:crypto";
import * as nodeFs from "node:fs";
import * as path from "node:path";
import { InputError } from "../errors.js";

/** The file-system calls the writer uses; tests replace some to simulate failures. */
export interface WriterFs {
  readFileSync(p: string): Buffer;
  statSync(p: string): nodeFs.Stats;
  copyFileSync(src: string, dst: string, mode: number): void;
  openSync(p: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(p: string): void;
  existsSync(p: string): boolean;
}

export const realFs: WriterFs = {
  readFileSync: (p) => nodeFs.readFileSync(p),
  statSync: (p) => nodeFs.statSync(p),
  copyFileSync: (s, d, m) => nodeFs.copyFileSync(s, d, m),
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, d) => nodeFs.writeSync(fd, d),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  existsSync: (p) => nodeFs.existsSync(p),
};

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** `applicationHost.config.dpdoctor-YYYYMMDD-HHMMSS.bak` (local time, as the admin reads it), with a counter if taken. */
export function backupPathFor(file: string, now: Date, fs: Pick<WriterFs, "existsSync"> = realFs): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const base = `${file}.dpdoctor-${stamp}`;
  let candidate = `${base}.bak`;
  for (let i = 1; fs.existsSync(candidate); i++) candidate = `${base}-${i}.bak`;
  return candidate;
}

export interface WriteResult {
  backup: string;
  bytesWritten: number;
}

/**
 * Replaces `file` with `bytes` when its current content still hashes to `expectedSha256`.
 * Throws InputError (exit 2) with what happened and what state the files are in.
 */
export function writeConfigAtomically(
  file: string,
  bytes: Uint8Array,
  expectedSha256: string,
  opts: { now?: Date; fs?: WriterFs } = {},
): WriteResult {
  const fs = opts.fs ?? realFs;
  const stat = fs.statSync(file);
  // POSIX mode bits; on Windows node maps the read-only attribute to them
  if ((stat.mode & 0o200) === 0)
    throw new InputError(
      "the file is read-only: nothing was written (clear the read-only attribute or run elevated)",
      {
        file,
      },
    );
  const current = fs.readFileSync(file);
  if (sha256(current) !== expectedSha256)
    throw new InputError(
      "the file changed since dpdoctor read it (another edit, IIS Manager or appcmd?): nothing was written; run fix again",
      { file },
    );
  const backup = backupPathFor(file, opts.now ?? new Date(), fs);
  try {
    fs.copyFileSync(file, backup, nodeFs.constants.COPYFILE_EXCL);
  } catch (e) {
    throw new InputError(
      `could not write the backup ${backup}: ${(e as Error).message}; nothing was written`,
      { file },
    );
  }
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.dpdoctor-${process.pid}-${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, "wx", stat.mode & 0o777);
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes.subarray(off));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    // last look before replacing: someone may have written meanwhile
    if (sha256(fs.readFileSync(file)) !== expectedSha256)
      throw new Error("the file changed while dpdoctor was writing (another edit?)");
    fs.renameSync(temp, file);
  } catch (e) {
    if (fd !== undefined)
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    try {
      if (fs.existsSync(temp)) fs.unlinkSync(temp);
    } catch {
      /* the temp file is named in the message below */
    }
    throw new InputError(
      `could not replace the file: ${(e as Error).message}. The original is untouched; backup kept at ${backup}`,
      { file },
    );
  }
  return { backup, bytesWritten: bytes.length };
}
