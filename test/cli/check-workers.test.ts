/** `dpdoctor check --workers N`: worker threads change nothing in the output (src/check/parallel.ts). */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { tempDir, writeTree } from "../check/helpers.js";
import { runCli } from "../helpers/cli.js";

describe("dpdoctor check --workers", () => {
  const root = path.join(tempDir("cli-workers"), "ABC00123");
  const files: string[] = ["setup.exe", "blah/file.ldf"];
  for (const top of ["bin", "Drivers", "Program Files", "x86"])
    for (let i = 0; i < 20; i++)
      files.push(`${top}/d${i % 4}/f ${i}.${["txt", "mdb", "exe", "resx"][i % 4]}`);
  writeTree(root, files);

  for (const fmt of [[], ["--json"], ["--sarif"]])
    test(`${fmt.join(" ") || "text"}: --workers 2 (threads started at once) == --workers 1`, () => {
      const one = runCli(["check", root, ...fmt, "--workers", "1"]);
      const two = runCli(["check", root, ...fmt, "--workers", "2", "--workers-after", "0"]);
      assert.equal(one.code, 1, one.stderr);
      assert.equal(two.code, 1, two.stderr);
      assert.equal(two.stdout, one.stdout);
      assert.match(one.stdout, /mdb/);
    });

  test("--workers 0 / x: usage error, exit 2", () => {
    for (const v of ["0", "1.5"]) {
      const r = runCli(["check", root, "--workers", v]);
      assert.equal(r.code, 2, v);
      assert.match(r.stderr, /--workers .*expected a whole number from 1 to 64/);
    }
  });
});
