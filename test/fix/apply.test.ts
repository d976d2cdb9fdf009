/**
 * Fault tests of `fix --apply`: read-only target, a simulated write failure, a rename failure, the file changed
 * between read and write → a clear error, the original untouched, the backup intact, no temp file left behind.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { InputError } from "../../src/errors.js";
import { backupPathFor, realFs, sha256, writeConfigAtomically } from "../../src/fix/atomic-write.js";
import { type FixRunOptions, runFix } from "../../src/fix/run.js";
import { dpConfig } from "./helpers.js";

const work = mkdtempSync(join(tmpdir(), "dpdoctor-fix-apply-"));
after(() => rmSync(work, { recursive: true, force: true }));

const FILE = join(work, "applicationHost.config");
const ORIGINAL = Buffer.from(dpConfig(), "utf8");
const NOW = new Date(2026, 10, 24, 9, 30, 15);

function options(): FixRunOptions {
  return {
    config: FILE,
    site: "Default Web Site",
    scope: "vdir",
    format: "diff",
    apply: true,
    allowExtension: [".ldf"],
    allowSegment: [],
    allowVerb: [],
  };
}

function leftovers(): string[] {
  return readdirSync(work).filter((f) => f.endsWith(".tmp"));
}

beforeEach(() => {
  for (const f of readdirSync(work)) rmSync(join(work, f), { force: true });
  writeFileSync(FILE, ORIGINAL);
  chmodSync(FILE, 0o644);
});

function expectInputError(fn: () => unknown, pattern: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.equal(caught.file, FILE);
  return caught;
}

describe("fix --apply: atomic write with backup", () => {
  it("writes the change, keeps a timestamped backup of the original and leaves no temp file", () => {
    const r = runFix(options(), { now: NOW });
    assert.equal(r.code, 0, r.stdout);
    const backup = `${FILE}.dpdoctor-20261124-093015.bak`;
    assert.deepEqual(readFileSync(backup), ORIGINAL);
    assert.notDeepEqual(readFileSync(FILE), ORIGINAL);
    assert.match(r.stdout, /Applied to .*backup: .*\.dpdoctor-20261124-093015\.bak/);
    assert.match(r.stdout, /no iisreset/);
    assert.deepEqual(leftovers(), []);
  });

  it("never overwrites a backup: a counter is added", () => {
    writeFileSync(`${FILE}.dpdoctor-20261124-093015.bak`, "older backup");
    assert.equal(backupPathFor(FILE, NOW), `${FILE}.dpdoctor-20261124-093015-1.bak`);
    runFix(options(), { now: NOW });
    assert.equal(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`, "utf8"), "older backup");
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015-1.bak`), ORIGINAL);
  });

  it("a read-only target: clear error, nothing written, no backup", () => {
    chmodSync(FILE, 0o444);
    expectInputError(() => runFix(options(), { now: NOW }), /read-only/);
    assert.deepEqual(readFileSync(FILE), ORIGINAL);
    assert.deepEqual(
      readdirSync(work).filter((f) => f.includes(".dpdoctor-")),
      [],
    );
  });

  it("a write failure (disk full): the original untouched, the backup intact, the temp file removed", () => {
    const fs = {
      ...realFs,
      writeSync: () => {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      },
    };
    const e = expectInputError(() => runFix(options(), { now: NOW, fs }), /ENOSPC.*original is untouched/);
    assert.match(e.message, /backup kept at .*\.bak/);
    assert.deepEqual(readFileSync(FILE), ORIGINAL);
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`), ORIGINAL);
    assert.deepEqual(leftovers(), []);
  });

  it("a rename failure (file locked by another process): the original untouched, no temp file", () => {
    const fs = {
      ...realFs,
      renameSync: () => {
        throw Object.assign(new Error("EBUSY: resource busy or locked, rename"), { code: "EBUSY" });
      },
    };
    expectInputError(() => runFix(options(), { now: NOW, fs }), /EBUSY/);
    assert.deepEqual(readFileSync(FILE), ORIGINAL);
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`), ORIGINAL);
    assert.deepEqual(leftovers(), []);
  });

  it("the file changed between read and write: refused, the other edit kept, nothing of ours written", () => {
    const concurrent = Buffer.concat([ORIGINAL, Buffer.from("<!-- edited by IIS Manager -->\r\n")]);
    expectInputError(
      () => runFix(options(), { now: NOW, beforeWrite: () => writeFileSync(FILE, concurrent) }),
      /changed since dpdoctor read it/,
    );
    assert.deepEqual(readFileSync(FILE), concurrent);
    assert.deepEqual(leftovers(), []);
  });

  it("the file changed after the backup, just before the rename: refused, backup intact", () => {
    const concurrent = Buffer.from("<configuration />");
    const fs = {
      ...realFs,
      fsyncSync: (fd: number) => {
        realFs.fsyncSync(fd);
        writeFileSync(FILE, concurrent);
      },
    };
    expectInputError(
      () => writeConfigAtomically(FILE, Buffer.from("new"), sha256(ORIGINAL), { fs, now: NOW }),
      /changed/,
    );
    assert.deepEqual(readFileSync(FILE), concurrent);
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`), ORIGINAL);
    assert.deepEqual(leftovers(), []);
  });

  it("a dry run writes nothing at all", () => {
    const r = runFix({ ...options(), apply: false }, { now: NOW });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Dry run: nothing was written/);
    assert.deepEqual(readFileSync(FILE), ORIGINAL);
    assert.deepEqual(readdirSync(work), ["applicationHost.config"]);
  });

  it("keeps a UTF-8 BOM and CRLF byte for byte", () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ORIGINAL]);
    writeFileSync(FILE, withBom);
    runFix(options(), { now: NOW });
    const written = readFileSync(FILE);
    assert.deepEqual(written.subarray(0, 3), Buffer.from([0xef, 0xbb, 0xbf]));
    const text = written.subarray(3).toString("utf8");
    assert.equal(text.replace(/\r\n/g, "").includes("\n"), false, "no bare LF introduced");
  });

  it("keeps a UTF-16LE file UTF-16LE with its BOM", () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(dpConfig(), "utf16le")]);
    writeFileSync(FILE, utf16);
    const r = runFix(options(), { now: NOW });
    assert.equal(r.code, 0, r.stdout);
    const written = readFileSync(FILE);
    assert.deepEqual(written.subarray(0, 2), Buffer.from([0xff, 0xfe]));
    const text = written.subarray(2).toString("utf16le");
    assert.ok(text.startsWith(dpConfig().slice(0, 200)));
    assert.match(text, /<remove fileExtension="\.ldf" \/>/);
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`), utf16);
  });

  it("the file read back differs from what was written: reported, left alone, backup intact", () => {
    let renamed = false;
    const other = Buffer.from("<configuration><!-- someone else --></configuration>");
    const fs = {
      ...realFs,
      renameSync: (a: string, b: string) => {
        realFs.renameSync(a, b);
        renamed = true;
      },
      readFileSync: (p: string) => (renamed && p === FILE ? other : realFs.readFileSync(p)),
    };
    expectInputError(() => runFix(options(), { now: NOW, fs }), /read back differs/);
    assert.deepEqual(readFileSync(`${FILE}.dpdoctor-20261124-093015.bak`), ORIGINAL);
    assert.deepEqual(leftovers(), []);
  });
});
