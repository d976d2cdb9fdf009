/**
 * The rule a reason cites (src/engine/reason-source.ts): read from the element the source points at, never from
 * another element sharing its line — a one-line web.config's `<fileExtensions allowUnlisted="false"><add
 * fileExtension=".exe" allowed="true" />` refuses .cab by allowUnlisted, not by the .exe line (fix hints and cause
 * labels read this: src/check/fixhint.ts, src/check/run.ts, src/diagnose/diagnose.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadServerFromText } from "../../src/config/load.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { ruleDenies, ruleElement, ruleValue } from "../../src/engine/reason-source.js";
import type { Reason } from "../../src/engine/types.js";

const apphost = (rf: string) =>
  `<configuration>\n<configSections><sectionGroup name="system.webServer"><sectionGroup name="security"><section name="requestFiltering" overrideModeDefault="Allow" /></sectionGroup></sectionGroup></configSections>\n<system.webServer>\n<security>\n${rf}\n</security>\n</system.webServer>\n</configuration>\n`;

function reasonFor(rf: string, target: string): Reason {
  const config = loadServerFromText({ file: "applicationHost.config", text: apphost(rf) });
  const v = evaluate({ method: "GET", target }, { config, siteName: config.defaultSiteName });
  assert.ok(v.reasons[0], `${target} refused`);
  return v.reasons[0];
}

describe("the rule a reason cites", () => {
  const cases: [string, string, string, string | undefined, boolean][] = [
    [
      "a deny line of its own",
      '<requestFiltering><fileExtensions>\n    <add fileExtension=".ldf" allowed="false" />\n</fileExtensions></requestFiltering>',
      "/a.ldf",
      ".ldf",
      true,
    ],
    [
      "allowUnlisted on a line that also allows .exe: the attribute is cited, no value",
      '<requestFiltering><fileExtensions allowUnlisted="false"><add fileExtension=".exe" allowed="true" /></fileExtensions></requestFiltering>',
      "/a.cab",
      undefined,
      false,
    ],
    [
      "two deny lines on one line: the second is cited with its own value",
      '<requestFiltering><fileExtensions><add fileExtension=".a" allowed="false" /><add fileExtension=".ldf" allowed="false" /></fileExtensions></requestFiltering>',
      "/a.ldf",
      ".ldf",
      true,
    ],
    [
      "a hidden segment after an allowed extension on one line",
      '<requestFiltering><fileExtensions><add fileExtension=".x" allowed="true" /></fileExtensions><hiddenSegments><add segment="bin" /></hiddenSegments></requestFiltering>',
      "/bin/a.exe",
      "bin",
      false,
    ],
  ];
  for (const [label, rf, target, value, denies] of cases)
    it(`${label} (${target})`, () => {
      const r = reasonFor(rf, target);
      assert.equal(ruleValue(r), value, JSON.stringify(r.source));
      assert.equal(ruleDenies(r), denies);
      if (value !== undefined) assert.match(ruleElement(r) ?? "", /^<add\b[^>]*>$/);
    });
});
