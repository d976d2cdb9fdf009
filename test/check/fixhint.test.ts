/** One-line fixes (configmgr-dp-bits.md F01–F05): scoped to the DP vdir, committed to applicationHost.config. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fixHint, ruleValue } from "../../src/check/fixhint.js";
import type { CheckName, Reason } from "../../src/engine/types.js";

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
      assert.match(line, /^appcmd set config "Default Web Site\/SMS_DP_SMSPKG\$" /);
      assert.match(line, /\/commit:apphost/);
    }
  });
}

test("ruleValue reads the value an <add/> line names", () => {
  assert.equal(ruleValue(reason("fileExtensions", '<add fileExtension=".mdb" allowed="false" />')), ".mdb");
  assert.equal(ruleValue(reason("doubleEscaping")), undefined);
});
