/**
 * The XML element tree: spans, encodings (BOM / UTF-16LE / CRLF), positioned errors, and fuzzing (fast-check):
 * random mutations/truncations of a corpus config never make the parser or the loader throw anything but
 * InputError, and effective() never throws on random paths.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { loadServerFromText } from "../../src/config/load.js";
import { attr, decodeXmlBytes, encodeXmlText, parseXmlBytes, parseXmlText } from "../../src/config/xml.js";
import { InputError } from "../../src/errors.js";

const CORPUS = new URL("../../../shared/corpus/iis-config/", import.meta.url);
const SAMPLE = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- a comment with <add> inside -->\r\n<configuration>\r\n  <location path="Default Web Site/SMS_DP_SMSPKG$">\r\n    <x><![CDATA[ <not-an-element/> ]]></x>\r\n    <add fileExtension='.ldf'   allowed = "false"/>\r\n  </location>\r\n</configuration>\r\n`;

test("spans: element, attribute name and value, end tag; BOM and CRLF kept apart", () => {
  const doc = parseXmlText(SAMPLE, "a.config");
  assert.equal(doc.bom, true);
  assert.equal(doc.eol, "\r\n");
  const loc = doc.root.children[0];
  assert.ok(loc);
  assert.equal(loc.name, "location");
  assert.equal(loc.children.length, 2, "CDATA and comments are not elements");
  const add = loc.children[1];
  assert.ok(add);
  assert.equal(add.line, 6);
  assert.equal(add.column, 5);
  assert.equal(doc.text.slice(add.start, add.end), `<add fileExtension='.ldf'   allowed = "false"/>`);
  assert.equal(add.selfClosing, true);
  const allowed = attr(add, "allowed");
  assert.ok(allowed);
  assert.equal(doc.text.slice(allowed.nameStart, allowed.nameEnd), "allowed");
  assert.equal(doc.text.slice(allowed.valueStart, allowed.valueEnd), "false");
  assert.equal(allowed.quote, '"');
  const ext = attr(add, "fileExtension");
  assert.equal(ext?.quote, "'");
  assert.equal(doc.text.slice(loc.endTagStart, loc.end), "</location>");
  assert.equal(
    doc.text.slice(loc.start, loc.startTagEnd),
    '<location path="Default Web Site/SMS_DP_SMSPKG$">',
  );
  // A splice edit + re-encode changes only the value bytes (what `fix` does).
  const edited = doc.text.slice(0, allowed.valueStart) + "true" + doc.text.slice(allowed.valueEnd);
  const bytes = Buffer.from(encodeXmlText(edited, doc.encoding, doc.bom));
  const original = Buffer.from(SAMPLE, "utf8");
  assert.equal(bytes.length, original.length - 1);
  assert.ok(bytes.toString("utf8").includes('allowed = "true"/>\r\n'));
});

test("entity values are decoded, spans still point at the raw text", () => {
  const doc = parseXmlText(`<a><add sequence="&lt;script" /></a>`, "e.config");
  const seq = attr(doc.root.children[0] as never, "sequence");
  assert.equal(seq?.value, "<script");
  assert.equal(doc.text.slice(seq?.valueStart, seq?.valueEnd), "&lt;script");
});

test("encodings: UTF-16LE with BOM, UTF-16LE without BOM, UTF-8 BOM round trip", () => {
  const text = `<configuration>\r\n  <a b="é" />\r\n</configuration>`;
  for (const [enc, bom] of [
    ["utf-16le", true],
    ["utf-16le", false],
    ["utf-8", true],
    ["utf-8", false],
    ["utf-16be", true],
  ] as const) {
    const bytes = encodeXmlText(text, enc, bom);
    const d = decodeXmlBytes(bytes);
    assert.equal(d.encoding, enc);
    assert.equal(d.bom, bom);
    assert.equal(d.text, text);
    const doc = parseXmlBytes(bytes, "u.config");
    assert.equal(doc.root.children[0]?.line, 2);
    assert.equal(attr(doc.root.children[0] as never, "b")?.value, "é");
    assert.deepEqual(Buffer.from(encodeXmlText(doc.text, doc.encoding, doc.bom)), Buffer.from(bytes));
  }
});

const MALFORMED: [string, string, number, RegExp][] = [
  ["<a>\n  <b x='1' x='2'/>\n</a>", "duplicate attribute", 2, /duplicate attribute/],
  ["<a>\n  <b>\n</a>", "mismatched end tag", 3, /close tag/],
  ["", "empty file", 1, /root element/],
  ["<a", "truncated start tag", 1, /./],
  ["<a><b c=1/></a>", "unquoted attribute", 1, /quote/],
  ["<a>&nbsp;</a>", "undefined entity", 1, /entity/],
  ["\u0000\u0001binary", "binary junk", 1, /./],
];
for (const [text, what, line, msg] of MALFORMED) {
  test(`malformed XML (${what}) → InputError file:line:col`, () => {
    assert.throws(
      () => parseXmlText(text, "bad.config"),
      (e: unknown) =>
        e instanceof InputError &&
        e.file === "bad.config" &&
        e.line === line &&
        typeof e.column === "number" &&
        msg.test(e.message) &&
        /^bad\.config:\d+:\d+: malformed XML/.test(e.format()),
    );
  });
}

test("a root element that is not configuration (or a known excerpt) is an InputError", () => {
  assert.throws(
    () => loadServerFromText({ text: "<html><body/></html>", file: "x.html" }),
    (e: unknown) =>
      e instanceof InputError && /unexpected root element <html>/.test(e.message) && e.line === 1,
  );
});

const corpusText = readFileSync(new URL("apphost-iis10-aspnet-asp-verbdeny.config", CORPUS), "utf8").slice(
  0,
  40000,
);
const webText = readFileSync(new URL("webconfig-bonobo-clear-ext-seg.config", CORPUS), "utf8");

function onlyInputErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    assert.ok(e.file, "InputError names the file");
  }
}

test("property: truncations and byte mutations of a corpus config only ever raise InputError", () => {
  fc.assert(
    fc.property(
      fc.option(fc.nat({ max: corpusText.length }), { nil: undefined }),
      fc.array(
        fc.tuple(
          fc.nat({ max: corpusText.length }),
          fc.constantFrom("<", ">", '"', "'", "/", "&", "\u0000", "", "x", "\r", "é"),
        ),
        {
          maxLength: 4,
        },
      ),
      (cut, edits) => {
        let t = cut === undefined ? corpusText : corpusText.slice(0, cut);
        for (const [at, ch] of edits) t = t.slice(0, at) + ch + t.slice(at + 1);
        onlyInputErrors(() => {
          const s = loadServerFromText({ text: t, file: "mut.config" });
          s.effective(s.defaultSiteName, "/SMS_DP_SMSPKG$/x.ldf");
        });
      },
    ),
    { numRuns: 60 },
  );
});

test("property: attribute values replaced by random strings never throw; invalid ones become ConfigErrors", () => {
  const values = [...webText.matchAll(/="([^"]*)"/g)].map((m) => m.index ?? 0);
  fc.assert(
    fc.property(fc.constantFrom(...values), fc.string({ maxLength: 12 }), (at, v) => {
      const end = webText.indexOf('"', at + 2);
      const esc = v.replace(/[&<"]/g, "x");
      const t = `${webText.slice(0, at + 2)}${esc}${webText.slice(end)}`;
      onlyInputErrors(() => {
        const s = loadServerFromText({ text: "<configuration/>", file: "host.config" }, [
          { urlPath: "/app", text: t, file: "web.config" },
        ]);
        const e = s.effective(s.defaultSiteName, "/app/x");
        for (const err of e.errors) assert.ok(err.source.line >= 1 && err.message.length > 0);
      });
    }),
    { numRuns: 80 },
  );
});

test("property: effective() never throws on random paths and is stable per prefix", () => {
  const s = loadServerFromText(
    {
      text: readFileSync(new URL("apphost-iis10-aspnet-asp-verbdeny.config", CORPUS), "utf8"),
      file: "h.config",
    },
    [{ urlPath: "/SMS_DP_SMSPKG$", text: webText, file: "w.config" }],
  );
  fc.assert(
    fc.property(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(s.defaultSiteName, "nosuchsite", ""),
      (p, site) => {
        const e = s.effective(site, p);
        assert.ok(e.requestFiltering);
        assert.equal(s.effective(site, p), e);
      },
    ),
    { numRuns: 300 },
  );
});
