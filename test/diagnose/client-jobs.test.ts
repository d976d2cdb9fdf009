/**
 * Client log lines → download signals and jobs (spec configmgr-dp-bits.md §4.3, §7). Lines come from the real corpus
 * excerpts where one exists (shared/corpus/logs/excerpts), read through the logs helper's CMTrace reader.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { buildClientModel, jobOutcome, readClientSignal } from "../../src/diagnose/client-jobs.js";
import { parseCmTrace } from "../../src/logs/cmtrace.js";
import type { CmTraceRecord } from "../../src/logs/records.js";
import { cmRecord } from "./records.js";

const corpus = new URL("../../../shared/corpus/logs/", import.meta.url);

// REAL lines (spec §4.3 / corpus excerpts) → the signal kind they must give
const REAL: [string, string, Record<string, unknown>][] = [
  [
    "CDTSJob::HandleErrors: DTS Job '{23D597BB-D81A-4D3D-9AF2-911E3E47F1EE}' BITS Job '{9E27E462-8A49-447B-9E43-A641178A3EF5}' under user 'S-1-5-18' OldErrorCount 312 NewErrorCount 313 ErrorCode 0x801901F4",
    "handle-errors",
    { oldCount: 312, newCount: 313, code: "0x801901F4", bits: "{9E27E462-8A49-447B-9E43-A641178A3EF5}" },
  ],
  [
    "GetDirectoryList_HTTP Error sending DAV request. HTTP code 405, status 'Method Not Allowed'",
    "dav-error",
    { httpCode: 405 },
  ],
  ["Error sending DAV request. HTTP code 600, status ''", "dav-error", { httpCode: 600 }],
  [
    "Error retrieving manifest (0x800704cf).  Will attempt retry 140 in 3600 seconds.",
    "manifest-error",
    { code: "0x800704cf", retry: 140, retrySeconds: 3600 },
  ],
  [
    "GetDirectoryList_HTTP mapping original error 0x80072efd to 0x800704cf.",
    "error-mapped",
    { from: "0x80072efd", to: "0x800704cf" },
  ],
  [
    "[CCMHTTP] ERROR: URL=http://dp:80/SMS_DP_SMSPKG$/47a361aa-e9ad-4be2-9acc-dbc0dd7ccb9b, Port=80, Options=480, Code=12029, Text=ERROR_WINHTTP_CANNOT_CONNECT",
    "connect-error",
    { code: "0x80072EFD" },
  ],
  [
    "Failed to send request to /SMS_DP_SMSPKG$/47a361aa-e9ad-4be2-9acc-dbc0dd7ccb9b at host dp.contoso.com, error 0x2efd",
    "connect-error",
    { code: "0x80072EFD" },
  ],
  [
    "CTM job {E98FD230-9BCF-4508-9D5F-C39D5785DC8F} (corresponding DTS job {F3C20B0E-EB33-45DC-BFB9-736DA41539DE}) started download from 'http://vsrv03.ITPirate.local/SMS_DP_SMSPKG$/Content_f9ea1579-5597-439c-9c0e-239a6723b27f.1' for full content download.",
    "ctm-dts",
    { dts: "{F3C20B0E-EB33-45DC-BFB9-736DA41539DE}" },
  ],
  ["CCTMJob::_GetNextLocation failed with code 0x87d00215", "ctm-no-location", { code: "0x87d00215" }],
  [
    "CCTMJob::_Cleanup(JobID={E98FD230-9BCF-4508-9D5F-C39D5785DC8F}) - Cancelling DTS job  with provider <default>",
    "ctm-cleanup",
    {},
  ],
  [
    "UpdateURLWithTransportSettings(): NEW URL - http://ps1dp.contoso.com:80/SMS_DP_SMSPKG$/Content_GUID.1/sccm?/ConfigMgrTools.msi",
    "file-url",
    { url: "http://ps1dp.contoso.com:80/SMS_DP_SMSPKG$/Content_GUID.1/sccm?/ConfigMgrTools.msi" },
  ],
  [
    "Failed to set proxy to bits job for url 'http://sccm:80/Content/EB/x.cab'. Error 0x87d00215",
    "proxy-failed",
    {},
  ],
  ["WinHttpQueryHeaders() returns status code 404 (Not Found)", "ts-http-status", { status: 404 }],
];
for (const [line, kind, fields] of REAL)
  test(`§4.3 "${line.slice(0, 60)}…" → ${kind}`, () => {
    const s = readClientSignal(line) as Record<string, unknown> | undefined;
    assert.equal(s?.kind, kind);
    for (const [k, v] of Object.entries(fields)) assert.equal(s?.[k], v, k);
  });

test("real CTM gist log (multi-line 'Persisted locations') gives the CTM→DTS link and the location URL", () => {
  const text = readFileSync(new URL("excerpts/ctm_2016_gist_cmtrace.log", corpus));
  const { records } = parseCmTrace(text, "ctm_2016_gist_cmtrace.log");
  const model = buildClientModel(records);
  const locations = model.all.find((l) => l.signal.kind === "ctm-locations");
  assert.ok(locations, "locations line read");
  assert.deepEqual((locations.signal as { urls: string[] }).urls, [
    "http://vsrv03.ITPirate.local/SMS_DP_SMSPKG$/Content_f9ea1579-5597-439c-9c0e-239a6723b27f.1",
  ]);
  assert.ok(model.jobs.some((j) => j.ctmJobId === "{E98FD230-9BCF-4508-9D5F-C39D5785DC8F}"));
});

test("real DTS cannot-connect log yields network signals and no DTS job", () => {
  const text = readFileSync(new URL("excerpts/dts_cannot_connect_2019_cmtrace.log", corpus));
  const { records } = parseCmTrace(text, "dts.log");
  const model = buildClientModel(records);
  const kinds = new Set(model.all.map((l) => l.signal.kind));
  for (const k of ["connect-error", "dav-error", "error-mapped", "manifest-error"])
    assert.ok(kinds.has(k as never), k);
});

const rec = (message: string, line: number, time: number, file = "DataTransferService.log"): CmTraceRecord =>
  cmRecord(message, line, time, { file });

test("a job: URLs without a job GUID go to the last job named in the same file; states decide the outcome (§7.7)", () => {
  const D = "{708C0A51-2E3B-4C8E-9F0E-6B1C2D3E4F50}";
  const B = "{9E27E462-8A49-447B-9E43-A641178A3EF5}";
  const records = [
    rec(
      `DTSJob ${D} created to download from 'http://DP01:80/SMS_DP_SMSPKGE$/ABC00123' to 'C:\\x'.`,
      1,
      1000,
    ),
    rec(`Starting BITS job '${B}' for DTS job '${D}' under user 'S-1-5-18'.`, 2, 2000),
    rec(
      "BITSHelper, remote name = http://DP01:80/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf, local name = C:\\x\\blah\\file.ldf",
      3,
      3000,
    ),
    rec(`DTSJob ${D} in state 'DownloadingData'.`, 4, 4000),
  ];
  const model = buildClientModel(records);
  assert.equal(model.jobs.length, 1);
  const j = model.jobs[0];
  assert.ok(j);
  assert.equal(j.bitsJobId, B);
  assert.deepEqual(j.fileUrls, ["http://DP01:80/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf"]);
  assert.equal(jobOutcome(j), "in-progress");
  assert.equal(j.firstSeen, 1000);
  assert.equal(j.lastSeen, 4000);
  const done = buildClientModel([...records, rec(`DTSJob ${D} in state 'NotifiedComplete'.`, 5, 5000)]);
  assert.equal(jobOutcome(done.jobs[0] as never), "completed");
});

test("any message: a signal or nothing, never a throw; any record list builds a model", () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => void readClientSignal(s)));
  const piece = fc.constantFrom(
    "DTSJob {708C0A51-2E3B-4C8E-9F0E-6B1C2D3E4F50} ",
    "Starting BITS job '{9E27E462-8A49-447B-9E43-A641178A3EF5}' for DTS job '{708C0A51-2E3B-4C8E-9F0E-6B1C2D3E4F50}'",
    "in state 'DownloadingData'.",
    "BITSHelper, remote name = ",
    "http://dp/SMS_DP_SMSPKG$/X/sccm?/a b",
    "HandleErrors: ",
    "Error retrieving manifest (0x",
    "Persisted locations for CTM job {E98FD230-9BCF-4508-9D5F-C39D5785DC8F}:\n(LOCAL) ",
    "\u0000",
    "]]>",
  );
  fc.assert(
    fc.property(
      fc.array(fc.array(piece, { maxLength: 6 }), { maxLength: 30 }),
      fc.array(fc.double()),
      (msgs, times) => {
        const records = msgs.map((m, i) => rec(m.join(""), i + 1, times[i] ?? Number.NaN));
        const model = buildClientModel(records);
        assert.ok(model.all.length <= records.length);
      },
    ),
  );
});
