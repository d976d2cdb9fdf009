/** Readers on hand-written inputs: the seed line, URL forms and agents (§7.1, §2.4), BITS export shapes (§4.6), detection. */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { describeStatus } from "../../src/iis/status.js";
import {
  classifyAgent,
  classifyRequest,
  detectKind,
  expandPaths,
  parseBitsEvents,
  parseCmTrace,
  parseW3C,
  readArtifact,
} from "../../src/logs/index.js";

export const IIS75_FIELDS =
  "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";
export const SEED_LINE =
  "2010-06-21 14:02:12 10.1.1.20 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 156";

describe("the seed line (configmgr-dp-bits §5.5, IIS 7.5 default fields)", () => {
  it("reads as HEAD, 2007 form, package ABC00123, blah/file.ldf, BITS client, 404.7 file extension denied", () => {
    const r = parseW3C(`${IIS75_FIELDS}\r\n${SEED_LINE}\r\n`, "u_ex100621.log");
    assert.equal(r.records.length, 1);
    const rec = r.records[0];
    assert.equal(rec.method, "HEAD");
    assert.equal(rec.line, 2);
    assert.equal(new Date(rec.time).toISOString(), "2010-06-21T14:02:12.000Z");
    const u = classifyRequest(rec.uriStem, rec.uriQuery);
    assert.deepEqual(
      [u.kind, u.form, u.contentId, u.relativePath],
      ["dp-content", "direct2007", "ABC00123", "blah/file.ldf"],
    );
    assert.deepEqual(classifyAgent(rec.userAgentRaw), { agent: "bits", version: "6.7" });
    assert.equal(rec.userAgent, "Microsoft BITS/6.7");
    assert.deepEqual([rec.status, rec.substatus, rec.win32Status, rec.timeTaken], [404, 7, 0, 156]);
    const m = describeStatus(rec.status, rec.substatus);
    assert.equal(m.layer, "request-filtering");
    assert.match(m.meaning, /request filtering: file extension denied/i);
  });
});

describe("request classification (§7.1, §2.2, §2.3; iis-request-filtering §10.1)", () => {
  // [stem, query, kind, form, contentId, relativePath]
  const CASES: [string, string, string, string | undefined, string | undefined, string | undefined][] = [
    ["/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", "-", "dp-content", "direct2007", "ABC00123", "blah/file.ldf"],
    [
      "/SMS_DP_SMSPKGC%24/P0100012/Tools/OSDResults/OSDResults.exe.config",
      "",
      "dp-content",
      "direct2007",
      "P0100012",
      "Tools/OSDResults/OSDResults.exe.config",
    ],
    [
      "/SMS_DP_SMSPKG$/Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1/sccm",
      "/setup.exe",
      "dp-content",
      "client",
      "Content_6d1c2f1e-7b1a-4c55-9d55-2f1a0c0b6e11.1",
      "setup.exe",
    ],
    [
      "/SMS_DP_SMSPKG$/MAX00ADA/sccm",
      "/chipset/intel/P00PFK-B2N/src/INF/LynxPointSystem.inf",
      "dp-content",
      "client",
      "MAX00ADA",
      "chipset/intel/P00PFK-B2N/src/INF/LynxPointSystem.inf",
    ],
    [
      "/SMS_DP_SMSPKG$/PS100012/New%20Text%20Document.cs",
      "-",
      "dp-content",
      "direct",
      "PS100012",
      "New Text Document.cs",
    ],
    ["/NOCERT_SMS_DP_SMSPKG$/Content_x.1", "-", "dp-content", "direct", "Content_x.1", undefined],
    ["/SMS_DP_SMSSIG$/Content_63fb.1.tar", "-", "dp-signature", undefined, "Content_63fb.1", undefined],
    ["/SCCM_BranchCache$/SS10000C/sccm", "/install.wim", "peer-cache", undefined, "SS10000C", "install.wim"],
    ["/SMS_MP/.sms_aut", "SITESIGNCERT", "mp", undefined, undefined, undefined],
    ["/downloadrestservice.svc/getcontentxmlsecure", "x=1", "cmg", undefined, undefined, undefined],
    [
      "/Content/EB/0123456789ABCDEF0123456789ABCDEF01234567.cab",
      "-",
      "wsus",
      undefined,
      undefined,
      undefined,
    ],
    ["/health-monitoring", "-", "other", undefined, undefined, undefined],
  ];
  for (const [stem, query, kind, form, id, rel] of CASES)
    it(`${stem}${query && query !== "-" ? `?${query}` : ""} → ${kind}${form ? `/${form}` : ""}`, () => {
      const u = classifyRequest(stem, query);
      assert.deepEqual([u.kind, u.form, u.contentId, u.relativePath], [kind, form, id, rel]);
    });

  it("HTTPERR cs-uri / full URLs carry the query inside", () => {
    const u = classifyRequest("http://dp01.contoso.com:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf");
    assert.deepEqual(
      [u.kind, u.form, u.contentId, u.relativePath],
      ["dp-content", "client", "Content_6d1c.1", "bin/tool.ldf"],
    );
  });

  const AGENTS: [string, string, string | undefined][] = [
    ["Microsoft+BITS/7.8", "bits", "7.8"],
    ["Microsoft BITS/7.7", "bits", "7.7"],
    ["SMS+CCM+5.0", "ccm", "5.0"],
    ["SMS+CCM+5.0+TS", "ccm-ts", "5.0"],
    ["ccmhttp", "ccmhttp", undefined],
    ["Microsoft-Delivery-Optimization/10.0", "delivery-optimization", "10.0"],
    ["Microsoft+Delivery+Optimization/10.0", "delivery-optimization", "10.0"],
    ["Microsoft-WebDAV-MiniRedir/6.1.7601", "webdav", undefined],
    ["-", "other", undefined],
  ];
  for (const [ua, agent, version] of AGENTS)
    it(`user agent ${ua} → ${agent}`, () => {
      const a = classifyAgent(ua);
      assert.equal(a.agent, agent);
      assert.equal(a.version, version);
    });
});

