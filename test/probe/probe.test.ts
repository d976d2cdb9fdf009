/**
 * The BITS-like probe against the emulator over loopback: agreement with `check` for the same package and config,
 * BITS retry rules (configmgr §5.1) and HRESULTs (§5.2), range support (F12), dropped connections, NTLM, limits.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { checkFile, packagePrefixes } from "../../src/check/run.js";
import { folderPackage } from "../../src/check/source.js";
import { loadServer } from "../../src/config/load.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { type Lab, startLab } from "../../src/lab/server.js";
import type { UrlForm } from "../../src/logs/records.js";
import { runProbe } from "../../src/probe/probe.js";
import { seedPackage } from "../lab/helpers.js";

const pkg = seedPackage();
let lab: Lab;
const config = loadServer({ profile: "aspnet" });
const server = { config, siteName: config.defaultSiteName };
before(async () => {
  lab = await startLab({ root: pkg.root, server: config, logDir: path.join(pkg.dir, "logs") });
});
after(async () => {
  await lab.close();
});

describe("probe agrees with check (same package, same config)", () => {
  for (const form of ["client", "direct", "direct2007"] as UrlForm[])
    test(`form ${form}`, async () => {
      const r = await runProbe({ origin: lab.url, contentId: "ABC00123", form, drive: "C", server });
      assert.equal(r.listing.error, undefined);
      assert.equal(r.files.length, Object.keys(pkg.files).length);
      const { pkg: spec } = folderPackage(pkg.root, {});
      const prefixes = packagePrefixes(spec, {
        server,
        forms: [form],
        drive: "C",
        vdir: "SMS_DP_SMSPKG$",
      });
      let refused = 0;
      for (const f of r.files) {
        const c = checkFile(
          (req) => evaluate(req, server),
          prefixes,
          { rel: f.path, abs: path.join(pkg.root, f.path) },
          undefined,
        );
        const v = c.forms[form];
        assert.ok(v);
        if (v.verdict.status >= 400) {
          refused++;
          assert.equal(f.outcome, "fatal", f.path);
          assert.equal(f.status, v.verdict.status, f.path);
          assert.equal(f.method, v.method, f.path);
          assert.equal(
            f.predicted?.substatus,
            v.verdict.substatus,
            `${f.path}: explanation = check's verdict`,
          );
        } else assert.equal(f.outcome, "ok", `${f.path}: ${f.message}`);
        assert.equal(f.disagreement, undefined);
      }
      if (form === "client") assert.equal(refused, 0, "sccm? form: paths travel in the query");
      else assert.ok(refused >= 2, ".ldf and bin/ refused in the path forms");
    });
});

describe("BITS retry rules and HRESULTs (§5.1, §5.2)", () => {
  test("503 is transient: retried --retries times; 404 is fatal: never retried", async () => {
    lab.setFaults({ fail: [{ status: 503, path: "setup.exe" }] });
    try {
      const r = await runProbe({
        origin: lab.url,
        contentId: "ABC00123",
        form: "direct2007",
        retries: 2,
        retryDelayMs: 1,
      });
      const setup = r.files.find((f) => f.path === "setup.exe");
      assert.equal(setup?.outcome, "transient");
      assert.equal(setup?.attempts, 3);
      assert.equal(setup?.hresult, "0x801901F7");
      const ldf = r.files.find((f) => f.path === "blah/file.ldf");
      assert.equal(ldf?.outcome, "fatal");
      assert.equal(ldf?.attempts, 1);
      assert.equal(ldf?.hresult, "0x80190194");
    } finally {
      lab.setFaults({});
    }
  });
  test("500 with a retry that then succeeds (fault removed between attempts)", async () => {
    lab.setFaults({ fail: [{ status: 500, path: "a.msi" }] });
    const r = await runProbe({
      origin: lab.url,
      contentId: "ABC00123",
      packageDir: pkg.root,
      retries: 1,
      retryDelayMs: 1,
      sleep: async () => lab.setFaults({}),
    });
    const msi = r.files.find((f) => f.path === "x64/deep/a.msi");
    assert.equal(msi?.outcome, "ok");
    assert.equal(msi?.attempts, 2);
    assert.deepEqual(
      msi?.requests.map((q) => `${q.method} ${q.status}`),
      ["HEAD 500", "HEAD 200", "GET 206"],
    );
  });
  test("--no-range: 200 instead of 206 → BG_E_INSUFFICIENT_RANGE_SUPPORT, fatal (F12)", async () => {
    lab.setFaults({ noRange: true });
    try {
      const r = await runProbe({ origin: lab.url, contentId: "ABC00123", firstRangeBytes: 1000 });
      const setup = r.files.find((f) => f.path === "setup.exe");
      assert.equal(setup?.hresult, "0x80200013");
      assert.equal(setup?.outcome, "fatal");
    } finally {
      lab.setFaults({});
    }
  });
  test("--drop-after: a cut body is transient (connection error)", async () => {
    lab.setFaults({ dropAfterBytes: 100 });
    try {
      const r = await runProbe({
        origin: lab.url,
        contentId: "ABC00123",
        packageDir: pkg.root,
        firstRangeBytes: 5000,
      });
      const setup = r.files.find((f) => f.path === "setup.exe");
      assert.equal(setup?.outcome, "transient");
      assert.equal(setup?.hresult, "0x80072EFE");
    } finally {
      lab.setFaults({});
    }
  });
  test("--stop-pool: the listing fails with 503 (transient)", async () => {
    lab.setFaults({ stopPool: true });
    try {
      const r = await runProbe({ origin: lab.url, contentId: "ABC00123" });
      assert.equal(r.listing.status, 503);
      assert.match(r.listing.error ?? "", /transient/);
      assert.equal(r.files.length, 0);
    } finally {
      lab.setFaults({});
    }
  });
  test("nothing listening: cannot connect (0x80072EFD), transient", async () => {
    const closed = await startLab({
      root: pkg.root,
      server: config,
      logDir: path.join(pkg.dir, "logs-closed"),
    });
    const origin = closed.url;
    await closed.close();
    const r = await runProbe({ origin, contentId: "ABC00123", packageDir: pkg.root, requestTimeoutMs: 2000 });
    assert.ok(r.files.every((f) => f.outcome === "transient" && f.hresult === "0x80072EFD"));
  });
});

describe("limits, downloads, credentials", () => {
  test("total time limit: files not reached are reported as not attempted", async () => {
    lab.setFaults({ delayMs: 150 });
    try {
      const r = await runProbe({
        origin: lab.url,
        contentId: "ABC00123",
        packageDir: pkg.root,
        concurrency: 1,
        totalTimeoutMs: 200,
      });
      assert.ok(r.summary.notAttempted > 0);
      assert.ok(r.summary.elapsedMs < 2000);
    } finally {
      lab.setFaults({});
    }
  });
  test("--download writes whole files with the right bytes; nothing is written without it", async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), "dpd-probe-dl-"));
    const r = await runProbe({ origin: lab.url, contentId: "ABC00123", download: out });
    const got = r.files.filter((f) => f.downloaded);
    assert.equal(got.length, Object.keys(pkg.files).length - 1); // the empty file needs no GET
    for (const f of got) {
      const want = pkg.files[f.path];
      assert.equal(f.downloaded?.sha256, createHash("sha256").update(want).digest("hex"));
      assert.deepEqual(readFileSync(path.join(out, ...f.path.split("/"))), want);
    }
    const plain = await runProbe({ origin: lab.url, contentId: "ABC00123" });
    assert.ok(plain.files.every((f) => f.downloaded === undefined));
    const topLevel = new Set(
      Object.entries(pkg.files)
        .filter(([, b]) => b.length > 0)
        .map(([rel]) => rel.split("/")[0]),
    );
    assert.deepEqual(new Set(readdirSync(out)), topLevel, "only the package's files are in DIR");
  });
  test("NTLM: right credentials succeed, wrong password is a fatal 401 (0x80190191)", async () => {
    const l = await startLab({
      root: pkg.root,
      server: config,
      logDir: path.join(pkg.dir, "logs-ntlm"),
      ntlmUsers: [{ domain: "CONTOSO", user: "cmnaa", password: "P@ssw0rd" }],
    });
    try {
      const ok = await runProbe({
        origin: l.url,
        contentId: "ABC00123",
        credentials: { domain: "CONTOSO", user: "cmnaa", password: "P@ssw0rd" },
      });
      assert.equal(ok.listing.status, 207);
      assert.equal(ok.summary.ok, ok.summary.files);
      const bad = await runProbe({
        origin: l.url,
        contentId: "ABC00123",
        packageDir: pkg.root,
        credentials: { domain: "CONTOSO", user: "cmnaa", password: "wrong" },
      });
      assert.ok(bad.files.every((f) => f.outcome === "fatal" && f.hresult === "0x80190191"));
      const anon = await runProbe({ origin: l.url, contentId: "ABC00123" });
      assert.equal(anon.listing.status, 401);
    } finally {
      await l.close();
    }
  });
});

test("dropped connections: BITS-like resume from the bytes already received until the file is complete", async () => {
  lab.setFaults({ dropAfterBytes: 20_000 });
  const out = mkdtempSync(path.join(os.tmpdir(), "dpd-probe-resume-"));
  try {
    const r = await runProbe({
      origin: lab.url,
      contentId: "ABC00123",
      packageDir: pkg.root,
      download: out,
      retries: 5,
      retryDelayMs: 0,
    });
    const setup = r.files.find((f) => f.path === "setup.exe");
    assert.equal(setup?.outcome, "ok", setup?.message);
    assert.deepEqual(
      setup?.requests.filter((q) => q.method === "GET").map((q) => q.range),
      ["0-69999", "20000-69999", "40000-69999", "60000-69999"],
    );
    assert.equal(
      setup?.downloaded?.sha256,
      createHash("sha256").update(pkg.files["setup.exe"]).digest("hex"),
    );
  } finally {
    lab.setFaults({});
  }
});
