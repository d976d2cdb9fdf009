import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { folderServed, unsafeName } from "../../src/lab/content.js";
import { seedPackage } from "./helpers.js";

const UNSAFE = [
  "",
  ".",
  "..",
  "a/b",
  "a\\b",
  "file::$DATA",
  "C:",
  "a\u0000b",
  "a*b",
  "a?b",
  'a"b',
  "a<b",
  "a|b",
  "name.",
  "name ",
  "NUL",
  "con.txt",
  "LPT1.log",
];
const SAFE = [
  "setup.exe",
  "file.ldf",
  "bin",
  "read me.txt",
  "vc_redist+x64.exe",
  "Ω.msi",
  ".hidden",
  "a..b",
  "CONSOLE.exe",
  "nul1.txt",
];
for (const n of UNSAFE) test(`unsafe name ${JSON.stringify(n)}`, () => assert.ok(unsafeName(n)));
for (const n of SAFE)
  test(`acceptable name ${JSON.stringify(n)}`, () => assert.equal(unsafeName(n), undefined));

test("property: a name with a separator, ':' or a control character is never acceptable", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 20 }),
      fc.constantFrom("/", "\\", ":", "\u0000", "\u001f"),
      fc.string({ maxLength: 20 }),
      (a, bad, b) => {
        assert.ok(unsafeName(a + bad + b));
      },
    ),
  );
});

test("lookup compares names case-insensitively when no exact match exists (NTFS)", () => {
  const pkg = seedPackage();
  const served = folderServed(pkg.root);
  assert.equal(served.packageId, "ABC00123");
  const hit = served.lookup(["BLAH", "FILE.LDF"]);
  assert.equal(hit.kind, "found");
  assert.equal(hit.kind === "found" && hit.entry.size, pkg.files["blah/file.ldf"].length);
  assert.equal(served.lookup(["blah", "nothere"]).kind, "missing");
  assert.equal(served.lookup(["..", "secret.txt"]).kind, "unsafe");
  const all = served
    .list(Number.POSITIVE_INFINITY)
    .filter((e) => !e.isDirectory)
    .map((e) => e.rel);
  assert.deepEqual(all.sort(), Object.keys(pkg.files).sort());
});

test("a 2007 package share (SMSPKGE$ holding <PackageID> folders) serves each package", async () => {
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const path = await import("node:path");
  const { openContent, findPackage } = await import("../../src/lab/content.js");
  const pkg = seedPackage();
  const share = path.join(pkg.dir, "SMSPKGE$");
  mkdirSync(path.join(share, "ABC00124"), { recursive: true });
  mkdirSync(path.join(share, "ABC00125", "x"), { recursive: true });
  mkdirSync(path.join(share, "notapackage"), { recursive: true });
  writeFileSync(path.join(share, "ABC00124", "a.msi"), "a");
  writeFileSync(path.join(share, "ABC00125", "x", "b.msi"), "b");
  const c = openContent(share);
  assert.deepEqual(
    c.packages.map((p) => p.packageId),
    ["ABC00124", "ABC00125"],
  );
  assert.match(c.warnings[0], /package share: 2 package folder/);
  assert.equal(findPackage(c.packages, "abc00125")?.lookup(["x", "b.msi"]).kind, "found");
  assert.equal(
    openContent(share, { packageId: "SHARE001" }).packages.length,
    1,
    "--package-id serves the folder as one",
  );
});
