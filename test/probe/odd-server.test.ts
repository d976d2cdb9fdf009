/**
 * A DP that misbehaves the ways BITS documents (configmgr §5.1, F12): HEAD without Content-Length
 * (BG_E_MISSING_FILE_SIZE), a 206 with the wrong Content-Range (BG_E_INVALID_SERVER_RESPONSE), a malformed listing.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { runProbe } from "../../src/probe/probe.js";

const LISTING = `<?xml version="1.0" encoding="utf-8" ?><D:multistatus xmlns:D="DAV:">
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/sccm?/ODD00001/</D:href><D:propstat><D:prop><D:iscollection>1</D:iscollection></D:prop></D:propstat></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/nosize.bin</D:href></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/badrange.bin</D:href></D:response>
<D:response><D:href>http://dp/SMS_DP_SMSPKG$/ODD00001/sccm?/gone.bin</D:href></D:response>
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
    res.writeHead(410, { "Content-Length": 0 });
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
