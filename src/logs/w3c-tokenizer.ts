/**
 * The WebAssembly half of the W3C scanner (source: wasm/w3c-tokenizer.ts, AssemblyScript; bytes embedded in
 * w3c-tokenizer-wasm.ts): lines and fields found 16 bytes at a time (SIMD), the fields the summary reads validated and
 * decoded, cs-uri-stem and the user agent hashed — one record of RECW int32 per line. W3CScanner (scan.ts) gives the
 * records their meaning; lines marked K_SLOW are read again by its JavaScript path, which says what is wrong.
 */
import { W3C_TOKENIZER_WASM } from "./w3c-tokenizer-wasm.js";

/** Record layout (int32 indices), as written by wasm/w3c-tokenizer.ts. */
export const RECW = 24;
export const R = {
  start: 0,
  end: 1,
  fields: 2,
  kind: 3,
  status: 4,
  sub: 5,
  /** ms of the day; -2 when the field set has no date */
  tod: 6,
  /** YYYYMMDD */
  dayKey: 7,
  h1: 8,
  h2: 9,
  agentHash: 10,
  agentLen: 11,
  stemA: 12,
  stemZ: 13,
  queryA: 14,
  queryZ: 15,
  agentA: 16,
  agentZ: 17,
  cipA: 18,
  cipZ: 19,
  methodA: 20,
  methodZ: 21,
  win32A: 22,
  win32Z: 23,
} as const;

export const K_OK = 0;
export const K_DIRECTIVE = 1;
export const K_SLOW = 2;
export const K_EMPTY = 3;

export const STOP_NEED_BYTES = 0;
export const STOP_DIRECTIVE = 1;
export const STOP_FULL = 2;
export const STOP_AT = 3;

/** Field roles (wasm/w3c-tokenizer.ts R_*): index = role, value = the plan's field name. */
export const ROLES = [
  "",
  "date",
  "time",
  "sc-status",
  "sc-substatus",
  "sc-win32-status",
  "c-ip",
  "s-ip",
  "cs-uri-stem",
  "cs-uri-query",
  "cs-method",
  "cs(user-agent)",
] as const;

const MAX_RECORDS = 4096;
const PAGE = 65536;

interface Exports {
  init(buf: number, rec: number, role: number, pos: number, ipt: number): void;
  setPlan(n: number, present: number): void;
  scan(start: number, end: number, stopAt: number, maxRec: number): number;
  resume(): number;
  reason(): number;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null when this runtime cannot run it (no WebAssembly SIMD): the JavaScript path reads. */
function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = Buffer.from(W3C_TOKENIZER_WASM, "base64");
      compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Bytes allowed in a logged IP (isLoggedIp of w3c.ts). */
const IP_CHARS = "0123456789abcdefABCDEF.:%";

export class Tokenizer {
  /** The chunk buffer (in the module's memory): read file bytes straight into it. */
  readonly buf: Buffer;
  /** Records of the last scan(). */
  readonly rec: Int32Array;
  private readonly role: Uint8Array;
  private readonly pos: Int32Array;
  private readonly x: Exports;

  constructor(
    mod: WebAssembly.Module,
    readonly capacity: number,
  ) {
    // layout: page 0 for the module's own data, then the chunk buffer (+16 bytes the SIMD loads may read past its
    // end), the records, the role table, the field positions, the IP byte table
    const bufAt = PAGE;
    const recAt = bufAt + capacity + 64;
    const roleAt = recAt + MAX_RECORDS * RECW * 4;
    const posAt = roleAt + 128;
    const iptAt = posAt + ROLES.length * 8;
    const bytes = iptAt + 256;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    const inst = new WebAssembly.Instance(mod, { env: { memory } });
    this.x = inst.exports as unknown as Exports;
    this.x.init(bufAt, recAt, roleAt, posAt, iptAt);
    const ab = memory.buffer;
    this.buf = Buffer.from(ab, bufAt, capacity);
    this.rec = new Int32Array(ab, recAt, MAX_RECORDS * RECW);
    this.role = new Uint8Array(ab, roleAt, 128);
    this.pos = new Int32Array(ab, posAt, ROLES.length * 2);
    const ipt = new Uint8Array(ab, iptAt, 256);
    for (const c of IP_CHARS) ipt[c.charCodeAt(0)] = 1;
  }

  /** A "#Fields:" in force (lower-cased field names), or none (every data line is then K_SLOW). */
  setPlan(names: readonly string[] | undefined): void {
    this.role.fill(0);
    this.pos.fill(-1);
    if (!names) {
      this.x.setPlan(0, 0);
      return;
    }
    let present = 0;
    for (let r = 1; r < ROLES.length; r++) {
      const i = names.indexOf(ROLES[r]);
      if (i < 0) continue;
      if (i >= 128) {
        // beyond the fields the scanner keeps positions of: every line goes to the JavaScript reader
        this.role.fill(0);
        this.x.setPlan(0, 0);
        return;
      }
      this.role[i] = r;
      present |= 1 << r;
    }
    this.x.setPlan(names.length, present);
  }

  /** Records for the lines of buf[start, end) (start: a line start); see wasm/w3c-tokenizer.ts scan(). */
  scan(start: number, end: number, stopAt: number): number {
    return this.x.scan(start, end, stopAt, MAX_RECORDS);
  }
  /** Where the next scan() starts. */
  resume(): number {
    return this.x.resume();
  }
  /** Why the last scan() stopped (STOP_*). */
  reason(): number {
    return this.x.reason();
  }
}

/**
 * A tokenizer with a chunk buffer of `capacity` bytes, or undefined when WebAssembly SIMD is not available. Each
 * call makes its own (a range scan or a gzip stream holds it for its whole run; in a worker, one at a time).
 */
export function newTokenizer(capacity: number): Tokenizer | undefined {
  const mod = module();
  return mod ? new Tokenizer(mod, capacity) : undefined;
}
