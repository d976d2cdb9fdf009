/**
 * `check --sarif` validates against the official SARIF 2.1.0 JSON schema (vendored, offline:
 * test/fixtures/sarif-schema-2.1.0.json, provenance in sarif-schema-2.1.0.README.md).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { SarifBuilder } from "../../src/render/sarif.js";
import { checkPaths, settings } from "./helpers.js";

const schemaFile = fileURLToPath(new URL("../fixtures/sarif-schema-2.1.0.json", import.meta.url));

function validator() {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Record<string, unknown>;
  // draft-04 → ajv 8 (draft-07): drop the draft-04 meta keys; the keywords used mean the same (see the README).
  delete schema.$schema;
  delete schema.id;
  // unicodeRegExp off: the schema's `language` pattern `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` is not valid with the u flag.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false });
  return ajv.compile(schema);
}

test("the vendored schema is the SARIF 2.1.0 schema", () => {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as {
    title: string;
    properties: { version: { enum: string[] } };
  };
  assert.match(schema.title, /SARIF\) Version 2\.1\.0/);
  assert.deepEqual(schema.properties.version.enum, ["2.1.0"]);
});

test("check --sarif output is valid SARIF 2.1.0: one rule per check, one result per refused file and form", async () => {
  const rels = ["blah/file.ldf", "bin/a.dll", "ok.txt", "C++/x.txt"];
  const s = settings();
  const sarif = new SarifBuilder("0.0.0-test");
  const { files, tally } = await checkPaths(rels, s);
  for (const r of files.values()) sarif.addFile(tally.packages[0].pkg, r);
  const log = sarif.toLog() as {
    runs: {
      results: { ruleId: string; properties: { form: string } }[];
      tool: { driver: { rules: { id: string }[] } };
    }[];
  };
  const validate = validator();
  const ok = validate(log);
  assert.equal(ok, true, JSON.stringify(validate.errors?.slice(0, 3)));
  const run = log.runs[0];
  const refusedPairs = [...files.values()].flatMap((r) =>
    Object.entries(r.forms).filter(([, f]) => f.verdict.status >= 400),
  ).length;
  assert.equal(run.results.length, refusedPairs);
  assert.deepEqual(
    run.tool.driver.rules.map((r) => r.id).sort(),
    [...new Set(run.results.map((r) => r.ruleId))].sort(),
  );
  assert.ok(run.results.every((r) => ["direct2007", "direct"].includes(r.properties.form)));
});

test("a broken SARIF document is rejected by the validator (the test can fail)", () => {
  const validate = validator();
  assert.equal(validate({ version: "2.1.0", runs: [{ tool: {} }] }), false);
  assert.equal(validate({ version: "2.0.0", runs: [] }), false);
  void path;
});

test("the streamed SARIF (check --sarif) is the same document as the builder's, and valid", async () => {
  const { PassThrough } = await import("node:stream");
  const { JsonStream } = await import("../../src/render/check-json.js");
  const { sarifSink } = await import("../../src/render/sarif.js");
  const rels = ["blah/file.ldf", "bin/a.dll", "ok.txt", "C++/x.txt", "db/x.mdb", "bin/y.config"];
  const { files, tally } = await checkPaths(rels, settings());
  const pkg = tally.packages[0].pkg;
  const whole = new SarifBuilder("0.0.0-test");
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const sink = sarifSink(new JsonStream(out), "0.0.0-test");
  await sink.begin();
  for (const r of files.values()) {
    whole.addFile(pkg, r);
    await sink.file(pkg, r);
  }
  await sink.end();
  const streamed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
    runs: {
      results: { ruleId: string; ruleIndex: number }[];
      tool: { driver: { rules: { id: string }[] } };
    }[];
  };
  assert.deepEqual(streamed, whole.toLog());
  const validate = validator();
  assert.equal(validate(streamed), true, JSON.stringify(validate.errors?.slice(0, 3)));
  const run = streamed.runs[0];
  assert.ok(run.results.length >= 6);
  for (const r of run.results) assert.equal(run.tool.driver.rules[r.ruleIndex]?.id, r.ruleId);
});
