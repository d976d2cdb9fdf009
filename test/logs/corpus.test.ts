/**
 * Every file of ../shared/corpus/logs is read; counts and key fields below were checked by hand against the files
 * (grep -c of "<![LOG[" / "]LOG]!><time=", data lines under each "#Fields:", SOURCES.md notes).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseCmTrace, parseHttpErr, parseSmsSimple, parseW3C, readArtifact } from "../../src/logs/index.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/logs/", import.meta.url));
const at = (rel: string) => path.join(corpus, rel);

// [file, kind, records, skipped]
const TABLE: [string, string, number, number][] = [
  ["iis/u_ex130207_logjoint_iis75_webdav_propfind.log", "iis-w3c", 3, 0],
  ["iis/u_ex_elastic_iis10_multiheader_test.log", "iis-w3c", 3, 2], // last 2 lines have 15 fields under a 22-field header
  ["iis/u_ex_elastic_iis75_test.log", "iis-w3c", 3, 1], // the Markdown-damaged line
  ["httperr/httperr_elastic_test.log", "httperr", 4, 0],
  ["httperr/httperr_logjoint_multiblock.log", "httperr", 10, 0], // 1 + 6 + 3 under three headers
  ["cmtrace/smsts_2024_multiline_mixed-eol.log", "cmtrace", 894, 0],
  ["cmtrace/smsts_cb1906_osddownloadcontent_sccm-query-urls.log", "cmtrace", 399, 1], // line 357 starts mid-record
  ["cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log", "cmtrace", 359, 0],
  ["bits-events/bits_client_operational_evtx_dump_grep_ctf2021.txt", "bits-xml", 2, 0],
  ["excerpts/cm2007_bits16384_and_iis_404-7_verbalprocessor2010.txt", "bits-text", 1, 0],
  ["excerpts/ctm_2016_gist_cmtrace.log", "cmtrace", 3, 0],
  ["excerpts/dts_cannot_connect_2019_cmtrace.log", "cmtrace", 6, 0],
  ["excerpts/simple_format_sms_server_log_lines.txt", "sms-simple", 4, 0],
];

describe("corpus: every log file is read", () => {
  const all: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (!p.endsWith("SOURCES.md")) all.push(path.relative(corpus, p));
    }
  };
  walk(corpus);

  for (const [rel, kind, records, skipped] of TABLE) {
    it(`${rel}: ${kind}, ${records} records, ${skipped} skipped`, () => {
      const r = readArtifact(at(rel));
      assert.equal(r.kind, kind);
      assert.equal(r.summary.records, records);
      assert.equal(r.summary.skipped, skipped);
      assert.equal(r.records.length, records);
    });
  }

  it("every other corpus file is recognised as not-a-log (unknown, with a reason) and never throws", () => {
    const known = new Set(TABLE.map((t) => t[0]));
    const rest = all.filter((f) => !known.has(f));
    assert.ok(rest.length > 10);
    for (const rel of rest) {
      const r = readArtifact(at(rel));
      assert.ok(["unknown", "iis-config"].includes(r.kind), `${rel} read as ${r.kind}`);
      assert.equal(r.records.length, 0);
      if (r.kind === "unknown") assert.match(r.summary.message ?? "", /no known log signature/);
    }
  });
});

describe("corpus: key fields", () => {
  it("IIS 7.5 WebDAV log: IPv6 with zone, PROPFIND 404.0 win32 2", () => {
    const r = parseW3C(readFileSync(at("iis/u_ex130207_logjoint_iis75_webdav_propfind.log")), "f");
    const [a, b] = r.records;
    assert.equal(a.clientIp, "fe80::5d3d:c591:3026:46ee%14");
    assert.equal(a.method, "OPTIONS");
    assert.equal(b.method, "PROPFIND");
    assert.equal(b.uriStem, "/System32/TPHDEXLG64.exe");
    assert.deepEqual([b.status, b.substatus, b.win32Status, b.timeTaken], [404, 0, 2, 4]);
    assert.equal(b.userAgent, "Microsoft-WebDAV-MiniRedir/6.1.7601");
    assert.equal(new Date(a.time).toISOString(), "2013-02-07T08:35:37.000Z");
    assert.equal(b.line, 6);
  });

  it("three #Fields blocks: each record read with its own field set", () => {
    const r = parseW3C(readFileSync(at("iis/u_ex_elastic_iis10_multiheader_test.log")), "f");
    const [a, b, c] = r.records;
    assert.equal(a.serverIp, "127.0.0.1");
    assert.equal(a.uriQuery, "q=100");
    assert.equal(
      a.userAgent,
      "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:57.0) Gecko/20100101 Firefox/57.0",
    );
    assert.equal(
      a.userAgentRaw,
      "Mozilla/5.0+(Windows+NT+6.1;+Win64;+x64;+rv:57.0)+Gecko/20100101+Firefox/57.0",
    );
    assert.equal(a.siteName, "");
    assert.equal(b.siteName, "W3SVC1");
    assert.equal(b.host, "example.com");
    // "... cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken" = "example.com 200 0 0 123 456 789"
    assert.deepEqual([b.bytesSent, b.bytesReceived, b.timeTaken], [123, 456, 789]);
    assert.equal(c.serverIp, "127.0.0.1");
    assert.equal(c.clientIp, "81.2.69.143");
    assert.equal(c.line, 15);
    assert.deepEqual(
      r.skipped.map((s) => [s.line, s.reason]),
      [
        [16, 'expected 22 space-separated fields (per "#Fields:" on line 14), found 15'],
        [17, 'expected 22 space-separated fields (per "#Fields:" on line 14), found 15'],
      ],
    );
  });

  it("the corrupted IIS 7.5 line is skipped with file:line:column and the rest is read", () => {
    const r = parseW3C(readFileSync(at("iis/u_ex_elastic_iis75_test.log")), "u_ex.log");
    assert.equal(r.skipped[0].file, "u_ex.log");
    assert.equal(r.skipped[0].line, 5);
    assert.equal(r.skipped[0].column, 72);
    assert.match(r.skipped[0].reason, /c-ip is not an IP address: "\[10\.100\.118\.31\]/);
    assert.equal(r.records[2].clientIp, "2001:cdba:0000:0000:0000:0000:3257:9652");
    assert.equal(r.records[0].userAgent, ""); // "-"
  });

  it("HTTPERR: s-reason, queue name, '-' status, IPv6 with zone", () => {
    const a = parseHttpErr(readFileSync(at("httperr/httperr_elastic_test.log")), "f").records;
    assert.deepEqual(
      [a[0].status, a[0].reason, a[0].queueName, a[0].clientPort, a[0].uri],
      [503, "ConnLimit", "", 2094, "/qos/1kbfile.txt"],
    );
    assert.equal(a[2].protocolVersion, "HTTP/2.0");
    assert.equal(a[3].reason, "Timer_MinBytesPerSecond");
    assert.ok(Number.isNaN(a[3].status));
    const b = parseHttpErr(readFileSync(at("httperr/httperr_logjoint_multiblock.log")), "f").records;
    assert.equal(b[1].clientIp, "2001:4898:0:fff:0:5efe:10.164.167.30%0");
    assert.equal(b[1].reason, "Timer_ConnectionIdle");
    assert.equal(b[9].reason, "NotFound");
    assert.equal(b[9].line, 22); // third block: header lines 16–19, records on 20–22
    assert.equal(new Date(b[9].time).toISOString(), "2012-02-29T12:49:50.000Z");
  });

  it("CMTrace: time + bias → UTC, type, thread, file; multi-line message keeps its newline", () => {
    const r = parseCmTrace(readFileSync(at("cmtrace/smsts_2024_multiline_mixed-eol.log")), "f");
    const first = r.records[0];
    assert.equal(first.message, "Used smsts.ini to set logging settings.");
    assert.equal(new Date(first.time).toISOString(), "2024-02-08T00:53:52.712Z"); // 16:53:52.712 + 480 min
    assert.deepEqual(
      [first.biasMinutes, first.component, first.type, first.thread, first.sourceFile],
      [480, "TSMBootstrap", 1, 636, "tslogging.cpp:1457"],
    );
    const multi = r.records.find((x) => x.line === 59);
    assert.ok(multi);
    assert.equal(multi.endLine, 60);
    assert.match(
      multi.message,
      /further assistance\.\r?\nThe parameter is incorrect\. \(Error: 80070057; Source: Windows\)$/,
    );
    assert.equal(multi.type, 3);
  });

  it("CMTrace: the truncated line 357 is skipped and reading resyncs on the next record", () => {
    const r = parseCmTrace(
      readFileSync(at("cmtrace/smsts_cb1906_osddownloadcontent_sccm-query-urls.log")),
      "f",
    );
    assert.equal(r.skipped[0].line, 357);
    assert.match(r.skipped[0].reason, /truncated record/);
    const next = r.records.find((x) => x.line === 358);
    assert.ok(
      next?.message.startsWith(
        "Downloaded file from http://SCCM.University.liberty.edu:80/SMS_DP_SMSPKG$/MAX00ADA/sccm?/",
      ),
    );
  });

  it("CMTrace: the 20 KB DAV response with CDATA is one record", () => {
    const r = parseCmTrace(readFileSync(at("cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log")), "f");
    const d = r.records.find((x) => x.message.startsWith("DAV response string is:"));
    assert.ok(d);
    assert.deepEqual([d.line, d.endLine], [234, 235]);
    assert.ok(d.message.includes("<![CDATA["));
    assert.ok(d.message.includes("/SMS_DP_SMSPKG$/MAX00003/sccm?/ccmsetup.cab"));
  });

  it("CMTrace: negative bias (CTM 2016, -60) and the multi-line Persisted locations", () => {
    const r = parseCmTrace(readFileSync(at("excerpts/ctm_2016_gist_cmtrace.log")), "f");
    assert.equal(new Date(r.records[0].time).toISOString(), "2016-11-15T16:58:26.642Z");
    assert.equal(
      r.records[1].message.split(/\r?\n/)[1],
      "(LOCAL) http://vsrv03.ITPirate.local/SMS_DP_SMSPKG$/Content_f9ea1579-5597-439c-9c0e-239a6723b27f.1",
    );
    assert.deepEqual(
      r.records.map((x) => x.line),
      [1, 2, 4],
    );
  });

  it("CMTrace: DTS cannot-connect excerpt types 0–3", () => {
    const r = parseCmTrace(readFileSync(at("excerpts/dts_cannot_connect_2019_cmtrace.log")), "f");
    assert.deepEqual(
      r.records.map((x) => x.type),
      [0, 2, 1, 3, 3, 2],
    );
    assert.equal(r.records[5].sourceFile, "dtsjob.cpp:1402");
  });

  it("simple SMS format: bias, SMS 2.0 zone names, thread", () => {
    const r = parseSmsSimple(readFileSync(at("excerpts/simple_format_sms_server_log_lines.txt")), "f");
    assert.equal(r.records[0].component, "SMS_DISTRIBUTION_MANAGER");
    assert.equal(new Date(r.records[0].time).toISOString(), "1999-10-16T00:09:46.677Z"); // PDT = +420
    assert.equal(r.records[1].message, "Failed to get object class");
    assert.equal(new Date(r.records[1].time).toISOString(), "2018-06-14T05:26:25.828Z"); // -60
    assert.deepEqual([r.records[1].thread, r.records[1].format], [9112, "sms-simple"]);
    assert.equal(r.records[3].biasMinutes, 420);
  });

  it("BITS python-evtx grep dump: event IDs inferred from the field names, and said so", () => {
    const r = readArtifact(at("bits-events/bits_client_operational_evtx_dump_grep_ctf2021.txt"));
    assert.equal(r.kind, "bits-xml");
    const [a, b] = r.records as import("../../src/logs/records.js").BitsEventRecord[];
    assert.equal(a.eventId, 59);
    assert.equal(b.eventId, 60);
    assert.equal(a.url, "http://frplab.com:37566/sdhjkzui1782109zkjeznds");
    assert.equal(a.jobId, "{e85da2b3-0ea1-413f-ae2c-294eca2190e3}");
    assert.equal(b.hr, "0");
    assert.equal(b.data.transferId, "{46704613-5f8b-4911-b908-f19d666e51e2}");
    assert.equal(b.provider, "Microsoft-Windows-Bits-Client");
    assert.match(a.inferred?.join(" ") ?? "", /event ID 59 inferred/);
    assert.match(b.inferred?.join(" ") ?? "", /truncated/);
  });

  it("BITS legacy text export (verbalprocessor 2010): 16384 with job title, admin and owner", () => {
    const r = readArtifact(at("excerpts/cm2007_bits16384_and_iis_404-7_verbalprocessor2010.txt"));
    const e = r.records[0] as import("../../src/logs/records.js").BitsEventRecord;
    assert.deepEqual([e.eventId, e.provider, e.level], [16384, "BITS", "Information"]);
    assert.equal(e.jobTitle, "CCMDTS Job");
    assert.equal(e.user, "NT AUTHORITY\\SYSTEM");
    assert.equal(e.owner, "Domain\\User");
    assert.match(e.message, /^The administrator NT AUTHORITY\\SYSTEM canceled job/);
  });
});
