/**
 * `check --json`'s file entries (src/render/check-json.ts fileJsonText) are JSON.stringify(fileJson(r)) byte for
 * byte — memo-shared verdicts (frozen reasons, whose text is kept) and fresh ones, hidden facts, every form, names with
 * escapes, '+', non-ASCII characters, quotes and backslashes — over random trees on several configurations.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { fileJson, fileJsonText } from "../../src/render/check-json.js";
import { checkPaths, corpus, settings } from "./helpers.js";

const configs = [
  settings(),
  settings({ profile: "iis" }),
  settings({ config: path.join(corpus, "iis-config/apphost-iis10-aspnet-asp-verbdeny.config") }),
];
const segment = fc.constantFrom(
  "setup.exe",
  "a b.msi",
  "db.mdb",
  "x.ldf",
  "bin",
  "App_Data",
  "C++",
  "résumé.txt",
  'q"uote.txt',
  "back\\slash.txt",
  "50%.cab",
  "noext",
  "a.b.c",
  "web.config",
);
const rel = fc.array(segment, { minLength: 1, maxLength: 4 }).map((xs) => xs.join("/"));

test("fileJsonText(r) === JSON.stringify(fileJson(r)) for every file result, twice (kept texts reused)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(rel, { minLength: 1, maxLength: 20 }),
      fc.nat(configs.length - 1),
      fc.boolean(),
      async (rels, k, withFacts) => {
        const facts = withFacts ? (abs: string) => ({ hidden: abs.length % 2 === 0 }) : undefined;
        for (let pass = 0; pass < 2; pass++) {
          const { files } = await checkPaths(rels, configs[k], { facts });
          assert.equal(files.size, rels.length);
          for (const r of files.values()) assert.equal(fileJsonText(r), JSON.stringify(fileJson(r)), r.path);
        }
      },
    ),
    { numRuns: 150 },
  );
});
