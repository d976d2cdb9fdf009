/**
 * `check --workers N` == one thread, byte for byte (src/check/parallel.ts, units.ts, Tally.mergePartial): the same
 * trees checked sequentially (runCheck), cut into shares merged in the main thread (threads 1: every share runs
 * here, so only the cutting and merging differ) and with a worker thread (threads 2, started at once) must give the
 * same JSON document, text report and SARIF log.
 */
import assert from "node:assert/strict";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { runCheckParallel } from "../../src/check/parallel.js";
import { runCheck, Tally } from "../../src/check/run.js";
import {
  detectInput,
  libraryPackages,
  type PackageSpec,
  walkFolders,
  walkPackage,
} from "../../src/check/source.js";
import type { UnitOutput } from "../../src/check/units.js";
import { JsonStream, jsonSink } from "../../src/render/check-json.js";
import { renderCheckText } from "../../src/render/check-text.js";
import { SarifBuilder } from "../../src/render/sarif.js";
import { settings, tempDir, writeLibrary, writeTree } from "./helpers.js";

const NAMES = [
  "setup.exe",
  "a b.txt",
  "db.mdb",
  "file.ldf",
  "x.resx",
  "vc+redist.exe",
  "naïve.txt",
  "100%41.txt",
];

/** A package with files in its root and in several top-level folders (shares), refusals of several causes. */
function folderTree(): string {
  const root = path.join(tempDir("parallel"), "ABC00123");
  const files: string[] = [...NAMES];
  for (const top of ["App_Data", "bin", "Drivers", "Program Files", "x86", "zz"])
    for (let i = 0; i < 12; i++) files.push(`${top}/sub${i % 3}/${i}-${NAMES[i % NAMES.length]}`);
  files.push("deep/a/b/c/d/e/f/g/h/i/j/k.txt");
  writeTree(root, files);
  return root;
}

/** One top folder holding everything (files and subfolders at each level): the planner cuts it 3 levels down. */
function narrowTree(): string {
  const root = path.join(tempDir("parallel-narrow"), "ABC00126");
  const files: string[] = [];
  for (const a of ["", "Win10/", "Win10/x64/", "Win10/x64/bin/", "Win10/x86/", "Win10/x86/App_Data/k/"])
    for (let i = 0; i < 4; i++) files.push(`${a}f${i}-${NAMES[(i + a.length) % NAMES.length]}`);
  writeTree(root, files);
  // links are not followed, only counted as skipped: in the root (listed by the planner) and below (by a share)
  symlinkSync(path.join(root, "f0-setup.exe"), path.join(root, "link.exe"));
  symlinkSync(path.join(root, "Win10"), path.join(root, "Win10", "x64", "loop"));
  return root;
}

/** More shares than the window of shares taken ahead of the merge (8 × threads): threads wait for the merge. */
function wideTree(): string {
  const root = path.join(tempDir("parallel-wide"), "ABC00127");
  const files: string[] = [];
  for (let t = 0; t < 40; t++)
    for (let i = 0; i < 3; i++)
      files.push(`top${String(t).padStart(2, "0")}/${i}-${NAMES[(t + i) % NAMES.length]}`);
  writeTree(root, files);
  return root;
}

function libraryTree(): string {
  const root = path.join(tempDir("parallel-lib"), "SCCMContentLib");
  writeLibrary(root, {
    ABC00123: { enc: "utf16le", contents: { "ABC00123.1": ["blah/file.ldf", "setup.exe", "bin/a.dll"] } },
    ABC00124: { enc: "ansi", contents: { "ABC00124.2": ["x/y/z.mdb", "ok.txt"] } },
    ABC00125: { enc: "utf8bom", contents: { "ABC00125.1": ["r.resx", "App_Data/q.txt", "w/x 1.txt"] } },
  });
  return root;
}

function collect(): { w: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    w: new Writable({
      write(chunk, _e, cb) {
        chunks.push(String(chunk));
        cb();
      },
    }),
    text: () => chunks.join(""),
  };
}

type Mode = "sequential" | "shares" | "worker" | "worker-small-chunks";

