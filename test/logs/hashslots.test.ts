/**
 * HashSlots (aggregate.ts), the typed hash table behind the scanner's URL, agent, IP, group and retry-pair lookups:
 * it starts small and doubles, so it must behave exactly like a Map from the key pair, up to its capacity (beyond
 * which `set` of a new key refuses and the caller counts the overflow).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HashSlots } from "../../src/logs/aggregate.js";

describe("HashSlots == Map of (h1, h2) up to its capacity, through every growth step", () => {
  it("random sets and gets (colliding low bits, negative and unsigned keys, updates)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(16, 64, 1024),
        fc.array(
          fc.tuple(
            fc.boolean(),
            // few distinct keys with shared low bits, so probes collide and wrap around
            fc.oneof(
              fc.integer({ min: 0, max: 40 }).map((x) => x * 1024),
              fc.integer(),
              fc.nat(),
            ),
            fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer()),
            fc.nat(1_000_000),
          ),
          { maxLength: 600 },
        ),
        (capacity, initial, ops) => {
          const t = new HashSlots(capacity, initial);
          const m = new Map<string, number>();
          const key = (a: number, b: number) => `${a | 0},${b | 0}`;
          for (const [isSet, a, b, v] of ops) {
            if (isSet) {
              const k = key(a, b);
              const ok = t.set(a, b, v);
              // a new key is refused when full; an existing key is refused too once full (the caller only sets
              // after a failed get, so only the new-key case matters)
              if (!m.has(k)) assert.equal(ok, m.size < capacity);
              if (ok) m.set(k, v);
            } else assert.equal(t.get(a, b), m.get(key(a, b)) ?? -1);
          }
          assert.equal(t.size, m.size);
          for (const [k, v] of m) {
            const [a, b] = k.split(",").map(Number);
            assert.equal(t.get(a, b), v);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
