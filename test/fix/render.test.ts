/**
 * Each rendering for the standard asks (issue 6): the unified diff, appcmd.exe (cmd.exe quoting) and PowerShell
 * WebAdministration (single quotes keep `$` literal).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderAppcmd, renderDiff, renderPowerShell } from "../../src/fix/render.js";
import { dpConfig, FILE, plan } from "./helpers.js";

const APPCMD = "%windir%\\system32\\inetsrv\\appcmd.exe set config";
const RF = "-section:system.webServer/security/requestFiltering";
const LOC = "-PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'Default Web Site/SMS_DP_SMSPKG$'";
const PSRF = "'system.webServer/security/requestFiltering";

describe("fix renderings for the standard asks", () => {
  const r = plan(dpConfig(), [
    { kind: "allowExtension", extension: ".ldf" },
    { kind: "allowSegment", segment: "bin" },
    { kind: "allowDoubleEscaping" },
    { kind: "maxQueryString", value: 4096 },
  ]);

  it("appcmd: one command per change, scoped to the location, committed to applicationHost.config", () => {
    assert.equal(
      renderAppcmd(r.plan.scopes),
      [
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /-fileExtensions.[fileExtension='.ldf'] /commit:apphost`,
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /-hiddenSegments.[segment='bin'] /commit:apphost`,
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /allowDoubleEscaping:true /commit:apphost`,
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /requestLimits.maxQueryString:4096 /commit:apphost`,
        "",
      ].join("\n"),
    );
  });

  it("PowerShell: WebAdministration cmdlets with -Location in single quotes", () => {
    assert.equal(
      renderPowerShell(r.plan.scopes),
      [
        "Import-Module WebAdministration",
        `Remove-WebConfigurationProperty ${LOC} -Filter ${PSRF}/fileExtensions' -Name '.' -AtElement @{fileExtension='.ldf'}`,
        `Remove-WebConfigurationProperty ${LOC} -Filter ${PSRF}/hiddenSegments' -Name '.' -AtElement @{segment='bin'}`,
        `Set-WebConfigurationProperty ${LOC} -Filter ${PSRF}' -Name 'allowDoubleEscaping' -Value $true`,
        `Set-WebConfigurationProperty ${LOC} -Filter ${PSRF}/requestLimits' -Name 'maxQueryString' -Value 4096`,
        "",
      ].join("\n"),
    );
  });

  it("diff: one hunk adding the location before </configuration>, CRLF kept in the lines", () => {
    const d = renderDiff(dpConfig(), r.newText, FILE);
    const lines = d.split("\n");
    assert.equal(lines[0], `--- ${FILE}\t(current)`);
    assert.equal(lines[1], `+++ ${FILE}\t(after dpdoctor fix)`);
    assert.match(lines[2] as string, /^@@ -\d+,\d+ \+\d+,\d+ @@$/);
    assert.equal(d.match(/^@@/gm)?.length, 1);
    assert.equal(d.match(/^-/gm)?.length, 1, "only the --- header starts with '-'");
    const added = lines
      .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
      .map((l) => l.slice(1).trimEnd());
    assert.deepEqual(
      added.map((l) => l.trim()),
      [
        '<location path="Default Web Site/SMS_DP_SMSPKG$">',
        "<system.webServer>",
        "<security>",
        '<requestFiltering allowDoubleEscaping="true">',
        "<fileExtensions>",
        '<remove fileExtension=".ldf" />',
        "</fileExtensions>",
        "<hiddenSegments>",
        '<remove segment="bin" />',
        "</hiddenSegments>",
        '<requestLimits maxQueryString="4096" />',
        "</requestFiltering>",
        "</security>",
        "</system.webServer>",
        "</location>",
      ],
    );
    assert.ok(
      added.every((l) => l.startsWith("    ")),
      "indented like the sibling <location> elements",
    );
    assert.ok(lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).every((l) => l.endsWith("\r")));
  });

  it("allow-lists and the server scope render <add … allowed> and no -Location", () => {
    const cfg = dpConfig().replace(
      '<verbs allowUnlisted="true" applyToWebDAV="true" />',
      '<verbs allowUnlisted="false" applyToWebDAV="true"><add verb="GET" allowed="true" /></verbs>',
    );
    const s = plan(cfg, [{ kind: "allowVerb", verb: "HEAD" }], { scope: "server" });
    assert.equal(
      renderAppcmd(s.plan.scopes),
      `${APPCMD} ${RF} /+verbs.[verb='HEAD',allowed='true'] /commit:apphost\n`,
    );
    assert.equal(
      renderPowerShell(s.plan.scopes).split("\n")[1],
      `Add-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter ${PSRF}/verbs' -Name '.' -Value @{verb='HEAD';allowed=$true}`,
    );
  });

  it("a MIME map renders against system.webServer/staticContent", () => {
    const m = plan(dpConfig(), [
      { kind: "addMimeMap", extension: ".ldf", mimeType: "application/octet-stream" },
    ]);
    assert.equal(
      renderAppcmd(m.plan.scopes),
      `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" -section:system.webServer/staticContent /+"[fileExtension='.ldf',mimeType='application/octet-stream']" /commit:apphost\n`,
    );
    assert.match(
      renderPowerShell(m.plan.scopes),
      /Add-WebConfigurationProperty .* -Filter 'system.webServer\/staticContent' -Name '\.' -Value @\{fileExtension='\.ldf';mimeType='application\/octet-stream'\}/,
    );
  });

  it("nothing planned renders nothing", () => {
    assert.equal(renderAppcmd([]), "");
    assert.equal(renderPowerShell([]), "");
    assert.equal(renderDiff("a\n", "a\n", FILE), "");
  });
});
