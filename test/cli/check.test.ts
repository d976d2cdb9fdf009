/** `dpdoctor check` end to end: exit codes 0/1/2, JSON shape (the contract `fix --from` reads), forms, SARIF. */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { tempDir, writeTree } from "../check/helpers.js";
import { runCli } from "../helpers/cli.js";

describe("dpdoctor check", () => {
  const seed = path.join(tempDir("cli"), "ABC00123");
  writeTree(seed, ["blah/file.ldf", "setup.exe", "Program Files/a b.txt"]);
  const clean = path.join(tempDir("cli-ok"), "ABC00124");
  writeTree(clean, ["setup.exe", "x86/MigApp.xml"]);

  test("seed package: exit 1, grouped by cause with the config line and the fix; client form OK", () => {
    const r = runCli(["check", seed]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /404\.7 fileExtensions/);
    assert.match(
      r.stdout,
      /config: .*applicationHost\.config:\d+:\d+ +<add fileExtension="\.ldf" allowed="false" \/>/,
    );
    assert.match(
      r.stdout,
      /fix: %windir%\\system32\\inetsrv\\appcmd\.exe set config "Default Web Site\/SMS_DP_SMSPKG\$" .*\/-"fileExtensions\.\[fileExtension='\.ldf'\]"/,
    );
    assert.match(r.stdout, /client form: 3 files OK/);
    assert.match(r.stdout, /direct form: 1 refused \(404\.7 \.ldf\), 2 OK/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour when not a TTY");
  });

  test("--json: streamed document with site, vdir, config origin, per-file forms and reasons", () => {
    const r = runCli(["check", seed, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.site, "Default Web Site");
    assert.equal(doc.vdir, "SMS_DP_SMSPKG$");
    assert.match(doc.config.origin, /aspnet/);
    assert.equal(doc.packages.length, 1);
    const pkg = doc.packages[0];
    assert.equal(pkg.id, "ABC00123");
    assert.deepEqual(
      pkg.files.map((f: { path: string }) => f.path),
      ["setup.exe", "Program Files/a b.txt", "blah/file.ldf"], // a folder's files, then its subfolders, by name
    );
    const ldf = pkg.files[2];
    assert.equal(ldf.forms.direct2007.url, "/SMS_DP_SMSPKGC$/ABC00123/blah/file.ldf");
    assert.deepEqual(ldf.forms.direct.verdict, { status: 404, substatus: 7, layer: "request-filtering" });
    assert.equal(ldf.forms.direct.reasons[0].check, "fileExtensions");
    assert.equal(typeof ldf.forms.direct.reasons[0].source.line, "number");
    assert.equal(ldf.forms.client.verdict.status, 200);
    assert.equal(pkg.files[1].forms.direct.url, "/SMS_DP_SMSPKG$/ABC00123/Program%20Files/a%20b.txt");
    assert.equal(doc.summary.refusedFiles, 1);
    assert.equal(doc.summary.causes[0].check, "fileExtensions");
    assert.ok(doc.summary.causes[0].fixes.length >= 1);
    assert.equal(pkg.summary.forms.client.ok, 3);
  });

  test("--json --only-refused lists only refused files; --form client alone → exit 0", () => {
    const r = runCli(["check", seed, "--json", "--only-refused"]);
    assert.deepEqual(
      JSON.parse(r.stdout).packages[0].files.map((f: { path: string }) => f.path),
      ["blah/file.ldf"],
    );
    const c = runCli(["check", seed, "--form", "client", "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout).forms, ["client"]);
  });

  test("clean package: exit 0; --drive picks the 2007 vdir", () => {
    const r = runCli(["check", clean, "--drive", "E", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      JSON.parse(r.stdout).packages[0].files[0].forms.direct2007.url,
      "/SMS_DP_SMSPKGE$/ABC00124/setup.exe",
    );
  });

  test("--sarif prints SARIF 2.1.0", () => {
    const r = runCli(["check", seed, "--sarif"]);
    assert.equal(r.code, 1);
    const log = JSON.parse(r.stdout);
    assert.equal(log.version, "2.1.0");
    assert.equal(log.runs[0].results.length, 2); // .ldf in the 2007 and direct forms
  });

  test("usage and input errors: exit 2, one line, no stack trace", () => {
    for (const args of [
      ["check", "/no/such/folder"],
      ["check", seed, "--form", "ftp"],
      ["check", seed, "--json", "--sarif"],
      ["check", seed, "--only-refused"],
      ["check", seed, "--config", "/no/such/applicationHost.config"],
      [
        "check",
        seed,
        "--site",
        "No Such Site",
        "--config",
        path.join(
          import.meta.dirname,
          "../../../shared/corpus/iis-config/apphost-iis10-aspnet-asp-verbdeny.config",
        ),
      ],
    ]) {
      const r = runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^dpdoctor: /);
      assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
    }
  });
});

describe("dpdoctor check on a content library", () => {
  test("detected; --package selects; a broken PkgLib INI is a positioned warning and the rest is checked", async () => {
    const { writeLibrary } = await import("../check/helpers.js");
    const { writeFileSync } = await import("node:fs");
    const lib = path.join(tempDir("cli-lib"), "SCCMContentLib");
    writeLibrary(lib, {
      ABC00123: { enc: "utf16le", contents: { "ABC00123.1": ["blah/file.ldf", "setup.exe"] } },
      ABC00124: { enc: "ansi", contents: { "ABC00124.1": ["ok.txt"] } },
    });
    writeFileSync(path.join(lib, "PkgLib", "ABC00124.INI"), "[Packages\r\n");
    const r = runCli(["check", lib, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.input.kind, "content-library");
    assert.deepEqual(
      doc.packages.map((p: { id: string; libraryContentId: string }) => [p.id, p.libraryContentId]),
      [
        ["ABC00123", "ABC00123.1"],
        ["ABC00124", "ABC00124.1"],
      ],
    );
    assert.equal(
      doc.packages[0].files.find((f: { path: string }) => f.path === "blah/file.ldf").forms.direct.verdict
        .substatus,
      7,
    );
    assert.ok(
      doc.warnings.some(
        (w: { file: string; line: number }) => w.file.endsWith("ABC00124.INI") && w.line === 1,
      ),
    );
    const one = runCli(["check", lib, "--package", "abc00124"]);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /ABC00124\.INI:1:1: section header without '\]'/);
    assert.equal(runCli(["check", lib, "--package", "NOPE0001"]).code, 2);
  });
});

test("a library of many packages lists the refused ones and counts the rest, with an all-packages line per form", async () => {
  const { writeLibrary } = await import("../check/helpers.js");
  const lib = path.join(tempDir("cli-many"), "SCCMContentLib");
  const pkgs: Parameters<typeof writeLibrary>[1] = {};
  for (let i = 0; i < 25; i++) {
    const id = `ABC${i.toString(16).toUpperCase().padStart(5, "0")}`;
    pkgs[id] = {
      enc: "ansi",
      contents: { [`${id}.1`]: i === 3 ? ["setup.exe", "sub/x.mdb"] : ["setup.exe"] },
    };
  }
  writeLibrary(lib, pkgs);
  const r = runCli(["check", lib, "--form", "direct,client"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    /ABC00003 \(ABC00003\.1\) REFUSED: 2 files; direct form: 1 refused \(404\.7 \.mdb\), 1 OK; client form: 2 files OK/,
  );
  assert.match(r.stdout, /24 more packages OK \(not listed/);
  assert.match(
    r.stdout,
    /all packages: direct form: 1 refused \(404\.7 \.mdb\), 25 OK; client form: 26 files OK/,
  );
});

test("content library: the 2007 form is off by default (no content library on 2007 DPs), --form all adds it", async () => {
  const { writeLibrary } = await import("../check/helpers.js");
  const lib = path.join(tempDir("cli-2007"), "SCCMContentLib");
  writeLibrary(lib, { ABC00123: { enc: "ansi", contents: { "ABC00123.1": ["a.txt"] } } });
  assert.deepEqual(JSON.parse(runCli(["check", lib, "--json"]).stdout).forms, ["direct", "client"]);
  assert.deepEqual(JSON.parse(runCli(["check", lib, "--json", "--form", "all"]).stdout).forms, [
    "direct2007",
    "direct",
    "client",
  ]);
});

for (const format of ["--json", "--sarif"])
  test(`${format} into a reader that goes away (| head): quiet stop, no internal error`, async () => {
    const { spawn } = await import("node:child_process");
    const { root } = await import("../helpers/cli.js");
    const big = path.join(tempDir("cli-epipe"), "ABC00125");
    // every file refused in two forms, so --sarif has results to stream too
    writeTree(
      big,
      Array.from(
        { length: 3000 },
        (_, i) => `d${i % 10}/file number ${i}.${format === "--json" ? "txt" : "mdb"}`,
      ),
    );
    const child = spawn(process.execPath, ["--import", "tsx", `${root}src/cli.ts`, "check", big, format], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    assert.ok(code === 0 || code === 1, `exit ${code}: ${stderr}`);
    assert.doesNotMatch(stderr, /internal error|EPIPE|\bat .*\.ts:\d+/);
  });
