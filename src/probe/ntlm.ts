/**
 * NTLM (NTLMv2 only) for `probe --user DOMAIN\name`, and the server-side check the emulator uses in tests.
 * [MS-NLMP] §2.2.1 (messages), §3.3.2 (NTLMv2: NTOWFv2, NTProofStr), §2.2.2.1 (AV pairs).
 *
 * MD4 is not offered by OpenSSL 3 (node:crypto refuses "md4" unless the legacy provider is loaded), so it is
 * implemented here from RFC 1320 (tested with the RFC's vectors). HMAC-MD5 comes from node:crypto.
 * Not implemented: NTLMv1/LM (insecure; modern DPs refuse them), session security (signing/sealing), MIC.
 */
import { createHmac, randomBytes } from "node:crypto";

// ---------------------------------------------------------------------------------------------------------------
// MD4 (RFC 1320)

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

export function md4(input: Uint8Array): Buffer {
  const len = input.length;
  const padLen = ((len + 8) >>> 6) * 64 + 64; // room for 0x80 and the 64-bit length
  const buf = Buffer.alloc(padLen);
  buf.set(input);
  buf[len] = 0x80;
  const bits = len * 8;
  buf.writeUInt32LE(bits >>> 0, padLen - 8);
  buf.writeUInt32LE(Math.floor(bits / 0x100000000) >>> 0, padLen - 4);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const F = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const G = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  for (let off = 0; off < padLen; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = buf.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    for (const i of [0, 4, 8, 12]) {
      a = rotl((a + F(b, c, d) + x[i]) | 0, 3);
      d = rotl((d + F(a, b, c) + x[i + 1]) | 0, 7);
      c = rotl((c + F(d, a, b) + x[i + 2]) | 0, 11);
      b = rotl((b + F(c, d, a) + x[i + 3]) | 0, 19);
    }
    for (const i of [0, 1, 2, 3]) {
      a = rotl((a + G(b, c, d) + x[i] + 0x5a827999) | 0, 3);
      d = rotl((d + G(a, b, c) + x[i + 4] + 0x5a827999) | 0, 5);
      c = rotl((c + G(d, a, b) + x[i + 8] + 0x5a827999) | 0, 9);
      b = rotl((b + G(c, d, a) + x[i + 12] + 0x5a827999) | 0, 13);
    }
    for (const i of [0, 2, 1, 3]) {
      a = rotl((a + H(b, c, d) + x[i] + 0x6ed9eba1) | 0, 3);
      d = rotl((d + H(a, b, c) + x[i + 8] + 0x6ed9eba1) | 0, 9);
      c = rotl((c + H(d, a, b) + x[i + 4] + 0x6ed9eba1) | 0, 11);
      b = rotl((b + H(c, d, a) + x[i + 12] + 0x6ed9eba1) | 0, 15);
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// NTLMv2 (MS-NLMP §3.3.2)

const utf16 = (s: string) => Buffer.from(s, "utf16le");
const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = createHmac("md5", key);
  for (const d of data) h.update(d);
  return h.digest();
};

/** NTOWFv2 = HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(utf16(password)), utf16(user.toUpperCase() + domain));
}

/** The NTLMv2 client blob ("temp" of §3.3.2) without the NTProofStr. */
export function ntlmv2Blob(timestamp: Buffer, clientChallenge: Buffer, targetInfo: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    timestamp,
    clientChallenge,
    Buffer.alloc(4),
    targetInfo,
    Buffer.alloc(4),
  ]);
}

/** NtChallengeResponse = NTProofStr ‖ blob, NTProofStr = HMAC-MD5(NTOWFv2, serverChallenge ‖ blob). */
export function ntlmv2Response(key: Buffer, serverChallenge: Buffer, blob: Buffer): Buffer {
  return Buffer.concat([hmacMd5(key, serverChallenge, blob), blob]);
}

/** Windows FILETIME (100 ns since 1601-01-01) as 8 little-endian bytes. */
export function fileTime(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(Math.round(ms)) * 10000n + 116444736000000000n);
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages (MS-NLMP §2.2.1)

const SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");
export const NTLM_FLAGS = {
  UNICODE: 0x1,
  REQUEST_TARGET: 0x4,
  NTLM: 0x200,
  ALWAYS_SIGN: 0x8000,
  TARGET_TYPE_DOMAIN: 0x10000,
  EXTENDED_SESSIONSECURITY: 0x80000,
  TARGET_INFO: 0x800000,
  N128: 0x20000000,
  N56: 0x80000000,
} as const;
const CLIENT_FLAGS =
  (NTLM_FLAGS.UNICODE |
    NTLM_FLAGS.REQUEST_TARGET |
    NTLM_FLAGS.NTLM |
    NTLM_FLAGS.ALWAYS_SIGN |
    NTLM_FLAGS.EXTENDED_SESSIONSECURITY |
    NTLM_FLAGS.TARGET_INFO |
    NTLM_FLAGS.N128 |
    NTLM_FLAGS.N56) >>>
  0;

