import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { MAX_RANGES, multipartPlan, parseRange } from "../../src/lab/ranges.js";

// RFC 9110 §14.1.2 / §14.2 examples on a 10000-byte file, plus the edge cases BITS meets (iis spec §10.2).
const TABLE: [string | undefined, number, string][] = [
  [undefined, 10000, "none"],
  ["bytes=0-499", 10000, "0-499"],
  ["bytes=500-999", 10000, "500-999"],
  ["bytes=-500", 10000, "9500-9999"],
  ["bytes=9500-", 10000, "9500-9999"],
  ["bytes=0-0,-1", 10000, "0-0,9999-9999"],
  ["bytes=0-99999", 10000, "0-9999"], // end clipped
  ["bytes=10000-", 10000, "unsatisfiable"],
  ["bytes=10000-10001, 20000-", 10000, "unsatisfiable"],
  ["bytes=-0", 10000, "unsatisfiable"],
  ["bytes=5-1", 10000, "none"], // invalid spec: ignore the header
  ["items=0-1", 10000, "none"],
  ["bytes=abc", 10000, "none"],
  ["bytes=", 10000, "none"],
  ["bytes=0-", 0, "unsatisfiable"],
  ["BYTES = 1-2", 10, "1-2"],
];
for (const [h, size, expect] of TABLE)
  test(`Range ${JSON.stringify(h)} on ${size} bytes → ${expect}`, () => {
    const r = parseRange(h, size);
    const got = r.kind === "ranges" ? r.ranges.map((x) => `${x.start}-${x.end}`).join(",") : r.kind;
    assert.equal(got, expect);
  });

test(`more than ${MAX_RANGES} ranges are ignored (200, no amplification)`, () => {
  const h = `bytes=${Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i}-${i}`).join(",")}`;
  assert.equal(parseRange(h, 1000).kind, "none");
});

test("multipart length equals the bytes that will be written; no preamble before the first boundary", () => {
  const p = multipartPlan(
    [
      { start: 0, end: 9 },
      { start: 20, end: 29 },
    ],
    100,
    "application/octet-stream",
    "B",
  );
  const total =
    p.parts.reduce((n, x) => n + x.head.length + x.range.end - x.range.start + 1, 0) + p.tail.length;
  assert.equal(p.length, total);
  assert.ok(p.parts[0].head.toString().startsWith("--B\r\n"));
  // BITS [S31]: at most 180 bytes of part headers and 2 CR/LFs before the data of a part
  for (const part of p.parts) {
    const afterBoundary = part.head.toString().split("--B\r\n")[1];
    assert.ok(afterBoundary.length <= 180, `${afterBoundary.length} bytes of part headers`);
  }
});

test("property: any header → satisfiable ranges stay inside the file", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.nat(5000), (s, size) => {
      for (const h of [s, `bytes=${s}`]) {
        const r = parseRange(h, size);
        if (r.kind === "ranges")
          for (const x of r.ranges)
            assert.ok(x.start >= 0 && x.start <= x.end && x.end < size, `${h} ${size}`);
      }
    }),
  );
});
