/**
 * Every file of the shared IIS config corpus loads (as applicationHost.config; the web.config / XML snippets also as
 * web.configs mapped to a URL path) with the facts checked by hand against the file (corpus SOURCES.md, spec §3).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadServer, loadServerFromText } from "../../src/config/load.js";
import type { EffectiveConfig } from "../../src/config/types.js";
import { InputError } from "../../src/errors.js";

const CORPUS = fileURLToPath(new URL("../../../shared/corpus/", import.meta.url));
const IIS_CONFIG = `${CORPUS}iis-config/`;
const LOG_CONFIG = `${CORPUS}logs/iis-config/`;

/** The 43 extensions ASP.NET denies (spec §3.2, Appendix A). */
const ASPNET_43 =
  ".asax .ascx .master .skin .browser .sitemap .config .cs .csproj .vb .vbproj .webinfo .licx .resx .resources .mdb .vjsproj .java .jsl .ldb .dsdgm .ssdgm .lsad .ssmap .cd .dsprototype .lsaprototype .sdm .sdmDocument .mdf .ldf .ad .dd .ldd .sd .adprototype .lddprototype .exclude .refresh .compiled .msgx .vsdisco .rules".split(
    " ",
  );
const ASPNET_SEGMENTS =
  "web.config bin App_code App_GlobalResources App_LocalResources App_WebReferences App_Data App_Browsers".split(
    " ",
  );

interface Facts {
  /** Site/path to read (default: default site, a DP content URL). */
  site?: string;
  path?: string;
  deniedExt?: number;
  /** exact denied list (order kept) */
  deniedList?: string[];
  segments?: string[];
  verbsDenied?: string[];
  mime?: number;
  rfLoaded?: boolean;
  doubleEscaping?: boolean;
  highBit?: boolean;
  maxAllowedContentLength?: number;
  maxUrl?: number;
  maxQueryString?: number;
  allowUnlistedExt?: boolean;
  allowUnlistedVerbs?: boolean;
  denyUrlSequences?: string[];
  alwaysAllowedUrls?: string[];
  denyQs?: string[];
  filteringRules?: string[];
  headerLimits?: string[];
  accessPolicy?: string[];
  sites?: number;
  defaultSite?: string;
  hiddenApplyToWebDAV?: boolean;
  errors?: number;
}

const P1 = { deniedList: ASPNET_43, segments: ASPNET_SEGMENTS };
const P1ASP = { deniedList: [".asa", ...ASPNET_43], segments: ASPNET_SEGMENTS };
const P0 = { deniedExt: 0, segments: ["web.config"] };

