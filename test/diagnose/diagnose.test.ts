/**
 * The correlator over records built by hand (spec configmgr-dp-bits.md §7): join keys, clock skew, the §7.7 cancel
 * rule, URL classification before blaming the DP (§7.1), the 401.2 handshake, and a fast-check property that any
 * records give a report, never a throw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { diagnose } from "../../src/diagnose/diagnose.js";
import type { BitsEventRecord, CmTraceRecord, W3CRecord } from "../../src/logs/records.js";
import { cmRecord, w3cRecord } from "./records.js";

const T0 = Date.UTC(2024, 2, 5, 9, 14, 0);
const D = "{4C1D2B3A-5E6F-4A7B-8C9D-0E1F2A3B4C5D}";
const B = "{9E27E462-8A49-447B-9E43-A641178A3EF5}";

const w3c = (over: Partial<W3CRecord>): W3CRecord => w3cRecord({ time: T0, ...over });
const cm = (message: string, line: number, time: number): CmTraceRecord =>
  cmRecord(message, line, time, { biasMinutes: 300 });

function bits(over: Partial<BitsEventRecord>): BitsEventRecord {
  return {
    file: "bits.xml",
    line: 1,
    eventId: 16384,
    time: T0 + 600_000,
    level: "4",
    provider: "Microsoft-Windows-Bits-Client",
    computer: "PC01",
    jobId: B,
    jobTitle: "CCMDTS Job",
    url: "",
    hr: "",
    owner: "",
    user: "",
    data: {},
    message: "",
    text: "<Event/>",
    ...over,
  };
}

function dtsJob(source: string, fileUrl: string, at: number, extra: CmTraceRecord[] = []): CmTraceRecord[] {
  return [
    cm(`DTSJob ${D} created to download from '${source}' to 'C:\\Windows\\ccmcache\\1'.`, 1, at),
    cm(`Starting BITS job '${B}' for DTS job '${D}' under user 'S-1-5-18'.`, 2, at + 100),
    cm(`BITSHelper, remote name = ${fileUrl}, local name = C:\\Windows\\ccmcache\\1\\x`, 3, at + 200),
    cm(`DTSJob ${D} in state 'DownloadingData'.`, 4, at + 300),
    cm(
      `CDTSJob::HandleErrors: DTS Job '${D}' BITS Job '${B}' under user 'S-1-5-18' OldErrorCount 0 NewErrorCount 1 ErrorCode 0x80190194`,
      5,
      at + 1000,
    ),
    ...extra,
  ];
}

const base = { httperr: [], artifacts: [] };

test("§7 joins: content ID + path, time window within the skew, BITS job ID; client IP comes from the DP line", () => {
  const client = dtsJob(
    "http://dp/SMS_DP_SMSPKG$/ABC00123",
    "http://dp/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf",
    T0 - 3 * 60_000,
  );
  const report = diagnose({ ...base, w3c: [w3c({})], cmtrace: client, bits: [bits({})] });
  const f = report.findings[0];
  assert.equal(f?.id, "F01");
  assert.equal(f?.confidence, "high");
  assert.deepEqual(f?.clients, ["10.0.1.50"]);
  for (const k of ["content ID + path", "time window", "BITS job ID"]) assert.ok(f?.joinedBy.includes(k), k);
  assert.match(f?.hang ?? "", /hang signature/);
  assert.equal(report.jobs[0]?.outcome, "cancelled-while-downloading");
});

test("clock skew beyond --skew drops the time-window join (DP line 20 min after the job's last line)", () => {
  const client = dtsJob(
    "http://dp/SMS_DP_SMSPKG$/ABC00123",
    "http://dp/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf",
    T0 - 21 * 60_000,
  );
  const report = diagnose({ ...base, w3c: [w3c({})], cmtrace: client, bits: [], skewMinutes: 5 });
  assert.equal(report.jobs[0]?.clients.length, 0);
  const wide = diagnose({ ...base, w3c: [w3c({})], cmtrace: client, bits: [], skewMinutes: 30 });
  assert.deepEqual(wide.jobs[0]?.clients, ["10.0.1.50"]);
});

test("§7.7: a cancel after NotifiedComplete is the normal clean-up, not a hang", () => {
  const client = dtsJob(
    "http://dp/SMS_DP_SMSPKG$/ABC00123",
    "http://dp/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf",
    T0,
    [cm(`DTSJob ${D} in state 'NotifiedComplete'.`, 6, T0 + 2000)],
  );
  const report = diagnose({ ...base, w3c: [], cmtrace: client, bits: [bits({ eventId: 5 })] });
  assert.equal(report.jobs[0]?.outcome, "completed");
  for (const f of report.findings) assert.doesNotMatch(f.hang, /hang signature/);
});

test("§7.1: a DTS job downloading from WSUS is not blamed on the DP", () => {
  const url = "http://sccm:80/Content/EB/0123456789ABCDEF0123456789ABCDEF01234567.cab";
  const report = diagnose({ ...base, w3c: [], cmtrace: dtsJob(url, url, T0), bits: [] });
  assert.deepEqual(
    report.findings.map((f) => f.id),
    [],
  );
  assert.ok(report.notes.some((n) => n.includes("not a distribution point")));
});

test("§7.1: a BITS 60 error for a non-DP URL is ignored; for DP content it is evidence", () => {
  const wu = bits({
    eventId: 60,
    hr: "0x80190194",
    url: "http://download.windowsupdate.com/x.cab",
    jobId: "{00000000-0000-0000-0000-000000000001}",
  });
  assert.equal(diagnose({ ...base, w3c: [], cmtrace: [], bits: [wu] }).findings.length, 0);
  const dp = bits({ eventId: 60, hr: "-2145844844", url: "http://dp/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf" });
  const r = diagnose({ ...base, w3c: [w3c({})], cmtrace: [], bits: [dp] });
  assert.equal(r.findings[0]?.id, "F01");
  assert.ok(r.findings[0]?.evidence.some((e) => e.source === "bits"));
});

test("401.2 followed by 2xx for the same client and URL is the NTLM handshake, not F08", () => {
  const stem = "/SMS_DP_SMSPKG$/Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1";
  const lines = [
    w3c({ method: "PROPFIND", uriStem: stem, status: 401, substatus: 2, line: 5 }),
    w3c({ method: "PROPFIND", uriStem: stem, status: 207, substatus: 0, line: 6 }),
  ];
  assert.equal(diagnose({ ...base, w3c: lines, cmtrace: [], bits: [] }).findings.length, 0);
  const alone = diagnose({ ...base, w3c: [lines[0] as W3CRecord], cmtrace: [], bits: [] });
  assert.equal(alone.findings[0]?.id, "F08");
});

test("non-DP IIS lines (MP, other sites) never make a finding", () => {
  const lines = [
    w3c({ uriStem: "/SMS_MP/.sms_aut", uriQuery: "SITESIGNCERT", method: "GET", status: 403, substatus: 7 }),
    w3c({ uriStem: "/intranet/web.config", status: 404, substatus: 8 }),
  ];
  assert.equal(diagnose({ ...base, w3c: lines, cmtrace: [], bits: [] }).findings.length, 0);
});

test("any W3C records: a report, never a throw; every finding has evidence", () => {
  const rec = fc.record({
    method: fc.constantFrom("GET", "HEAD", "PROPFIND", "POST", ""),
    uriStem: fc.oneof(
      fc.constantFrom(
        "/SMS_DP_SMSPKG$/ABC00123/a.ldf",
        "/SMS_DP_SMSPKGE$/X/bin/y.dll",
        "/SMS_DP_SMSPKG$/C/sccm",
        "/",
        "",
      ),
      fc.string(),
    ),
    uriQuery: fc.oneof(fc.constant(""), fc.constant("/setup.exe"), fc.string()),
    status: fc.constantFrom(200, 206, 207, 401, 403, 404, 405, 500, 503, 0, Number.NaN),
    substatus: fc.integer({ min: 0, max: 20 }),
    win32Status: fc.integer({ min: 0, max: 100 }),
    time: fc.oneof(fc.integer({ min: 0, max: 2 ** 41 }), fc.constant(Number.NaN)),
    clientIp: fc.constantFrom("10.0.1.50", "::1", ""),
  });
  fc.assert(
    fc.property(fc.array(rec, { maxLength: 40 }), (recs) => {
      const report = diagnose({
        ...base,
        w3c: recs.map((r, i) => w3c({ ...r, line: i + 1 })),
        cmtrace: [],
        bits: [],
      });
      for (const f of report.findings) assert.ok(f.evidence.length > 0);
    }),
    { numRuns: 200 },
  );
});

test("a BITS 60 error with no DP log is explained by the engine when a config is known", async () => {
  const { loadServer } = await import("../../src/config/load.js");
  const { evaluate } = await import("../../src/engine/evaluate.js");
  const server = loadServer({ profile: "aspnet" });
  const e = bits({
    eventId: 60,
    hr: "0x80190194",
    url: "http://dp/SMS_DP_SMSPKG$/Content_1.1/Resources/strings.resx",
  });
  const report = diagnose({
    ...base,
    w3c: [],
    cmtrace: [],
    bits: [e],
    config: { path: "profile aspnet", server, given: false },
    evaluate,
  });
  const f = report.findings[0];
  assert.equal(f?.id, "F01");
  assert.equal(f?.confidence, "low");
  assert.equal(f?.refusals[0]?.value, ".resx");
});
