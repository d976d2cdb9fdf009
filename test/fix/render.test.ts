/**
 * Each rendering for the standard asks (issue 6): the unified diff, appcmd.exe (cmd.exe quoting) and PowerShell
 * WebAdministration (single quotes keep `$` literal).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixHint } from "../../src/check/fixhint.js";
import { fixFor } from "../../src/diagnose/fixes.js";
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
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /-"fileExtensions.[fileExtension='.ldf']" /commit:apphost`,
        `${APPCMD} "Default Web Site/SMS_DP_SMSPKG$" ${RF} /-"hiddenSegments.[segment='bin']" /commit:apphost`,
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
      `${APPCMD} ${RF} /+"verbs.[verb='HEAD',allowed='true']" /commit:apphost\n`,
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

describe("one appcmd renderer for check, diagnose and fix", () => {
  const site = "Default Web Site";
  const vdir = "SMS_DP_SMSPKGE$";
  const fixLines = (asks: Parameters<typeof plan>[1]) =>
    renderAppcmd(plan(dpConfig(), asks, { vdir }).plan.scopes)
      .trimEnd()
      .split("\n");
  const deny = (check: "fileExtensions" | "hiddenSegments", text: string) =>
    fixHint(
      { status: 404, substatus: 0, check, message: "m", source: { file: FILE, line: 1, column: 1, text } },
      { site, vdir },
    );

  it("the same change prints byte-identical commands in check's hint, diagnose's fix and fix --format appcmd", () => {
    const [ext] = fixLines([{ kind: "allowExtension", extension: ".ldf" }]);
    assert.ok(ext?.startsWith("%windir%\\system32\\inetsrv\\appcmd.exe set config "), ext);
    assert.ok(deny("fileExtensions", '<add fileExtension=".ldf" allowed="false" />').startsWith(`${ext};`));
    assert.equal(fixFor("F01", { site, vdir, value: ".ldf" }).appcmd, ext);

    const [seg] = fixLines([{ kind: "allowSegment", segment: "bin" }]);
    assert.ok(deny("hiddenSegments", '<add segment="bin" />').startsWith(`${seg},`));
    assert.equal(fixFor("F02", { site, vdir, value: "bin" }).appcmd, seg);

    const [dbl] = fixLines([{ kind: "allowDoubleEscaping" }]);
    assert.equal(fixFor("F03", { site, vdir }).appcmd, dbl);
  });

  it("diagnose lists one appcmd per vdir and a mimeMap only where the 2007 form needs it", () => {
    const fix = fixFor("F01", {
      site,
      vdir,
      vdirs: [vdir, "SMS_DP_SMSPKG$", "sms_dp_smspkge$"],
      value: ".ldf",
      mimeMap: ".ldf",
      mimeMapVdirs: [vdir],
    });
    const lines = (fix.appcmd ?? "").split("\n");
    assert.equal(lines.length, 3, fix.appcmd);
    assert.equal(lines.filter((l) => l.includes("staticContent")).length, 1);
    assert.ok(
      lines.every((l) =>
        l.startsWith('%windir%\\system32\\inetsrv\\appcmd.exe set config "Default Web Site/SMS_DP_SMSPKG'),
      ),
    );
    assert.match(
      fix.command ?? "",
      /^dpdoctor diagnose … --json > findings\.json && dpdoctor fix --from findings\.json --config /,
    );
    // one vdir: the direct dpdoctor fix command for it
    assert.match(
      fixFor("F01", { site, vdir, vdirs: [vdir], value: ".ldf" }).command ?? "",
      /--vdir SMS_DP_SMSPKGE\$$/,
    );
  });
});
