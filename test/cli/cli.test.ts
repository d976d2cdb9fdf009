import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";

test("--version prints the package version", () => {
  const r = runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test("--help lists every command", () => {
  const r = runCli(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["url", "check", "logs", "diagnose", "fix", "probe", "lab"])
    assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test("an unknown option is a usage error (exit 2) without a stack trace", () => {
  const r = runCli(["--no-such-option"]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
});