const EVENT_16384 = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-Bits-Client" Guid="{ef1cc15b-46c1-414e-bb95-e76b077bd51e}"/>
    <EventID>16384</EventID><Version>0</Version><Level>4</Level>
    <TimeCreated SystemTime="2024-03-05T09:20:11.1234567Z"/>
    <Channel>Microsoft-Windows-Bits-Client/Operational</Channel>
    <Computer>PC01.contoso.com</Computer>
    <Security UserID="S-1-5-18"/>
  </System>
  <EventData>
    <Data Name="Id">{9E27E462-8A49-447B-9E43-A641178A3EF5}</Data>
    <Data Name="Title">CCMDTS Job</Data>
    <Data Name="Owner">CONTOSO\\user1</Data>
    <Data Name="User">NT AUTHORITY\\SYSTEM</Data>
  </EventData>
</Event>`;
const EVENT_61 = `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Bits-Client"/><EventID>61</EventID><Level>3</Level><TimeCreated SystemTime="2024-03-05T09:20:10.0000000Z"/><Computer>PC01</Computer></System><EventData><Data Name="transferId">{11111111-2222-3333-4444-555555555555}</Data><Data Name="name">CCMDTS Job</Data><Data Name="Id">{9E27E462-8A49-447B-9E43-A641178A3EF5}</Data><Data Name="url">http://dp01.contoso.com:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf</Data><Data Name="peer"></Data><Data Name="hr">-2145844844</Data></EventData></Event>`;

