/**
 * The engine on configurations read by the real loader (src/config/load.ts): the embedded aspnet profile, web.config
 * files (§12 #20–#22, #60–#62), application-relative hidden segments (§13.4) and corpus configs
 * (../shared/corpus/iis-config: no RequestFilteringModule, HEAD denied).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadServer, loadServerFromText, type WebConfigText } from "../../src/config/load.js";
import { evaluate } from "../../src/engine/evaluate.js";
import type { HttpRequest, Server, Verdict } from "../../src/engine/types.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));
const ASPNET = "profiles/aspnet/applicationHost.config";
const aspnetText = readFileSync(`${root}${ASPNET}`, "utf8");

function serverOf(appHost: string, webs: WebConfigText[] = [], file = "applicationHost.config"): Server {
  const config = loadServerFromText({ text: appHost, file }, webs);
  return { config, siteName: config.defaultSiteName };
}
const ask = (s: Server, target: string, method = "GET", extra: Partial<HttpRequest> = {}): Verdict =>
  evaluate({ method, target, ...extra }, s);
const code = (v: Verdict) => `${v.status}.${v.substatus}`;
const web = (body: string) =>
  `<?xml version="1.0"?>\r\n<configuration>\r\n  <system.webServer>\r\n${body}\r\n  </system.webServer>\r\n</configuration>\r\n`;
const rfWeb = (inner: string) =>
  web(
    `    <security>\r\n      <requestFiltering>\r\n${inner}\r\n      </requestFiltering>\r\n    </security>`,
  );
const withLocation = (text: string, location: string) =>
  text.replace("</configuration>", `${location}\n</configuration>`);

describe("engine on the embedded aspnet profile", () => {
  const s = (() => {
    const config = loadServer({ profile: "aspnet" });
    return { config, siteName: config.defaultSiteName };
  })();
  const ldfLine = aspnetText.split(/\r?\n/).findIndex((l) => l.includes('fileExtension=".ldf"')) + 1;

  it("README seed: HEAD /SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf → 404.7 naming the .ldf line", () => {
    const v = ask(s, "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", "HEAD");
    assert.equal(code(v), "404.7");
    assert.equal(v.reasons[0].source?.line, ldfLine);
    assert.equal(v.reasons[0].source?.text, '<add fileExtension=".ldf" allowed="false" />');
    assert.match(v.reasons[0].message, /\.ldf is denied by <add fileExtension="\.ldf" allowed="false" \/>/);
  });

  it("sccm? form: names in the query are not path-checked; the DP content handler serves it", () => {
    const v = ask(s, "/SMS_DP_SMSPKG$/Content_0a1b.1/sccm?/bin/app.ldf", "HEAD");
    assert.equal(v.layer, "pass");
    assert.equal(v.handler, "configmgr-content");
    assert.ok(v.notes?.some((n) => n.includes("§13.3")));
    assert.ok(v.notes?.some((n) => n.includes("query string")));
  });

  it("2007 form is static: a package file without a mimeMap is 404.3, a hidden file 404.9", () => {
    assert.equal(code(ask(s, "/SMS_DP_SMSPKGC$/PKG00001/install.ps1", "HEAD")), "404.3");
    assert.equal(
      code(ask(s, "/SMS_DP_SMSPKGC$/PKG00001/setup.exe", "HEAD", { file: { hidden: true } })),
      "404.9",
    );
    assert.equal(code(ask(s, "/SMS_DP_SMSPKGC$/PKG00001/setup.exe", "HEAD")), "200.0");
  });

  it("current-branch form: mimeMap and Hidden attribute do not apply (content handler, §13.3)", () => {
    const v = ask(s, "/SMS_DP_SMSPKG$/PS100012/install.ps1", "HEAD", { file: { hidden: true } });
    assert.equal(v.layer, "pass");
    assert.equal(v.handler, "configmgr-content");
  });

  it("ASP.NET mappings intercept .aspx package files (§9.3); .exe/.dll stay static under accessPolicy Read, Script", () => {
    const v = ask(s, "/SMS_DP_SMSPKGC$/PKG00001/Help.aspx");
    assert.equal(v.layer, "handler");
    assert.equal(v.reasons[0].check, "handler.dynamic");
    assert.ok(v.reasons[0].source && v.reasons[0].source.line > 0);
    assert.equal(ask(s, "/SMS_DP_SMSPKGC$/PKG00001/lib/x.dll").handler, "StaticFile");
    assert.equal(ask(s, "/SMS_DP_SMSPKGC$/PKG00001/setup.exe").handler, "StaticFile");
  });

  it("a folder named like a script (Setup.aspx/) claims path info: deeper names escape request filtering (§5.4)", () => {
    const v = ask(s, "/pkg/Setup.aspx/bin/app.ldf");
    assert.notEqual(v.layer, "request-filtering");
    assert.ok(v.notes?.some((n) => n.includes("path info")));
  });
});

describe("web.config files through the loader (§12 #20–#22, #60–#62)", () => {
  it("#20 removing .config in /app lets it reach the static handler: 404.3", () => {
    const s = serverOf(aspnetText, [
      {
        urlPath: "/app",
        file: "app/web.config",
        text: rfWeb(`<fileExtensions><remove fileExtension=".config" /></fileExtensions>`),
      },
    ]);
    assert.equal(code(ask(s, "/app/x.config")), "404.3");
    assert.equal(code(ask(s, "/x.config")), "404.7");
  });

  it("#21 removing App_Data in /app serves it", () => {
    const s = serverOf(aspnetText, [
      {
        urlPath: "/app",
        file: "app/web.config",
        text: rfWeb(`<hiddenSegments><remove segment="App_Data" /></hiddenSegments>`),
      },
    ]);
    assert.equal(code(ask(s, "/app/App_Data/x.txt")), "200.0");
    assert.equal(code(ask(s, "/App_Data/x.txt")), "404.8");
  });

  it("#22 a folder web.config denying .dat affects only its subtree; the reason names the web.config line", () => {
    const s = serverOf(aspnetText, [
      {
        urlPath: "/sub",
        file: "sub/web.config",
        text: rfWeb(`<fileExtensions><add fileExtension=".dat" allowed="false" /></fileExtensions>`),
      },
    ]);
    const v = ask(s, "/sub/a.dat");
    assert.equal(code(v), "404.7");
    assert.equal(v.reasons[0].source?.file, "sub/web.config");
    assert.equal(code(ask(s, "/a.dat")), "404.3");
  });

  it("#60 a duplicate mimeMap is 500.19 for requests reaching the static handler only", () => {
    const s = serverOf(aspnetText, [
      {
        urlPath: "/sub",
        file: "sub/web.config",
        text: web(`<staticContent><mimeMap fileExtension=".txt" mimeType="text/plain" /></staticContent>`),
      },
    ]);
    const v = ask(s, "/sub/x.txt");
    assert.equal(code(v), "500.19");
    assert.equal(v.layer, "config");
    assert.equal(v.reasons[0].source?.file, "sub/web.config");
    assert.equal(code(ask(s, "/sub/x.ldf")), "404.7"); // refused by request filtering before staticContent is read
  });

  it('#61 allowed="flase" → 500.19 for every request under it, naming the line', () => {
    const s = serverOf(aspnetText, [
      {
        urlPath: "/sub",
        file: "sub/web.config",
        text: rfWeb(`<fileExtensions><add fileExtension=".x" allowed="flase" /></fileExtensions>`),
      },
    ]);
    const v = ask(s, "/sub/anything.txt");
    assert.equal(code(v), "500.19");
    assert.equal(v.reasons[0].check, "config.invalid");
    assert.ok((v.reasons[0].source?.line ?? 0) > 0);
    assert.match(v.reasons[0].message, /sub\/web\.config:\d+/);
    assert.equal(code(ask(s, "/x.txt")), "200.0");
  });

  it("#62 a locked section set by a web.config → 500.19", () => {
    const host = withLocation(
      aspnetText,
      `<location path="Default Web Site/locked" overrideMode="Deny"><system.webServer><security><requestFiltering /></security></system.webServer></location>`,
    );
    const s = serverOf(host, [
      {
        urlPath: "/locked",
        file: "locked/web.config",
        text: rfWeb(`<fileExtensions><remove fileExtension=".ldf" /></fileExtensions>`),
      },
    ]);
    assert.equal(code(ask(s, "/locked/x.txt")), "500.19");
  });
});

describe("corpus configs", () => {
  it("apphost-hwc-no-rfmodule.config: no request-filtering refusal at all", () => {
    const config = loadServer({ config: `${corpus}apphost-hwc-no-rfmodule.config` });
    const s = { config, siteName: config.defaultSiteName };
    for (const t of ["/web.config", "/bin/x.dll", "/a+b.txt", "/x.ldf", "/%252e/x", "/App_Data/x.mdb"]) {
      const v = ask(s, t);
      assert.notEqual(v.layer, "request-filtering", `${t}: ${JSON.stringify(v.reasons)}`);
    }
    assert.ok(ask(s, "/web.config").notes?.some((n) => n.includes("RequestFilteringModule")));
  });

  it('apphost-iis10-aspnet-asp-verbdeny.config: HEAD → 404.6 with the <add verb="HEAD"> line; GET passes RF', () => {
    const file = `${corpus}apphost-iis10-aspnet-asp-verbdeny.config`;
    const config = loadServer({ config: file });
    const s = { config, siteName: config.defaultSiteName };
    const line =
      readFileSync(file, "utf8")
        .split(/\r?\n/)
        .findIndex((l) => l.includes('<add verb="HEAD" allowed="false" />')) + 1;
    const v = ask(s, "/SMS_DP_SMSPKG$/Content_1.1/sccm?/x.cab", "HEAD");
    assert.equal(code(v), "404.6");
    assert.equal(v.reasons[0].source?.line, line);
    assert.notEqual(ask(s, "/SMS_DP_SMSPKG$/Content_1.1/sccm?/x.cab", "GET").layer, "request-filtering");
  });
});

describe("application-relative hidden segments (§13.4 inferred)", () => {
  const host = (apps: string) => `<?xml version="1.0"?>
<configuration>
  <system.applicationHost><sites><site name="Default Web Site" id="1">
    <application path="/"><virtualDirectory path="/" physicalPath="C:\\inetpub\\wwwroot" /></application>
    ${apps}
  </site></sites></system.applicationHost>
  <system.webServer>
    <globalModules><add name="RequestFilteringModule" image="modrqflt.dll" /></globalModules>
    <modules><add name="RequestFilteringModule" /></modules>
    <staticContent><mimeMap fileExtension=".dll" mimeType="application/x-msdownload" /></staticContent>
    <security><requestFiltering><hiddenSegments><add segment="bin" /></hiddenSegments></requestFiltering></security>
  </system.webServer>
</configuration>`;

  it("a bin folder made an IIS application is no longer hidden; deeper bin folders still are", () => {
    const s = serverOf(
      host(
        `<application path="/pkg/bin"><virtualDirectory path="/" physicalPath="C:\\pkg\\bin" /></application>`,
      ),
    );
    const ok = ask(s, "/pkg/bin/x.dll");
    assert.notEqual(ok.layer, "request-filtering", JSON.stringify(ok.reasons));
    const v = ask(s, "/pkg/bin/bin/x.dll");
    assert.equal(code(v), "404.8");
    assert.ok(v.reasons[0].inferred?.includes("§13.4"));
    assert.equal(code(serverOf(host("")) && ask(serverOf(host("")), "/pkg/bin/x.dll")), "404.8");
  });
});
