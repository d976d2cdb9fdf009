/**
 * effectiveForFolder (load.ts): the configuration it gives for a folder is the one effective() gives for every path
 * folder + name (the engine keeps it per directory prefix, evaluate.ts folderEffective), and it says null whenever a
 * location path, web.config, application or virtual directory lies below the folder. Spec iis-request-filtering.md
 * §2, §3 (location paths, web.config levels), §8.1 (effective configuration of a URL path, case-insensitive).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { effectiveForFolder, loadServer } from "../../src/config/load.js";
import type { ServerConfig } from "../../src/config/types.js";

const corpus = fileURLToPath(new URL("../../../shared/corpus/iis-config/", import.meta.url));

/** Configurations with location paths, applications, virtual directories and web.configs at several depths. */
const configs: [string, ServerConfig, string[], string[]][] = [];
function add(name: string, config: ServerConfig, texts: string[], extraPaths: string[] = []): void {
  // the segments of every path="…" the files name (location paths are site-qualified: "Site/a/b"), and the web.config
  // URL paths: folders and names are drawn from them, so they hit configured nodes
  const segs = new Set<string>(["x64", "zzz", "Deploy", ""]);
  const paths: string[] = [...extraPaths];
  for (const t of texts)
    for (const m of t.matchAll(/\bpath="([^"]*)"/g)) {
      paths.push(m[1] as string);
      for (const s of (m[1] as string).split(/[/\\]/)) if (s.length > 0 && s.length < 40) segs.add(s);
    }
  for (const p of extraPaths) for (const s of p.split("/")) if (s) segs.add(s);
  // every URL path a configured node may have: a path, without its first segment (the site of a location path),
  // an application path + a virtual directory path
  const norm = (p: string) =>
    `/${p
      .split(/[/\\]+/)
      .filter(Boolean)
      .join("/")}`.toLowerCase();
  const nodes = new Set<string>();
  for (const a of paths) {
    nodes.add(norm(a));
    nodes.add(norm(a.split(/[/\\]/).slice(1).join("/")));
    for (const b of paths) nodes.add(norm(`${a}/${b}`));
  }
  configs.push([name, config, [...segs], [...nodes]]);
}
for (const f of [
  "apphost-citrix-director-locations.config",
  "apphost-iris-csp-locations.config",
  "apphost-jexus-fixture-allchildren.config",
  "iisexpress10-inheritInChildApplications.config",
  "apphost-iis10-aspnet-asp-verbdeny.config",
]) {
  const file = `${corpus}${f}`;
  add(f, loadServer({ config: file }), [readFileSync(file, "utf8")]);
}
{
  const webConfigs = [
    { urlPath: "/SMS_DP_SMSPKG$/Content_1.1/Deploy", file: `${corpus}webconfig-bonobo-clear-ext-seg.config` },
    {
      urlPath: "/SMS_DP_SMSPKGC$/PKG00001/x64/Sub",
      file: `${corpus}webconfig-fuget-clear-ext-doubleesc.config`,
    },
    { urlPath: "/app", file: `${corpus}webconfig-h5bp-mvc5.config` },
  ];
  add(
    "aspnet profile + web.configs",
    loadServer({ profile: "aspnet", webConfigs }),
    [],
    webConfigs.map((w) => w.urlPath),
  );
}

/** A segment in the case it was written, upper- or lower-cased (IIS compares paths case-insensitively, §8.1). */
function cased(segs: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...segs), fc.constantFrom(0, 0, 1, 2))
    .map(([s, k]) => (k === 1 ? s.toUpperCase() : k === 2 ? s.toLowerCase() : s));
}

describe("effectiveForFolder: one configuration per folder, the one effective() gives each file in it (§2, §3, §8.1)", () => {
  for (const [name, config, segs, nodes] of configs)
    it(`${name}: non-null only when every folder + name has that configuration`, () => {
      const sites = [...config.sites.map((s) => s.name), config.defaultSiteName, "No Such Site"];
      let answered = 0;
      let declined = 0;
      fc.assert(
        fc.property(
          fc.constantFrom(...sites),
          fc.array(cased(segs), { maxLength: 4 }),
          fc.constantFrom("/", "//"),
          (site, folderSegs, sep) => {
            const folder = `/${folderSegs.map((s) => `${s}${sep}`).join("")}`;
            const cfg = effectiveForFolder(config, site, folder);
            if (cfg === null) {
              declined++;
              // null only when a configured path lies strictly below the folder (the trailing '/' given)
              const f = `${`/${folderSegs.join("/")}`.replace(/\/+$/, "").toLowerCase()}/`.replace(
                /\/+/g,
                "/",
              );
              assert.ok(
                [...nodes].some(
                  (n) => n.length > f.length - 1 && `${n}/`.startsWith(f) && n !== f.slice(0, -1),
                ),
                `declined ${site} ${folder}: nothing configured below it`,
              );
              return;
            }
            answered++;
            for (const n of [...segs, "setup.exe", "", "a.b", "DEPLOY", "x64"])
              assert.equal(config.effective(site, folder + n), cfg, `${site} ${folder}${n}`);
            assert.equal(config.effective(site, folder), cfg);
          },
        ),
        { numRuns: 300 },
      );
      // it answers (else the property above tests nothing); declines are tested below on a known layout
      assert.ok(answered > 0, "never answered");
      assert.ok(answered + declined === 300);
    });

  it("declines exactly when a configured path lies one or more segments below the folder", () => {
    const config = configs[configs.length - 1]?.[1] as ServerConfig;
    const site = config.defaultSiteName;
    // the web.config at /SMS_DP_SMSPKG$/Content_1.1/Deploy applies to names below Content_1.1/ but not to its siblings
    const content = "/SMS_DP_SMSPKG$/Content_1.1/";
    assert.equal(effectiveForFolder(config, site, content), null);
    assert.equal(effectiveForFolder(config, site, "/sms_dp_smspkg$/CONTENT_1.1/"), null);
    assert.equal(effectiveForFolder(config, site, "/SMS_DP_SMSPKG$/"), null);
    assert.equal(effectiveForFolder(config, site, "/"), null);
    const deploy = effectiveForFolder(config, site, `${content}Deploy/`);
    assert.ok(deploy !== null);
    assert.equal(deploy, config.effective(site, `${content}Deploy/setup.exe`));
    assert.notEqual(deploy, config.effective(site, `${content}setup.exe`));
    const other = effectiveForFolder(config, site, "/SMS_DP_SMSPKG$/Content_2.1/");
    assert.equal(other, config.effective(site, "/SMS_DP_SMSPKG$/Content_2.1/Deploy"));
    // a package folder whose web.config is two segments below: x64/ declines (Sub is below), x64/Other/ answers
    assert.equal(effectiveForFolder(config, site, "/SMS_DP_SMSPKGC$/PKG00001/x64/"), null);
    assert.ok(effectiveForFolder(config, site, "/SMS_DP_SMSPKGC$/PKG00001/x64/Other/") !== null);
  });

  it("declines a folder without a trailing '/' and a configuration not built by load.ts", () => {
    const config = configs[configs.length - 1]?.[1] as ServerConfig;
    assert.equal(effectiveForFolder(config, config.defaultSiteName, "/SMS_DP_SMSPKG$/Content_2.1"), null);
    const copy: ServerConfig = { ...config };
    assert.equal(effectiveForFolder(copy, config.defaultSiteName, "/zzz/"), null);
  });
});
