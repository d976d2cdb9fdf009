/**
 * The emulator over loopback: PROPFIND / HEAD / Range semantics, engine refusals and the exact W3C line (read back by
 * the logs reader), every fault, traversal attempts, 200 concurrent ranged downloads, NTLM, a content library.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { W3C_FIELDS } from "../../src/lab/iis-log.js";
import { type Lab, startLab } from "../../src/lab/server.js";
import { parseHttpErr, parseW3C } from "../../src/logs/index.js";
import { authenticateMessage, negotiateMessage, ntlmToken, parseChallenge } from "../../src/probe/ntlm.js";
import { bytes, raw, seedPackage } from "./helpers.js";

const pkg = seedPackage();
let lab: Lab;
before(async () => {
  lab = await startLab({ root: pkg.root, logDir: path.join(pkg.dir, "logs") });
});
after(async () => {
  await lab.close();
});

function w3cRecords(l: Lab) {
  l.flushLogs();
  const files = readdirSync(l.w3cDir);
  assert.equal(files.length, 1);
  assert.match(files[0], /^u_ex\d{6}\.log$/);
  const text = readFileSync(path.join(l.w3cDir, files[0]), "utf8");
  return { text, parsed: parseW3C(text, files[0]) };
}

describe("PROPFIND listing (configmgr §2.3)", () => {
  test("Depth infinity lists every file and folder with sccm? hrefs; the package itself first", async () => {
    const r = await raw(lab.url, "PROPFIND", "/SMS_DP_SMSPKG$/ABC00123", { Depth: "infinity", Host: "dp01" });
    assert.equal(r.status, 207);
    const hrefs = [...r.body.toString().matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]);
    assert.equal(hrefs[0], "http://dp01/SMS_DP_SMSPKG$/sccm?/ABC00123/");
    for (const rel of Object.keys(pkg.files))
      assert.ok(hrefs.includes(`http://dp01/SMS_DP_SMSPKG$/ABC00123/sccm?/${rel.replace(/ /g, "%20")}`), rel);
    assert.ok(
      hrefs.includes("http://dp01/SMS_DP_SMSPKG$/ABC00123/sccm?/x64/deep"),
      "nested folder, no trailing /",
    );
    assert.match(r.body.toString(), /<D:getcontentlength>70000<\/D:getcontentlength>/);
  });
  test("Depth 1 lists only the children; Depth 0 only the package", async () => {
    const one = await raw(lab.url, "PROPFIND", "/SMS_DP_SMSPKG$/ABC00123", { Depth: "1" });
    const h1 = [...one.body.toString().matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]);
    assert.ok(h1.some((h) => h.endsWith("/sccm?/x64")));
    assert.ok(!h1.some((h) => h.endsWith("/sccm?/x64/deep")));
    const zero = await raw(lab.url, "PROPFIND", "/SMS_DP_SMSPKG$/abc00123", { Depth: "0" });
    assert.equal(zero.status, 207, "content IDs compare case-insensitively");
    assert.equal([...zero.body.toString().matchAll(/<D:response>/g)].length, 1);
  });
});

describe("HEAD and ranges (iis spec §10.2, BITS)", () => {
  const target = "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe";
  const file = pkg.files["setup.exe"];
  test("HEAD gives Content-Length and Accept-Ranges, no body", async () => {
    const r = await raw(lab.url, "HEAD", target);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-length"], String(file.length));
    assert.equal(r.headers["accept-ranges"], "bytes");
    assert.equal(r.body.length, 0);
  });
  test("single range → 206 with Content-Range and exactly those bytes", async () => {
    const r = await raw(lab.url, "GET", target, { Range: "bytes=100-1099" });
    assert.equal(r.status, 206);
    assert.equal(r.headers["content-range"], `bytes 100-1099/${file.length}`);
    assert.deepEqual(r.body, file.subarray(100, 1100));
  });
  test("multiple ranges → multipart/byteranges with each part's bytes", async () => {
    const r = await raw(lab.url, "GET", target, { Range: "bytes=0-9,-10" });
    assert.equal(r.status, 206);
    const m = /boundary=(\S+)/.exec(String(r.headers["content-type"]));
    assert.ok(m);
    const parts = r.body.toString("latin1").split(`--${m[1]}`);
    assert.equal(parts.length, 4); // "", part1, part2, "--\r\n"
    assert.match(parts[1], new RegExp(`Content-Range: bytes 0-9/${file.length}`));
    assert.equal(
      Buffer.from(parts[1].split("\r\n\r\n")[1].slice(0, 10), "latin1").toString("hex"),
      file.subarray(0, 10).toString("hex"),
    );
    assert.equal(Number(r.headers["content-length"]), r.body.length);
  });
  test("unsatisfiable range → 416 with bytes */size", async () => {
    const r = await raw(lab.url, "GET", target, { Range: `bytes=${file.length}-` });
    assert.equal(r.status, 416);
    assert.equal(r.headers["content-range"], `bytes */${file.length}`);
  });
  test("direct and 2007 forms serve the same bytes", async () => {
    for (const t of ["/SMS_DP_SMSPKG$/ABC00123/setup.exe", "/SMS_DP_SMSPKGE%24/ABC00123/setup.exe"]) {
      const r = await raw(lab.url, "GET", t);
      assert.equal(r.status, 200, t);
      assert.deepEqual(r.body, file);
    }
  });
});

