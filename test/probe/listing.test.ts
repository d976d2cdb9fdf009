import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { ListingError, parseMultistatus } from "../../src/probe/listing.js";

const corpus = fileURLToPath(
  new URL(
    "../../../shared/corpus/logs/cmtrace/smsts_cb1906_propfind_dav_listing_and_hash.log",
    import.meta.url,
  ),
);

test("corpus: the real DP PROPFIND answer (CB 1906, MAX00003) → files with sizes, folders apart", () => {
  const text = readFileSync(corpus, "utf8");
  const m = /<!\[CDATA\[(<\?xml[\s\S]*?<\/D:multistatus>)\]\]>/.exec(text);
  assert.ok(m, "the corpus log holds the DAV response");
  const l = parseMultistatus(m[1], "MAX00003");
  const byPath = new Map(l.files.map((f) => [f.path, f.size]));
  assert.equal(byPath.get("ccmsetup.cab"), 18877);
  assert.equal(byPath.get("ccmsetup.exe"), 4099328);
  assert.ok(byPath.has("i386/ClientPatch/configmgr2012ac-r2-kb3026739-i386.msp"));
  assert.ok(l.folders.includes("i386/ClientPatch"));
  assert.ok(!byPath.has("i386"), "collections are not files");
  // every file the TS then downloaded is in the list (corpus lines "File: http://…/sccm?/<rel>")
  const downloaded = [
    ...text.matchAll(/File: http:\/\/[^/]+\/SMS_DP_SMSPKG\$\/MAX00003\/sccm\?\/([^\]]+)\]LOG/g),
  ].map((x) => x[1]);
  assert.ok(downloaded.length > 0);
  for (const d of downloaded) assert.ok(byPath.has(d), d);
});

test("hrefs of another content ID are ignored; plain WebDAV hrefs are read", () => {
  const xml = `<?xml version="1.0"?><a:multistatus xmlns:a="DAV:">
  <a:response><a:href>http://dp/SMS_DP_SMSPKGE$/ABC00123/</a:href><a:propstat><a:prop><a:resourcetype><a:collection/></a:resourcetype></a:prop></a:propstat></a:response>
  <a:response><a:href>http://dp/SMS_DP_SMSPKGE$/ABC00123/blah/file.ldf</a:href><a:propstat><a:prop><a:getcontentlength>5</a:getcontentlength></a:prop></a:propstat></a:response>
  <a:response><a:href>http://dp/SMS_DP_SMSPKGE$/XYZ00001/x.exe</a:href></a:response></a:multistatus>`;
  const l = parseMultistatus(xml, "abc00123");
  assert.deepEqual(
    l.files.map((f) => [f.path, f.size]),
    [["blah/file.ldf", 5]],
  );
  assert.equal(l.ignored, 1);
});

test("malformed XML → ListingError with line and column", () => {
  assert.throws(
    () =>
      parseMultistatus(
        '<?xml version="1.0"?>\n<D:multistatus xmlns:D="DAV:">\n<D:response><D:href>x</D:hre>',
        "A",
      ),
    (e: unknown) => e instanceof ListingError && e.line !== undefined && e.line >= 3,
  );
});

test("property: any text → a listing or a ListingError, nothing else", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      for (const input of [s, `<D:multistatus xmlns:D="DAV:">${s}</D:multistatus>`]) {
        try {
          parseMultistatus(input, "ABC00123");
        } catch (e) {
          assert.ok(e instanceof ListingError, String(e));
        }
      }
    }),
  );
});
