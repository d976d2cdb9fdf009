/** Gathering artifacts: big logs, configs found in folders, package folders (DataLib layout, spec §3.3). */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { findAppHostConfigs, gather, listPackage } from "../../src/diagnose/ingest.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("a W3C log of 150,000 lines is gathered whole (no call-stack overflow on append)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-ingest-"));
  try {
    const head =
      "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2024-03-05 00:00:00\r\n#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip sc-status sc-substatus sc-win32-status\r\n";
    const line = "2024-03-05 09:14:03 GET /SMS_DP_SMSPKG$/ABC00001/a.cab - 10.0.1.50 206 0 0\r\n";
    writeFileSync(path.join(dir, "u_ex240305.log"), head + line.repeat(150_000));
    const g = gather({ paths: [dir] });
    assert.deepEqual(g.unreadable, []);
    assert.equal(g.w3c.length, 150_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("applicationHost.config is found in collected folders (case-insensitive name)", () => {
  const found = findAppHostConfigs([path.join(root, "examples", "seed")]);
  assert.deepEqual(
    found.map((f) => path.basename(f)),
    ["applicationHost.config"],
  );
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-ingest-"));
  try {
    mkdirSync(path.join(dir, "a"));
    writeFileSync(path.join(dir, "a", "APPLICATIONHOST.CONFIG"), "<configuration/>");
    assert.equal(findAppHostConfigs([dir]).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("DataLib\\<ContentID> folder: every file is <name>.INI → the package's relative paths (§3.3)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-ingest-"));
  try {
    const content = path.join(dir, "SCCMContentLib", "DataLib", "ABC00123.1");
    mkdirSync(path.join(content, "blah"), { recursive: true });
    writeFileSync(path.join(content, "blah", "file.ldf.INI"), "[File]\r\nHash=AB\r\nSize=1\r\n");
    writeFileSync(path.join(content, "setup.exe.INI"), "[File]\r\nHash=CD\r\nSize=1\r\n");
    const pkg = listPackage(content);
    assert.equal(pkg.contentId, "ABC00123.1");
    assert.deepEqual(pkg.files, ["blah/file.ldf", "setup.exe"]);
    // a plain package folder keeps its names
    assert.deepEqual(
      listPackage(path.join(root, "test", "fixtures", "diagnose", "package", "ABC00123")).files,
      ["blah/file.ldf", "blah/setup.exe"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing package folder is an input error naming it", () => {
  assert.throws(() => listPackage(path.join(root, "no-such-package")), /package folder not found/);
});