async function runAll(packages: PackageSpec[], mode: Mode) {
  const s = settings();
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
  const init = (output: UnitOutput) => ({
    threads: mode.startsWith("worker") ? 2 : 1,
    startAfter: 0,
    init: {
      serverOptions: { profile: "aspnet" },
      siteName: "Default Web Site",
      forms: s.forms,
      drive: s.drive,
      vdir: s.vdir,
      output,
      facts: false,
      // ~1 file per chunk: threads wait on the writer (CHUNKS_AHEAD) all the time
      chunkBytes: mode === "worker-small-chunks" ? 200 : undefined,
    },
  });
  const walkOpts = (p: PackageSpec, t: Tally) => ({
    dataLib: p.source === "content-library",
    onWarning: (w: Parameters<Tally["warn"]>[0]) => t.warn(w),
    onSkip: () => {
      t.skipped++;
    },
  });
  const out: Record<string, string> = {};
  for (const onlyRefused of [false, true]) {
    const c = collect();
    const stream = new JsonStream(c.w);
    const sink = jsonSink(stream, header, onlyRefused);
    const tally = new Tally(s);
    await sink.begin();
    if (mode === "sequential")
      await runCheck(
        {
          packages,
          walk: (p) => walkPackage(p.root, walkOpts(p, tally)),
          walkFolders: (p) => walkFolders(p.root, walkOpts(p, tally)),
        },
        s,
        sink,
        tally,
      );
    else await runCheckParallel({ packages }, s, sink, tally, init(onlyRefused ? "json-refused" : "json"));
    await sink.end(tally);
    out[`json onlyRefused=${onlyRefused}`] = c.text();
    out[`text onlyRefused=${onlyRefused}`] = renderCheckText(tally, {
      inputPath: "/x",
      inputKind: "package source folder",
      site: "Default Web Site",
      configOrigin: "o",
      forms: s.forms,
      formVdirs: { direct2007: "SMS_DP_SMSPKGC$", direct: s.vdir, client: s.vdir },
      notes: [],
      color: false,
    });
  }
  const sarif = new SarifBuilder("t");
  const sarifSink = {
    packageStart: (pkg: PackageSpec, checks: Parameters<SarifBuilder["addPackageCheck"]>[1][]) => {
      for (const c of checks) sarif.addPackageCheck(pkg, c);
    },
    file: (pkg: PackageSpec, r: Parameters<SarifBuilder["addFile"]>[1]) => sarif.addFile(pkg, r),
  };
  const t = new Tally(s);
  if (mode === "sequential")
    await runCheck(
      {
        packages,
        walk: (p) => walkPackage(p.root, walkOpts(p, t)),
        walkFolders: (p) => walkFolders(p.root, walkOpts(p, t)),
      },
      s,
      sarifSink,
      t,
    );
  else await runCheckParallel({ packages }, s, sarifSink, t, init("refused"));
  out.sarif = JSON.stringify(sarif.toLog());
  return out;
}

describe("check in shares / with a worker thread == one thread", () => {
  const folder = folderTree();
  const lib = libraryTree();
  const input = detectInput(lib);
  const libPackages = libraryPackages(
    { root: lib, pkgLib: input.pkgLib as string, dataLib: input.dataLib as string },
    [],
  ).packages;
  const folderPackages: PackageSpec[] = [
    { id: "ABC00123", contentId: "ABC00123", root: folder, source: "folder" },
  ];

  const narrow = narrowTree();
  const narrowPackages: PackageSpec[] = [
    { id: "ABC00126", contentId: "ABC00126", root: narrow, source: "folder" },
  ];
  const wide = wideTree();
  const widePackages: PackageSpec[] = [
    { id: "ABC00127", contentId: "ABC00127", root: wide, source: "folder" },
  ];
  for (const [name, packages] of [
    ["package folder", folderPackages],
    ["package of 41 shares (more than the window ahead of the merge)", widePackages],
    ["package with one top folder (cut 3 levels down)", narrowPackages],
    ["content library (3 packages)", libPackages],
  ] as const)
    test(`${name}: JSON (all / only refused), text and SARIF identical`, async () => {
      const seq = await runAll([...packages], "sequential");
      const doc = JSON.parse(seq["json onlyRefused=false"]);
      assert.ok(
        doc.summary.refusedFiles > 0 && doc.summary.files > doc.summary.refusedFiles,
        "tree mixes both",
      );
      if (name.startsWith("package with one"))
        assert.equal(doc.summary.skipped, 2, "both links counted once");
      const shares = await runAll([...packages], "shares");
      for (const k of Object.keys(seq)) assert.equal(shares[k], seq[k], `shares: ${k}`);
      for (const mode of ["worker", "worker-small-chunks"] as const) {
        const worker = await runAll([...packages], mode);
        for (const k of Object.keys(seq)) assert.equal(worker[k], seq[k], `${mode}: ${k}`);
      }
    });
});

describe("runCheck's pause between folders (the main thread's share while worker threads run)", () => {
  test("called after each folder with files; a promise it returns is awaited, so the event loop runs", async () => {
    const root = wideTree();
    const s = settings();
    const tally = new Tally(s);
    const opts = { dataLib: false, onWarning: () => {} };
    let pauses = 0;
    let immediates = 0;
    let filesAtPause = -1;
    const sawImmediate: boolean[] = [];
    await runCheck(
      {
        packages: [{ id: "ABC00127", contentId: "ABC00127", root, source: "folder" }],
        walk: (p) => walkPackage(p.root, opts),
        walkFolders: (p) => walkFolders(p.root, opts),
        pause: () => {
          pauses++;
          assert.ok(tally.files > filesAtPause, "one pause per folder, after its files");
          filesAtPause = tally.files;
          const before = immediates;
          setImmediate(() => {
            immediates++;
          });
          // every other folder: yield to the event loop (checking goes on only after the macrotask ran)
          if (pauses % 2 === 1) return undefined;
          return new Promise<void>((resolve) =>
            setImmediate(() => {
              sawImmediate.push(immediates > before);
              resolve();
            }),
          );
        },
      },
      s,
      {},
      tally,
    );
    assert.equal(pauses, 40);
    assert.equal(tally.files, 120);
    assert.deepEqual(sawImmediate, new Array(20).fill(true));
  });
});
