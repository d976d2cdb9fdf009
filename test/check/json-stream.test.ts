/** The streamed `--json` document stays valid JSON under back-pressure and with many files (render/check-json.ts). */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { runCheck, Tally } from "../../src/check/run.js";
import type { PackageSpec } from "../../src/check/source.js";
import { JsonStream, jsonSink } from "../../src/render/check-json.js";
import { settings } from "./helpers.js";

/** A slow sink: highWaterMark 1 byte, so every write signals back-pressure and the writer must wait for 'drain'. */
function slowWritable() {
  const chunks: string[] = [];
  let drains = 0;
  const w = new Writable({
    highWaterMark: 1,
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      setImmediate(cb);
    },
  });
  w.on("drain", () => drains++);
  return { w, text: () => chunks.join(""), drains: () => drains };
}

for (const onlyRefused of [false, true]) {
  test(`two packages, 3,000 files, onlyRefused=${onlyRefused}: one valid document`, async () => {
    const s = settings();
    const pkgs: PackageSpec[] = ["ABC00001", "ABC00002"].map((id) => ({
      id,
      contentId: id,
      root: `/x/${id}`,
      source: "folder",
    }));
    const out = slowWritable();
    const stream = new JsonStream(out.w);
    const header = {
      version: "t",
      input: { path: "/x", kind: "folder" },
      site: "Default Web Site",
      vdir: s.vdir,
      drive: s.drive,
      forms: s.forms,
      config: { origin: "o", files: [] },
      notes: [],
    };
    const sink = jsonSink(stream, header, onlyRefused);
    await sink.begin();
    const tally = new Tally(s);
    async function* walk(p: PackageSpec) {
      for (let i = 0; i < 1500; i++)
        yield { rel: `d${i % 7}/f ${i}.${i % 10 === 0 ? "ldf" : "txt"}`, abs: `${p.root}/f${i}` };
    }
    await runCheck({ packages: pkgs, walk }, s, sink, tally);
    await sink.end(tally);
    await new Promise<void>((r) => out.w.end(r));
    const doc = JSON.parse(out.text());
    assert.ok(out.drains() > 0, "back-pressure was exercised");
    assert.equal(doc.packages.length, 2);
    const expectedFiles = onlyRefused ? 150 : 1500;
    for (const p of doc.packages) assert.equal(p.files.length, expectedFiles);
    assert.equal(doc.summary.files, 3000);
    assert.equal(doc.summary.refusedFiles, 300);
    assert.equal(doc.packages[1].summary.forms.direct.refused, 150);
  });
}