export class NtlmError extends Error {
  override name = "NtlmError";
}

function secBuf(msg: Buffer, at: number): Buffer {
  if (msg.length < at + 8) throw new NtlmError("NTLM message truncated (security buffer header)");
  const len = msg.readUInt16LE(at);
  const off = msg.readUInt32LE(at + 4);
  if (off + len > msg.length) throw new NtlmError("NTLM security buffer points outside the message");
  return msg.subarray(off, off + len);
}

function messageType(msg: Buffer): number {
  if (msg.length < 12 || !msg.subarray(0, 8).equals(SIGNATURE)) throw new NtlmError("not an NTLMSSP message");
  return msg.readUInt32LE(8);
}

/** Type 1 (NEGOTIATE), no domain/workstation supplied. */
export function negotiateMessage(): Buffer {
  const m = Buffer.alloc(32);
  SIGNATURE.copy(m, 0);
  m.writeUInt32LE(1, 8);
  m.writeUInt32LE(CLIENT_FLAGS, 12);
  return m;
}

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
  /** MsvAvTimestamp when the server sent one (then the LMv2 response is all zeros, §3.1.5.1.2). */
  timestamp?: Buffer;
}

export function parseChallenge(msg: Buffer): Challenge {
  if (messageType(msg) !== 2) throw new NtlmError("expected an NTLM CHALLENGE (type 2) message");
  if (msg.length < 48) throw new NtlmError("NTLM CHALLENGE message truncated");
  const flags = msg.readUInt32LE(20);
  const targetName = secBuf(msg, 12);
  const targetInfo = Buffer.from(secBuf(msg, 40));
  let timestamp: Buffer | undefined;
  for (let i = 0; i + 4 <= targetInfo.length; ) {
    const id = targetInfo.readUInt16LE(i);
    const len = targetInfo.readUInt16LE(i + 2);
    if (id === 0) break;
    if (id === 7 && len === 8) timestamp = Buffer.from(targetInfo.subarray(i + 4, i + 12));
    i += 4 + len;
  }
  return {
    flags,
    serverChallenge: Buffer.from(msg.subarray(24, 32)),
    targetName: flags & NTLM_FLAGS.UNICODE ? targetName.toString("utf16le") : targetName.toString("latin1"),
    targetInfo,
    timestamp,
  };
}

/** AV pairs for a CHALLENGE (§2.2.2.1): NetBIOS domain/computer names and a timestamp. */
export function avPairs(pairs: { id: number; value: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(p.id, 0);
    h.writeUInt16LE(p.value.length, 2);
    parts.push(h, p.value);
  }
  parts.push(Buffer.alloc(4)); // MsvAvEOL
  return Buffer.concat(parts);
}

/** Type 2 (CHALLENGE), for the test/emulator side. */
export function challengeMessage(serverChallenge: Buffer, domain: string, nowMs: number): Buffer {
  const targetName = utf16(domain);
  const info = avPairs([
    { id: 2, value: utf16(domain) },
    { id: 1, value: utf16("DPDOCTOR-LAB") },
    { id: 7, value: fileTime(nowMs) },
  ]);
  const head = Buffer.alloc(48);
  SIGNATURE.copy(head, 0);
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(targetName.length, 12);
  head.writeUInt16LE(targetName.length, 14);
  head.writeUInt32LE(48, 16);
  head.writeUInt32LE((CLIENT_FLAGS | NTLM_FLAGS.TARGET_TYPE_DOMAIN) >>> 0, 20);
  serverChallenge.copy(head, 24);
  head.writeUInt16LE(info.length, 40);
  head.writeUInt16LE(info.length, 42);
  head.writeUInt32LE(48 + targetName.length, 44);
  return Buffer.concat([head, targetName, info]);
}

export interface Credentials {
  domain: string;
  user: string;
  password: string;
  workstation?: string;
}

