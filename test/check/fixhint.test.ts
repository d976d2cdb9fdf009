/** One-line fixes (configmgr-dp-bits.md F01–F05): scoped to the DP vdir, committed to applicationHost.config. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { changeFor, fixHint, ruleValue } from "../../src/check/fixhint.js";
import type { CheckName, Reason } from "../../src/engine/types.js";
import { APPCMD, appcmdCommand } from "../../src/fix/render.js";

const reason = (check: CheckName, text?: string): Reason => ({
  status: 404,
  substatus: 0,
  check,
  message: "m",
  source: text ? { file: "applicationHost.config", line: 10, column: 5, text } : null,
});
const ctx = { site: "Default Web Site", vdir: "SMS_DP_SMSPKG$" };

const table: [Reason, RegExp][] = [
  [
    reason("fileExtensions", '<add fileExtension=".ldf" allowed="false" />'),
    /\/-"fileExtensions\.\[fileExtension='\.ldf'\]"/,
  ],
  [
    reason("fileExtensions", '<fileExtensions allowUnlisted="false">'),
    /\/\+"fileExtensions\.\[fileExtension='\.',allowed='true'\]"/,
  ],
  [reason("hiddenSegments", '<add segment="bin" />'), /\/-"hiddenSegments\.\[segment='bin'\]"/],
  [reason("verbs", '<add verb="HEAD" allowed="false" />'), /\/-"verbs\.\[verb='HEAD'\]"/],
  [reason("doubleEscaping"), /\/allowDoubleEscaping:true/],
  [reason("highBitCharacters"), /\/allowHighBitCharacters:true/],
  [reason("maxQueryString"), /\/requestLimits\.maxQueryString:2500/],
  [reason("httpsys.segmentTooLong"), /UrlSegmentMaxLength/],
];

for (const [r, re] of table) {
  test(`${r.check} ${r.source?.text ?? "(default)"}`, () => {
    const line = fixHint(r, { ...ctx, needed: 2500 });
    assert.match(line, re);
    if (r.check !== "httpsys.segmentTooLong") {
      assert.ok(
        line.startsWith(`${APPCMD} set config "Default Web Site/SMS_DP_SMSPKG$" -section:`),
        `full appcmd.exe path and the vdir location: ${line}`,
      );
      assert.match(line, /\/commit:apphost/);
      // the hint's command is the one `dpdoctor fix --format appcmd` prints for the same change, byte for byte
      const change = changeFor(r, { ...ctx, needed: 2500 });
      assert.ok(change, "a config change for every request-filtering cause");
      assert.ok(line.startsWith(appcmdCommand(change, "Default Web Site/SMS_DP_SMSPKG$")), line);
    }
  });
}

test('allowUnlisted="false": the hint allows the extension IIS judged (the cause\'s label), "." when it has none', () => {
  const r = reason("fileExtensions", 'allowUnlisted="false"');
  assert.match(
    fixHint(r, { ...ctx, label: ".cab" }),
    /\/\+"fileExtensions\.\[fileExtension='\.cab',allowed='true'\]"/,
  );
  assert.match(
    fixHint(r, { ...ctx, label: "(no extension)" }),
    /\/\+"fileExtensions\.\[fileExtension='\.',allowed='true'\]"/,
  );
});

test("ruleValue reads the value an <add/> line names", () => {
  assert.equal(ruleValue(reason("fileExtensions", '<add fileExtension=".mdb" allowed="false" />')), ".mdb");
  assert.equal(ruleValue(reason("doubleEscaping")), undefined);
});

test("2007 form (static file handler): the 404.7 hint says a mimeMap is needed too and points to fix --from (§9.2)", () => {
  const r = reason("fileExtensions", '<add fileExtension=".ldf" allowed="false" />');
  const line = fixHint(r, { site: "Default Web Site", vdir: "SMS_DP_SMSPKGE$" });
  assert.ok(!line.includes("\n"), "one line");
  assert.ok(line.startsWith(`${APPCMD} set config "Default Web Site/SMS_DP_SMSPKGE$" `), line);
  assert.match(line, /mimeMap for \.ldf/);
  assert.match(line, /404\.3/);
  assert.match(line, /dpdoctor fix --from check\.json/);
  // the CB vdir is not served statically: no mimeMap sentence there
  assert.doesNotMatch(fixHint(r, ctx), /mimeMap/);
});

test("sequences keep the shared quoting: /-\"denyUrlSequences.[sequence='..']\"", () => {
  const line = fixHint(reason("denyUrlSequences", '<add sequence=".." />'), ctx);
  assert.ok(line.startsWith(`${APPCMD} set config "Default Web Site/SMS_DP_SMSPKG$" `), line);
  assert.match(
    line,
    /-section:system\.webServer\/security\/requestFiltering \/-"denyUrlSequences\.\[sequence='\.\.'\]" \/commit:apphost/,
  );
});