/** Facts per corpus file (read by hand from the file; counts from SOURCES.md and spec §3.2/§3.4). */
const FACTS: Record<string, Facts> = {
  "apphost-citrix-director-locations.config": {
    ...P1ASP,
    mime: 376,
    accessPolicy: ["Read", "Write", "Execute", "Script"],
    path: "/Director/x",
  },
  "apphost-doubleescape-custommime.config": { ...P0, doubleEscaping: true, mime: 384 },
  "apphost-hardened-highbit-trace.config": {
    ...P1,
    highBit: false,
    verbsDenied: ["TRACE"],
    maxAllowedContentLength: 30000001,
    mime: 373,
    allowUnlistedExt: true,
  },
  "apphost-hwc-no-rfmodule.config": { rfLoaded: false, deniedExt: 0, mime: 0 },
  "apphost-iis10-aspnet-asp-verbdeny.config": {
    ...P1ASP,
    verbsDenied: ["OPTIONS", "TRACE", "HEAD"],
    doubleEscaping: false,
    maxAllowedContentLength: 50000000,
    sites: 4,
  },
  "apphost-iis10-aspnet-noasp.config": { ...P1, mime: 378, accessPolicy: ["Read", "Script"] },
  "apphost-iis10-container-aspnet-webdav.config": { ...P1ASP, mime: 378 },
  "apphost-iis10-container-plain.config": { ...P0, mime: 378 },
  "apphost-iis10-plain-376mime.config": { ...P0, mime: 376, allowUnlistedExt: true },
  "apphost-iis10-plain-aspnetcore-testtemplate.config": { ...P0, mime: 376 },
  "apphost-iris-csp-locations.config": { ...P0, mime: 376 },
  "apphost-jexus-fixture-allchildren.config": {
    deniedList: [".asa", ...ASPNET_43],
    segments: [], // commented out in the fixture
    verbsDenied: ["PUT"],
    mime: 374,
    sites: 0, // every <site> is inside a comment
    defaultSite: "Default Web Site",
    alwaysAllowedUrls: ["test"],
  },
  "docsample-alwaysallowed-nolead-slash.config": { alwaysAllowedUrls: ["Login.asp"], deniedExt: 0 },
  "docsample-alwaysallowedurls-denyseq.xml": {
    denyUrlSequences: ["bad", "sequence"],
    alwaysAllowedUrls: ["/bad_sequence.txt"],
  },
  "docsample-filteringrule-sqlinjection.xml": { filteringRules: ["SQLInjection"] },
  "docsample-hiddenseg-applytowebdav-false.xml": { segments: ["include"], hiddenApplyToWebDAV: false },
  "docsample-rf-allowlist-denyseq.config": {
    denyUrlSequences: ["..", ":"],
    allowUnlistedExt: false,
    allowUnlistedVerbs: false,
    maxUrl: 2048,
    maxQueryString: 1024,
  },
  "iisexpress-375mime-iisintegration.config": { ...P1ASP, mime: 375 },
  "iisexpress10-374mime-bonobo-test.config": { ...P1ASP, mime: 374 },
  "iisexpress10-378mime.config": { ...P1ASP, mime: 378 },
  "iisexpress10-inheritInChildApplications.config": { ...P1ASP, mime: 378 },
  "webconfig-bonobo-appdata-denyseq-slash.config": { denyUrlSequences: ["/"] },
  "webconfig-bonobo-clear-ext-seg.config": { deniedExt: 0, segments: [], maxAllowedContentLength: 104857600 },
  "webconfig-fuget-clear-ext-doubleesc.config": { doubleEscaping: true, deniedExt: 0 },
  "webconfig-h5bp-mvc5.config": { verbsDenied: ["TRACE"] },
  "webconfig-h5bp-server-mimemap.config": { verbsDenied: ["TRACE"] },
  "webconfig-ithit-webdav-aspnet.config": { doubleEscaping: true, deniedExt: 0, segments: [] },
  "webconfig-ithit-webdav-aspnetcore.config": { doubleEscaping: true },
  "webconfig-opserver-denyseq-config.config": { denyUrlSequences: ["/Config/"] },
  // logs/iis-config: a bare <requestFiltering> excerpt (P1+ASP lists)
  "applicationhost_default_requestFiltering_section.config": { ...P1ASP },
};

function check(name: string, e: EffectiveConfig, f: Facts): void {
  const rf = e.requestFiltering;
  const denied = rf.fileExtensions.items.filter((i) => !i.allowed).map((i) => i.fileExtension);
  if (f.deniedList) assert.deepEqual(denied, f.deniedList, `${name}: denied extensions`);
  if (f.deniedExt !== undefined) assert.equal(denied.length, f.deniedExt, `${name}: denied count`);
  if (f.segments)
    assert.deepEqual(
      rf.hiddenSegments.items.map((s) => s.segment),
      f.segments,
      `${name}: segments`,
    );
  if (f.verbsDenied) {
    assert.deepEqual(
      rf.verbs.items.filter((v) => !v.allowed).map((v) => v.verb),
      f.verbsDenied,
      `${name}: denied verbs`,
    );
  }
  if (f.mime !== undefined) assert.equal(e.staticContent.mimeMaps.length, f.mime, `${name}: mimeMaps`);
  assert.equal(e.requestFilteringModuleLoaded, f.rfLoaded ?? true, `${name}: RF module loaded`);
  if (f.doubleEscaping !== undefined)
    assert.equal(rf.allowDoubleEscaping.value, f.doubleEscaping, `${name}: dbl`);
  if (f.highBit !== undefined) assert.equal(rf.allowHighBitCharacters.value, f.highBit, `${name}: highbit`);
  const rl = rf.requestLimits;
  if (f.maxAllowedContentLength !== undefined)
    assert.equal(rl.maxAllowedContentLength.value, f.maxAllowedContentLength);
  if (f.maxUrl !== undefined) assert.equal(rl.maxUrl.value, f.maxUrl);
  if (f.maxQueryString !== undefined) assert.equal(rl.maxQueryString.value, f.maxQueryString);
  if (f.allowUnlistedExt !== undefined)
    assert.equal(rf.fileExtensions.allowUnlisted.value, f.allowUnlistedExt);
  if (f.allowUnlistedVerbs !== undefined) assert.equal(rf.verbs.allowUnlisted.value, f.allowUnlistedVerbs);
  if (f.denyUrlSequences)
    assert.deepEqual(
      rf.denyUrlSequences.map((s) => s.sequence),
      f.denyUrlSequences,
    );
  if (f.alwaysAllowedUrls)
    assert.deepEqual(
      rf.alwaysAllowedUrls.map((s) => s.url),
      f.alwaysAllowedUrls,
    );
  if (f.filteringRules)
    assert.deepEqual(
      rf.filteringRules.map((r) => r.name),
      f.filteringRules,
    );
  if (f.accessPolicy) assert.deepEqual(e.handlers.accessPolicy, f.accessPolicy);
  if (f.hiddenApplyToWebDAV !== undefined)
    assert.equal(rf.hiddenSegments.applyToWebDAV.value, f.hiddenApplyToWebDAV);
  assert.equal(e.errors.length, f.errors ?? 0, `${name}: errors ${JSON.stringify(e.errors)}`);
  // Indexes agree with the lists.
  for (const i of rf.fileExtensions.items)
    assert.equal(rf.fileExtensions.index.get(i.fileExtension.toLowerCase()), i);
  for (const i of rf.hiddenSegments.items)
    assert.equal(rf.hiddenSegments.index.get(i.segment.toLowerCase()), i);
  for (const i of rf.verbs.items) assert.equal(rf.verbs.index.get(i.verb), i);
  // Every rule points at its own line.
  for (const i of rf.fileExtensions.items) assert.match(i.source.text ?? "", /fileExtension=/);
}

