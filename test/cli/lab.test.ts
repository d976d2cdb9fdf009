import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { root, runCli } from "../helpers/cli.js";

test("dpdoctor lab seed: hang → diagnose → fix → success, exit 0", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "dpd-seed-cli-"));
  const r = runCli(["lab", "seed", "--dir", dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /blah\/file\.ldf → HTTP 404 \(0x80190194, fatal for BITS\)/);
  assert.match(r.stdout, /bin\/tool\.dll → HTTP 404/);
  assert.match(r.stdout, /diagnose: \d+ finding\(s\): .*F01/);
  assert.match(r.stdout, /F02/);
  assert.match(
    r.stdout,
    /diagnose: 2 finding\(s\)/,
    "the client job is joined to the DP lines: no client-only guess",
  );
  assert.match(r.stdout, /fix --apply .*\(changed\)/);
  assert.match(r.stdout, /7\. Client again: 3 of 3 file\(s\) ok — the download succeeds/);
  assert.ok(existsSync(path.join(dir, "artifacts", "DataTransferService.log")));
  assert.ok(readdirSync(path.join(dir, "artifacts")).some((f) => /^u_ex\d{6}\.log$/.test(f)));
  assert.ok(
    readdirSync(dir).some((f) => f.startsWith("applicationHost.config.dpdoctor-")),
    "fix kept a backup",
  );
});

test("dpdoctor lab serve: usage errors exit 2 without a stack trace", () => {
  for (const args of [
    ["lab", "serve", ".", "--fail", "404", "x"],
    ["lab", "serve", ".", "--port", "99999"],
    ["lab", "serve", ".", "--profile", "nginx"],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, /^dpdoctor: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const missing = runCli(["lab", "serve", "/nonexistent/pkg"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nonexistent/);
});

test("dpdoctor lab serve: loopback by default, serves, writes its W3C log on Ctrl+C, exit 0", async () => {
  const { spawn } = await import("node:child_process");
  const http = await import("node:http");
  const { seedPackage } = await import("../lab/helpers.js");
  const pkg = seedPackage();
  const logDir = path.join(pkg.dir, "cli-logs");
  const p = spawn(
    process.execPath,
    ["--import", "tsx", `${root}src/cli.ts`, "lab", "serve", pkg.root, "--log-dir", logDir],
    {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20000);
    p.stdout.on("data", (c) => {
      out += c;
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const status = await new Promise<number>((resolve, reject) => {
    http
      .request(`${url}/SMS_DP_SMSPKGC$/ABC00123/blah/file.ldf`, { method: "HEAD" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject)
      .end();
  });
  assert.equal(status, 404);
  const code = await new Promise<number | null>((resolve) => {
    p.on("close", resolve);
    p.kill("SIGINT");
  });
  assert.equal(code, 0);
  const w3c = readdirSync(path.join(logDir, "W3SVC1"));
  assert.equal(w3c.length, 1);
  assert.match(
    readFileSync(path.join(logDir, "W3SVC1", w3c[0]), "utf8"),
    / HEAD \/SMS_DP_SMSPKGC\$\/ABC00123\/blah\/file\.ldf - \d+ - 127\.0\.0\.1 - - 404 7 0 \d+\r\n/,
  );
});
