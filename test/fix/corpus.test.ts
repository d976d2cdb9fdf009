/**
 * Issue 6 "done means": for every full applicationHost.config of the corpus (with Default Web Site and the
 * SMS_DP_SMSPKG$ virtual directory added to a copy when missing), `fix --apply` for `.ldf` + `bin` on
 * Default Web Site/SMS_DP_SMSPKG$ leaves every byte outside the edit as it was, the file parses, the refused URLs
 * pass, other sites keep their verdicts, the backup holds the original, and a second run writes nothing.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decodeXmlBytes } from "../../src/config/xml.js";
import { runFix } from "../../src/fix/run.js";
import { code, corpusDir, decide, insertionPoint, load } from "./helpers.js";

const FULL = readdirSync(corpusDir)
  .filter((f) => /^(apphost|iisexpress).*\.config$/.test(f))
  .sort();

const work = mkdtempSync(join(tmpdir(), "dpdoctor-fix-corpus-"));
after(() => rmSync(work, { recursive: true, force: true }));

const SITE = "Default Web Site";
const VDIR = "SMS_DP_SMSPKG$";

/** Adds the DP's site and content vdir to a copy of a corpus file when they are missing (test setup only). */
function withDpVdir(text: string): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const vdir = `<virtualDirectory path="/${VDIR}" physicalPath="D:\\SCCMContentLib" />`;
  const site = text.search(/<site\s+name="Default Web Site"/);
  if (site < 0) {
    const sites = text.indexOf("<sites>") + "<sites>".length;
    const block = `${eol}<site name="${SITE}" id="4242"><application path="/"><virtualDirectory path="/" physicalPath="C:\\inetpub\\wwwroot" />${vdir}</application><bindings><binding protocol="http" bindingInformation="*:8042:" /></bindings></site>`;
    return text.slice(0, sites) + block + text.slice(sites);
  }
  if (text.slice(site, text.indexOf("</site>", site)).includes(`path="/${VDIR}"`)) return text;
  const app = text.indexOf("<application", site);
  const appEnd = text.indexOf(">", app) + 1;
  return `${text.slice(0, appEnd)}${vdir}${text.slice(appEnd)}`;
}

/** The refused URLs and the check each ask lifts (a config may refuse them for other reasons too, e.g. HEAD denied). */
const ASKED = [
  { target: `/${VDIR}/ABC00123/blah/file.ldf`, check: "fileExtensions" },
  { target: `/${VDIR}/ABC00123/App/bin/Contoso.Core.dll`, check: "hiddenSegments" },
];
const REFUSED = ASKED.map((a) => a.target);
const CONTROLS = [
  `/SMS_DP_SMSSIG$/ABC00123/blah/file.ldf`,
  "/blah/file.ldf",
  "/App/bin/Contoso.Core.dll",
  `/${VDIR}/ABC00123/blah/setup.exe`,
];

function options(config: string, apply: boolean) {
  return {
    config,
    site: SITE,
    scope: "vdir",
    format: "diff",
    apply,
    allowExtension: [".ldf"],
    allowSegment: ["bin"],
    allowVerb: [],
  };
}

describe("fix --apply on every full applicationHost.config of the corpus", () => {
  for (const name of FULL) {
    it(name, () => {
      const original = readFileSync(join(corpusDir, name));
      const decoded = decodeXmlBytes(original);
      const prepared = withDpVdir(decoded.text);
      const file = join(work, name);
      const bom = decoded.bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0);
      const before = Buffer.concat([bom, Buffer.from(prepared, "utf8")]);
      writeFileSync(file, before);
      chmodSync(file, 0o644);
      const oldConfig = load(prepared, file);
      const otherSites = oldConfig.sites.map((s) => s.name).filter((n) => n !== SITE);
      const refusedBefore = REFUSED.map((t) => decide(oldConfig, t));

      const now = new Date(2026, 10, 24, 16, 5, 0);
      const r = runFix(options(file, true), { now });
      assert.equal(r.code, 0, r.stdout);
      const written = readFileSync(file);
      const fires = (v: { reasons: { check: string }[] }, i: number) =>
        v.reasons.some((x) => x.check === ASKED[i]?.check);
      const needed = refusedBefore.some(fires);
      if (!needed) {
        // nothing denies .ldf or bin here: nothing planned, nothing written
        assert.deepEqual(written, before);
        assert.match(r.stdout, /Nothing to change/);
        return;
      }
      // byte-identical outside the edit (BOM, EOL, comments, attribute order)
      assert.deepEqual(written.subarray(0, bom.length), bom);
      const newText = decodeXmlBytes(written).text;
      const at = insertionPoint(prepared, newText);
      assert.ok(at > 0, "one inserted block, everything else byte-identical");
      const inserted = newText.slice(at, at + newText.length - prepared.length);
      if (prepared.includes("\r\n")) assert.doesNotMatch(inserted.replace(/\r\n/g, ""), /\n/);
      // the backup is the file as it was
      const backup = join(work, `${name}.dpdoctor-20261124-160500.bak`);
      assert.deepEqual(readFileSync(backup), before);
      // parses; the refused URLs pass; other places and sites keep their verdicts
      const newConfig = load(newText, file);
      assert.equal(newConfig.effective(SITE, `/${VDIR}/`).errors.length, 0);
      REFUSED.forEach((t, i) => {
        assert.equal(fires(decide(newConfig, t), i), false, `${t} still refused by ${ASKED[i]?.check}`);
        // and nothing else started refusing it
        const others = (v: { reasons: { check: string }[] }) =>
          v.reasons.map((x) => x.check).filter((c) => c !== ASKED[i]?.check);
        assert.deepEqual(
          others(decide(newConfig, t)),
          others(refusedBefore[i] as { reasons: { check: string }[] }),
        );
      });
      for (const t of CONTROLS) assert.equal(code(decide(newConfig, t)), code(decide(oldConfig, t)), t);
      for (const s of otherSites)
        for (const t of [...REFUSED, ...CONTROLS])
          assert.equal(
            code(decide(newConfig, t, "HEAD", s)),
            code(decide(oldConfig, t, "HEAD", s)),
            `${s} ${t}`,
          );
      // a second run plans nothing and writes nothing
      const again = runFix(options(file, true), { now: new Date(2026, 10, 24, 16, 6, 0) });
      assert.equal(again.code, 0);
      assert.match(again.stdout, /Nothing to change/);
      assert.deepEqual(readFileSync(file), written);
      assert.equal(
        readdirSync(work).filter((f) => f.startsWith(`${name}.dpdoctor-`)).length,
        1,
        "no second backup",
      );
    });
  }
});
