/**
 * One parser for the server options of every command (src/cli/server-options.ts): --config, --web-config URLPATH=FILE,
 * --profile iis|aspnet, --site. Unit rules, a property test of the URLPATH=FILE splitter, and the same message and
 * exit 2 from every command that declares an option.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  loadServerOptions,
  loadServerOptionsIfAsked,
  parseProfile,
  parseWebConfigs,
  pickSite,
} from "../../src/cli/server-options.js";
import { UsageError } from "../../src/errors.js";
import { root, runCli } from "../helpers/cli.js";

const SEED_CONFIG = `${root}examples/seed/applicationHost.config`;

describe("server options (shared parser)", () => {
  it("--profile: iis or aspnet, never together with --config", () => {
    assert.equal(parseProfile({}), undefined);
    assert.equal(parseProfile({ profile: "iis" }), "iis");
    assert.equal(parseProfile({ profile: "aspnet" }), "aspnet");
    assert.throws(() => parseProfile({ profile: "nginx" }), /--profile "nginx": expected iis or aspnet/);
    assert.throws(() => parseProfile({ profile: "iis", config: "a.config" }), /exclude each other/);
  });

  it("--web-config URLPATH=FILE: splits at the first '=', the URL path starts with '/'", () => {
    assert.deepEqual(parseWebConfigs(["/SMS_DP_SMSPKG$=D:\\x=y\\web.config"]), [
      { urlPath: "/SMS_DP_SMSPKG$", file: "D:\\x=y\\web.config" },
    ]);
    assert.deepEqual(parseWebConfigs(undefined), []);
    for (const bad of ["nofile", "=web.config", "/x=", "x=web.config"])
      assert.throws(() => parseWebConfigs([bad]), UsageError, bad);
  });

  it("property: any /path=file value round-trips; anything else is a UsageError, never another exception", () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        try {
          const [w] = parseWebConfigs([v]);
          assert.ok(w);
          assert.equal(`${w.urlPath}=${w.file}`, v);
          assert.ok(w.urlPath.startsWith("/") && !w.urlPath.includes("=") && w.file.length > 0);
        } catch (e) {
          assert.ok(e instanceof UsageError, String(e));
        }
      }),
    );
  });

  it("--site: the config's spelling of an existing site (case-insensitive); unknown sites are listed", () => {
    const { config } = loadServerOptions({ config: SEED_CONFIG });
    assert.equal(pickSite(config, undefined), config.defaultSiteName);
    assert.equal(pickSite(config, "default web site"), "Default Web Site");
    assert.throws(
      () => pickSite(config, "No Such Site"),
      /--site "No Such Site": no such site in .*\(sites: "Default Web Site", "mysite\.tbd"\)/,
    );
  });

  it("loads the embedded aspnet profile without --config and says so; nothing when probe/diagnose asked for none", () => {
    const d = loadServerOptions({});
    assert.equal(d.given, false);
    assert.equal(d.profile, "aspnet");
    assert.match(d.profileNote ?? "", /no --config given: using the embedded aspnet profile/);
    const g = loadServerOptions({ config: SEED_CONFIG, site: "mysite.tbd" });
    assert.deepEqual(
      [g.given, g.profile, g.profileNote, g.siteName],
      [true, undefined, undefined, "mysite.tbd"],
    );
    assert.equal(loadServerOptionsIfAsked({}), undefined);
    assert.equal(loadServerOptionsIfAsked({ profile: "iis" })?.profile, "iis");
  });

  it("every command gives the same message and exit 2 for the same bad option", () => {
    const commands: [string, string[]][] = [
      ["url", ["url", "/x"]],
      ["check", ["check", root]],
      ["probe", ["probe", "http://127.0.0.1:9", "--content", "ABC00123"]],
      ["lab serve", ["lab", "serve", root]],
    ];
    for (const [name, base] of commands) {
      const p = runCli([...base, "--profile", "nginx"]);
      assert.equal(p.code, 2, `${name}: ${p.stderr}`);
      assert.equal(p.stderr, 'dpdoctor: --profile "nginx": expected iis or aspnet\n', name);
      const w = runCli([...base, "--web-config", "nofile"]);
      assert.equal(w.code, 2, `${name}: ${w.stderr}`);
      assert.match(w.stderr, /^dpdoctor: --web-config "nofile": expected URLPATH=FILE/, name);
    }
  });
});
