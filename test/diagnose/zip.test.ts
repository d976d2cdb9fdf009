/** Collected .zip archives (bonus input): entries read like files; corrupt archives reported, never a crash. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { diagnose } from "../../src/diagnose/diagnose.js";
import { gather } from "../../src/diagnose/ingest.js";
import { readZip } from "../../src/diagnose/zip.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { InputError } from "../../src/errors.js";
import { expandPaths, readArtifact, readArtifactFromBytes } from "../../src/logs/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const zipFile = path.join(root, "test", "fixtures", "diagnose", "seed-collected.zip");

test("the seed collected as one zip (deflate, made by Python zipfile) gives the same F01", () => {
  const { entries, skipped } = readZip(readFileSync(zipFile), zipFile);
  assert.deepEqual(skipped, []);
  const names = entries.map((e) => e.name).sort();
  assert.ok(names.includes("PC0233-and-DP01/dp/u_ex100621.log"));
  const seedLog = readFileSync(path.join(root, "examples", "seed", "dp", "u_ex100621.log"));
  assert.deepEqual(entries.find((e) => e.name.endsWith("u_ex100621.log"))?.bytes, seedLog);
  const report = diagnose({ ...gather({ paths: [zipFile] }), evaluate });
  const f = report.findings[0];
  assert.equal(f?.id, "F01");
  assert.match(
    f?.evidence.find((e) => e.source === "config")?.file ?? "",
    /seed-collected\.zip!\/.*applicationHost\.config$/,
  );
  // the fix command cannot edit inside a zip: it targets the DP's own applicationHost.config
  assert.match(
    f?.fix.command ?? "",
    /--config %windir%\\System32\\inetsrv\\config\\applicationHost\.config( |$)/,
  );
});

test("a truncated zip is reported as unreadable, the rest goes on", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dpdoctor-zip-"));
  try {
    const bytes = readFileSync(zipFile);
    writeFileSync(path.join(dir, "cut.zip"), bytes.subarray(0, bytes.length - 200));
    const g = gather({ paths: [dir, path.join(root, "examples", "seed", "dp")] });
    assert.equal(g.unreadable.length, 1);
    assert.match(g.unreadable[0]?.reason ?? "", /cut\.zip/);
    assert.ok(g.w3c.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("any bytes: entries, or an InputError naming the file — nothing else", () => {
  const real = readFileSync(zipFile);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }),
        fc
          .tuple(fc.integer({ min: 0, max: real.length - 1 }), fc.integer({ min: 0, max: 255 }))
          .map(([i, b]) => {
            const copy = Buffer.from(real);
            copy[i] = b;
            return copy;
          }),
      ),
      (bytes) => {
        try {
          readZip(Buffer.from(bytes), "x.zip");
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.file, "x.zip");
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("readArtifactFromBytes (zip entries) reads every seed artifact exactly like readArtifact reads the file", () => {
  const seed = path.join(root, "examples", "seed");
  const files = expandPaths([seed]);
  assert.ok(files.length >= 5, files.join(", "));
  for (const f of files) {
    const fromFile = readArtifact(f);
    const bytes = readFileSync(f);
    assert.deepEqual(readArtifactFromBytes(f, bytes), fromFile, f);
    // a gzip'd copy (as a zip of compressed logs holds them) is inflated first: same records
    assert.deepEqual(readArtifactFromBytes(f, gzipSync(bytes)), fromFile, `${f} (gzip)`);
  }
});

test("readArtifactFromBytes: a corrupt gzip entry is a positioned InputError; any other bytes never throw", () => {
  const gz = gzipSync(Buffer.from("#Software: Microsoft Internet Information Services 10.0\r\n"));
  gz[gz.length - 12] ^= 0xff;
  assert.throws(
    () => readArtifactFromBytes("c.zip!/u_ex1.log", gz),
    (e: unknown) => e instanceof InputError && e.file === "c.zip!/u_ex1.log" && /gzip/.test(e.message),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.constantFrom("a.log", "b.xml", "c.csv", "d.txt"),
      (b, n) => {
        const buf = Buffer.from(b);
        if (buf[0] === 0x1f && buf[1] === 0x8b) return; // gzip magic: covered above
        const r = readArtifactFromBytes(n, buf);
        assert.equal(r.summary.path, n);
        assert.equal(r.summary.records, r.records.length);
      },
    ),
    { numRuns: 200 },
  );
});
