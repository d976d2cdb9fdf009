/**
 * A DP that misbehaves the ways BITS documents (configmgr §5.1, F12): HEAD without Content-Length
 * (BG_E_MISSING_FILE_SIZE), a 206 with the wrong Content-Range (BG_E_INVALID_SERVER_RESPONSE), a malformed listing.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { runProbe } from "../../src/probe/probe.js";

/** configmgr §5.1 [S50]: 4xx fatal except 408/409; 5xx transient except 501/505; 3xx transient except 300–305, 307. */
const STATUS_RULES: [number, "fatal" | "transient"][] = [
  [400, "fatal"],
  [401, "fatal"],
  [403, "fatal"],
  [404, "fatal"],
  [407, "fatal"],
  [408, "transient"],
  [409, "transient"],
  [416, "fatal"],
  [500, "transient"],
  [501, "fatal"],
  [502, "transient"],
  [503, "transient"],
  [504, "transient"],
  [505, "fatal"],
  [302, "fatal"],
  [306, "transient"],
  [307, "fatal"],
  [308, "transient"],
];

const LISTING = `<?xml version="1.0" encoding="utf-8" ?><D:multistatus xmlns:D="DAV:">
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/sccm?/ODD00001/</D:href><D:propstat><D:prop><D:iscollection>1</D:iscollection></D:prop></D:propstat></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/nosize.bin</D:href></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/badrange.bin</D:href></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/gone.bin</D:href></D:response>
${STATUS_RULES.map(([code]) => `<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/s${code}.bin</D:href></D:response>`).join("")}
</D:multistatus>`;

let server: http.Server;
let origin = "";
before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "PROPFIND") {
      if (url.includes("BROKEN")) {
        res.writeHead(207, { "Content-Type": "text/xml" });
        res.end("<D:multistatus xmlns:D='DAV:'><D:response><D:href>x</D:hr");
        return;
      }
      res.writeHead(207, { "Content-Type": "text/xml" });
      res.end(LISTING);
      return;
    }
    if (url.endsWith("nosize.bin")) {
      // chunked HEAD answer: no Content-Length
      res.writeHead(200, { "Transfer-Encoding": "chunked" });
      res.end();
      return;
    }
    if (url.endsWith("badrange.bin")) {
      if (req.method === "HEAD") {
        res.writeHead(200, { "Content-Length": 1000 });
        res.end();
        return;
      }
      res.writeHead(206, { "Content-Range": "bytes 1-1000/1000", "Content-Length": 1000 });
      res.end(Buffer.alloc(1000));
      return;
    }
    const code = /\/s(\d{3})\.bin$/.exec(url);
    res.writeHead(code ? Number(code[1]) : 410, { "Content-Length": 0 });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

test("BITS's documented server faults map to their BG_E codes", async () => {
  const r = await runProbe({ origin, contentId: "ODD00001" });
  const by = new Map(r.files.map((f) => [f.path, f]));
  assert.equal(by.get("nosize.bin")?.hresult, "0x80200011");
  assert.equal(by.get("nosize.bin")?.outcome, "fatal");
  assert.equal(by.get("badrange.bin")?.hresult, "0x8020001B");
  assert.equal(by.get("gone.bin")?.hresult, "0x8019019A"); // 410: 4xx, fatal
  assert.equal(by.get("gone.bin")?.outcome, "fatal");
});

test("a malformed listing is reported with its position; no file is probed", async () => {
  const r = await runProbe({ origin, contentId: "BROKEN" });
  assert.match(r.listing.error ?? "", /not well-formed XML.*line 1/);
  assert.equal(r.files.length, 0);
});

test("BITS retry rules per status (§5.1): fatal statuses are tried once, transient ones --retries times", async () => {
  const r = await runProbe({ origin, contentId: "ODD00001", retries: 1, retryDelayMs: 0 });
  for (const [code, kind] of STATUS_RULES) {
    const f = r.files.find((x) => x.path === `s${code}.bin`);
    assert.ok(f, String(code));
    assert.equal(f.outcome, kind, `${code}`);
    assert.equal(f.attempts, kind === "fatal" ? 1 : 2, `${code}`);
    assert.equal(f.hresult, `0x${(0x80190000 + code).toString(16).toUpperCase()}`);
  }
});
