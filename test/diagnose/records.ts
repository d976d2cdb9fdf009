/**
 * Hand-built log records for the diagnose tests: one W3C line and one CMTrace line with the fields a DP / a client
 * writes (shapes of src/logs/records.ts), overridable field by field. Shared so the tests do not each restate them.
 */
import type { CmTraceRecord, W3CRecord } from "../../src/logs/records.js";

/** A BITS HEAD of the seed's .ldf refused 404.7 by the DP (configmgr-dp-bits.md §4.1 field order). */
export function w3cRecord(over: Partial<W3CRecord> = {}): W3CRecord {
  const r: W3CRecord = {
    file: "u_ex240305.log",
    line: 5,
    time: Date.UTC(2024, 2, 5, 9, 14, 0),
    serverIp: "10.0.0.5",
    method: "HEAD",
    uriStem: "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf",
    uriQuery: "",
    port: 80,
    username: "-",
    clientIp: "10.0.1.50",
    userAgent: "Microsoft BITS/7.8",
    userAgentRaw: "Microsoft+BITS/7.8",
    referer: "",
    host: "",
    status: 404,
    substatus: 7,
    win32Status: 0,
    timeTaken: 1,
    bytesSent: Number.NaN,
    bytesReceived: Number.NaN,
    siteName: "",
    text: "",
    ...over,
  };
  r.text ||= `${r.method} ${r.uriStem} ${r.uriQuery || "-"} ${r.clientIp} ${r.status} ${r.substatus}`;
  return r;
}

/** One DataTransferService.log line (CMTrace format, §4.3). */
export function cmRecord(
  message: string,
  line: number,
  time: number,
  over: Partial<CmTraceRecord> = {},
): CmTraceRecord {
  return {
    file: "DataTransferService.log",
    line,
    endLine: line,
    time,
    localTime: "",
    biasMinutes: 0,
    component: "DataTransferService",
    context: "",
    type: 1,
    thread: 1,
    sourceFile: "",
    message,
    format: "cmtrace",
    ...over,
  };
}
