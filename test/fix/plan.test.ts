/**
 * Planning and splicing on the embedded aspnet profile: scoped <location>, reuse of an existing location, allow-lists,
 * entries written at the scope itself, locks, never a duplicate add (iis spec §8.2, §8.3; configmgr spec §6 F01–F05).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Ask } from "../../src/fix/model.js";
import { code, decide, dpConfig, insertionPoint, load, plan } from "./helpers.js";

const VDIR = "/SMS_DP_SMSPKG$/ABC00123";

/** Every ask with a request it refuses on the aspnet profile and the check that refuses it (§6). */
const ASKS: { ask: Ask; target: string; method?: string; edit: (cfg: string) => string; before: string }[] = [
  {
    ask: { kind: "allowExtension", extension: ".ldf" },
    target: `${VDIR}/blah/file.ldf`,
    edit: (c) => c,
    before: "404.7",
  },
  {
    ask: { kind: "allowSegment", segment: "bin" },
    target: `${VDIR}/App/bin/Contoso.Core.dll`,
    edit: (c) => c,
    before: "404.8",
  },
  {
    ask: { kind: "allowDoubleEscaping" },
    target: `${VDIR}/Microsoft+Visual+C++2008/vcredist_x86.exe`,
    edit: (c) => c,
    before: "404.11",
  },
  {
    ask: { kind: "allowHighBit" },
    target: `${VDIR}/caf%C3%A9.txt`,
    edit: (c) => c.replace("<requestFiltering>", '<requestFiltering allowHighBitCharacters="false">'),
    before: "404.12",
  },
  {
    ask: { kind: "allowVerb", verb: "HEAD" },
    target: `${VDIR}/setup.exe`,
    edit: (c) =>
      c.replace(
        '<verbs allowUnlisted="true" applyToWebDAV="true" />',
        '<verbs allowUnlisted="false" applyToWebDAV="true"><add verb="GET" allowed="true" /></verbs>',
      ),
    before: "404.6",
  },
  {
    ask: { kind: "maxQueryString", value: 3000 },
    target: `${VDIR}/sccm?/${"a".repeat(2999)}`,
    edit: (c) => c,
    before: "404.15",
  },
  {
    ask: { kind: "maxUrl", value: 6000 },
    target: `${VDIR}/${Array.from({ length: 25 }, () => "d".repeat(199)).join("/")}`,
    edit: (c) => c,
    before: "404.14",
  },
];

