/**
 * Planning from findings: the engine decides again what refuses each request; the scope follows the refused
 * requests' virtual directory (ConfigMgr 2007 `SMS_DP_SMSPKG<drive>$`); every reason of a verdict becomes an ask;
 * what configuration cannot fix is reported (configmgr spec F01–F05, iis spec §5.2, §7).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FindingRequest, FindingsInput } from "../../src/fix/findings.js";
import { runFix } from "../../src/fix/run.js";
import { aspnetProfile, code, decide, dpConfig, load, plan } from "./helpers.js";

function findings(
  kind: "diagnose" | "check",
  list: [method: string, target: string, reportedRefused?: boolean][],
): FindingsInput {
  const requests: FindingRequest[] = list.map(([method, target, refused], i) => ({
    method,
    target,
    reportedRefused: refused ?? true,
    from: `test[${i}]`,
  }));
  return { kind, requests, skipped: [] };
}

describe("fix from findings", () => {
  it("the scope follows the refused request's vdir (2007 form SMS_DP_SMSPKGE$), and says so", () => {
    const r = plan(dpConfig(), [], {
      vdir: "SMS_DP_SMSPKG$",
      findings: findings("diagnose", [["HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf"]]),
    });
    assert.deepEqual(
      r.plan.scopes.map((s) => s.locationPath),
      ["Default Web Site/SMS_DP_SMSPKGE$"],
    );
    assert.ok(r.notes.some((n) => /scope follows the refused request/.test(n)));
    assert.ok(r.proof.ok, r.proof.results.map((x) => x.line).join("\n"));
  });

  it("a request refused by two checks gets both asks (hidden segment and extension, §7)", () => {
    const target = "/SMS_DP_SMSPKG$/ABC00123/bin/data.mdf";
    const before = load(dpConfig());
    assert.ok(decide(before, target).reasons.length >= 2);
    const r = plan(dpConfig(), [], { findings: findings("diagnose", [["HEAD", target]]) });
    const ops = r.plan.scopes[0]?.changes.map((c) => `${c.op}:${"key" in c ? c.key : ""}`) ?? [];
    assert.deepEqual(ops.sort(), ["removeItem:.mdf", "removeItem:bin"]);
    assert.equal(decide(load(r.newText), target).layer === "request-filtering", false);
  });

  it("the rest of the package (served before) stays a control and keeps its verdict", () => {
    const r = plan(dpConfig(), [], {
      findings: findings("check", [
        ["HEAD", "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf", true],
        ["HEAD", "/SMS_DP_SMSPKG$/ABC00123/blah/setup.exe", false],
      ]),
    });
    const control = r.proof.results.find(
      (x) => x.request.target.endsWith("setup.exe") && x.request.siteName === "Default Web Site",
    );
    assert.equal(control?.request.role, "control");
    assert.equal(control?.ok, true);
    assert.equal(code(control?.before as never), code(control?.after as never));
  });

  it("a refusal config cannot fix (http.sys 400, segment > 260) is reported with what to do", () => {
    const target = `/SMS_DP_SMSPKG$/ABC00123/${"x".repeat(261)}.txt`;
    const r = plan(dpConfig(), [], { findings: findings("diagnose", [["HEAD", target]]) });
    assert.equal(r.changed, false);
    assert.equal(r.plan.unfixable.length, 1);
    assert.equal(r.plan.unfixable[0]?.status, 400);
    assert.match(r.plan.unfixable[0]?.why as string, /rename/);
  });

  it("a findings entry the configuration already serves is noted, not planned", () => {
    const r = plan(aspnetProfile(), [], {
      findings: findings("diagnose", [["HEAD", "/SMS_DP_SMSPKG$/ABC00123/setup.exe"]]),
    });
    assert.equal(r.changed, false);
    assert.ok(r.notes.some((n) => /already served by this configuration/.test(n)));
  });

  it("--json carries the plan, the proof and all three renderings", () => {
    const file = `${process.cwd()}/profiles/aspnet/applicationHost.config`;
    const out = runFix({
      config: file,
      site: "Default Web Site",
      scope: "vdir",
      format: "diff",
      json: true,
      allowExtension: ["ldf"],
      allowSegment: [],
      allowVerb: [],
    });
    const j = JSON.parse(out.stdout);
    assert.equal(j.tool, "dpdoctor fix");
    assert.equal(j.changed, true);
    assert.equal(j.applied, false);
    assert.equal(j.scopes[0].locationPath, "Default Web Site/SMS_DP_SMSPKG$");
    assert.equal(j.scopes[0].changes[0].op, "removeItem");
    assert.equal(j.proof.ok, true);
    assert.match(j.diff, /<remove fileExtension="\.ldf" \/>/);
    assert.match(j.appcmd, /\/-"fileExtensions\.\[fileExtension='\.ldf'\]"/);
    assert.match(j.powershell, /Remove-WebConfigurationProperty/);
  });

  it("an unknown site is a usage error naming the sites of the file; an undeclared vdir is noted", () => {
    assert.throws(
      () => plan(dpConfig(), [{ kind: "allowExtension", extension: ".ldf" }], { site: "Nope" }),
      /site "Nope" is not in .*Default Web Site, mysite\.tbd/,
    );
    const r = plan(dpConfig(), [{ kind: "allowExtension", extension: ".ldf" }], {
      site: "default web site",
      vdir: "Elsewhere",
    });
    assert.equal(r.plan.scopes[0]?.locationPath, "Default Web Site/Elsewhere");
    assert.ok(r.notes.some((n) => /declares no virtual directory \/Elsewhere/.test(n)));
  });
});
