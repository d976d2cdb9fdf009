/** BITS error model of spec configmgr-dp-bits.md §5.1 and §5.2, as tables copied from the spec. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  CATALOGUE,
  formatHresult,
  httpStatusOfHresult,
  isFatalForBits,
  parseHresult,
} from "../../src/diagnose/catalogue.js";

// §5.2 worked examples [S26]
const HR_EXAMPLES: [string, number][] = [
  ["0x80190191", 401],
  ["0x80190193", 403],
  ["0x80190194", 404],
  ["0x80190195", 405],
  ["0x80190197", 407],
  ["0x8019019B", 411],
  ["0x8019019E", 414],
  ["0x801901A0", 416],
  ["0x801901F4", 500],
  ["0x801901F5", 501],
  ["0x801901F6", 502],
  ["0x801901F7", 503],
];
for (const [hr, status] of HR_EXAMPLES)
  test(`§5.2 ${hr} = BG_E_HTTP_ERROR_${status}`, () => {
    assert.equal(httpStatusOfHresult(hr), status);
    assert.equal(httpStatusOfHresult(hr.toLowerCase()), status);
    assert.equal(formatHresult(0x80190000 + status), hr.toUpperCase().replace("0X", "0x"));
  });

test("§5.2 hr written as a signed decimal (event XML) maps too", () => {
  assert.equal(httpStatusOfHresult(String(0x80190194 | 0)), 404); // -2145844844
  assert.equal(httpStatusOfHresult("2149122452"), 404);
  assert.equal(httpStatusOfHresult("0"), undefined);
  assert.equal(httpStatusOfHresult("0x80200013"), undefined); // BG_E_INSUFFICIENT_RANGE_SUPPORT is not HTTP
  assert.equal(httpStatusOfHresult("garbage"), undefined);
});

// §5.1 [S50]: "All 4xx error codes are fatal errors except for 408 and 409 … All 5xx … transient except 501 and 505"
const FATAL: [number, boolean][] = [
  [400, true],
  [401, true],
  [403, true],
  [404, true],
  [405, true],
  [408, false],
  [409, false],
  [500, false],
  [501, true],
  [503, false],
  [505, true],
  [300, true],
  [305, true],
  [306, false],
  [307, true],
  [200, false],
];
for (const [status, fatal] of FATAL)
  test(`§5.1 HTTP ${status} is ${fatal ? "fatal" : "transient"} for BITS`, () =>
    assert.equal(isFatalForBits(status), fatal));

test("catalogue has F01–F19, each with a title", () => {
  const ids = Object.keys(CATALOGUE);
  assert.equal(ids.length, 19);
  for (let i = 1; i <= 19; i++)
    assert.ok(CATALOGUE[`F${String(i).padStart(2, "0")}` as keyof typeof CATALOGUE].title);
});

test("parseHresult: any string is answered, never thrown; hex round-trips", () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const n = parseHresult(s);
      assert.ok(n === undefined || (Number.isInteger(n) && n >= 0 && n <= 0xffffffff));
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) =>
      assert.equal(parseHresult(formatHresult(n)), n),
    ),
  );
});
