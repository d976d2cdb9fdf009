import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { type Lab, startLab } from "../../src/lab/server.js";
import { root, runCli } from "../helpers/cli.js";
import { seedPackage } from "../lab/helpers.js";

/** The CLI in a child process, asynchronously (the in-process emulator must keep answering). */
function runAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", `${root}src/cli.ts`, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => (stdout += c));
    p.stderr.on("data", (c) => (stderr += c));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const pkg = seedPackage();
let lab: Lab;
before(async () => {
  lab = await startLab({
    root: pkg.root,
    logDir: path.join(pkg.dir, "logs"),
    ntlmUsers: [{ domain: "CONTOSO", user: "cm", password: "pw" }],
  });
});
after(async () => {
  await lab.close();
});

/** The seed package in the 2007 form on drive E, explained with the aspnet profile, as an NTLM user. */
const probe2007 = () => [
  "probe",
  lab.url,
  "--content",
  "ABC00123",
  "--form",
  "direct2007",
  "--drive",
  "E",
  "--profile",
  "aspnet",
  "--user",
  "CONTOSO\\cm",
];

test("probe the 2007 form with the aspnet profile: FATAL lines with the engine's rule, exit 1", async () => {
  const r = await runAsync(probe2007(), { DPDOCTOR_PASSWORD: "pw" });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /listing {2}PROPFIND .*SMS_DP_SMSPKGE\$\/ABC00123 → 207/);
  assert.match(r.stdout, /FATAL {2}blah\/file\.ldf {2}HEAD .*HTTP 404 → 0x80190194/);
  assert.match(r.stdout, /engine: 404\.7 .*\.ldf/);
  assert.match(r.stdout, /engine: 404\.8 .*bin/);
  assert.match(r.stdout, /ok +setup\.exe {2}HEAD 200/);
});

test("probe --json (client form): per-file forms.client, exit 0 when every file downloads", async () => {
  const r = await runAsync(["probe", lab.url, "--content", "ABC00123", "--json", "--user", "CONTOSO\\cm"], {
    DPDOCTOR_PASSWORD: "pw",
  });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.command, "probe");
  const files = j.packages[0].files;
  assert.equal(files.length, Object.keys(pkg.files).length);
  for (const f of files) {
    assert.equal(f.forms.client.observed.outcome, "ok", f.path);
    assert.match(f.forms.client.url, /\/SMS_DP_SMSPKG\$\/ABC00123\/sccm\?\//);
  }
});

test("probe usage errors exit 2; the password is never taken from the command line", () => {
  for (const args of [
    ["probe", "ftp://dp01", "--content", "A"],
    ["probe", "http://dp01", "--content", "A", "--form", "smb"],
    ["probe", "http://dp01", "--content", "A", "--retries", "-1"],
    ["probe", "http://dp01"],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const r = runCli([
    "probe",
    "http://127.0.0.1:9",
    "--content",
    "A",
    "--user",
    "CONTOSO\\cm",
    "--password-env",
    "DPD_UNSET_VAR",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /DPD_UNSET_VAR/);
});

test("probe --json feeds fix --from: the scoped fix for what the DP refused", async () => {
  const { copyFileSync, chmodSync, writeFileSync } = await import("node:fs");
  const r = await runAsync([...probe2007(), "--json"], { DPDOCTOR_PASSWORD: "pw" });
  assert.equal(r.code, 1, r.stderr);
  const findings = path.join(pkg.dir, "probe.json");
  writeFileSync(findings, r.stdout);
  const config = path.join(pkg.dir, "applicationHost.config");
  copyFileSync(path.join(root, "profiles", "aspnet", "applicationHost.config"), config);
  chmodSync(config, 0o644);
  const fix = runCli(["fix", "--from", findings, "--config", config, "--format", "appcmd"]);
  assert.equal(fix.code, 0, fix.stderr + fix.stdout);
  assert.match(fix.stdout, /fileExtensions\.\[fileExtension='\.ldf'\]/);
  assert.match(fix.stdout, /hiddenSegments\.\[segment='bin'\]/);
});
