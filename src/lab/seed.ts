/**
 * `lab seed`: the reference scenario end to end (configmgr-dp-bits.md §5.5, F01/F02): package ABC00123 with
 * `blah/file.ldf` and a `bin/` folder, served by the emulator with the aspnet profile in the ConfigMgr 2007 form; the
 * BITS-like client hits 404.7/404.8 and DTS retries without progress (the "hang"); the artifacts are collected
 * (W3C log, a client DataTransferService.log in CMTrace format, BITS events as wevtutil XML); `diagnose` reads them;
 * the scoped `fix` is applied to the emulator's copy of the config; the client runs again and succeeds.
 * Every step is real: the same library functions the commands use. Nothing is faked.
 */
import { randomUUID } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadServer } from "../config/load.js";
import { diagnose } from "../diagnose/diagnose.js";
import { gather } from "../diagnose/ingest.js";
import { evaluate } from "../engine/evaluate.js";
import { runFix } from "../fix/run.js";
import { type ProbeResult, runProbe } from "../probe/probe.js";
import { startLab } from "./server.js";

export interface SeedOptions {
  /** Working folder (default: a new temp folder). */
  dir?: string;
  /** DTS job retries of the failing run (each one repeats the refused HEADs, as in the seed's IIS log). */
  jobRetries?: number;
  say?: (line: string) => void;
}

export interface SeedResult {
  ok: boolean;
  dir: string;
  before: ProbeResult;
  after?: ProbeResult;
  findings: number;
  fixApplied: boolean;
  steps: string[];
}

const PACKAGE_ID = "ABC00123";
const DRIVE = "E";

/** Seed package: a healthy file, the `.ldf` of the reference case, a `bin/` folder (F01, F02). */
export function buildSeedPackage(dir: string): string {
  const root = path.join(dir, PACKAGE_ID);
  mkdirSync(path.join(root, "blah"), { recursive: true });
  mkdirSync(path.join(root, "bin"), { recursive: true });
  writeFileSync(path.join(root, "setup.exe"), Buffer.alloc(300_000, 0x4d));
  writeFileSync(path.join(root, "blah", "file.ldf"), Buffer.alloc(40_000, 0x4c));
  writeFileSync(path.join(root, "bin", "tool.dll"), Buffer.alloc(5_000, 0x44));
  return root;
}

function profileCopy(dest: string): string {
  for (const up of ["../../", "../../../"]) {
    const src = new URL(`${up}profiles/aspnet/applicationHost.config`, import.meta.url);
    try {
      copyFileSync(src, dest);
      chmodSync(dest, 0o644); // the installed profile may be read-only; the emulator's copy is ours to fix
      declareDpVdir(dest);
      return dest;
    } catch {
      // next depth (tsx vs built layout)
    }
  }
  throw new Error("embedded aspnet profile not found");
}

/**
 * A ConfigMgr 2007 DP has the per-drive vdir `SMS_DP_SMSPKG<drive>$` under Default Web Site (configmgr §2.1): declare
 * it in the emulator's copy, next to the site's root vdir, keeping the file's indentation and line ends.
 */
function declareDpVdir(file: string): void {
  const text = readFileSync(file, "utf8");
  const m =
    /([ \t]*)<virtualDirectory path="\/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" \/>(\r?\n)/.exec(
      text,
    );
  if (!m) return; // profile changed shape: the fix then scopes a <location> to the path, and says so
  const line = `${m[1]}<virtualDirectory path="/SMS_DP_SMSPKG${DRIVE}$" physicalPath="${DRIVE}:\\SMSPKG${DRIVE}$" />${m[2]}`;
  const at = m.index + m[0].length;
  writeFileSync(file, text.slice(0, at) + line + text.slice(at));
}

/** CMTrace time attributes for a UTC instant, written as local time with bias 0 (UTC = local + 0). */
function cmTime(d: Date): string {
  const iso = d.toISOString();
  return `time="${iso.slice(11, 23)}+000" date="${iso.slice(5, 7)}-${iso.slice(8, 10)}-${iso.slice(0, 4)}"`;
}
function cmLine(msg: string, d: Date, type = 1, file = "dtsjob.cpp:1"): string {
  return `<![LOG[${msg}]LOG]!><${cmTime(d)} component="DataTransferService" context="" type="${type}" thread="2412" file="${file}">`;
}