/** Type 3 (AUTHENTICATE) answering `challenge` with NTLMv2. `clientChallenge`/`nowMs` are injectable for tests. */
export function authenticateMessage(
  challenge: Challenge,
  cred: Credentials,
  opts: { clientChallenge?: Buffer; nowMs?: number } = {},
): Buffer {
  const key = ntowfv2(cred.password, cred.user, cred.domain);
  const cc = opts.clientChallenge ?? randomBytes(8);
  const ts = challenge.timestamp ?? fileTime(opts.nowMs ?? Date.now());
  const nt = ntlmv2Response(key, challenge.serverChallenge, ntlmv2Blob(ts, cc, challenge.targetInfo));
  const lm = challenge.timestamp
    ? Buffer.alloc(24)
    : Buffer.concat([hmacMd5(key, challenge.serverChallenge, cc), cc]);
  const fields = [
    lm,
    nt,
    utf16(cred.domain),
    utf16(cred.user),
    utf16(cred.workstation ?? ""),
    Buffer.alloc(0),
  ];
  const head = Buffer.alloc(64);
  SIGNATURE.copy(head, 0);
  head.writeUInt32LE(3, 8);
  let off = 64;
  const at = [12, 20, 28, 36, 44, 52];
  fields.forEach((f, i) => {
    head.writeUInt16LE(f.length, at[i]);
    head.writeUInt16LE(f.length, at[i] + 2);
    head.writeUInt32LE(off, at[i] + 4);
    off += f.length;
  });
  head.writeUInt32LE(CLIENT_FLAGS, 60);
  return Buffer.concat([head, ...fields]);
}

export interface Authenticate {
  domain: string;
  user: string;
  workstation: string;
  ntResponse: Buffer;
}

export function parseAuthenticate(msg: Buffer): Authenticate {
  if (messageType(msg) !== 3) throw new NtlmError("expected an NTLM AUTHENTICATE (type 3) message");
  if (msg.length < 64) throw new NtlmError("NTLM AUTHENTICATE message truncated");
  const flags = msg.readUInt32LE(60);
  const str = (b: Buffer) => (flags & NTLM_FLAGS.UNICODE ? b.toString("utf16le") : b.toString("latin1"));
  return {
    ntResponse: Buffer.from(secBuf(msg, 20)),
    domain: str(secBuf(msg, 28)),
    user: str(secBuf(msg, 36)),
    workstation: str(secBuf(msg, 44)),
  };
}

/** Server side: is this AUTHENTICATE a valid NTLMv2 answer to `serverChallenge` for this password? */
export function verifyNtlmV2(auth: Authenticate, serverChallenge: Buffer, password: string): boolean {
  if (auth.ntResponse.length < 16 + 28) return false; // NTProofStr + minimal blob
  const proof = auth.ntResponse.subarray(0, 16);
  const blob = auth.ntResponse.subarray(16);
  const expect = hmacMd5(ntowfv2(password, auth.user, auth.domain), serverChallenge, blob);
  return expect.equals(proof);
}

/** `DOMAIN\name` or `name@domain` → parts (domain "" when absent). */
export function splitUser(s: string): { domain: string; user: string } {
  const bs = s.indexOf("\\");
  if (bs >= 0) return { domain: s.slice(0, bs), user: s.slice(bs + 1) };
  const at = s.lastIndexOf("@");
  if (at > 0) return { domain: s.slice(at + 1), user: s.slice(0, at) };
  return { domain: "", user: s };
}

/** The NTLM token of a `WWW-Authenticate`/`Authorization` header value ("NTLM <base64>"), if any. */
export function ntlmToken(headerValue: string | string[] | undefined): Buffer | undefined {
  const values = Array.isArray(headerValue) ? headerValue : headerValue ? [headerValue] : [];
  for (const v of values) {
    for (const part of v.split(",")) {
      // "Negotiate <token>" carries a raw NTLMSSP token when Kerberos is not used (IIS accepts and sends both)
      const m = /^\s*(?:NTLM|Negotiate)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(part);
      if (!m) continue;
      const token = Buffer.from(m[1], "base64");
      if (token.subarray(0, 8).equals(SIGNATURE)) return token;
    }
  }
  return undefined;
}

/** The scheme to answer with: NTLM when offered, else Negotiate (carrying NTLMSSP), else undefined. */
export function ntlmScheme(headerValue: string | string[] | undefined): "NTLM" | "Negotiate" | undefined {
  const values = Array.isArray(headerValue) ? headerValue : headerValue ? [headerValue] : [];
  const parts = values.flatMap((v) => v.split(",")).map((p) => p.trim());
  if (parts.some((p) => /^NTLM\b/i.test(p))) return "NTLM";
  if (parts.some((p) => /^Negotiate\b/i.test(p))) return "Negotiate";
  return undefined;
}

export function offersNtlm(headerValue: string | string[] | undefined): boolean {
  const values = Array.isArray(headerValue) ? headerValue : headerValue ? [headerValue] : [];
  return values.some((v) => v.split(",").some((p) => /^\s*(NTLM|Negotiate)\b/i.test(p)));
}
