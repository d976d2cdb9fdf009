/**
 * The HTML report: self-contained (no network), XSS-safe (log text is attacker-controllable), and the findings are
 * visible when a real browser renders it (headless Chromium via playwright-core; skipped when /usr/bin/chromium is
 * absent — .ci/run installs Debian's chromium).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import { diagnose } from "../../src/diagnose/diagnose.js";
import { gather } from "../../src/diagnose/ingest.js";
import type { DiagnoseReport } from "../../src/diagnose/report.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { esc, renderHtml } from "../../src/render/html-report.js";
import { w3cRecord } from "./records.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";

function seedReport(): DiagnoseReport {
  return diagnose({ ...gather({ paths: [path.join(root, "examples", "seed")] }), evaluate });
}

const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'\`&`;

function evilReport(): DiagnoseReport {
  const r = w3cRecord({
    file: `u_ex${EVIL}.log`,
    time: Date.UTC(2024, 2, 5, 9, 14, 3),
    uriStem: `/SMS_DP_SMSPKGE$/ABC00123/${EVIL}.ldf`,
    userAgent: EVIL,
    userAgentRaw: EVIL,
    text: `2024-03-05 09:14:03 HEAD /SMS_DP_SMSPKGE$/ABC00123/${EVIL}.ldf 404 7 0 1`,
  });
  return diagnose({
    w3c: [r],
    httperr: [],
    cmtrace: [],
    bits: [],
    artifacts: [{ path: EVIL, kind: "iis-w3c", records: 1, skipped: 0 }],
  });
}

test("esc() leaves no markup-significant character", () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const e = esc(s);
      assert.ok(!/[<>"'`]/.test(e));
      assert.ok(!/&(?!#\d+;|amp;)/.test(e));
    }),
  );
});

test("self-contained: no script, no external URL in src/href, a CSP that forbids fetching", () => {
  const html = renderHtml(seedReport());
  assert.ok(!/<script/i.test(html));
  assert.ok(!/\s(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i.test(html));
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /<svg[^>]*aria-label="timeline"/);
});

test("log text cannot inject markup (URL, user agent, file name)", () => {
  const html = renderHtml(evilReport());
  assert.ok(html.includes("F01"), "finding rendered");
  assert.ok(!html.includes("<script>alert"), "no raw script tag");
  assert.ok(!/<img[^>]*onerror/i.test(html), "no raw img tag");
  assert.ok(html.includes("&#60;script&#62;alert(1)&#60;/script&#62;"), "escaped text shown");
});

test("seed report: findings, timeline lanes, status breakdown present", () => {
  const html = renderHtml(seedReport());
  assert.match(html, /data-finding="F01"/);
  assert.ok(html.includes("&#60;add fileExtension=&#34;.ldf&#34; allowed=&#34;false&#34; /&#62;"));
  assert.ok(html.includes("dpdoctor fix --from findings.json"));
  // the predicted refusal on the CB vdir has its own labelled list, apart from the evidence table
  const predicted = /<div class="predicted">(.*?)<\/div>/s.exec(html)?.[1] ?? "";
  assert.match(predicted, /predicted by the engine, no log line shows it/);
  assert.match(predicted, /HEAD \/SMS_DP_SMSPKG\$\/ABC00123\/blah\/file\.ldf<\/span> → 404\.7/);
  assert.doesNotMatch(predicted, /SMS_DP_SMSPKGE\$/, "observed refusals stay in the evidence");
  for (const lane of ["Client (DTS/CTM)", "BITS events", "DP (IIS/HTTPERR)"])
    assert.ok(html.includes(lane), lane);
  assert.ok(html.includes("404.7"));
});

test("headless Chromium renders the findings (skipped without /usr/bin/chromium)", {
  skip: !existsSync(CHROMIUM) && `${CHROMIUM} not installed`,
}, async () => {
  const { chromium } = await import("playwright-core");
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-html-"));
  const file = path.join(dir, "report.html");
  writeFileSync(file, renderHtml(seedReport()));
  // a temp profile dir: playwright takes it as launchPersistentContext's userDataDir (= --user-data-dir)
  const context = await chromium.launchPersistentContext(path.join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const page = await context.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    const finding = page.locator('[data-finding="F01"]');
    assert.ok(await finding.isVisible(), "F01 visible");
    const text = (await finding.textContent()) ?? "";
    assert.match(text, /Request filtering denies the file extension/);
    assert.match(text, /<add fileExtension=".ldf" allowed="false" \/>/);
    assert.match(text, /dpdoctor fix --from findings\.json --config/);
    assert.ok(await page.locator("svg[aria-label=timeline]").isVisible(), "timeline visible");
    assert.deepEqual(
      requests.filter((u) => !u.startsWith("file:")),
      [],
      "no network request",
    );
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("long value lists fold into <details> and say how many were counted but not listed", async () => {
  const { valueList } = await import("../../src/render/html-report.js");
  const values = Array.from({ length: 45 }, (_, i) => `10.0.0.${i}`);
  const html = valueList(values, 7);
  assert.ok(html.includes("10.0.0.29"));
  assert.match(html, /<details><summary>15 more<\/summary><span class="mono">10\.0\.0\.30, /);
  assert.match(html, /\+7 more counted, not listed/);
  assert.doesNotMatch(valueList(["a<b"], 0), /details|counted|a<b/);
});