describe("BITS event exports (§4.6)", () => {
  it("wevtutil /f:xml: concatenated <Event> elements without a root", () => {
    const r = parseBitsEvents(`${EVENT_16384}\r\n${EVENT_61}\r\n`, "bits.xml");
    assert.equal(r.records.length, 2);
    const [a, b] = r.records;
    assert.deepEqual(
      [a.eventId, a.level, a.jobId, a.jobTitle, a.owner, a.user, a.computer],
      [
        16384,
        "Information",
        "{9E27E462-8A49-447B-9E43-A641178A3EF5}",
        "CCMDTS Job",
        "CONTOSO\\user1",
        "NT AUTHORITY\\SYSTEM",
        "PC01.contoso.com",
      ],
    );
    assert.equal(new Date(a.time).toISOString(), "2024-03-05T09:20:11.123Z");
    assert.equal(a.line, 1);
    assert.deepEqual(
      [b.eventId, b.level, b.hr, b.jobId, b.line],
      [61, "Warning", "-2145844844", "{9E27E462-8A49-447B-9E43-A641178A3EF5}", 17],
    );
    assert.equal(b.url, "http://dp01.contoso.com:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf");
  });

  it('Event Viewer "Save as" XML with <Events> root and RenderingInfo', () => {
    const msg =
      "BITS stopped transferring the CCMDTS Job transfer job that is associated with the http://dp01/SMS_DP_SMSPKG$/X.1/sccm?/a.ldf URL. The status code is 0x80190194.";
    const xml = `<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<Events>${EVENT_61.replace("</Event>", `<RenderingInfo Culture="en-US"><Message>${msg}</Message><Level>Warning</Level></RenderingInfo></Event>`)}</Events>`;
    const r = parseBitsEvents(xml, "saved.xml");
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0].message, msg);
  });

  const CSV_HEADER =
    '"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName","ProviderId","LogName","ProcessId","ThreadId","MachineName","UserId","TimeCreated","LevelDisplayName"';
  const CSV_ROW =
    '"The administrator NT AUTHORITY\\SYSTEM canceled job ""CCMDTS Job"" on behalf of CONTOSO\\user1.  The job ID was {9E27E462-8A49-447B-9E43-A641178A3EF5}.","16384","0",,"4","0","0","-9223372036854775808","812","Microsoft-Windows-Bits-Client","ef1cc15b-46c1-414e-bb95-e76b077bd51e","Microsoft-Windows-Bits-Client/Operational","1234","5678","PC01.contoso.com","S-1-5-18","3/5/2024 9:20:11 AM","Information"';
  for (const withType of [true, false])
    it(`Get-WinEvent | Export-Csv ${withType ? "with" : "without"} the #TYPE line`, () => {
      const text = `${withType ? "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n" : ""}${CSV_HEADER}\r\n${CSV_ROW}\r\n`;
      assert.equal(detectKind("bits.csv", Buffer.from(text)).kind, "bits-csv");
      const r = parseBitsEvents(text, "bits.csv");
      assert.equal(r.records.length, 1);
      const e = r.records[0];
      assert.deepEqual(
        [e.eventId, e.level, e.jobId, e.jobTitle, e.owner, e.user, e.line],
        [
          16384,
          "Information",
          "{9E27E462-8A49-447B-9E43-A641178A3EF5}",
          "CCMDTS Job",
          "CONTOSO\\user1",
          "NT AUTHORITY\\SYSTEM",
          withType ? 3 : 2,
        ],
      );
      assert.equal(new Date(e.time).toISOString(), "2024-03-05T09:20:11.000Z");
      assert.match(e.inferred?.[0] ?? "", /no UTC offset/);
    });

  for (const [name, sep] of [
    ["CSV", ","],
    ["TXT (tab-separated)", "\t"],
  ] as const)
    it(`Event Viewer "Save as" ${name}: description in the unnamed last column`, () => {
      const msg =
        "BITS stopped transferring the CCMDTS Job transfer job that is associated with the http://dp01:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf URL. The status code is 0x80190194.";
      const q = (v: string) => (sep === "," ? `"${v}"` : v);
      const text = `${["Level", "Date and Time", "Source", "Event ID", "Task Category"].join(sep)}\r\n${[q("Warning"), q("3/5/2024 10:20:10 AM"), q("Microsoft-Windows-Bits-Client"), q("61"), q("None"), q(msg)].join(sep)}\r\n`;
      assert.equal(detectKind("bits.csv", Buffer.from(text)).kind, "bits-csv");
      const r = parseBitsEvents(text, "bits.csv");
      assert.equal(r.records.length, 1);
      const e = r.records[0];
      assert.deepEqual(
        [e.eventId, e.level, e.provider, e.hr, e.jobTitle],
        [61, "Warning", "Microsoft-Windows-Bits-Client", "0x80190194", "CCMDTS Job"],
      );
      assert.equal(e.url, "http://dp01:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf");
      assert.equal(new Date(e.time).toISOString(), "2024-03-05T10:20:10.000Z");
    });

  it("wevtutil /f:text blocks", () => {
    const text = [
      "Event[0]:",
      "  Log Name: Microsoft-Windows-Bits-Client/Operational",
      "  Source: Microsoft-Windows-Bits-Client",
      "  Date: 2024-03-05T10:20:10.000",
      "  Event ID: 61",
      "  Task: N/A",
      "  Level: Warning",
      "  Computer: PC01",
      "  Description: ",
      "BITS stopped transferring the CCMDTS Job transfer job that is associated with the http://dp01:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf URL. The status code is 0x80190194.",
      "",
      "Event[1]:",
      "  Log Name: Microsoft-Windows-Bits-Client/Operational",
      "  Source: Microsoft-Windows-Bits-Client",
      "  Date: 2024-03-05T10:20:11.000",
      "  Event ID: 16384",
      "  Level: Information",
      "  Description: ",
      "The administrator NT AUTHORITY\\SYSTEM canceled job “CCMDTS Job” on behalf of CONTOSO\\user1.  The job ID was {9E27E462-8A49-447B-9E43-A641178A3EF5}.",
    ].join("\r\n");
    assert.equal(detectKind("bits.txt", Buffer.from(text)).kind, "bits-text");
    const r = parseBitsEvents(text, "bits.txt");
    assert.equal(r.records.length, 2);
    assert.deepEqual(
      [r.records[0].eventId, r.records[0].hr, r.records[0].url, r.records[0].jobTitle, r.records[0].line],
      [61, "0x80190194", "http://dp01:80/SMS_DP_SMSPKG$/Content_6d1c.1/sccm?/bin/tool.ldf", "CCMDTS Job", 1],
    );
    assert.deepEqual(
      [r.records[1].eventId, r.records[1].jobId, r.records[1].line],
      [16384, "{9E27E462-8A49-447B-9E43-A641178A3EF5}", 12],
    );
  });
});