const files = [
  ...readdirSync(IIS_CONFIG).map((f) => IIS_CONFIG + f),
  ...readdirSync(LOG_CONFIG).map((f) => LOG_CONFIG + f),
].filter((f) => !f.endsWith(".md"));

test("the corpus facts table covers every corpus config file", () => {
  const names = files.map((f) => f.slice(f.lastIndexOf("/") + 1)).sort();
  assert.deepEqual(names, Object.keys(FACTS).sort());
});

for (const file of files) {
  const name = file.slice(file.lastIndexOf("/") + 1);
  const facts = FACTS[name] as Facts;
  test(`corpus ${name} loads as applicationHost.config`, () => {
    const server = loadServer({ config: file });
    if (facts.sites !== undefined) assert.equal(server.sites.length, facts.sites);
    if (facts.defaultSite !== undefined) assert.equal(server.defaultSiteName, facts.defaultSite);
    const e = server.effective(
      facts.site ?? server.defaultSiteName,
      facts.path ?? "/SMS_DP_SMSPKG$/ABC00123/x.ldf",
    );
    check(name, e, facts);
    // the same object for every path sharing the config-relevant prefix
    assert.equal(
      server.effective(server.defaultSiteName, "/SMS_DP_SMSPKG$/ABC00123/other.txt"),
      server.effective(server.defaultSiteName, "/SMS_DP_SMSPKG$/ABC00123/x.ldf"),
    );
  });
  if (name.startsWith("webconfig-") || name.startsWith("docsample-") || name.startsWith("applicationhost_")) {
    test(`corpus ${name} loads as a web.config at /sub on the aspnet profile`, () => {
      const server = loadServer({ webConfigs: [{ urlPath: "/sub", file }] });
      const inside = server.effective(server.defaultSiteName, "/sub/pkg/x.ldf");
      const outside = server.effective(server.defaultSiteName, "/pkg/x.ldf");
      // Outside /sub: the profile's own lists (§3.2 P1).
      assert.deepEqual(outside.requestFiltering.fileExtensions.items.filter((i) => !i.allowed).length, 43);
      assert.equal(outside.errors.length, 0);
      // Inside: the web.config's settings apply on top of the profile (§8.1 step 5).
      if (facts.doubleEscaping === true)
        assert.equal(inside.requestFiltering.allowDoubleEscaping.value, true);
      if (facts.denyUrlSequences) {
        assert.deepEqual(
          inside.requestFiltering.denyUrlSequences.map((s) => s.sequence),
          facts.denyUrlSequences,
        );
      }
      if (facts.verbsDenied) {
        assert.deepEqual(
          inside.requestFiltering.verbs.items.filter((v) => !v.allowed).map((v) => v.verb),
          facts.verbsDenied,
        );
      }
      if (
        name === "webconfig-bonobo-clear-ext-seg.config" ||
        name === "webconfig-fuget-clear-ext-doubleesc.config"
      ) {
        assert.equal(
          inside.requestFiltering.fileExtensions.items.length,
          0,
          "<clear/> drops inherited entries",
        );
      }
      if (name === "applicationhost_default_requestFiltering_section.config") {
        // Re-adding the inherited entries is a duplicate add → 500.19 (§8.2, §13 item 20).
        assert.ok(
          inside.errors.some(
            (x) => /duplicate/.test(x.message) && x.section === "system.webServer/security/requestFiltering",
          ),
        );
      }
      if (name === "webconfig-h5bp-server-mimemap.config" || name === "webconfig-h5bp-mvc5.config") {
        // remove-then-add avoids the duplicate-key 500.19 (§8.2); these files also set sections the profile locks
        // (handlers? no: the aspnet profile unlocks handlers/modules with <location path="" overrideMode="Allow">).
        assert.ok(!inside.errors.some((x) => /duplicate/.test(x.message)), JSON.stringify(inside.errors));
      }
    });
  }
}