/** DataTransferService.log lines for one DTS job over a probe run (message texts: configmgr-dp-bits.md §4.3). */
function dtsLog(origin: string, runs: ProbeResult[], dtsJob: string, bitsJob: string): string {
  const lines: string[] = [];
  let errors = 0;
  const t0 = new Date();
  lines.push(
    cmLine(
      `DTSJob ${dtsJob} created to download from '${origin}/SMS_DP_SMSPKG${DRIVE}$/${PACKAGE_ID}' to 'C:\\WINDOWS\\ccmcache\\1'.`,
      t0,
    ),
  );
  lines.push(cmLine(`Starting BITS job '${bitsJob}' for DTS job '${dtsJob}' under user 'S-1-5-18'.`, t0));
  // one line per file of the BITS job (§4.3 "BITSHelper: Full source path to be transferred = <url>")
  for (const f of runs[0]?.files ?? [])
    lines.push(
      cmLine(`BITSHelper: Full source path to be transferred = ${f.url}`, t0, 1, "bitshelper.cpp:1"),
    );
  lines.push(cmLine(`DTSJob ${dtsJob} in state 'DownloadingData'.`, t0));
  for (const run of runs)
    for (const f of run.files) {
      if (f.outcome === "ok" || !f.hresult) continue;
      lines.push(
        cmLine(
          `CDTSJob::HandleErrors: DTS Job '${dtsJob}' BITS Job '${bitsJob}' under user 'S-1-5-18' OldErrorCount ${errors} NewErrorCount ${errors + 1} ErrorCode ${f.hresult}`,
          new Date(),
          2,
          "dtsjob.cpp:2589",
        ),
      );
      errors++;
    }
  return `\ufeff${lines.join("\r\n")}\r\n`;
}

