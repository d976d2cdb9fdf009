/**
 * Property tests: the splice editor on generated applicationHost.config shapes (indentation, EOL, existing location
 * or not, random extensions/segments), the unified diff on random line edits, and the findings reader on arbitrary
 * input (never anything but a positioned InputError).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InputError } from "../../src/errors.js";
import { unifiedDiff } from "../../src/fix/diff.js";
import { jsonErrorOffset, readFindings } from "../../src/fix/findings.js";
import { code, decide, insertionPoint, load, plan } from "./helpers.js";

/** A small but complete applicationHost.config in a given style. */
function config(o: {
  eol: string;
  unit: string;
  exts: string[];
  segs: string[];
  location: boolean;
  comment: boolean;
}) {
  const { eol, unit } = o;
  const i = (n: number) => unit.repeat(n);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<configuration>",
    ...(o.comment ? [`${i(1)}<!-- keep me: attribute order b="1" a="2" -->`] : []),
    `${i(1)}<configSections>`,
    `${i(2)}<sectionGroup name="system.webServer">`,
    `${i(3)}<sectionGroup name="security">`,
    `${i(4)}<section name="requestFiltering" overrideModeDefault="Allow" />`,
    `${i(3)}</sectionGroup>`,
    `${i(3)}<section name="staticContent" overrideModeDefault="Allow" />`,
    `${i(3)}<section name="directoryBrowse" overrideModeDefault="Allow" />`,
    `${i(2)}</sectionGroup>`,
    `${i(1)}</configSections>`,
    `${i(1)}<system.applicationHost>`,
    `${i(2)}<sites>`,
    `${i(3)}<site name="Default Web Site" id="1"><application path="/"><virtualDirectory path="/" physicalPath="C:\\inetpub\\wwwroot" /><virtualDirectory path="/SMS_DP_SMSPKG$" physicalPath="D:\\SCCMContentLib" /></application></site>`,
    `${i(3)}<site name="Other" id="2"><application path="/"><virtualDirectory path="/" physicalPath="C:\\other" /></application></site>`,
    `${i(2)}</sites>`,
    `${i(1)}</system.applicationHost>`,
    `${i(1)}<system.webServer>`,
    `${i(2)}<security>`,
    `${i(3)}<requestFiltering>`,
    `${i(4)}<fileExtensions allowUnlisted="true">`,
    ...o.exts.map((e) => `${i(5)}<add fileExtension="${e}" allowed="false" />`),
    `${i(4)}</fileExtensions>`,
    `${i(4)}<hiddenSegments>`,
    ...o.segs.map((s) => `${i(5)}<add segment="${s}" />`),
    `${i(4)}</hiddenSegments>`,
    `${i(3)}</requestFiltering>`,
    `${i(2)}</security>`,
    `${i(1)}</system.webServer>`,
    ...(o.location
      ? [
          `${i(1)}<location path="Default Web Site/SMS_DP_SMSPKG$">`,
          `${i(2)}<system.webServer>`,
          `${i(3)}<directoryBrowse enabled="false" />`,
          `${i(2)}</system.webServer>`,
          `${i(1)}</location>`,
        ]
      : []),
    "</configuration>",
    "",
  ];
  return lines.join(eol);
}

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);

describe("fix splice editor (property)", () => {
  it("inserts one block, keeps every other byte, lifts exactly the asked rules, is idempotent", () => {
    fc.assert(
      fc.property(
        fc.record({
          eol: fc.constantFrom("\n", "\r\n"),
          unit: fc.constantFrom("  ", "    ", "\t"),
          exts: fc.uniqueArray(name, { minLength: 1, maxLength: 4 }).map((a) => a.map((x) => `.${x}`)),
          segs: fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
          location: fc.boolean(),
          comment: fc.boolean(),
        }),
        fc.nat(),
        (o, pick) => {
          const cfg = config(o);
          const ext = o.exts[pick % o.exts.length] as string;
          const seg = o.segs[pick % o.segs.length] as string;
          const before = load(cfg);
          const fileUrl = `/SMS_DP_SMSPKG$/ABC-00123/sub-dir/file${ext}`; // "-" never occurs in a generated name
          const segUrl = `/SMS_DP_SMSPKG$/ABC-00123/${seg}/x.txt`;
          assert.equal(code(decide(before, fileUrl)), "404.7");
          const r = plan(cfg, [
            { kind: "allowExtension", extension: ext.toUpperCase() },
            { kind: "allowSegment", segment: seg },
          ]);
          const at = insertionPoint(cfg, r.newText);
          assert.ok(at > 0, "exactly one inserted block");
          const inserted = r.newText.slice(at, at + r.newText.length - cfg.length);
          if (o.eol === "\r\n") assert.equal(inserted.replace(/\r\n/g, "").includes("\n"), false);
          else assert.equal(inserted.includes("\r"), false);
          const after = load(r.newText);
          assert.notEqual(decide(after, fileUrl).reasons[0]?.check, "fileExtensions");
          assert.equal(
            decide(after, segUrl).reasons.some((x) => x.check === "hiddenSegments"),
            false,
          );
          // other extensions, other sites and the site root keep their verdicts
          for (const e of o.exts.filter((x) => x !== ext))
            assert.equal(
              code(decide(after, `/SMS_DP_SMSPKG$/ABC-00123/f${e}`)),
              code(decide(before, `/SMS_DP_SMSPKG$/ABC-00123/f${e}`)),
            );
          assert.equal(
            code(decide(after, fileUrl, "HEAD", "Other")),
            code(decide(before, fileUrl, "HEAD", "Other")),
          );
          assert.equal(
            code(decide(after, `/sub-dir/file${ext}`)),
            code(decide(before, `/sub-dir/file${ext}`)),
          );
          assert.equal(plan(r.newText, [{ kind: "allowExtension", extension: ext }]).changed, false);
          if (o.location)
            assert.equal((r.newText.match(/<location /g) ?? []).length, 1, "reuses the location");
        },
      ),
      { numRuns: 40 },
    );
  });
});