test("profile aspnet: the exact source line of .ldf (profiles/aspnet/applicationHost.config)", () => {
  const server = loadServer({});
  assert.match(server.origin, /embedded profile aspnet/);
  const e = server.effective(server.defaultSiteName, "/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf");
  const ldf = e.requestFiltering.fileExtensions.index.get(".ldf");
  assert.ok(ldf);
  assert.equal(ldf.allowed, false);
  assert.equal(ldf.source.file, "profiles/aspnet/applicationHost.config");
  assert.equal(ldf.source.text, '<add fileExtension=".ldf" allowed="false" />');
  const lines = readFileSync(
    new URL("../../profiles/aspnet/applicationHost.config", import.meta.url),
    "utf8",
  ).split(/\r?\n/);
  assert.equal(lines[ldf.source.line - 1]?.trim(), ldf.source.text);
  assert.equal(lines[ldf.source.line - 1]?.indexOf("<add") + 1, ldf.source.column);
});

test("profile iis: plain lists (§3.2 P0)", () => {
  const server = loadServer({ profile: "iis" });
  const e = server.effective(server.defaultSiteName, "/");
  assert.equal(e.requestFiltering.fileExtensions.items.length, 0);
  assert.deepEqual(
    e.requestFiltering.hiddenSegments.items.map((s) => s.segment),
    ["web.config"],
  );
  assert.equal(e.requestFiltering.requestLimits.maxUrl.source, null, "schema default (§2.1)");
  assert.equal(e.requestFiltering.requestLimits.maxUrl.value, 4096);
});

test("missing / directory / malformed files are positioned InputErrors", () => {
  assert.throws(
    () => loadServer({ config: `${IIS_CONFIG}nope.config` }),
    (e: unknown) => e instanceof InputError && /not found/.test(e.message),
  );
  assert.throws(
    () => loadServer({ config: IIS_CONFIG }),
    (e: unknown) => e instanceof InputError && /directory/.test(e.message),
  );
  const text = readFileSync(`${IIS_CONFIG}docsample-rf-allowlist-denyseq.config`, "utf8");
  assert.throws(
    () =>
      loadServerFromText({
        text: text
          .replace("</verbs>", "")
          .replace('allowUnlisted="false" />\n         </requestFiltering>', "x"),
        file: "t.config",
      }),
    (e: unknown) =>
      e instanceof InputError &&
      e.file === "t.config" &&
      typeof e.line === "number" &&
      typeof e.column === "number",
  );
});

test("a UTF-16LE (BOM) copy of a corpus config loads with the same rules and line numbers", () => {
  const dir = mkdtempSync(join(tmpdir(), "dpdoctor-config-"));
  try {
    const src = `${IIS_CONFIG}apphost-iis10-aspnet-noasp.config`;
    const text = readFileSync(src, "utf8").replace(/^\uFEFF/, "");
    const copy = join(dir, "applicationHost.config");
    writeFileSync(copy, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    const a = loadServer({ config: src }).effective("Default Web Site", "/x");
    const b = loadServer({ config: copy }).effective("Default Web Site", "/x");
    const lines = (e: EffectiveConfig) =>
      e.requestFiltering.fileExtensions.items.map((i) => [i.fileExtension, i.source.line, i.source.column]);
    assert.deepEqual(lines(b), lines(a));
    assert.equal(b.staticContent.mimeMaps.length, a.staticContent.mimeMaps.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a minified one-line web.config: errors point at the column, SourceRef.text is the element, not the whole line", () => {
  const pad = "<!-- x -->".repeat(50);
  const text = `<configuration>${pad}<system.webServer><security><requestFiltering><fileExtensions><add fileExtension=".x" allowed="flase" /></fileExtensions></requestFiltering></security></system.webServer></configuration>`;
  const s = loadServerFromText({ text: "<configuration/>", file: "h.config" }, [
    { urlPath: "/", text, file: "w.config" },
  ]);
  const err = s.effective(s.defaultSiteName, "/a").errors[0];
  assert.ok(err);
  assert.equal(err.source.line, 1);
  assert.equal(err.source.column, text.indexOf('allowed="flase"') + 1);
  assert.equal(err.source.text, 'allowed="flase"');
});
