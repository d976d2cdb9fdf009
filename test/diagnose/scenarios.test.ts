/**
 * Every example scenario (examples/scenarios/<Fxx-…>/, examples/seed/) → the catalogue entry its folder names
 * (spec configmgr-dp-bits.md §6); the healthy download → no finding. The expected ID is read from the folder name,
 * so adding a scenario adds a test.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { diagnose } from "../../src/diagnose/diagnose.js";
import { gather } from "../../src/diagnose/ingest.js";
import { evaluate } from "../../src/engine/evaluate.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scenarios = path.join(root, "examples", "scenarios");

function run(dir: string) {
  const g = gather({ paths: [dir] });
  return diagnose({ ...g, evaluate });
}

for (const name of readdirSync(scenarios, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)) {
  const expected = /^(F\d\d)-/.exec(name)?.[1];
  test(`scenario ${name} → ${expected ?? "no finding"}`, () => {
    const report = run(path.join(scenarios, name));
    if (!expected) {
      assert.deepEqual(
        report.findings.map((f) => f.id),
        [],
      );
      return;
    }
    const ids = new Set(report.findings.map((f) => f.id));
    assert.ok(ids.has(expected as never), `expected ${expected}, got ${[...ids].join(", ") || "none"}`);
    // the expected entry ranks first (no weaker unrelated finding ahead of it)
    assert.equal(report.findings[0]?.id, expected);
    for (const f of report.findings) {
      assert.ok(f.evidence.length > 0, `${f.id} has evidence`);
      for (const e of f.evidence) {
        assert.ok(e.line >= 1, "evidence line is 1-based");
        assert.ok(e.text.length > 0, "evidence carries the line text");
      }
      assert.ok(f.cause.length > 0 && f.fix.summary.length > 0);
      // the hang explanation follows §5.1: only error statuses are fatal or transient for BITS
      assert.doesNotMatch(f.hang, /HTTP [123]\d\d is (fatal|transient)/);
    }
  });
}

test("seed: F01 for .ldf in ABC00123, names the config line and the fix command (README main job)", () => {
  const report = run(path.join(root, "examples", "seed"));
  assert.equal(report.findings.length, 1);
  const f = report.findings[0];
  assert.ok(f);
  assert.equal(f.id, "F01");
  assert.equal(f.confidence, "high");
  assert.deepEqual(f.contentIds, ["ABC00123"]);
  assert.deepEqual(f.files, ["blah/file.ldf"]);
  assert.deepEqual(f.clients, ["10.1.2.33"]);
  const cfg = f.evidence.find((e) => e.source === "config");
  assert.equal(cfg?.text, '<add fileExtension=".ldf" allowed="false" />');
  assert.match(cfg?.file ?? "", /applicationHost\.config$/);
  // the logged refusal is on the 2007 vdir, the engine predicts the same refusal on the CB vdir: the printed
  // command covers both (fix --from re-plans every refusal with its own vdir), appcmd lists one line per vdir
  const vdirs = [...new Set(f.refusals.map((r) => r.vdir))];
  assert.deepEqual(vdirs, ["SMS_DP_SMSPKGE$", "SMS_DP_SMSPKG$"]);
  assert.match(
    f.fix.command ?? "",
    /^dpdoctor diagnose … --json > findings\.json && dpdoctor fix --from findings\.json --config \S*applicationHost\.config$/,
  );
  const appcmd = (f.fix.appcmd ?? "").split("\n");
  for (const vdir of vdirs)
    assert.ok(
      appcmd.some((l) =>
        l.includes(
          `"Default Web Site/${vdir}" -section:system.webServer/security/requestFiltering /-"fileExtensions.[fileExtension='.ldf']"`,
        ),
      ),
      `${vdir}: ${f.fix.appcmd}`,
    );
  // only the statically served 2007 vdir needs the mimeMap (§9.2)
  assert.deepEqual(
    appcmd.filter((l) => l.includes("staticContent")).map((l) => /"Default Web Site\/([^"]+)"/.exec(l)?.[1]),
    ["SMS_DP_SMSPKGE$"],
  );
  // the seed's IIS line, verbatim, is evidence
  assert.ok(
    f.evidence.some((e) =>
      e.text.includes(
        "HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.1.2.33 Microsoft+BITS/6.7 404 7 0 156",
      ),
    ),
  );
  // every join key of §7 matched
  for (const k of ["BITS job ID", "content ID + path", "time window"]) assert.ok(f.joinedBy.includes(k), k);
  // the 16384 cancel while DownloadingData is the hang signature (§7.7), in both exports
  assert.match(f.hang, /16384.*hang signature/);
  assert.equal(f.evidence.filter((e) => e.source === "bits").length, 2);
  const refusal = f.refusals[0];
  assert.ok(refusal);
  assert.equal(refusal.engine, "confirmed");
  assert.equal(refusal.value, ".ldf");
  assert.equal(refusal.vdir, "SMS_DP_SMSPKGE$");
  assert.equal(refusal.count, 3);
  assert.equal(report.jobs[0]?.outcome, "cancelled-while-downloading");
});

test("partial evidence: only the seed's IIS log still gives F01, at lower confidence, and says what is missing", () => {
  const report = run(path.join(root, "examples", "seed", "dp"));
  const f = report.findings[0];
  assert.equal(f?.id, "F01");
  assert.equal(f?.confidence, "medium");
  assert.ok(f?.missing.some((m) => m.includes("DataTransferService.log")));
  assert.ok(report.missingArtifacts.some((m) => m.includes("applicationHost.config")));
});

test("partial evidence: only client logs + config predict F01 through the engine", () => {
  const seed = path.join(root, "examples", "seed");
  const g = gather({ paths: [path.join(seed, "client"), path.join(seed, "applicationHost.config")] });
  const report = diagnose({ ...g, evaluate });
  const f = report.findings[0];
  assert.equal(f?.id, "F01");
  assert.equal(f?.confidence, "medium");
  assert.equal(
    f?.evidence.find((e) => e.source === "config")?.text,
    '<add fileExtension=".ldf" allowed="false" />',
  );
  assert.ok(f?.missing.some((m) => m.includes("IIS log")));
});

test("partial evidence: only the config and a package folder predict the refusal", () => {
  const seed = path.join(root, "examples", "seed");
  const g = gather({
    paths: [path.join(seed, "applicationHost.config")],
    packageDir: path.join(root, "test", "fixtures", "diagnose", "package", "ABC00123"),
  });
  const report = diagnose({ ...g, evaluate });
  const f = report.findings.find((x) => x.id === "F01");
  assert.ok(f, "F01 predicted");
  assert.equal(f.confidence, "low");
  assert.ok(f.files.includes("blah/file.ldf"));
  assert.ok(!f.files.includes("blah/setup.exe"));
});

test("--content and --client narrow the diagnosis", () => {
  const seed = path.join(root, "examples", "seed");
  const g = gather({ paths: [seed] });
  assert.equal(diagnose({ ...g, evaluate, contentId: "XYZ00007" }).findings.length, 0);
  assert.equal(diagnose({ ...g, evaluate, contentId: "abc00123.1" }).findings[0]?.id, "F01");
  assert.equal(
    diagnose({ ...g, evaluate, client: "10.1.2.41", contentId: "ABC00123" }).findings.filter((f) =>
      f.refusals.some((r) => r.clientIp),
    ).length,
    0,
  );
});

test("a config that does not reproduce the logged refusal is said so (stale or wrong config)", () => {
  const seed = path.join(root, "examples", "seed");
  const g = gather({
    paths: [path.join(seed, "dp")],
    config: path.join(root, "examples", "scenarios", "F05-verb-denied", "applicationHost.config"),
  });
  // that config denies HEAD (404.6) where the seed's DP logged 404.7
  const f = diagnose({ ...g, evaluate }).findings.find((x) => x.id === "F01");
  assert.ok(f);
  assert.equal(f.refusals[0]?.engine, "differs");
  assert.ok(f.inferred.some((i) => /not the logged 404\.7/.test(i)));
});
