import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  formatHttpErrLine,
  formatW3CLine,
  HTTPERR_FIELDS,
  W3C_FIELDS,
  w3cField,
  w3cFileName,
} from "../../src/lab/iis-log.js";
import { parseHttpErr, parseW3C } from "../../src/logs/index.js";

test("u_exYYMMDD.log is named after the UTC day (configmgr §4.4)", () => {
  assert.equal(w3cFileName(new Date(Date.UTC(2024, 2, 5, 23, 59, 59))), "u_ex240305.log");
  assert.equal(w3cFileName(new Date(Date.UTC(2010, 5, 21, 0, 0, 0))), "u_ex100621.log");
});

test("fields: '-' when empty, spaces as '+' (§4.4)", () => {
  assert.equal(w3cField(undefined), "-");
  assert.equal(w3cField(""), "-");
  assert.equal(w3cField("Microsoft BITS/7.8"), "Microsoft+BITS/7.8");
});

test("the seed line, field for field (configmgr §5.5 shape, IIS 10 default fields)", () => {
  const line = formatW3CLine({
    time: new Date(Date.UTC(2010, 5, 21, 14, 2, 12)),
    serverIp: "10.1.1.20",
    method: "HEAD",
    uriStem: "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf",
    port: 80,
    clientIp: "10.1.2.33",
    userAgent: "Microsoft BITS/6.7",
    status: 404,
    substatus: 7,
    win32Status: 0,
    timeTakenMs: 156,
  });
  assert.equal(
    line,
    "2010-06-21 14:02:12 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 - 404 7 0 156",
  );
  assert.equal(line.split(" ").length, W3C_FIELDS.split(" ").length);
});

test("property: any stem, query, user agent → one line the logs reader reads back to the same values", () => {
  const text = fc.string({ maxLength: 40 });
  fc.assert(
    fc.property(
      text,
      fc.option(text),
      text,
      fc.integer({ min: 100, max: 599 }),
      fc.nat(20),
      (stem, query, ua, status, sub) => {
        const clean = (s: string) => s.replace(/[\r\n]/g, "");
        const line = formatW3CLine({
          time: new Date(Date.UTC(2024, 2, 5, 9, 14, 2)),
          serverIp: "127.0.0.1",
          method: "GET",
          uriStem: `/${clean(stem)}`,
          uriQuery: query === null ? undefined : clean(query),
          port: 80,
          clientIp: "127.0.0.1",
          userAgent: clean(ua),
          status,
          substatus: sub,
          win32Status: 0,
          timeTakenMs: 5,
        });
        assert.ok(!/[\r\n]/.test(line));
        const doc = `#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Fields: ${W3C_FIELDS}\r\n${line}\r\n`;
        const r = parseW3C(doc, "u_ex240305.log");
        if (/[\t]/.test(stem + ua + (query ?? ""))) return; // tabs are replaced as IIS does; not a field separator test
        assert.equal(r.records.length, 1, line);
        assert.equal(r.records[0].status, status);
        assert.equal(r.records[0].substatus, sub);
        assert.equal(r.records[0].time, Date.UTC(2024, 2, 5, 9, 14, 2));
      },
    ),
  );
});

test("HTTPERR line (AppOffline) is read back by the HTTPERR reader (§4.5)", () => {
  const line = formatHttpErrLine({
    time: new Date(Date.UTC(2024, 2, 5, 9, 30, 1)),
    clientIp: "10.0.1.50",
    clientPort: 51234,
    serverIp: "10.0.0.5",
    serverPort: 80,
    protocolVersion: "HTTP/1.1",
    method: "HEAD",
    uri: "/SMS_DP_SMSPKG$/Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1/sccm?/setup.exe",
    status: 503,
    siteId: "1",
    reason: "AppOffline",
    queueName: "SMS Distribution Points Pool",
  });
  assert.equal(
    line,
    "2024-03-05 09:30:01 10.0.1.50 51234 10.0.0.5 80 HTTP/1.1 HEAD /SMS_DP_SMSPKG$/Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1/sccm?/setup.exe 503 1 AppOffline SMS+Distribution+Points+Pool",
  );
  const r = parseHttpErr(
    `#Software: Microsoft HTTP API 2.0\r\n#Version: 1.0\r\n#Fields: ${HTTPERR_FIELDS}\r\n${line}\r\n`,
  );
  assert.equal(r.records[0].reason, "AppOffline");
  assert.equal(r.records[0].status, 503);
});

test("daily rollover at UTC midnight: a new u_ex file, each with its header block; buffered until flush", async () => {
  const { mkdtempSync, readdirSync, readFileSync, existsSync } = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const { IisLogs } = await import("../../src/lab/iis-log.js");
  const dir = mkdtempSync(path.join(os.tmpdir(), "dpd-w3c-roll-"));
  const logs = new IisLogs(dir);
  const entry = (t: number) => ({
    time: new Date(t),
    serverIp: "127.0.0.1",
    method: "HEAD",
    uriStem: "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf",
    port: 80,
    clientIp: "127.0.0.1",
    status: 404,
    substatus: 7,
    win32Status: 0,
    timeTakenMs: 1,
  });
  logs.writeW3C(entry(Date.UTC(2024, 2, 5, 23, 59, 59)));
  logs.writeW3C(entry(Date.UTC(2024, 2, 6, 0, 0, 1)));
  assert.equal(
    existsSync(path.join(dir, "W3SVC1", "u_ex240305.log")),
    false,
    "buffered, not written per request",
  );
  logs.flush();
  assert.deepEqual(readdirSync(path.join(dir, "W3SVC1")).sort(), ["u_ex240305.log", "u_ex240306.log"]);
  for (const [f, date] of [
    ["u_ex240305.log", "2024-03-05 23:59:59"],
    ["u_ex240306.log", "2024-03-06 00:00:01"],
  ]) {
    const text = readFileSync(path.join(dir, "W3SVC1", f), "utf8");
    assert.match(text, new RegExp(`^#Software: .*\\r\\n#Version: 1\\.0\\r\\n#Date: ${date}\\r\\n#Fields: `));
    assert.equal(parseW3C(text, f).records.length, 1);
  }
});
