/** formatCount prints what toLocaleString("en-US") prints for counts, without loading ICU (property test). */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { formatCount } from "../../src/render/number.js";

test("formatCount(n) === n.toLocaleString('en-US') for every safe integer", () => {
  for (const n of [0, 7, 999, 1000, 1234, 12345, 999999, 1000000, -1, -1234, Number.MAX_SAFE_INTEGER])
    assert.equal(formatCount(n), n.toLocaleString("en-US"), String(n));
  fc.assert(
    fc.property(fc.maxSafeInteger(), (n) => formatCount(n) === n.toLocaleString("en-US")),
    { numRuns: 2000 },
  );
});