describe("refusals come from the engine; W3C lines as IIS 10 writes them", () => {
  // Seed: configmgr §5.5 / iis spec §12 — aspnet profile denies .ldf (404.7) and hides bin (404.8) in the 2007 form.
  const CASES: [string, string, number, number][] = [
    ["HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", 404, 7],
    ["GET", "/SMS_DP_SMSPKGE$/ABC00123/bin/tool.dll", 404, 8],
    ["GET", "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf", 404, 7],
    ["HEAD", "/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/file.ldf", 200, 0], // path is only …/sccm (§10.1)
    ["GET", "/SMS_DP_SMSPKGE$/ABC00123/nothere.exe", 404, 0],
    ["GET", "/SMS_DP_SMSPKGE$/ABC00123/docs/read%20me.txt", 200, 0],
  ];
  for (const [method, target, status, sub] of CASES)
    test(`${method} ${target} → ${status}.${sub}`, async () => {
      const r = await raw(lab.url, method, target, { "User-Agent": "Microsoft BITS/7.8" });
      assert.equal(r.status, status);
      if (status === 404 && method === "GET") {
        assert.match(r.body.toString(), /404 - File or directory not found\./);
        assert.doesNotMatch(r.body.toString(), /404\.\d|substatus/i, "no substatus on the wire");
      }
      const { parsed } = w3cRecords(lab);
      const rec = parsed.records.filter((x) => x.method === method).at(-1);
      assert.ok(rec);
      assert.equal(rec.status, status);
      assert.equal(rec.substatus, sub);
    });

  test("round trip: the logs reader reads every line back; header and field layout are IIS 10's", () => {
    const { text, parsed } = w3cRecords(lab);
    assert.equal(parsed.skippedCount, 0);
    const lines = text.split("\r\n");
    assert.equal(lines[0], "#Software: Microsoft Internet Information Services 10.0");
    assert.equal(lines[1], "#Version: 1.0");
    assert.match(lines[2], /^#Date: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(lines[3], `#Fields: ${W3C_FIELDS}`);
    const dataLines = lines.filter((l) => l !== "" && !l.startsWith("#"));
    assert.equal(parsed.records.length, dataLines.length);
    for (const l of dataLines) assert.equal(l.split(" ").length, 15, l);
    const ldf = parsed.records.find((x) => x.uriStem === "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf");
    assert.ok(ldf);
    assert.equal(ldf.userAgentRaw, "Microsoft+BITS/7.8");
    assert.equal(ldf.userAgent, "Microsoft BITS/7.8");
    assert.equal(ldf.uriQuery, "");
    const sccm = parsed.records.find((x) => x.method === "HEAD" && x.uriQuery === "/blah/file.ldf");
    assert.ok(sccm, "sccm? form: stem …/sccm, query /<rel> (configmgr §2.3 [INF])");
    assert.equal(sccm.uriStem, "/SMS_DP_SMSPKG$/ABC00123/sccm");
    const spaced = dataLines.find((l) => l.includes("read+me.txt"));
    assert.ok(spaced, "a decoded space is logged as '+' (§4.4)");
    assert.ok(Math.abs(ldf.time - Date.now()) < 120_000, "UTC time");
  });
});

describe("traversal attempts never leave the root (all refused)", () => {
  const ATTEMPTS = [
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/../secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/..%2Fsecret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/%2E%2E/secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/..\\secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/../../secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/../ABC00123/../../secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/%2e%2e/secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/..%5csecret.txt",
    "/SMS_DP_SMSPKGE$/ABC00123/..%255csecret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe::$DATA",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe:stream",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe.",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/NUL",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/blah/con.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/%00setup.exe",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/link/secret.txt",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?/linkfile",
    "/SMS_DP_SMSPKG$/ABC00123/sccm?//etc/passwd",
    "/SMS_DP_SMSPKG$/..%2F..%2F..%2Fetc%2Fpasswd/sccm?/x",
  ];
  before(() => {
    symlinkSync(pkg.dir, path.join(pkg.root, "link"));
    symlinkSync(path.join(pkg.dir, "secret.txt"), path.join(pkg.root, "linkfile"));
  });
  for (const t of ATTEMPTS)
    test(t, async () => {
      for (const method of ["GET", "HEAD", "PROPFIND"]) {
        const r = await raw(lab.url, method, t);
        assert.ok(r.status >= 400, `${method} ${t} → ${r.status}`);
        assert.ok(!r.body.toString().includes("outside the root"));
      }
    });
});

describe("faults", () => {
  test("--fail 503 PATH and --fail 500 PATH answer after request filtering", async () => {
    lab.setFaults({
      fail: [
        { status: 503, path: "setup.exe" },
        { status: 500, path: "a.msi" },
      ],
    });
    try {
      assert.equal((await raw(lab.url, "HEAD", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe")).status, 503);
      assert.equal((await raw(lab.url, "GET", "/SMS_DP_SMSPKG$/ABC00123/sccm?/x64/deep/a.msi")).status, 500);
      assert.equal((await raw(lab.url, "HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf")).status, 404);
      const recs = w3cRecords(lab).parsed.records;
      assert.equal(recs.at(-3)?.status, 503);
      assert.equal(recs.at(-2)?.status, 500);
    } finally {
      lab.setFaults({});
    }
  });
  test("--no-range answers 200 with the whole file", async () => {
    lab.setFaults({ noRange: true });
    try {
      const r = await raw(lab.url, "GET", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe", { Range: "bytes=0-9" });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, pkg.files["setup.exe"].length);
    } finally {
      lab.setFaults({});
    }
  });
  test("--drop-after cuts the body, W3C win32 1236 and HTTPERR Connection_Abandoned_By_AppPool", async () => {
    lab.setFaults({ dropAfterBytes: 1000 });
    try {
      const err = await raw(lab.url, "GET", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe").then(
        (r) => r.body.length,
        (e: Error) => e.message,
      );
      assert.ok(typeof err === "string" || err < pkg.files["setup.exe"].length, `got ${err}`);
      await new Promise((r) => setTimeout(r, 50));
      lab.flushLogs();
      const he = parseHttpErr(readFileSync(path.join(lab.httpErrDir, "httperr1.log")));
      assert.ok(he.records.some((x) => x.reason === "Connection_Abandoned_By_AppPool"));
      assert.equal(w3cRecords(lab).parsed.records.at(-1)?.win32Status, 1236);
    } finally {
      lab.setFaults({});
    }
  });
  test("--delay holds the answer", async () => {
    lab.setFaults({ delayMs: 150 });
    try {
      const t0 = Date.now();
      await raw(lab.url, "HEAD", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe");
      assert.ok(Date.now() - t0 >= 140);
    } finally {
      lab.setFaults({});
    }
  });
  test("--stop-pool: 503 from http.sys, HTTPERR AppOffline, no W3C line", async () => {
    const before = w3cRecords(lab).parsed.records.length;
    lab.setFaults({ stopPool: true });
    try {
      const r = await raw(lab.url, "HEAD", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe");
      assert.equal(r.status, 503);
      lab.flushLogs();
      const he = parseHttpErr(readFileSync(path.join(lab.httpErrDir, "httperr1.log")));
      const last = he.records.at(-1);
      assert.equal(last?.reason, "AppOffline");
      assert.equal(last?.status, 503);
      assert.equal(last?.uri, "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe");
      assert.equal(w3cRecords(lab).parsed.records.length, before);
    } finally {
      lab.setFaults({});
    }
  });
  test("oversized headers are refused by the http.sys layer (HTTPERR RequestLength)", async () => {
    const r = await raw(lab.url, "GET", "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe", {
      "X-Big": "a".repeat(20000),
    });
    assert.ok(r.status === 400 || r.status === 431, String(r.status));
  });
});

test("200 concurrent clients downloading with ranges: every byte correct, no error", async () => {
  const big = bytes(64 * 1024, 99);
  writeFileSync(path.join(pkg.root, "big.bin"), big);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
  try {
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const parts: Buffer[] = [];
        const chunk = 16 * 1024;
        const order = [0, 1, 2, 3].map((k) => (k + i) % 4); // each client asks in a different order
        const got = new Map<number, Buffer>();
        for (const k of order) {
          const r = await raw(
            lab.url,
            "GET",
            "/SMS_DP_SMSPKG$/ABC00123/sccm?/big.bin",
            { Range: `bytes=${k * chunk}-${(k + 1) * chunk - 1}` },
            agent,
          );
          assert.equal(r.status, 206);
          got.set(k, r.body);
        }
        for (let k = 0; k < 4; k++) parts.push(got.get(k) as Buffer);
        return createHash("sha256").update(Buffer.concat(parts)).digest("hex");
      }),
    );
    const want = createHash("sha256").update(big).digest("hex");
    assert.equal(results.length, 200);
    for (const h of results) assert.equal(h, want);
  } finally {
    agent.destroy();
  }
});

test("NTLM: anonymous → 401.2, NTLMv2 handshake on one connection → 200 and cs-username", async () => {
  const l = await startLab({
    root: pkg.root,
    logDir: path.join(pkg.dir, "logs-ntlm"),
    ntlmUsers: [{ domain: "CONTOSO", user: "cmnaa", password: "P@ssw0rd" }],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const t = "/SMS_DP_SMSPKG$/ABC00123/sccm?/setup.exe";
    const a = await raw(l.url, "HEAD", t, {}, agent);
    assert.equal(a.status, 401);
    const b = await raw(
      l.url,
      "HEAD",
      t,
      { Authorization: `NTLM ${negotiateMessage().toString("base64")}` },
      agent,
    );
    assert.equal(b.status, 401);
    const ch = parseChallenge(ntlmToken(b.headers["www-authenticate"]) as Buffer);
    const wrong = authenticateMessage(ch, { domain: "CONTOSO", user: "cmnaa", password: "nope" });
    const c = await raw(l.url, "HEAD", t, { Authorization: `NTLM ${wrong.toString("base64")}` }, agent);
    assert.equal(c.status, 401, "wrong password refused");
    const b2 = await raw(
      l.url,
      "HEAD",
      t,
      { Authorization: `NTLM ${negotiateMessage().toString("base64")}` },
      agent,
    );
    const ch2 = parseChallenge(ntlmToken(b2.headers["www-authenticate"]) as Buffer);
    const good = authenticateMessage(ch2, { domain: "CONTOSO", user: "cmnaa", password: "P@ssw0rd" });
    const d = await raw(l.url, "HEAD", t, { Authorization: `NTLM ${good.toString("base64")}` }, agent);
    assert.equal(d.status, 200);
    const e = await raw(l.url, "GET", t, { Range: "bytes=0-0" }, agent);
    assert.equal(e.status, 206, "the connection stays authenticated");
    // request filtering runs before authentication (IIS BeginRequest → AuthenticateRequest): no 401 for a 404.7
    const refused = await raw(l.url, "HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf");
    assert.equal(refused.status, 404);
    const recs = w3cRecords(l).parsed.records;
    assert.deepEqual(
      recs.map((r) => `${r.status}.${r.substatus}`),
      ["401.2", "401.1", "401.1", "401.1", "200.0", "206.0", "404.7"],
    );
    assert.equal(recs.at(-2)?.username, "CONTOSO\\cmnaa");
    assert.equal(recs.at(-1)?.username, "");
  } finally {
    agent.destroy();
    await l.close();
  }
});

test("content library: DataLib tree + FileLib blobs served by content ID and package ID", async () => {
  const lib = path.join(pkg.dir, "SCCMContentLib");
  const data = bytes(2048, 7);
  const hash = createHash("sha256").update(data).digest("hex").toUpperCase();
  mkdirSync(path.join(lib, "PkgLib"), { recursive: true });
  mkdirSync(path.join(lib, "DataLib", "ABC00456.1", "sub"), { recursive: true });
  mkdirSync(path.join(lib, "FileLib", hash.slice(0, 4)), { recursive: true });
  writeFileSync(path.join(lib, "PkgLib", "ABC00456.INI"), "[Packages]\r\nABC00456.1=\r\n");
  writeFileSync(
    path.join(lib, "DataLib", "ABC00456.1", "sub", "app.msi.INI"),
    `[File]\r\nHash=${hash}\r\nSize=2048\r\n`,
  );
  writeFileSync(path.join(lib, "FileLib", hash.slice(0, 4), hash), data);
  const l = await startLab({ root: lib, logDir: path.join(pkg.dir, "logs-lib") });
  try {
    const r = await raw(l.url, "GET", "/SMS_DP_SMSPKG$/ABC00456/sccm?/sub/app.msi");
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, data);
    const p = await raw(l.url, "PROPFIND", "/SMS_DP_SMSPKG$/ABC00456", { Depth: "infinity" });
    assert.match(p.body.toString(), /\/ABC00456\/sccm\?\/sub\/app\.msi</);
    assert.doesNotMatch(p.body.toString(), /\.INI/);
  } finally {
    await l.close();
  }
});

describe("bounds", () => {
  test("a client that never finishes its headers is cut off after the request time limit", async () => {
    const l = await startLab({
      root: pkg.root,
      logDir: path.join(pkg.dir, "logs-slow"),
      requestTimeoutMs: 300,
    });
    const net = await import("node:net");
    try {
      const u = new URL(l.url);
      const t0 = Date.now();
      const closed = await new Promise<number>((resolve) => {
        const s = net.connect(Number(u.port), u.hostname, () =>
          s.write("GET /SMS_DP_SMSPKG$/ABC00123 HTTP/1.1\r\nHost: x\r\n"),
        );
        s.on("data", () => {});
        s.on("close", () => resolve(Date.now() - t0));
        s.on("error", () => {});
      });
      assert.ok(closed < 5000, `closed after ${closed} ms`);
    } finally {
      await l.close();
    }
  });
  test("connections beyond --max-connections are refused while the others are served", async () => {
    const l = await startLab({ root: pkg.root, logDir: path.join(pkg.dir, "logs-max"), maxConnections: 2 });
    const net = await import("node:net");
    const u = new URL(l.url);
    const socks: import("node:net").Socket[] = [];
    try {
      for (let i = 0; i < 2; i++)
        socks.push(
          await new Promise((r) => {
            const s = net.connect(Number(u.port), u.hostname, () => r(s));
          }),
        );
      const third = await new Promise<string>((resolve) => {
        const s = net.connect(Number(u.port), u.hostname, () =>
          s.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
        );
        s.on("data", () => resolve("answered"));
        s.on("close", () => resolve("closed"));
        s.on("error", () => resolve("closed"));
      });
      assert.equal(third, "closed");
    } finally {
      for (const s of socks) s.destroy();
      await l.close();
    }
  });
});

test("property: any request target → an answer (never an internal error), never a byte from outside the root", async () => {
  const fc = (await import("fast-check")).default;
  const pieces = fc.constantFrom(
    "/",
    "..",
    ".",
    "%2e",
    "%2E%2E",
    "%2f",
    "%5c",
    "\\",
    "%00",
    "%25",
    "?",
    "sccm",
    "sccm?",
    "SMS_DP_SMSPKG$",
    "SMS_DP_SMSPKGE$",
    "SMS_DP_SMSPKGE%24",
    "ABC00123",
    "abc00123",
    "blah",
    "bin",
    "file.ldf",
    "setup.exe",
    "::$DATA",
    ":",
    "link",
    "secret.txt",
    "%c0%af",
    "%ff",
    "~",
    "+",
    " ",
    "é",
    "*",
    "..;",
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(pieces, { minLength: 1, maxLength: 10 }),
      fc.constantFrom("GET", "HEAD", "PROPFIND"),
      async (parts, method) => {
        const target = `/${parts.join("")}`.replace(/ /g, "%20").replace(/é/g, "%C3%A9");
        const r = await raw(lab.url, method, target);
        assert.ok(r.status >= 200 && r.status < 600, `${method} ${target} → ${r.status}`);
        assert.notEqual(r.status, 500, `${method} ${target}: internal error`);
        assert.ok(!r.body.toString("latin1").includes("outside the root"), `${method} ${target} leaked`);
      },
    ),
    { numRuns: 150 },
  );
});

test("SMS_DP_SMSSIG$/<ContentID>.tar is served from --sig-dir (ranges included); other names are not", async () => {
  const sigDir = path.join(pkg.dir, "SMSSIG$");
  mkdirSync(sigDir, { recursive: true });
  const tar = bytes(4096, 11);
  writeFileSync(path.join(sigDir, "ABC00123.1.tar"), tar);
  const l = await startLab({ root: pkg.root, logDir: path.join(pkg.dir, "logs-sig"), signatureDir: sigDir });
  try {
    const r = await raw(l.url, "GET", "/SMS_DP_SMSSIG$/ABC00123.1.tar", { Range: "bytes=0-99" });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, tar.subarray(0, 100));
    assert.equal((await raw(l.url, "GET", "/SMS_DP_SMSSIG$/ABC00124.1.tar")).status, 404);
    assert.equal((await raw(l.url, "GET", "/SMS_DP_SMSSIG$/..%2FABC00123/setup.exe")).status >= 400, true);
  } finally {
    await l.close();
  }
  assert.equal(
    (await raw(lab.url, "GET", "/SMS_DP_SMSSIG$/ABC00123.1.tar")).status,
    404,
    "no --sig-dir: 404",
  );
});

test("PROPFIND body has the real DP's shape (corpus smsts_cb1906 listing): same props per file and folder, same href forms", async () => {
  const corpus = readFileSync(
    new URL(
      "../../../shared/corpus/logs/cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log",
      import.meta.url,
    ),
    "utf8",
  );
  const real = /<!\[CDATA\[(<\?xml[\s\S]*?<\/D:multistatus>)\]\]>/.exec(corpus)?.[1] ?? "";
  assert.ok(real.length > 0);
  const ours = (
    await raw(lab.url, "PROPFIND", "/SMS_DP_SMSPKG$/ABC00123", { Depth: "infinity", Host: "dp01" })
  ).body.toString();
  /** The prop element names of the first file response and of the first nested folder response. */
  const shape = (xml: string) => {
    const responses = [...xml.matchAll(/<D:response>([\s\S]*?)<\/D:response>/g)].map((m) => m[1]);
    const props = (r: string) =>
      [...(/<D:prop>([\s\S]*)<\/D:prop>/.exec(r)?.[1] ?? "").matchAll(/<D:([a-z]+)/g)]
        .map((m) => m[1])
        .sort()
        .join(",");
    const file = responses.find((r) => r.includes("<D:iscollection>0"));
    const folder = responses.slice(1).find((r) => r.includes("<D:iscollection>1"));
    return { root: props(responses[0]), file: props(file ?? ""), folder: props(folder ?? "") };
  };
  assert.deepEqual(shape(ours), shape(real));
  assert.match(real, /<D:href>http:\/\/[^/]+\/SMS_DP_SMSPKG\$\/sccm\?\/MAX00003\/<\/D:href>/);
  assert.match(ours, /<D:href>http:\/\/dp01\/SMS_DP_SMSPKG\$\/sccm\?\/ABC00123\/<\/D:href>/);
});