/** Rebuild both sides from a unified diff (no hunk may lose or invent a line). */
function sides(diff: string, oldText: string, newText: string): void {
  const a = oldText.split(/(?<=\n)/);
  const b = newText.split(/(?<=\n)/);
  const body = diff.split(/(?<=\n)/).slice(2);
  let k = 0;
  while (k < body.length) {
    const m = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@\n$/.exec(body[k] as string);
    assert.ok(m, `hunk header expected, got ${JSON.stringify(body[k])}`);
    let aLine = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    let bLine = Number(m[4]) === 0 ? Number(m[3]) : Number(m[3]) - 1;
    let aLeft = Number(m[2]);
    let bLeft = Number(m[4]);
    k++;
    while (aLeft > 0 || bLeft > 0) {
      const l = body[k++] as string;
      const text = l.slice(1);
      const noNl = body[k] === "\\ No newline at end of file\n";
      if (noNl) k++;
      const line = noNl ? text.replace(/\n$/, "") : text;
      if (l[0] === " " || l[0] === "-") {
        assert.equal(a[aLine], line);
        aLine++;
        aLeft--;
      }
      if (l[0] === " " || l[0] === "+") {
        assert.equal(b[bLine], line);
        bLine++;
        bLeft--;
      }
    }
  }
}

describe("unified diff (property)", () => {
  it("every hunk line matches the old or new file at the stated position", () => {
    const line = fc.constantFrom("a\n", "b\n", "c\r\n", "<x/>\n", "\n");
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 30 }),
        fc.array(line, { maxLength: 30 }),
        fc.boolean(),
        (a, b, cut) => {
          const oldText = a.join("");
          let newText = b.join("");
          if (cut && newText.endsWith("\n")) newText = newText.slice(0, -1);
          const d = unifiedDiff(oldText, newText, "a", "b");
          if (oldText === newText) assert.equal(d, "");
          else sides(d, oldText, newText);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("findings reader (fuzz)", () => {
  it("any input yields requests or a positioned InputError, never a crash", () => {
    const json = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .array(
          fc.record({
            method: fc.oneof(fc.constantFrom("HEAD", "GET"), fc.integer()),
            url: fc.oneof(fc.string(), fc.constant("http://dp:80/SMS_DP_SMSPKG$/A/b.ldf"), fc.constant(null)),
            status: fc.integer(),
          }),
        )
        .map((refusals) => JSON.stringify({ findings: [{ id: "F01", refusals }, null, 3] })),
    );
    fc.assert(
      fc.property(json, (text) => {
        try {
          const f = readFindings(text, "f.json");
          for (const r of f.requests) {
            assert.equal(typeof r.method, "string");
            assert.ok(r.target.startsWith("/"));
          }
        } catch (e) {
          assert.ok(e instanceof InputError, String(e));
          assert.equal(e.file, "f.json");
          assert.ok((e.line ?? 0) >= 1 && (e.column ?? 0) >= 1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("reads diagnose and check shapes", () => {
    const d = readFindings(
      JSON.stringify({
        findings: [
          {
            refusals: [
              { method: "HEAD", url: "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", status: 404, substatus: 7 },
            ],
          },
        ],
      }),
      "d.json",
    );
    assert.deepEqual(
      d.requests.map((r) => [r.method, r.target, r.reported]),
      [["HEAD", "/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf", "404.7"]],
    );
    const c = readFindings(
      JSON.stringify({
        packages: [
          {
            id: "ABC00123",
            files: [
              {
                path: "blah/file.ldf",
                forms: {
                  direct: {
                    url: "http://dp/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf",
                    verdict: { status: 404, substatus: 7 },
                  },
                },
              },
            ],
          },
        ],
      }),
      "c.json",
    );
    assert.deepEqual(
      c.requests.map((r) => [r.target, r.reported]),
      [["/SMS_DP_SMSPKG$/ABC00123/blah/file.ldf", "404.7"]],
    );
  });

  it("the JSON error locator agrees with JSON.parse on validity", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.json().map((j) => j.slice(0, -1)),
        ),
        (t) => {
          let valid = true;
          try {
            JSON.parse(t);
          } catch {
            valid = false;
          }
          assert.equal(jsonErrorOffset(t) === -1, valid, JSON.stringify(t));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("bad JSON names file:line:column", () => {
    assert.throws(
      () => readFindings('{\n  "findings": [\n    oops\n  ]\n}', "bad.json"),
      (e: unknown) => e instanceof InputError && e.line === 3 && e.column === 5,
    );
  });
});
