/** Terminal rendering: findings before evidence, and log text cannot drive the terminal (escape sequences). */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { diagnose } from "../../src/diagnose/diagnose.js";
import { renderText, safeTerminalText } from "../../src/diagnose/render-text.js";
import { w3cRecord } from "./records.js";

test("control characters (ESC, BEL, CR, C1) in log text are neutralised", () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(safeTerminalText(s)));
    }),
  );
  assert.equal(safeTerminalText("a\u001b[2Jb\rc"), "a�[2Jb�c");
});

test("an attacker-controlled URL cannot clear the screen or recolour the report", () => {
  const evil = "/SMS_DP_SMSPKGE$/ABC00123/\u001b[2J\u001b]0;pwned\u0007x.ldf";
  const r = w3cRecord({
    time: Date.UTC(2024, 2, 5),
    uriStem: evil,
    text: `2024-03-05 00:00:00 HEAD ${evil} - 80 - 10.0.1.50 Microsoft+BITS/7.8 404 7 0 1`,
  });
  const report = diagnose({ w3c: [r], httperr: [], cmtrace: [], bits: [], artifacts: [] });
  const out = renderText(report, { color: false });
  assert.match(out, /F01/);
  assert.ok(!out.includes("\u001b"), "no ESC reaches the terminal");
  assert.ok(!out.includes("\u0007"), "no BEL reaches the terminal");
  // findings first, evidence after
  assert.ok(out.indexOf("Cause:") < out.indexOf("Evidence:"));
});

test("no finding: one clear line, exit-0 wording", () => {
  const out = renderText(diagnose({ w3c: [], httperr: [], cmtrace: [], bits: [], artifacts: [] }));
  assert.match(out.split("\n")[0] ?? "", /^No finding/);
});

test("several appcmd lines (one per change per vdir): 'or:' once, every command on its own aligned line", () => {
  const r = w3cRecord({
    time: Date.UTC(2024, 2, 5),
    uriStem: "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf",
    text: "2024-03-05 00:00:00 HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf - 80 - 10.0.1.50 Microsoft+BITS/7.8 404 7 0 1",
  });
  const report = diagnose({ w3c: [r], httperr: [], cmtrace: [], bits: [], artifacts: [] });
  const f = report.findings[0];
  assert.ok(f);
  f.fix.appcmd = ["appcmd-one", "appcmd-two", "appcmd-three"].join("\n");
  const lines = renderText(report, { color: false }).split("\n");
  const first = lines.findIndex((l) => l.endsWith("or: appcmd-one"));
  assert.ok(first >= 0, "first command after 'or:'");
  const column = (lines[first] ?? "").indexOf("appcmd-one");
  assert.equal(lines[first + 1]?.indexOf("appcmd-two"), column);
  assert.equal(lines[first + 2]?.indexOf("appcmd-three"), column);
  assert.equal(lines.filter((l) => l.includes("or: ")).length, 1);
});
