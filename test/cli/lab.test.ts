import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";

test("dpdoctor lab seed: hang → diagnose → fix → success, exit 0", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dpd-seed-cli-"));
  const r = runCli(["lab", "seed", "--dir", dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /blah\/file\.ldf → HTTP 404 \(0x80190194, fatal for BITS\)/);
  assert.match(r.stdout, /bin\/tool\.dll → HTTP 404/);
  assert.match(r.stdout, /diagnose: \d+ finding\(s\): .*F01/);
  assert.match(r.stdout, /F02/);
  assert.match(
    r.stdout,
    /diagnose: 2 finding\(s\)/,
    "the client job is joined to the DP lines: no client-only guess",
  );
  assert.match(r.stdout, /fix --apply .*\(changed\)/);
  assert.match(r.stdout, /7\. Client again: 3 of 3 file\(s\) ok — the download succeeds/);
  assert.ok(existsSync(path.join(dir, "artifacts", "DataTransferService.log")));
  assert.ok(readdirSync(path.join(dir, "artifacts")).some((f) => /^u_ex\d{6}\.log$/.test(f)));
  assert.ok(
    readdirSync(dir).some((f) => f.startsWith("applicationHost.config.dpdoctor-")),
    "fix kept a backup",
  );
});

test("dpdoctor lab serve: usage errors exit 2 without a stack trace", () => {
  for (const args of [
    ["lab", "serve", ".", "--fail", "404", "x"],
    ["lab", "serve", ".", "--port", "99999"],
    ["lab", "serve", ".", "--profile", "nginx"],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /^dpdoctor: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const missing = runCli(["lab", "serve", "/nonexistent/pkg"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nonexistent/);
});
