/**
 * Canonicalization (spec iis-request-filtering.md §5.3), http.sys refusals (§5.2), and properties: canonicalization
 * is idempotent on its own (re-escaped) output, and evaluate() never throws whatever the input.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  canonicalizePath,
  decodeOnce,
  encodePathForWire,
  normalizePath,
  splitTarget,
} from "../../src/engine/canonical.js";
import { evaluate } from "../../src/engine/evaluate.js";
import type { HttpRequest } from "../../src/engine/types.js";
import { server } from "./build.js";

describe("§5.1 split at the first '?'", () => {
  const rows: [string, string, string | undefined][] = [
    ["/a/b.txt", "/a/b.txt", undefined],
    ["/a?", "/a", ""],
    ["/SMS_DP_SMSPKG$/X/sccm?/a?b.txt", "/SMS_DP_SMSPKG$/X/sccm", "/a?b.txt"],
    ["http://dp01:80/SMS_DP_SMSPKG$/X/sccm?/a.cab", "/SMS_DP_SMSPKG$/X/sccm", "/a.cab"],
    ["HTTPS://dp01.contoso.com/x.txt", "/x.txt", undefined],
    ["http://dp01", "/", undefined],
    ["http://dp01?q", "/", "q"],
  ];
  for (const [target, path, query] of rows)
    it(`${target} → ${path} ? ${query}`, () => {
      assert.deepEqual(splitTarget(target), { rawPath: path, query });
    });
});

describe("§5.3 canonicalization table", () => {
  const rows: [string, string, string][] = [
    ["/sub%2Fx.txt", "/sub/x.txt", "%2F becomes a separator"],
    ["/sub\\x.txt", "/sub/x.txt", "\\ becomes /"],
    ["/sub%5Cx.txt", "/sub/x.txt", "%5C becomes /"],
    ["/a//b///c.txt", "/a/b/c.txt", "// collapses"],
    ["/a/./b.txt", "/a/b.txt", ". segments disappear"],
    ["/sub/%2e%2e/echo.probe", "/echo.probe", "escaped .. resolved"],
    ["/a/b/../c.txt", "/a/c.txt", ".. resolved"],
    ["/r%C3%A9sum%C3%A9.txt", "/résumé.txt", "UTF-8 escapes decoded"],
    ["/SUB/X.TXT", "/SUB/X.TXT", "case kept"],
    ["/pkg/sub/", "/pkg/sub/", "trailing / kept"],
    ["/a/b/..", "/a/", "trailing .. leaves a folder URL"],
    ["/%252e%252e/x.txt", "/%2e%2e/x.txt", "decoded once only"],
    ["/x.txt%25", "/x.txt%", "%25 → %"],
    ["/%FF.txt", "/\u00ff.txt", "invalid UTF-8 → Latin-1 fallback [INF]"],
    ["/%C0%AF.txt", "/\u00c0\u00af.txt", "overlong UTF-8 is invalid → Latin-1 fallback [INF]"],
    ["/a+b.txt", "/a+b.txt", "+ is not a space in a path"],
  ];
  for (const [raw, canon, why] of rows)
    it(`${raw} → ${canon} (${why})`, () => {
      assert.equal(canonicalizePath(raw), canon);
    });
});

describe("§5.2 http.sys refusals", () => {
  const rows: [string, number, string][] = [
    ["/sub dir/x.txt", 400, "httpsys.invalidCharacter"],
    ["/x.txt#frag", 400, "httpsys.invalidCharacter"],
    ["/x%00.txt", 400, "httpsys.invalidCharacter"],
    ["/x\u0001.txt", 400, "httpsys.invalidCharacter"],
    ["/x%.txt", 400, "httpsys.badEscape"],
    ["/x%4", 400, "httpsys.badEscape"],
    ["/x%zz", 400, "httpsys.badEscape"],
    ["\\x.txt", 400, "httpsys.badTarget"],
    ["x.txt", 400, "httpsys.badTarget"],
    [`/${"s".repeat(261)}`, 400, "httpsys.segmentTooLong"],
    [`/${"%41".repeat(261)}`, 400, "httpsys.segmentTooLong"],
    ["/a".repeat(256), 400, "httpsys.tooManySegments"],
    [`/${"a/".repeat(8200)}`, 414, "httpsys.urlTooLong"],
    ["/../x", 403, "httpsys.aboveRoot"],
    ["/a/%2e%2e/%2e%2e/x", 403, "httpsys.aboveRoot"],
  ];
  for (const [raw, status, check] of rows)
    it(`${raw.length > 40 ? `${raw.slice(0, 37)}...` : JSON.stringify(raw)} → ${status} ${check}`, () => {
      const r = canonicalizePath(raw);
      assert.equal(typeof r, "object");
      if (typeof r === "string") return;
      assert.equal(r.status, status);
      assert.equal(r.check, check);
      assert.equal(r.source, null);
    });
  it("limits are inclusive: 260-character segment and 255 segments pass", () => {
    assert.equal(typeof canonicalizePath(`/${"s".repeat(260)}`), "string");
    assert.equal(typeof canonicalizePath("/a".repeat(255)), "string");
  });
});

const pathChars = fc.constantFrom(
  ..."abcXYZ019._-~+%/\\:$éü中 #?".split(""),
  "%2e",
  "%2F",
  "%5C",
  "%25",
  "%C3%A9",
  "%FF",
  "..",
  ".",
);
const rawPaths = fc.array(pathChars, { maxLength: 40 }).map((a) => `/${a.join("")}`);

describe("properties", () => {
  it("normalizePath is idempotent", () => {
    fc.assert(
      fc.property(rawPaths, (p) => {
        const once = normalizePath(p);
        if (once !== null) assert.equal(normalizePath(once), once);
      }),
      { numRuns: 2000 },
    );
  });

  it("canonicalization is idempotent on its own output (re-escaped for the wire)", () => {
    fc.assert(
      fc.property(rawPaths, (p) => {
        const c = canonicalizePath(p);
        if (typeof c !== "string") return;
        const again = canonicalizePath(encodePathForWire(c));
        assert.equal(again, c);
      }),
      { numRuns: 2000 },
    );
  });

  it("decodeOnce never yields U+FFFD from escapes (lossless Latin-1 fallback)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (bytes) => {
        const escaped = Array.from(bytes, (b) => `%${b.toString(16).padStart(2, "0")}`).join("");
        assert.ok(
          !decodeOnce(escaped).includes("\ufffd") || Buffer.from(bytes).toString("utf8").includes("\ufffd"),
        );
      }),
      { numRuns: 1000 },
    );
  });

  const servers = [server("P0"), server("P1")];
  const anyText = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString("latin1")),
    rawPaths,
    rawPaths.map((p) => `/SMS_DP_SMSPKG$/x${p}?${p}`),
  );
  it("evaluate never throws (random targets, methods, headers, file facts)", () => {
    fc.assert(
      fc.property(
        anyText,
        fc.oneof(fc.constantFrom("GET", "HEAD", "PROPFIND", "get", ""), fc.string({ maxLength: 10 })),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 4 }),
        fc.record(
          { exists: fc.boolean(), hidden: fc.boolean(), isDirectory: fc.boolean() },
          { requiredKeys: [] },
        ),
        fc.boolean(),
        (target, method, headers, file, p1) => {
          const req: HttpRequest = { method, target, headers, file };
          const v = evaluate(req, servers[p1 ? 1 : 0]);
          assert.notEqual(v.reasons[0]?.check, "engine.internal", v.reasons[0]?.message);
          assert.equal(typeof v.status, "number");
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("evaluate never throws even on nonsense request objects", () => {
    const weird = [{}, { method: 5, target: null }, { method: "GET", target: "/x", headers: { a: null } }];
    for (const w of weird) {
      const v = evaluate(w as unknown as HttpRequest, servers[1]);
      assert.equal(typeof v.status, "number");
    }
  });
});
