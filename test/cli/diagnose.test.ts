/**
 * `dpdoctor diagnose` end to end: the README's main job on examples/seed, the --json contract of issue 5 (checked with
 * a JSON schema), exit codes 0/1/2, --html, and bad input (missing path, bad option, binary and truncated files).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Ajv } from "ajv";
import { root, runCli } from "../helpers/cli.js";

const seed = path.join(root, "examples", "seed");

// issue 5 --json contract (other fields welcome)
const CONTRACT = {
  type: "object",
  required: ["findings", "artifacts"],
  properties: {
    findings: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "title", "confidence", "contentIds", "files", "clients", "evidence", "fix"],
        properties: {
          id: { type: "string", pattern: "^F(0[1-9]|1[0-9])$" },
          title: { type: "string", minLength: 1 },
          confidence: { enum: ["high", "medium", "low"] },
          contentIds: { type: "array", items: { type: "string" } },
          files: { type: "array", items: { type: "string" } },
          clients: { type: "array", items: { type: "string" } },
          evidence: {
            type: "array",
            items: {
              type: "object",
              required: ["file", "line", "text"],
              properties: {
                file: { type: "string" },
                line: { type: "integer", minimum: 1 },
                text: { type: "string" },
              },
            },
          },
          fix: {
            type: "object",
            required: ["summary", "command"],
            properties: { summary: { type: "string" }, command: { type: ["string", "null"] } },
          },
        },
      },
    },
    artifacts: {
      type: "array",
      items: {
        type: "object",
        required: ["path", "kind"],
        properties: { path: { type: "string" }, kind: { type: "string" } },
      },
    },
  },
};

test("diagnose examples/seed: findings first, F01 .ldf, the config line, the fix command, exit 1", () => {
  const r = runCli(["diagnose", seed]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, "");
  const lines = r.stdout.split("\n");
  assert.match(lines[0] ?? "", /^1 finding:/);
  assert.match(r.stdout, /\[1\] F01 Request filtering denies the file extension \(404\.7\)/);
  assert.match(r.stdout, /extension \.ldf in package ABC00123/);
  assert.match(r.stdout, /applicationHost\.config:\d+ {2}<add fileExtension="\.ldf" allowed="false" \/>/);
  // observed (2007 vdir) and predicted (CB vdir) refusals: the printed command covers both vdirs and re-runs
  // diagnose with the arguments the admin gave, so it can be pasted as printed
  assert.ok(
    r.stdout.includes(
      `dpdoctor diagnose ${seed} --json > findings.json && dpdoctor fix --from findings.json --config ${seed}${path.sep}applicationHost.config\n`,
    ),
    r.stdout,
  );
  assert.match(
    r.stdout,
    /u_ex100621\.log:7 .*\n.*HEAD \/SMS_DP_SMSPKGE\$\/ABC00123\/blah\/file\.ldf - 80 - 10\.1\.2\.33 Microsoft\+BITS\/6\.7 404 7 0 156/,
  );
  // the other DP URL form the config declares is a prediction, printed apart from the log evidence
  assert.match(
    r.stdout,
    /Also refused in the direct form on \/SMS_DP_SMSPKG\$ \(predicted by the engine from the given config; no log line shows it\): HEAD \/SMS_DP_SMSPKG\$\/ABC00123\/blah\/file\.ldf → 404\.7/,
  );
  assert.doesNotMatch(
    r.stdout,
    /u_ex100621\.log:\d+ .*\n.*SMS_DP_SMSPKG\$\//,
    "no log evidence for the prediction",
  );
  // findings come before evidence, evidence before the artifact list
  assert.ok(r.stdout.indexOf("Fix:") < r.stdout.indexOf("Evidence:"));
  assert.ok(r.stdout.indexOf("Evidence:") < r.stdout.indexOf("Artifacts read:"));
  assert.ok(!r.stdout.includes("\x1b["), "no colour when NO_COLOR / not a TTY");
});

test("--json follows the issue 5 contract and carries refusals for fix --from", () => {
  const r = runCli(["diagnose", seed, "--json"]);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const validate = new Ajv({ allErrors: true }).compile(CONTRACT);
  assert.ok(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors));
  const f = report.findings[0];
  assert.equal(f.id, "F01");
  assert.deepEqual(f.refusals[0].value, ".ldf");
  assert.equal(f.refusals[0].check, "fileExtensions");
  assert.equal(f.refusals[0].site, "Default Web Site");
  assert.equal(f.refusals[0].vdir, "SMS_DP_SMSPKGE$");
  assert.equal(f.refusals[0].form, "direct2007");
  assert.equal(f.refusals[0].serverIp, "10.1.1.20");
  assert.equal(f.refusals[0].clientIp, "10.1.2.33");
  assert.ok(report.artifacts.some((a: { kind: string }) => a.kind === "bits-text"));
  assert.ok(report.artifacts.some((a: { kind: string }) => a.kind === "bits-xml"));
});

test("healthy download: exit 0, no finding", () => {
  const r = runCli(["diagnose", path.join(root, "examples", "scenarios", "healthy-download"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.findings, []);
  assert.ok(report.jobs.length === 1 && report.jobs[0].outcome === "completed");
});

test("--html writes one self-contained file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-cli-"));
  try {
    const out = path.join(dir, "r.html");
    const r = runCli(["diagnose", seed, "--html", out]);
    assert.equal(r.code, 1, r.stderr);
    const html = readFileSync(out, "utf8");
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /data-finding="F01"/);
    assert.match(r.stdout, /HTML report written to/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad input: missing path → exit 2 with the path named, no stack", () => {
  const r = runCli(["diagnose", path.join(root, "no-such-folder")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^dpdoctor: .*no-such-folder: no such file or directory\n$/);
});

test("bad option values → exit 2", () => {
  assert.equal(runCli(["diagnose", seed, "--skew", "abc"]).code, 2);
  assert.equal(runCli(["diagnose", seed, "--client", "not an ip"]).code, 2);
  assert.equal(runCli(["diagnose"]).code, 2);
});

test("broken config → positioned error, exit 2", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-cli-"));
  try {
    const cfg = path.join(dir, "applicationHost.config");
    writeFileSync(
      cfg,
      '<configuration>\n  <system.webServer>\n    <security>\n      <requestFiltering allowDoubleEscaping="yes">\n',
    );
    const r = runCli(["diagnose", path.join(seed, "dp"), "--config", cfg]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /applicationHost\.config:\d+(:\d+)?: /);
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("binary, truncated, UTF-16 and CRLF/mixed files are read or counted, never a crash", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-cli-"));
  try {
    writeFileSync(path.join(dir, "garbage.log"), Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7]));
    const iis = readFileSync(path.join(seed, "dp", "u_ex100621.log"), "utf8");
    // truncated mid-line, UTF-16LE with BOM
    writeFileSync(
      path.join(dir, "u_ex_utf16.log"),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(iis.slice(0, iis.length - 30), "utf16le")]),
    );
    writeFileSync(
      path.join(dir, "u_ex_mixed.log"),
      iis.replace(/\r\n/g, (m, i: number) => (i % 3 === 0 ? "\n" : m)),
    );
    const r = runCli(["diagnose", dir, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.findings[0].id, "F01");
    const garbage = report.artifacts.find((a: { path: string }) => a.path.endsWith("garbage.log"));
    assert.equal(garbage.kind, "unknown");
    assert.match(garbage.message, /binary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the printed fix command, and fix --from on the JSON, make the seed's refused HEAD pass (engine proof)", () => {
  const json = runCli(["diagnose", seed, "--json"]);
  const report = JSON.parse(json.stdout);
  const command: string = report.findings[0].fix.command;
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-cli-"));
  try {
    // run the printed command as a shell would: the diagnose half as printed, `> findings.json` = its stdout
    const [first, second, ...rest] = command.split(" && ");
    assert.equal(rest.length, 0, command);
    const diagnoseArgv = ((first ?? "").match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, ""));
    assert.deepEqual(diagnoseArgv.slice(-2), [">", "findings.json"]);
    assert.equal(diagnoseArgv.shift(), "dpdoctor");
    const printedFindings = path.join(dir, "findings.json");
    const rerun = runCli(diagnoseArgv.slice(0, -2));
    assert.equal(rerun.code, 1, rerun.stderr);
    writeFileSync(printedFindings, rerun.stdout);
    // split the fix half like a shell would (double quotes only)
    const argv = ((second ?? "").match(/"[^"]*"|\S+/g) ?? []).map((a) =>
      a.replace(/^"|"$/g, "") === "findings.json" ? printedFindings : a.replace(/^"|"$/g, ""),
    );
    assert.equal(argv.shift(), "dpdoctor");
    const byCommand = runCli(argv);
    assert.equal(byCommand.code, 0, byCommand.stderr);
    assert.match(byCommand.stdout, /HEAD \/SMS_DP_SMSPKGE\$\/\S+ on Default Web Site: 404\.7 → 200/);
    assert.match(byCommand.stdout, /HEAD \/SMS_DP_SMSPKG\$\/\S+ on Default Web Site: 404\.7 → 200/);
    const file = path.join(dir, "diagnose.json");
    writeFileSync(file, json.stdout);
    const fromJson = runCli(["fix", "--from", file, "--config", path.join(seed, "applicationHost.config")]);
    assert.equal(fromJson.code, 0, fromJson.stderr);
    assert.match(
      fromJson.stdout,
      /HEAD \/SMS_DP_SMSPKGE\$\/ABC00123\/blah\/file\.ldf on Default Web Site: 404\.7 → 200/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a folder with nothing to read → exit 2, saying what was looked for", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-cli-"));
  try {
    const r = runCli(["diagnose", dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing to diagnose: no IIS\/HTTPERR log, client log, BITS event export/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