describe("detection from content, files and folders", () => {
  const dir = path.join(tmpdir(), `dpdoctor-logs-${process.pid}`, "W3SVC1");
  mkdirSync(dir, { recursive: true });
  after(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it("a binary .evtx is recognised and answered with the export command", () => {
    const f = path.join(dir, "bits.evtx");
    writeFileSync(f, Buffer.concat([Buffer.from("ElfFile\0", "latin1"), Buffer.alloc(200)]));
    const r = readArtifact(f);
    assert.equal(r.kind, "evtx");
    assert.match(r.summary.message ?? "", /wevtutil qe .* \/f:xml/);
  });

  it("content wins over the name; --kind overrides", () => {
    assert.equal(
      detectKind(
        "u_ex240101.log",
        Buffer.from(
          '<![LOG[x]LOG]!><time="1:2:3.000+0" date="01-01-2024" component="c" context="" type="1" thread="1" file="f">',
        ),
      ).kind,
      "cmtrace",
    );
    const f = path.join(dir, "renamed.txt");
    writeFileSync(f, `${IIS75_FIELDS}\n${SEED_LINE}\n`);
    assert.equal(readArtifact(f).kind, "iis-w3c");
    assert.equal(readArtifact(f, { kind: "cmtrace" }).kind, "cmtrace");
  });

  it("gzip'd, UTF-16LE with BOM and UTF-8 BOM W3C logs read the same", () => {
    const text = `#Software: Microsoft Internet Information Services 7.5\r\n${IIS75_FIELDS}\r\n${SEED_LINE}\r\n`;
    const variants: [string, Buffer][] = [
      ["u_ex1.log.gz", gzipSync(Buffer.from(text))],
      ["u_ex2.log", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["u_ex3.log", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    ];
    for (const [name, bytes] of variants) {
      const f = path.join(dir, name);
      writeFileSync(f, bytes);
      const r = readArtifact(f);
      assert.equal(r.kind, "iis-w3c", name);
      assert.equal(r.records.length, 1, name);
      assert.equal((r.records[0] as { uriStem: string }).uriStem, "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf");
    }
  });

  it("CMTrace in UTF-16LE with BOM", () => {
    const rec =
      '<![LOG[hello]LOG]!><time="10:00:00.000+240" date="10-18-2019" component="C" context="" type="2" thread="7" file="a.cpp:1">';
    const r = parseCmTrace(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${rec}\r\n${rec}`, "utf16le")]),
      "f",
    );
    assert.equal(r.records.length, 2);
    assert.equal(new Date(r.records[1].time).toISOString(), "2019-10-18T14:00:00.000Z");
  });

  it("a rolled-over CMTrace file (.lo_) in a folder is found and read by content", () => {
    const f = path.join(dir, "DataTransferService-20240305-092011.lo_");
    writeFileSync(
      f,
      '<![LOG[DTSJob {708C0A51-2E3B-4C8E-9F0E-6B1C2D3E4F50} in state \'DownloadingData\'.]LOG]!><time="10:02:11.500+240" date="06-21-2010" component="DataTransferService" context="" type="1" thread="2412" file="dtsjob.cpp:1456">\r\n',
    );
    assert.ok(expandPaths([dir]).includes(f));
    const r = readArtifact(f);
    assert.equal(r.kind, "cmtrace");
    assert.equal(new Date((r.records[0] as { time: number }).time).toISOString(), "2010-06-21T14:02:11.500Z");
  });

  it("folders and globs expand to sorted log files; a missing path is an InputError", () => {
    const files = expandPaths([path.dirname(dir)]);
    assert.ok(files.some((f) => f.endsWith("u_ex1.log.gz")));
    const glob = expandPaths([path.join(path.dirname(dir), "W3SVC*", "u_ex*.log")]);
    assert.deepEqual(
      glob.map((f) => path.basename(f)),
      ["u_ex2.log", "u_ex3.log"],
    );
    assert.throws(
      () => expandPaths([path.join(dir, "nope.log")]),
      (e: Error) => e.name === "InputError",
    );
  });
});
