/** HTTPS DPs: the probe trusts `--ca`, refuses an unknown certificate (WinHTTP secure failure), or skips with --insecure. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { type Lab, startLab } from "../../src/lab/server.js";
import { runProbe } from "../../src/probe/probe.js";
import { seedPackage } from "../lab/helpers.js";

const pkg = seedPackage();
const certDir = mkdtempSync(path.join(os.tmpdir(), "dpd-tls-"));
const gen = spawnSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    path.join(certDir, "key.pem"),
    "-out",
    path.join(certDir, "cert.pem"),
  ],
  { encoding: "utf8" },
);
const haveOpenssl = gen.status === 0;
let lab: Lab | undefined;

before(async () => {
  if (!haveOpenssl) return;
  lab = await startLab({
    root: pkg.root,
    logDir: path.join(pkg.dir, "logs"),
    tls: {
      key: readFileSync(path.join(certDir, "key.pem")),
      cert: readFileSync(path.join(certDir, "cert.pem")),
    },
  });
});
after(async () => {
  await lab?.close();
});

test("HTTPS: --ca trusts the DP, an unknown certificate is a secure failure, --insecure skips the check", {
  skip: !haveOpenssl && "openssl not installed",
}, async () => {
  assert.ok(lab);
  assert.match(lab.url, /^https:\/\//);
  const ca = readFileSync(path.join(certDir, "cert.pem"));
  const trusted = await runProbe({ origin: lab.url, contentId: "ABC00123", tls: { ca } });
  assert.equal(trusted.listing.status, 207);
  assert.equal(trusted.summary.ok, trusted.summary.files);
  assert.match(trusted.files[0].url, /^https:/);
  const untrusted = await runProbe({ origin: lab.url, contentId: "ABC00123", packageDir: pkg.root });
  assert.ok(
    untrusted.files.every((f) => f.hresult === "0x80072F8F"),
    untrusted.files[0]?.message,
  );
  const insecure = await runProbe({ origin: lab.url, contentId: "ABC00123", tls: { insecure: true } });
  assert.equal(insecure.summary.ok, insecure.summary.files);
});
