import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  authenticateMessage,
  avPairs,
  challengeMessage,
  md4,
  NtlmError,
  negotiateMessage,
  ntlmScheme,
  ntlmToken,
  ntlmv2Blob,
  ntlmv2Response,
  ntowfv2,
  parseAuthenticate,
  parseChallenge,
  splitUser,
  verifyNtlmV2,
} from "../../src/probe/ntlm.js";

// RFC 1320 §A.5 test suite
const RFC1320: [string, string][] = [
  ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
  ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
  ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
  ["message digest", "d9130a8164549fe818874806e1c7014b"],
  ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
  ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"],
  [
    "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    "e33b4ddc9c38f2199c3e7b164fcc0536",
  ],
];
for (const [input, hex] of RFC1320)
  test(`MD4 RFC 1320 vector ${JSON.stringify(input.slice(0, 20))}`, () => {
    assert.equal(md4(Buffer.from(input, "latin1")).toString("hex"), hex);
  });

test("MD4 block boundaries (55/56/63/64/65 bytes) differ and are 16 bytes", () => {
  const seen = new Set<string>();
  for (const n of [55, 56, 63, 64, 65, 119, 120]) {
    const h = md4(Buffer.alloc(n, 0x61)).toString("hex");
    assert.equal(h.length, 32);
    seen.add(h);
  }
  assert.equal(seen.size, 7);
});

test("MS-NLMP §4.2.4 NTLMv2: ResponseKeyNT and NTProofStr", () => {
  const key = ntowfv2("Password", "User", "Domain");
  assert.equal(key.toString("hex"), "0c868a403bfd7a93a3001ef22ef02e3f");
  const info = avPairs([
    { id: 2, value: Buffer.from("Domain", "utf16le") },
    { id: 1, value: Buffer.from("Server", "utf16le") },
  ]);
  const blob = ntlmv2Blob(Buffer.alloc(8), Buffer.from("aaaaaaaaaaaaaaaa", "hex"), info);
  const resp = ntlmv2Response(key, Buffer.from("0123456789abcdef", "hex"), blob);
  assert.equal(resp.subarray(0, 16).toString("hex"), "68cd0ab851e51c96aabc927bebef6a1c");
});

test("handshake: the server verifies the right password and refuses a wrong one", () => {
  const serverChallenge = Buffer.from("1122334455667788", "hex");
  const t2 = parseChallenge(challengeMessage(serverChallenge, "CONTOSO", Date.UTC(2024, 2, 5)));
  assert.equal(t2.targetName, "CONTOSO");
  assert.ok(t2.timestamp, "challenge carries MsvAvTimestamp");
  const good = parseAuthenticate(
    authenticateMessage(t2, { domain: "CONTOSO", user: "cmnaa", password: "S3cret!" }),
  );
  assert.equal(good.user, "cmnaa");
  assert.equal(good.domain, "CONTOSO");
  assert.equal(verifyNtlmV2(good, serverChallenge, "S3cret!"), true);
  assert.equal(verifyNtlmV2(good, serverChallenge, "s3cret!"), false);
  assert.equal(verifyNtlmV2(good, Buffer.alloc(8), "S3cret!"), false, "another challenge");
});

test("negotiate message is NTLMSSP type 1", () => {
  const m = negotiateMessage();
  assert.equal(m.subarray(0, 8).toString("latin1"), "NTLMSSP\0");
  assert.equal(m.readUInt32LE(8), 1);
});

test("header parsing: NTLM token, user forms", () => {
  assert.deepEqual(ntlmToken("NTLM TlRMTVNTUAA="), Buffer.from("NTLMSSP\0", "latin1"));
  assert.equal(ntlmToken(["Negotiate", "NTLM"]), undefined);
  assert.deepEqual(
    ntlmToken("Negotiate TlRMTVNTUAA="),
    Buffer.from("NTLMSSP\0", "latin1"),
    "NTLMSSP inside Negotiate",
  );
  assert.equal(ntlmToken("Negotiate YIIBhw=="), undefined, "a Kerberos/SPNEGO token is not NTLM");
  assert.equal(ntlmScheme(["Negotiate", "NTLM"]), "NTLM");
  assert.equal(ntlmScheme("Negotiate"), "Negotiate");
  assert.equal(ntlmScheme("Basic realm=x"), undefined);
  assert.deepEqual(splitUser("CONTOSO\\cm"), { domain: "CONTOSO", user: "cm" });
  assert.deepEqual(splitUser("cm@contoso.com"), { domain: "contoso.com", user: "cm" });
  assert.deepEqual(splitUser("cm"), { domain: "", user: "cm" });
});

test("property: any bytes as a CHALLENGE or AUTHENTICATE → a result or NtlmError, nothing else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, sig) => {
      const b = Buffer.from(bytes);
      if (sig && b.length >= 12) {
        Buffer.from("NTLMSSP\0", "latin1").copy(b, 0);
        b.writeUInt32LE(bytes[0] % 2 === 0 ? 2 : 3, 8);
      }
      for (const parse of [parseChallenge, parseAuthenticate]) {
        try {
          parse(b);
        } catch (e) {
          assert.ok(e instanceof NtlmError, String(e));
        }
      }
    }),
  );
});
