/**
 * Merging and locking (spec iis-request-filtering.md §8.1–§8.5, §12 #60–#62), table-driven on small configs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { loadServer, loadServerFromText, type WebConfigText } from "../../src/config/load.js";
import type { EffectiveConfig } from "../../src/config/types.js";

const RF = "system.webServer/security/requestFiltering";

/** A minimal applicationHost.config with the shipped registrations (§3.1) and one site with an application /app. */
function appHost(
  opts: { rf?: string; locations?: string; vdirAttrs?: string; rfDecl?: string } = {},
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <configSections>
    <sectionGroup name="system.applicationHost">
      <section name="sites" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
    </sectionGroup>
    <sectionGroup name="system.webServer">
      <section name="globalModules" allowDefinition="AppHostOnly" overrideModeDefault="Deny" />
      <section name="handlers" overrideModeDefault="Deny" />
      <section name="modules" allowDefinition="MachineToApplication" overrideModeDefault="Deny" />
      <section name="staticContent" overrideModeDefault="Allow" />
      <sectionGroup name="security">
        <section name="requestFiltering" ${opts.rfDecl ?? 'overrideModeDefault="Allow"'} />
      </sectionGroup>
    </sectionGroup>
  </configSections>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/">
          <virtualDirectory path="/" physicalPath="C:\\inetpub\\wwwroot" />
          <virtualDirectory path="/SMS_DP_SMSPKG$" physicalPath="D:\\SCCMContentLib" ${opts.vdirAttrs ?? ""} />
        </application>
        <application path="/app">
          <virtualDirectory path="/" physicalPath="C:\\app" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="RequestFilteringModule" image="%windir%\\System32\\inetsrv\\modrqflt.dll" />
    </globalModules>
    <staticContent>
      <mimeMap fileExtension=".txt" mimeType="text/plain" />
    </staticContent>
    <security>
      <requestFiltering>
        <fileExtensions allowUnlisted="true">
          <add fileExtension=".ldf" allowed="false" />
          <add fileExtension=".mdb" allowed="false" />
        </fileExtensions>
        <hiddenSegments>
          <add segment="bin" />
        </hiddenSegments>
        ${opts.rf ?? ""}
      </requestFiltering>
    </security>
  </system.webServer>
  ${opts.locations ?? ""}
  <location path="" overrideMode="Allow">
    <system.webServer>
      <modules>
        <add name="RequestFilteringModule" />
      </modules>
      <handlers accessPolicy="Read, Script">
        <add name="StaticFile" path="*" verb="*" modules="StaticFileModule" resourceType="Either" requireAccess="Read" />
      </handlers>
    </system.webServer>
  </location>
</configuration>
`;
}

function web(body: string): string {
  return `<?xml version="1.0"?>\r\n<configuration>\r\n  <system.webServer>\r\n${body}\r\n  </system.webServer>\r\n</configuration>\r\n`;
}
function rfWeb(inner: string): string {
  return web(
    `    <security>\r\n      <requestFiltering>\r\n${inner}\r\n      </requestFiltering>\r\n    </security>`,
  );
}

function eff(host: string, webs: WebConfigText[], path: string, site = "Default Web Site"): EffectiveConfig {
  return loadServerFromText({ text: host, file: "applicationHost.config" }, webs).effective(site, path);
}
const denied = (e: EffectiveConfig) =>
  e.requestFiltering.fileExtensions.items.filter((i) => !i.allowed).map((i) => i.fileExtension);
const rfErrors = (e: EffectiveConfig) => e.errors.filter((x) => x.section === RF);

interface Row {
  name: string;
  host?: Parameters<typeof appHost>[0];
  webs?: { urlPath: string; text: string }[];
  path: string;
  site?: string;
  denied?: string[];
  segments?: string[];
  /** expected number of requestFiltering errors (500.19 for this path) */
  rfErrors?: number;
  errorMatch?: RegExp;
  errorLine?: number;
  staticErrors?: number;
  extra?: (e: EffectiveConfig) => void;
}

const rows: Row[] = [
  {
    name: "applicationHost only",
    path: "/pkg/a.ldf",
    denied: [".ldf", ".mdb"],
    segments: ["bin"],
    rfErrors: 0,
  },
  {
    name: "<clear/> in a web.config drops inherited entries (§8.2)",
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/sub/a.ldf",
    denied: [],
    rfErrors: 0,
  },
  {
    name: "the web.config applies to its subtree only (§8.1, E-MH MH32)",
    webs: [
      {
        urlPath: "/sub",
        text: rfWeb('<fileExtensions><add fileExtension=".dat" allowed="false" /></fileExtensions>'),
      },
    ],
    path: "/a.dat",
    denied: [".ldf", ".mdb"],
  },
  {
    name: "folder web.config denies .dat below it (§12 #22)",
    webs: [
      {
        urlPath: "/sub",
        text: rfWeb('<fileExtensions><add fileExtension=".dat" allowed="false" /></fileExtensions>'),
      },
    ],
    path: "/sub/deeper/a.dat",
    denied: [".ldf", ".mdb", ".dat"],
  },
  {
    name: "<remove> of an inherited key (§12 #20)",
    webs: [
      { urlPath: "/app", text: rfWeb('<fileExtensions><remove fileExtension=".LDF" /></fileExtensions>') },
    ],
    path: "/app/x.ldf",
    denied: [".mdb"],
    rfErrors: 0,
  },
  {
    name: "<remove> of an absent key is not an error (§8.2)",
    webs: [
      { urlPath: "/app", text: rfWeb('<hiddenSegments><remove segment="App_Data" /></hiddenSegments>') },
    ],
    path: "/app/x",
    segments: ["bin"],
    rfErrors: 0,
  },
  {
    name: "duplicate <add> of an inherited extension → 500.19 (§8.2, §13 item 20)",
    webs: [
      {
        urlPath: "/app",
        text: rfWeb('<fileExtensions><add fileExtension=".Ldf" allowed="false" /></fileExtensions>'),
      },
    ],
    path: "/app/x.txt",
    rfErrors: 1,
    errorMatch: /duplicate collection entry.*'\.Ldf'/,
    errorLine: 6,
  },
  {
    name: "verbs are case-sensitive keys: GET and get may both be added (§6.6)",
    host: { rf: '<verbs><add verb="GET" allowed="true" /><add verb="get" allowed="false" /></verbs>' },
    path: "/",
    rfErrors: 0,
    extra: (e) => assert.deepEqual([...e.requestFiltering.verbs.index.keys()], ["GET", "get"]),
  },
  {
    name: 'invalid bool allowed="flase" → 500.19 (§12 #61)',
    webs: [
      {
        urlPath: "/sub",
        text: rfWeb('<fileExtensions><add fileExtension=".x" allowed="flase" /></fileExtensions>'),
      },
    ],
    path: "/sub/a.txt",
    rfErrors: 1,
    errorMatch: /invalid value "flase" for attribute 'allowed'/,
  },
  {
    name: "consumption-scoped: the same broken web.config does not affect other paths (§8.4)",
    webs: [
      {
        urlPath: "/sub",
        text: rfWeb('<fileExtensions><add fileExtension=".x" allowed="flase" /></fileExtensions>'),
      },
    ],
    path: "/other/a.txt",
    rfErrors: 0,
  },
  {
    name: "non-number maxUrl → 500.19",
    webs: [{ urlPath: "/sub", text: rfWeb('<requestLimits maxUrl="4k" />') }],
    path: "/sub/a.txt",
    rfErrors: 1,
    errorMatch: /maxUrl/,
  },
  {
    name: "unknown attribute on a request-filtering element → 500.19",
    webs: [{ urlPath: "/sub", text: rfWeb('<fileExtensions allowUnlistd="false" />') }],
    path: "/sub/a.txt",
    rfErrors: 1,
    errorMatch: /unrecognized attribute 'allowUnlistd'/,
  },
  {
    name: "unknown element inside requestFiltering → 500.19",
    webs: [{ urlPath: "/sub", text: rfWeb('<fileExtension allowUnlisted="false" />') }],
    path: "/sub/a.txt",
    rfErrors: 1,
    errorMatch: /unrecognized element <fileExtension>/,
  },
  {
    name: "missing required key → 500.19",
    webs: [{ urlPath: "/sub", text: rfWeb('<hiddenSegments><add segmnt="x" /></hiddenSegments>') }],
    path: "/sub/a.txt",
    rfErrors: 1, // the first problem of the entry is reported (the entry is then skipped)
    errorMatch: /missing its required key attribute 'segment'/,
  },
  {
    name: "attributes inherit individually: allowUnlisted=false keeps inherited entries (§8.2)",
    webs: [{ urlPath: "/sub", text: rfWeb('<fileExtensions allowUnlisted="false" />') }],
    path: "/sub/a.txt",
    denied: [".ldf", ".mdb"],
    extra: (e) => {
      assert.equal(e.requestFiltering.fileExtensions.allowUnlisted.value, false);
      assert.equal(e.requestFiltering.fileExtensions.applyToWebDAV.source, null);
    },
  },
  {
    name: 'overrideMode="Deny" location vs a web.config that sets requestFiltering → 500.19 (§12 #62)',
    host: {
      locations:
        '<location path="Default Web Site" overrideMode="Deny"><system.webServer><security><requestFiltering allowDoubleEscaping="false" /></security></system.webServer></location>',
    },
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/sub/a.ldf",
    rfErrors: 1,
    errorMatch: /locked at a parent level \(overrideMode="Deny"/,
    denied: [".ldf", ".mdb"],
  },
  {
    name: 'overrideMode="Deny" only affects paths with a web.config that sets the section',
    host: {
      locations:
        '<location path="Default Web Site" overrideMode="Deny"><system.webServer><security><requestFiltering /></security></system.webServer></location>',
    },
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/elsewhere/a.ldf",
    rfErrors: 0,
  },
  {
    name: 'legacy allowOverride="false" behaves like overrideMode="Deny" (§8.3)',
    host: {
      locations:
        '<location path="Default Web Site" allowOverride="false"><system.webServer><security><requestFiltering /></security></system.webServer></location>',
    },
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/sub/a.ldf",
    rfErrors: 1,
  },
  {
    name: 'overrideModeDefault="Deny" on the section, unlocked by <location overrideMode="Allow">',
    host: {
      rfDecl: 'overrideModeDefault="Deny"',
      locations:
        '<location path="Default Web Site/sub" overrideMode="Allow"><system.webServer><security><requestFiltering /></security></system.webServer></location>',
    },
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/sub/a.ldf",
    rfErrors: 0,
    denied: [],
  },
  {
    name: 'overrideModeDefault="Deny" without unlock → 500.19',
    host: { rfDecl: 'overrideModeDefault="Deny"' },
    webs: [{ urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/sub/a.ldf",
    rfErrors: 1,
  },
  {
    name: "lockElements on requestFiltering forbids the child below (§8.3)",
    host: { rf: "" },
    webs: [
      { urlPath: "/", text: rfWeb('<hiddenSegments lockElements="clear" />') },
      { urlPath: "/sub", text: rfWeb("<hiddenSegments><clear /></hiddenSegments>") },
    ],
    path: "/sub/bin/x",
    rfErrors: 1,
    errorMatch: /<clear> is not allowed here: locked by lockElements/,
    segments: ["bin"],
  },
  {
    name: 'lockElements="fileExtensions" on <requestFiltering>',
    webs: [
      {
        urlPath: "/",
        text: rfWeb("").replace("<requestFiltering>", '<requestFiltering lockElements="fileExtensions">'),
      },
      { urlPath: "/sub", text: rfWeb('<fileExtensions allowUnlisted="false" />') },
    ],
    path: "/sub/x",
    rfErrors: 1,
    errorMatch: /element <fileExtensions> is locked/,
  },
  {
    name: 'lockItem="true" protects an entry from <remove> below (§8.3)',
    host: { rf: '<denyUrlSequences><add sequence=".." lockItem="true" /></denyUrlSequences>' },
    webs: [{ urlPath: "/sub", text: rfWeb('<denyUrlSequences><remove sequence=".." /></denyUrlSequences>') }],
    path: "/sub/x",
    rfErrors: 1,
    errorMatch: /cannot remove '\.\.': the entry is locked/,
    extra: (e) =>
      assert.deepEqual(
        e.requestFiltering.denyUrlSequences.map((s) => s.sequence),
        [".."],
      ),
  },
  {
    name: 'lockItem="true" forbids <clear/> below',
    host: { rf: '<denyUrlSequences><add sequence=".." lockItem="true" /></denyUrlSequences>' },
    webs: [{ urlPath: "/sub", text: rfWeb("<denyUrlSequences><clear /></denyUrlSequences>") }],
    path: "/sub/x",
    rfErrors: 1,
    errorMatch: /<clear\/> is not allowed/,
  },
  {
    name: "lockAttributes on an element (§8.3)",
    host: { rf: "" },
    webs: [
      {
        urlPath: "/",
        text: rfWeb("").replace(
          "<requestFiltering>",
          '<requestFiltering lockAttributes="allowDoubleEscaping">',
        ),
      },
      {
        urlPath: "/sub",
        text: rfWeb("").replace("<requestFiltering>", '<requestFiltering allowDoubleEscaping="true">'),
      },
    ],
    path: "/sub/a+b.txt",
    rfErrors: 1,
    errorMatch: /attribute 'allowDoubleEscaping' of <requestFiltering> is locked/,
    extra: (e) => assert.equal(e.requestFiltering.allowDoubleEscaping.value, false),
  },
  {
    name: "lockAllAttributesExcept",
    webs: [
      {
        urlPath: "/",
        text: rfWeb("").replace(
          "<requestFiltering>",
          '<requestFiltering lockAllAttributesExcept="allowHighBitCharacters">',
        ),
      },
      {
        urlPath: "/sub",
        text: rfWeb("").replace(
          "<requestFiltering>",
          '<requestFiltering allowHighBitCharacters="false" allowDoubleEscaping="true">',
        ),
      },
    ],
    path: "/sub/x",
    rfErrors: 1,
    extra: (e) => assert.equal(e.requestFiltering.allowHighBitCharacters.value, false),
  },
  {
    name: "location path prefix matching is segment-wise and case-insensitive (§8.1 step 4)",
    host: {
      locations:
        '<location path="default web site/sms_dp_smspkg$"><system.webServer><security><requestFiltering><fileExtensions><remove fileExtension=".ldf" /></fileExtensions></requestFiltering></security></system.webServer></location>',
    },
    path: "/SMS_DP_SMSPKG$/ABC00123/x.ldf",
    denied: [".mdb"],
  },
  {
    name: "location path does not match a longer segment (/SMS_DP_SMSPKG$x)",
    host: {
      locations:
        '<location path="Default Web Site/SMS_DP_SMSPKG$"><system.webServer><security><requestFiltering><fileExtensions><remove fileExtension=".ldf" /></fileExtensions></requestFiltering></security></system.webServer></location>',
    },
    path: "/SMS_DP_SMSPKG$x/x.ldf",
    denied: [".ldf", ".mdb"],
  },
  {
    name: "location for another site does not apply",
    host: {
      locations:
        '<location path="Other Site"><system.webServer><security><requestFiltering><fileExtensions><clear /></fileExtensions></requestFiltering></security></system.webServer></location>',
    },
    path: "/x.ldf",
    denied: [".ldf", ".mdb"],
  },
  {
    name: "applicationHost <location> before web.config at the same path (§13 item 19)",
    host: {
      locations:
        '<location path="Default Web Site/app"><system.webServer><security><requestFiltering allowDoubleEscaping="true" /></security></system.webServer></location>',
    },
    webs: [
      {
        urlPath: "/app",
        text: rfWeb("").replace("<requestFiltering>", '<requestFiltering allowDoubleEscaping="false">'),
      },
    ],
    path: "/app/x",
    extra: (e) => {
      assert.equal(e.requestFiltering.allowDoubleEscaping.value, false);
      assert.ok(
        e.notes?.some((n) => /§13 item 19/.test(n)),
        "the inferred order is said, not hidden",
      );
    },
  },
  {
    name: 'inheritInChildApplications="false" stops at the child application (§8.5)',
    webs: [
      {
        urlPath: "/",
        text: `<configuration><location path="." inheritInChildApplications="false"><system.webServer><security><requestFiltering><fileExtensions><clear /></fileExtensions></requestFiltering></security></system.webServer></location></configuration>`,
      },
    ],
    path: "/app/x.ldf",
    denied: [".ldf", ".mdb"],
    extra: (e) =>
      assert.ok(e.notes?.some((n) => /inheritInChildApplications="false" at web0\.config:1/.test(n))),
  },
  {
    name: 'inheritInChildApplications="false" still applies to plain folders of the same application',
    webs: [
      {
        urlPath: "/",
        text: `<configuration><location path="." inheritInChildApplications="false"><system.webServer><security><requestFiltering><fileExtensions><clear /></fileExtensions></requestFiltering></security></system.webServer></location></configuration>`,
      },
    ],
    path: "/folder/x.ldf",
    denied: [],
  },
  {
    name: 'allowSubDirConfig="false": a web.config below the vdir root is not read (D-VDIR)',
    host: { vdirAttrs: 'allowSubDirConfig="false"' },
    webs: [
      { urlPath: "/SMS_DP_SMSPKG$/ABC00123", text: rfWeb("<fileExtensions><clear /></fileExtensions>") },
    ],
    path: "/SMS_DP_SMSPKG$/ABC00123/x.ldf",
    denied: [".ldf", ".mdb"],
  },
  {
    name: 'allowSubDirConfig="false": the vdir root web.config itself is read',
    host: { vdirAttrs: 'allowSubDirConfig="false"' },
    webs: [{ urlPath: "/SMS_DP_SMSPKG$", text: rfWeb("<fileExtensions><clear /></fileExtensions>") }],
    path: "/SMS_DP_SMSPKG$/ABC00123/x.ldf",
    denied: [],
  },
  {
    name: "duplicate mimeMap → 500.19 for staticContent only (§12 #60)",
    webs: [
      {
        urlPath: "/sub",
        text: web('<staticContent><mimeMap fileExtension=".TXT" mimeType="text/plain" /></staticContent>'),
      },
    ],
    path: "/sub/x.txt",
    rfErrors: 0,
    staticErrors: 1,
  },
  {
    name: "mimeMaps <clear/> + one type (§12 #59)",
    webs: [
      {
        urlPath: "/sub",
        text: web(
          '<staticContent><clear /><mimeMap fileExtension=".css" mimeType="text/css" /></staticContent>',
        ),
      },
    ],
    path: "/sub/x.txt",
    extra: (e) => assert.deepEqual([...e.staticContent.index.keys()], [".css"]),
  },
  {
    name: "modules in a non-application folder web.config → 500.19 (allowDefinition=MachineToApplication)",
    webs: [{ urlPath: "/sub", text: web('<modules><remove name="RequestFilteringModule" /></modules>') }],
    path: "/sub/x",
    extra: (e) => {
      assert.ok(
        e.errors.some((x) => x.section === "system.webServer/modules" && /application root/.test(x.message)),
      );
      assert.equal(e.requestFilteringModuleLoaded, true);
    },
  },
  {
    name: "removing RequestFilteringModule at an application root unloads it (§1)",
    webs: [{ urlPath: "/app", text: web('<modules><remove name="RequestFilteringModule" /></modules>') }],
    path: "/app/x",
    extra: (e) => assert.equal(e.requestFilteringModuleLoaded, false),
  },
  {
    name: "handlers added in a web.config go before inherited ones (mergeAppend=false)",
    webs: [
      {
        urlPath: "/app",
        text: web(
          '<handlers><add name="aspx" path="*.aspx" verb="*" modules="IsapiModule" preCondition="classicMode,bitness32" /></handlers>',
        ),
      },
    ],
    path: "/app/x",
    extra: (e) => {
      assert.deepEqual(
        e.handlers.items.map((h) => h.name),
        ["aspx", "StaticFile"],
      );
      assert.deepEqual(e.handlers.accessPolicy, ["Read", "Script"]);
      assert.equal(e.handlers.items[0]?.requireAccess, "Script");
      assert.equal(e.handlers.items[0]?.preCondition, "classicMode,bitness32");
      assert.equal(e.handlers.items[1]?.preCondition, undefined);
    },
  },
];

for (const r of rows) {
  test(`merge: ${r.name}`, () => {
    const webs = (r.webs ?? []).map((w, i) => ({ ...w, file: `web${i}.config` }));
    const e = eff(appHost(r.host), webs, r.path, r.site);
    if (r.denied) assert.deepEqual(denied(e), r.denied);
    if (r.segments)
      assert.deepEqual(
        e.requestFiltering.hiddenSegments.items.map((s) => s.segment),
        r.segments,
      );
    const errs = rfErrors(e);
    if (r.rfErrors !== undefined) assert.equal(errs.length, r.rfErrors, JSON.stringify(errs));
    if (r.errorMatch)
      assert.ok(
        errs.some((x) => r.errorMatch?.test(x.message)),
        JSON.stringify(errs),
      );
    if (r.errorLine !== undefined) assert.equal(errs[0]?.source.line, r.errorLine);
    if (r.staticErrors !== undefined) {
      assert.equal(
        e.errors.filter((x) => x.section === "system.webServer/staticContent").length,
        r.staticErrors,
      );
    }
    for (const x of e.errors) {
      assert.ok(x.source.file && x.source.line >= 1 && x.source.column >= 1, "errors are positioned");
    }
    r.extra?.(e);
  });
}

test("effective() returns the same object for paths sharing the deepest relevant prefix", () => {
  const s = loadServerFromText({ text: appHost(), file: "a.config" }, [
    { urlPath: "/sub", text: rfWeb("<fileExtensions><clear /></fileExtensions>"), file: "w.config" },
  ]);
  const a = s.effective("Default Web Site", "/sub/a/b/c.txt");
  assert.equal(s.effective("Default Web Site", "/SUB/x.ldf"), a);
  assert.equal(s.effective("default web site", "/sub"), a);
  assert.equal(s.effective("Default Web Site", "//sub//"), a);
  assert.notEqual(s.effective("Default Web Site", "/subx/a"), a);
  assert.equal(s.effective("Default Web Site", "/subx/a"), s.effective("Default Web Site", "/"));
  assert.equal(s.effective("Default Web Site", "/app/x").applicationPath, "/app");
  assert.equal(
    s.effective("Default Web Site", "/SMS_DP_SMSPKG$/a/b").virtualDirectoryPath,
    "/SMS_DP_SMSPKG$",
  );
  assert.equal(s.effective("Default Web Site", "/SMS_DP_SMSPKG$/a/b").applicationPath, "/");
  assert.equal(s.defaultSiteName, "Default Web Site");
  assert.equal(s.sites[0]?.applications[0]?.virtualDirectories[1]?.allowSubDirConfig, true);
});

test("allowSubDirConfig=false is reported in warnings", () => {
  const s = loadServerFromText(
    { text: appHost({ vdirAttrs: 'allowSubDirConfig="false"' }), file: "a.config" },
    [{ urlPath: "/SMS_DP_SMSPKG$/X", text: rfWeb(""), file: "w.config" }],
  );
  assert.ok(s.warnings?.some((w) => /allowSubDirConfig/.test(w) && w.startsWith("w.config")));
});

test("a web.config mapped to another site by 'Site/path'", () => {
  const s = loadServerFromText({ text: appHost(), file: "a.config" }, [
    {
      urlPath: "Default Web Site/sub",
      text: rfWeb("<fileExtensions><clear /></fileExtensions>"),
      file: "w.config",
    },
  ]);
  assert.deepEqual(denied(s.effective("Default Web Site", "/sub/x")), []);
});

test("configSource on a section is reported, not silently ignored", () => {
  const s = loadServerFromText({ text: appHost(), file: "a.config" }, [
    { urlPath: "/sub", text: web('<staticContent configSource="mime.config" />'), file: "w.config" },
  ]);
  assert.ok(
    s.warnings?.some((w) => /^w\.config:4: .*configSource="mime\.config"/.test(w)),
    JSON.stringify(s.warnings),
  );
});

test("property: effective() applies exactly the web.configs whose URL path is a segment-prefix of the path (case-insensitive)", () => {
  const seg = fc.constantFrom(
    "a",
    "A",
    "b",
    "bin",
    "Bin",
    "SMS_DP_SMSPKG$",
    "sms_dp_smspkg$",
    "ab",
    "é",
    "É",
  );
  const sep = fc.constantFrom("/", "//", "\\");
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.array(seg, { minLength: 1, maxLength: 3 }), {
        maxLength: 5,
        selector: (x) => x.join("/").toLowerCase(),
      }),
      fc.array(fc.tuple(sep, seg), { maxLength: 5 }),
      fc.boolean(),
      (dirs, parts, trailing) => {
        const webs = dirs.map((d, i) => ({
          urlPath: `/${d.join("/")}`,
          text: rfWeb(`<denyUrlSequences><add sequence="m${i}" /></denyUrlSequences>`),
          file: `w${i}.config`,
        }));
        const s = loadServerFromText({ text: appHost(), file: "a.config" }, webs);
        const path = parts.map(([p, x]) => p + x).join("") + (trailing ? "/" : "");
        const pathSegs = path
          .split(/[/\\]+/)
          .filter((x) => x !== "")
          .map((x) => x.toLowerCase());
        const expected = dirs
          .map((d, i) => ({ d: d.map((x) => x.toLowerCase()), i }))
          .filter(({ d }) => d.length <= pathSegs.length && d.every((x, k) => x === pathSegs[k]))
          .sort((x, y) => x.d.length - y.d.length)
          .map(({ i }) => `m${i}`);
        const e = s.effective("Default Web Site", path);
        assert.deepEqual(
          e.requestFiltering.denyUrlSequences.map((x) => x.sequence),
          expected,
        );
      },
    ),
    { numRuns: 150 },
  );
});

test("an excerpt without <globalModules>: RequestFilteringModule assumed; <remove> unloads it, <add> is no duplicate", () => {
  const host = (modules: string) =>
    `<configuration><system.webServer><modules>${modules}</modules></system.webServer></configuration>`;
  const e1 = loadServerFromText({ text: host(""), file: "x.config" }).effective("Default Web Site", "/");
  assert.equal(e1.requestFilteringModuleLoaded, true);
  assert.ok(e1.notes?.some((n) => /assumed loaded/.test(n)));
  const e2 = loadServerFromText({
    text: host('<remove name="RequestFilteringModule" />'),
    file: "x.config",
  }).effective("Default Web Site", "/");
  assert.equal(e2.requestFilteringModuleLoaded, false);
  const e3 = loadServerFromText({
    text: host('<add name="RequestFilteringModule" />'),
    file: "x.config",
  }).effective("Default Web Site", "/");
  assert.equal(e3.requestFilteringModuleLoaded, true);
  assert.deepEqual(e3.errors, []);
});

test("an undeclared system.webServer section: 500.19 with a real applicationHost, a note with an embedded profile", () => {
  const w = web("<heliconZoo><application /></heliconZoo>"); // a third-party IIS module neither config declares
  const real = loadServerFromText({ text: appHost(), file: "a.config" }, [
    { urlPath: "/sub", text: w, file: "w.config" },
  ]);
  const e = real.effective("Default Web Site", "/sub/x");
  assert.ok(
    e.errors.some((x) => x.section === "system.webServer/heliconZoo" && /not declared/.test(x.message)),
  );
  assert.equal(real.effective("Default Web Site", "/other").errors.length, 0, "consumption-scoped (§8.4)");
  const dir = mkdtempSync(join(tmpdir(), "dpdoctor-config-"));
  try {
    writeFileSync(join(dir, "web.config"), w);
    const prof = loadServer({ webConfigs: [{ urlPath: "/sub", file: join(dir, "web.config") }] });
    const p = prof.effective(prof.defaultSiteName, "/sub/x");
    assert.deepEqual(p.errors, []);
    assert.ok(p.notes?.some((n) => /heliconZoo is not declared in the embedded profile/.test(n)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
