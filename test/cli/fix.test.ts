/**
 * `dpdoctor fix` end to end through the CLI: the seed flow (diagnose → fix --from → scoped diff; --apply on a copy →
 * check passes in every form), exit codes (0 planned, 1 not plannable, 2 usage/input) and positioned input errors.
 */
import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { type FixRunOptions, runFix } from "../../src/fix/run.js";
import { root, runCli } from "../helpers/cli.js";

const work = mkdtempSync(join(tmpdir(), "dpdoctor-fix-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));
const SEED = join(root, "examples", "seed");

describe("dpdoctor fix (CLI)", () => {
  it("seed flow: diagnose --json | fix --from prints the scoped diff; --apply on a copy makes check pass in every form", () => {
    const d = runCli(["diagnose", SEED, "--json"]);
    assert.ok(d.stdout.length > 0, d.stderr);
    // the log shows the 2007 form only; the direct form on SMS_DP_SMSPKG$ is a prediction, kept apart from it
    const refusals = (
      JSON.parse(d.stdout) as {
        findings: { id: string; refusals: { url: string; observed?: boolean; engine?: string }[] }[];
      }
    ).findings.flatMap((f) => f.refusals);
    const observed = refusals.filter((r) => r.observed === true).map((r) => r.url);
    const predicted = refusals.filter((r) => r.observed === false);
    assert.deepEqual(observed, ["/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf"]);
    assert.deepEqual(
      predicted.map((r) => [r.url, r.engine]),
      [["/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf", "predicted"]],
    );
    const findings = join(work, "f.json");
    writeFileSync(findings, d.stdout);
    const config = join(work, "applicationHost.config");
    copyFileSync(join(SEED, "applicationHost.config"), config);
    const original = readFileSync(config);

    const dry = runCli(["fix", "--from", findings, "--config", config]);
    assert.equal(dry.code, 0, dry.stderr + dry.stdout);
    assert.match(dry.stdout, /Scope: <location path="Default Web Site\/SMS_DP_SMSPKGE\$">/);
    assert.match(dry.stdout, /Scope: <location path="Default Web Site\/SMS_DP_SMSPKG\$">/);
    assert.match(dry.stdout, /`\.ldf` files are now served from Default Web Site\/SMS_DP_SMSPKGE\$ only\./);
    assert.match(dry.stdout, /^\+ {4}<location path="Default Web Site\/SMS_DP_SMSPKGE\$">\r?$/m);
    assert.match(dry.stdout, /^\+ {4}<location path="Default Web Site\/SMS_DP_SMSPKG\$">\r?$/m);
    assert.match(dry.stdout, /^\+ +<remove fileExtension="\.ldf" \/>\r?$/m);
    assert.match(
      dry.stdout,
      /passes: HEAD \/SMS_DP_SMSPKGE\$\/ABC00123\/blah\/file\.ldf on Default Web Site: 404\.7 → 200/,
    );
    assert.match(
      dry.stdout,
      /passes: HEAD \/SMS_DP_SMSPKG\$\/ABC00123\/blah\/file\.ldf on Default Web Site: 404\.7 → 200/,
    );
    assert.deepEqual(readFileSync(config), original, "a dry run writes nothing");

    // the package of the seed log: blah/file.ldf and blah/setup.exe, on the 2007 vdir of drive E
    const pkg = join(work, "ABC00123");
    mkdirSync(join(pkg, "blah"), { recursive: true });
    writeFileSync(join(pkg, "blah", "file.ldf"), "log");
    writeFileSync(join(pkg, "blah", "setup.exe"), "exe");
    const check = ["check", pkg, "--config", config, "--package-id", "ABC00123", "--drive", "E"];
    const c0 = runCli(check);
    assert.equal(c0.code, 1, "the .ldf file is refused before the fix");

    const applied = runCli(["fix", "--from", findings, "--config", config, "--apply"]);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    assert.match(applied.stdout, /Applied to .*backup: .*\.dpdoctor-\d{8}-\d{6}\.bak/);
    assert.equal(readdirSync(work).filter((f) => f.endsWith(".bak")).length, 1);

    const c1 = runCli(check);
    assert.equal(c1.code, 0, c1.stdout);
    assert.match(c1.stdout, /direct2007 form: 2 files OK; direct form: 2 files OK; client form: 2 files OK/);

    const again = runCli(["fix", "--from", findings, "--config", config, "--apply"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Nothing to change/);
    assert.equal(
      readdirSync(work).filter((f) => f.endsWith(".bak")).length,
      1,
      "idempotent: no second write",
    );
  });

  it("exit 1 when a refusal cannot be fixed by configuration (http.sys segment limit), saying why", () => {
    const findings = join(work, "long.json");
    const url = `/SMS_DP_SMSPKG$/ABC00123/${"n".repeat(300)}.txt`;
    writeFileSync(
      findings,
      JSON.stringify({ findings: [{ id: "F04", refusals: [{ method: "HEAD", url, status: 400 }] }] }),
    );
    const r = runFix({
      from: [findings],
      config: join(SEED, "applicationHost.config"),
      site: "Default Web Site",
      scope: "vdir",
      format: "diff",
      allowExtension: [],
      allowSegment: [],
      allowVerb: [],
    });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /Cannot be fixed by configuration:[\s\S]*rename the file or folder/);
  });

  it("exit 2 with file:line:column for a findings file that is not JSON", () => {
    const bad = join(work, "bad.json");
    writeFileSync(bad, '{\n  "findings": [\n    nope\n');
    const r = runCli(["fix", "--from", bad, "--config", join(SEED, "applicationHost.config")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^dpdoctor: .*bad\.json:3:6: invalid JSON/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("exit 2 for a usage error, with one line and no stack trace", () => {
    const r = runCli(["fix", "--config", join(SEED, "applicationHost.config")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^dpdoctor: nothing to fix: give --from/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("usage errors of the options (in process): bad --format, --scope, --max-url, --allow-extension, missing config", () => {
    const cfg = join(SEED, "applicationHost.config");
    const base: FixRunOptions = {
      config: cfg,
      site: "Default Web Site",
      scope: "vdir",
      format: "diff",
      allowExtension: [".ldf"],
      allowSegment: [],
      allowVerb: [],
    };
    const cases: [FixRunOptions, RegExp][] = [
      [{ ...base, format: "xml" }, /--format xml/],
      [{ ...base, scope: "site" }, /--scope site/],
      [{ ...base, maxUrl: "-3" }, /--max-url -3/],
      [{ ...base, allowExtension: ["a/b"] }, /--allow-extension a\/b/],
      [{ ...base, mimeMap: [".ldf=not a type"] }, /--mime-map/],
    ];
    for (const [o, pattern] of cases)
      assert.throws(
        () => runFix(o),
        (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      );
    assert.throws(
      () => runFix({ ...base, config: join(work, "missing.config") }),
      (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT",
    );
  });

  it("--format appcmd prints the commands for the DP scope", () => {
    const cfg = join(SEED, "applicationHost.config");
    const a = runCli(["fix", "--config", cfg, "--allow-segment", "bin", "--format", "appcmd"]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(
      a.stdout,
      /appcmd\.exe set config "Default Web Site\/SMS_DP_SMSPKG\$" -section:system\.webServer\/security\/requestFiltering \/-"hiddenSegments\.\[segment='bin'\]" \/commit:apphost/,
    );
  });
});