describe("fix planning: each ask, scoped to the DP's virtual directory", () => {
  for (const row of ASKS) {
    it(`${row.ask.kind}: ${row.before} → passes under Default Web Site/SMS_DP_SMSPKG$ only`, () => {
      const cfg = row.edit(dpConfig());
      const before = load(cfg);
      assert.equal(code(decide(before, row.target, row.method)), row.before);
      const r = plan(cfg, [row.ask]);
      assert.equal(r.plan.scopes.length, 1);
      assert.equal(r.plan.scopes[0]?.locationPath, "Default Web Site/SMS_DP_SMSPKG$");
      assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
      assert.ok(insertionPoint(cfg, r.newText) > 0, "the edit is one inserted block");
      const after = load(r.newText);
      assert.equal(decide(after, row.target, row.method).layer === "request-filtering", false);
      // the same request elsewhere keeps its verdict: other vdir, site root, other site
      for (const [target, site] of [
        [row.target.replace("/SMS_DP_SMSPKG$", "/SMS_DP_SMSSIG$"), "Default Web Site"],
        [row.target.replace("/SMS_DP_SMSPKG$", ""), "Default Web Site"],
        [row.target, "mysite.tbd"],
      ] as const)
        assert.equal(
          code(decide(after, target, row.method, site)),
          code(decide(before, target, row.method, site)),
        );
      assert.equal(r.plan.opens.length, 1);
      assert.match(r.plan.opens[0] as string, /Default Web Site\/SMS_DP_SMSPKG\$ only/);
      // idempotent: planning again on the result changes nothing
      assert.equal(plan(r.newText, [row.ask]).changed, false);
    });
  }

  it("writes <remove> for an inherited deny and never a duplicate <add> (§8.2)", () => {
    const r = plan(dpConfig(), [{ kind: "allowExtension", extension: ".LDF" }]);
    assert.match(r.newText, /<remove fileExtension="\.ldf" \/>/);
    assert.doesNotMatch(r.newText.slice(insertionPoint(dpConfig(), r.newText)), /<add fileExtension/);
  });

  it('with allowUnlisted=false: <remove> then <add … allowed="true" /> (§6.10)', () => {
    const cfg = dpConfig().replace(
      '<fileExtensions allowUnlisted="true" applyToWebDAV="true">',
      '<fileExtensions allowUnlisted="false" applyToWebDAV="true">',
    );
    const before = load(cfg);
    assert.equal(code(decide(before, `${VDIR}/file.ldf`)), "404.7");
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    const block = r.newText.slice(
      insertionPoint(cfg, r.newText),
      insertionPoint(cfg, r.newText) + r.newText.length - cfg.length,
    );
    assert.match(
      block,
      /<remove fileExtension="\.ldf" \/>\r\n\s*<add fileExtension="\.ldf" allowed="true" \/>/,
    );
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
    assert.equal(load(r.newText).effective("Default Web Site", `${VDIR}/`).errors.length, 0);
  });

  it("reuses an existing <location> for the path and keeps it byte-identical around the insert", () => {
    const cfg = dpConfig().replace(
      "</configuration>",
      '    <location path="Default Web Site/SMS_DP_SMSPKG$">\r\n        <system.webServer>\r\n            <security>\r\n                <authentication />\r\n            </security>\r\n        </system.webServer>\r\n    </location>\r\n</configuration>',
    );
    const r = plan(cfg, [{ kind: "allowSegment", segment: "bin" }]);
    assert.equal((r.newText.match(/<location path="Default Web Site\/SMS_DP_SMSPKG\$">/g) ?? []).length, 1);
    assert.ok(insertionPoint(cfg, r.newText) > 0);
    assert.match(r.newText, /<authentication \/>\r\n {16}<requestFiltering>\r\n {20}<hiddenSegments>/);
    assert.ok(r.proof.ok);
  });

  it("expands a self-closing element of the location in place", () => {
    const cfg = dpConfig().replace(
      "</configuration>",
      '  <location path="Default Web Site/SMS_DP_SMSPKG$">\r\n    <system.webServer>\r\n      <security />\r\n    </system.webServer>\r\n  </location>\r\n</configuration>',
    );
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    assert.match(
      r.newText,
      /<security>\r\n\s+<requestFiltering>[\s\S]*<\/requestFiltering>\r\n {6}<\/security>/,
    );
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
  });

  it("edits an entry written at the scope itself instead of stacking directives on it", () => {
    const cfg = dpConfig().replace(
      "</configuration>",
      '    <location path="Default Web Site/SMS_DP_SMSPKG$">\r\n        <system.webServer>\r\n            <security>\r\n                <requestFiltering>\r\n                    <fileExtensions>\r\n                        <remove fileExtension=".ldf" />\r\n                        <add fileExtension=".ldf" allowed="false" />\r\n                    </fileExtensions>\r\n                </requestFiltering>\r\n            </security>\r\n        </system.webServer>\r\n    </location>\r\n</configuration>',
    );
    assert.equal(code(decide(load(cfg), `${VDIR}/file.ldf`)), "404.7");
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    assert.deepEqual(
      r.plan.scopes[0]?.changes.map((c) => c.op),
      ["deleteLocalItem"],
    );
    assert.doesNotMatch(
      r.newText,
      /<add fileExtension="\.ldf" allowed="false" \/>\r\n {20}<\/fileExtensions>/,
    );
    assert.ok(r.proof.ok);
  });

  it("plans the unlock explicitly when the inherited entry is locked (lockItem, §8.3)", () => {
    const cfg = dpConfig().replace(
      '<add fileExtension=".ldf" allowed="false" />',
      '<add fileExtension=".ldf" allowed="false" lockItem="true" />',
    );
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    const unlocks = r.plan.scopes[0]?.unlocks ?? [];
    assert.equal(unlocks.length, 1);
    assert.equal(unlocks[0]?.attribute, "lockItem");
    assert.equal(unlocks[0]?.newValue, null);
    assert.match(r.newText, /<add fileExtension="\.ldf" allowed="false" \/>/);
    // the unlocked file loads without errors and the proof holds
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
    assert.equal(load(r.newText).effective("Default Web Site", `${VDIR}/`).errors.length, 0);
  });

  it('lifts lockElements="remove" on the collection but keeps the rest of the list', () => {
    const cfg = dpConfig().replace(
      '<fileExtensions allowUnlisted="true" applyToWebDAV="true">',
      '<fileExtensions allowUnlisted="true" applyToWebDAV="true" lockElements="clear,remove">',
    );
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    assert.equal(r.plan.scopes[0]?.unlocks[0]?.newValue, "clear");
    assert.match(r.newText, /lockElements="clear">/);
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
  });

  it("--scope server edits the server-level entry and says every site is affected", () => {
    const cfg = dpConfig();
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }], { scope: "server" });
    assert.equal(r.plan.scopes[0]?.locationPath, "");
    assert.equal(r.plan.warnings.length, 1);
    assert.match(r.plan.opens[0] as string, /every site/);
    assert.equal(code(decide(load(r.newText), "/x/file.ldf", "HEAD", "mysite.tbd")), "404.3");
  });

  it("an ask that is already allowed plans nothing", () => {
    const r = plan(dpConfig(), [{ kind: "allowExtension", extension: ".exe" }]);
    assert.equal(r.changed, false);
    assert.equal(r.plan.alreadyAllowed.length, 1);
  });
});

describe("fix planning: section locks are said out loud", () => {
  it("a hardened registration (overrideModeDefault=Deny) and a parent <location overrideMode=Deny> are noted [INF §8.3], the proof holds", () => {
    const cfg = dpConfig()
      .replace(
        '<section name="requestFiltering" overrideModeDefault="Allow" />',
        '<section name="requestFiltering" overrideModeDefault="Deny" />',
      )
      .replace(
        "</configuration>",
        '    <location path="Default Web Site" overrideMode="Deny">\r\n        <system.webServer>\r\n            <security>\r\n                <requestFiltering />\r\n            </security>\r\n        </system.webServer>\r\n    </location>\r\n</configuration>',
      );
    const r = plan(cfg, [{ kind: "allowExtension", extension: ".ldf" }]);
    assert.equal(r.notes.filter((n) => n.includes("[INF §8.3]")).length, 2, r.notes.join("\n"));
    assert.equal(r.plan.scopes[0]?.unlocks.length, 0);
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
  });
});
