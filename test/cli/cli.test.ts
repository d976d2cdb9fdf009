import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";

test("--version prints the package version", () => {
  const r = runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

test("--help lists every command", () => {
  const r = runCli(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["url", "check", "logs", "diagnose", "fix", "probe", "lab"])
    assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

test("an unknown option is a usage error (exit 2) without a stack trace", () => {
  const r = runCli(["--no-such-option"]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
});

test("commandOf: the command is the first word after dpdoctor's own options; anything else loads every command", async () => {
  const { commandOf } = await import("../../src/cli.js");
  const rows: [string[], string | undefined][] = [
    [["logs", "x.log"], "logs"],
    [["--no-color", "check", "dir"], "check"],
    [["lab", "seed"], "lab"],
    [["--help"], undefined],
    [["help", "logs"], undefined], // commander's help command: every command registered, so help can list them
    [["nosuch"], undefined],
    [[], undefined],
  ];
  for (const [args, want] of rows)
    assert.equal(commandOf(["node", "dpdoctor", ...args]), want, args.join(" "));
});

test("a command's help is the same whether it is loaded alone or with every command", async () => {
  const { buildProgram } = await import("../../src/cli.js");
  const alone = await buildProgram("logs");
  const all = await buildProgram();
  const helpOf = (p: Awaited<ReturnType<typeof buildProgram>>) =>
    p.commands.find((c) => c.name() === "logs")?.helpInformation();
  assert.ok(helpOf(alone));
  assert.equal(helpOf(alone), helpOf(all));
  assert.deepEqual(
    all.commands.map((c) => c.name()),
    ["url", "check", "logs", "diagnose", "fix", "probe", "lab"],
  );
});

test("an unknown command is a usage error naming it", () => {
  const r = runCli(["nosuch"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'nosuch'/);
});