/** BITS events 59/60 as `wevtutil qe ... /f:xml` prints them (no root element; §4.6 field names). */
function bitsEventsXml(runs: ProbeResult[], bitsJob: string): string {
  const ev = (id: number, data: Record<string, string>, level = 4) =>
    `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Bits-Client" Guid="{ef1cc15b-46c1-414e-bb95-e76b077bd51e}"/><EventID>${id}</EventID><Version>1</Version><Level>${level}</Level><TimeCreated SystemTime="${new Date().toISOString()}"/><Channel>Microsoft-Windows-Bits-Client/Operational</Channel><Computer>LABCLIENT</Computer><Security UserID="S-1-5-18"/></System><EventData>${Object.entries(
      data,
    )
      .map(([k, v]) => `<Data Name="${k}">${v.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</Data>`)
      .join("")}</EventData></Event>`;
  const out: string[] = [];
  for (const run of runs)
    for (const f of run.files) {
      const transferId = `{${randomUUID().toUpperCase()}}`;
      const common = { transferId, name: "CCMDTS Job", Id: bitsJob, url: f.url, peer: "" };
      out.push(
        ev(59, {
          ...common,
          fileTime: "0",
          fileLength: String(f.size ?? 0),
          bytesTotal: String(f.size ?? 0),
          bytesTransferred: "0",
          bytesTransferredFromPeer: "0",
        }),
      );
      const hr = f.outcome === "ok" ? "0" : String(Number.parseInt((f.hresult ?? "0x0").slice(2), 16) | 0);
      out.push(
        ev(
          60,
          {
            ...common,
            hr,
            fileTime: "0",
            fileLength: String(f.size ?? 0),
            bytesTotal: String(f.size ?? 0),
            bytesTransferred: "0",
            bytesTransferredFromPeer: "0",
          },
          f.outcome === "ok" ? 4 : 3,
        ),
      );
    }
  return `${out.join("\r\n")}\r\n`;
}

export async function runSeed(opts: SeedOptions = {}): Promise<SeedResult> {
  const say = opts.say ?? (() => {});
  const steps: string[] = [];
  const step = (s: string) => {
    steps.push(s);
    say(s);
  };
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), "dpdoctor-seed-"));
  const root = buildSeedPackage(dir);
  const configFile = profileCopy(path.join(dir, "applicationHost.config"));
  const logDir = path.join(dir, "dp-logs");
  step(`1. Seed package ${PACKAGE_ID} built in ${root} (setup.exe, blah/file.ldf, bin/tool.dll)`);

  const lab = await startLab({ root, packageId: PACKAGE_ID, config: configFile, logDir });
  const result: SeedResult = {
    ok: false,
    dir,
    before: undefined as unknown as ProbeResult,
    findings: 0,
    fixApplied: false,
    steps,
  };
  try {
    step(
      `2. Emulated DP serving it at ${lab.url}/SMS_DP_SMSPKG${DRIVE}$/${PACKAGE_ID} with the aspnet profile (copy with the vdir SMS_DP_SMSPKG${DRIVE}$ declared: ${configFile})`,
    );
    const server = () => ({ config: loadServer({ config: configFile }), siteName: "Default Web Site" });
    const probe = () =>
      runProbe({
        origin: lab.url,
        contentId: PACKAGE_ID,
        form: "direct2007",
        drive: DRIVE,
        server: server(),
        concurrency: 2,
      });
    const runs: ProbeResult[] = [];
    const retries = Math.max(1, opts.jobRetries ?? 3);
    for (let i = 0; i < retries; i++) runs.push(await probe());
    result.before = runs[0];
    const failed = runs[0].files.filter((f) => f.outcome !== "ok");
    step(
      `3. BITS-like client (2007 form), ${retries} DTS job attempt(s): ${runs[0].summary.ok} of ${runs[0].summary.files} file(s) ok each time; ` +
        failed.map((f) => `${f.path} → HTTP ${f.status} (${f.hresult}, fatal for BITS)`).join("; ") +
        " — no progress between attempts: the download 'hangs'",
    );

    lab.flushLogs();
    const artifacts = path.join(dir, "artifacts");
    mkdirSync(artifacts, { recursive: true });
    const dtsJob = `{${randomUUID().toUpperCase()}}`;
    const bitsJob = `{${randomUUID().toUpperCase()}}`;
    const w3cFiles = (await import("node:fs")).readdirSync(lab.w3cDir);
    for (const f of w3cFiles) copyFileSync(path.join(lab.w3cDir, f), path.join(artifacts, f));
    writeFileSync(path.join(artifacts, "DataTransferService.log"), dtsLog(lab.url, runs, dtsJob, bitsJob));
    writeFileSync(path.join(artifacts, "bits-client-operational.xml"), bitsEventsXml(runs, bitsJob));
    step(
      `4. Artifacts collected in ${artifacts}: ${w3cFiles.join(", ")} (DP W3C log), DataTransferService.log (CMTrace), bits-client-operational.xml (wevtutil XML)`,
    );

    const g = gather({ paths: [artifacts], config: configFile });
    const report = diagnose({ ...g, evaluate, contentId: PACKAGE_ID });
    result.findings = report.findings.length;
    const findingsFile = path.join(dir, "diagnose.json");
    writeFileSync(findingsFile, JSON.stringify(report, null, 2));
    step(
      `5. diagnose: ${report.findings.length} finding(s): ${report.findings.map((f) => `${f.id} ${f.title}`).join("; ")} (report: ${findingsFile})`,
    );

    const before = readFileSync(configFile, "utf8");
    const fix = runFix({
      from: [findingsFile],
      config: configFile,
      site: "Default Web Site",
      scope: "vdir",
      format: "appcmd",
      apply: true,
      allowExtension: [],
      allowSegment: [],
      allowVerb: [],
    });
    result.fixApplied = readFileSync(configFile, "utf8") !== before;
    step(
      `6. fix --apply on the emulator's copy of applicationHost.config (${result.fixApplied ? "changed" : "NOT changed"}):\n${fix.stdout
        .trimEnd()
        .split("\n")
        .map((l) => `     ${l}`)
        .join("\n")}`,
    );

    lab.setServer(loadServer({ config: configFile }));
    const after = await probe();
    result.after = after;
    result.ok = after.summary.files > 0 && after.summary.ok === after.summary.files && !after.listing.error;
    step(
      `7. Client again: ${after.summary.ok} of ${after.summary.files} file(s) ok${
        result.ok
          ? " — the download succeeds"
          : ` — still failing: ${after.files
              .filter((f) => f.outcome !== "ok")
              .map((f) => `${f.path} ${f.status}`)
              .join(", ")}`
      }`,
    );
  } finally {
    await lab.close();
  }
  return result;
}
