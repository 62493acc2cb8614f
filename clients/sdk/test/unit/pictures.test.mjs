// The SDK's signed links of chat pictures (src/pictures.ts), shared by the pages and the mini program.
import assert from "node:assert/strict";
import test from "node:test";
import { PictureLinks, absoluteUrl, isPictureMessage } from "../../dist/index.js";
import * as wx from "../../dist/wx.js";

const ID = "0b6f1c2e-8a4d-4c1b-9e2f-3a5b7c9d1e2f";
const NOW = Date.parse("2026-12-07T10:00:00Z");
const links = (expiresAt, n) => ({ attachment_id: ID, url: `/full?${n}`, thumbnail_url: `/thumb?${n}`, expires_at: expiresAt });

function counting(answers) {
  const asked = [];
  const fetchLinks = async (sessionId, attachmentId) => {
    asked.push([sessionId, attachmentId]);
    return answers[asked.length - 1];
  };
  return { asked, fetchLinks };
}

test("a picture wanted by many bubbles at once is asked for once", async () => {
  const { asked, fetchLinks } = counting([links("2026-12-07T10:10:00Z", 1)]);
  const pictures = new PictureLinks(fetchLinks, { now: () => NOW });
  const got = await Promise.all([pictures.get(7, ID), pictures.get(7, ID), pictures.get(7, ID)]);
  assert.deepEqual(asked, [[7, ID]]);
  assert.ok(got.every((a) => a.url === "/full?1"));
  await pictures.get(7, ID); // and later ones use what is known while it is fresh
  assert.equal(asked.length, 1);
});

test("links close to expiring are renewed before use, and an upload's links are used as they are", async () => {
  const { asked, fetchLinks } = counting([links("2026-12-07T10:10:00Z", 2)]);
  const pictures = new PictureLinks(fetchLinks, { now: () => NOW, marginMs: 60_000 });
  pictures.put(links("2026-12-07T10:00:30Z", 1)); // 30 s left: less than the margin
  assert.equal((await pictures.get(7, ID)).url, "/full?2");
  assert.equal(asked.length, 1);

  const other = new PictureLinks(async () => assert.fail("no request for links we were given"), { now: () => NOW });
  other.put(links("2026-12-07T10:09:00Z", 3));
  assert.equal((await other.get(7, ID)).thumbnail_url, "/thumb?3");
});

test("a failed <img> gets fresh links even while the known ones look valid", async () => {
  const { asked, fetchLinks } = counting([links("2026-12-07T10:10:00Z", 2)]);
  const pictures = new PictureLinks(fetchLinks, { now: () => NOW });
  pictures.put(links("2026-12-07T10:09:00Z", 1));
  assert.equal((await pictures.refresh(7, ID)).url, "/full?2");
  assert.equal((await pictures.get(7, ID)).url, "/full?2");
  assert.equal(asked.length, 1);
});

test("a refused request is not remembered: the next caller asks again", async () => {
  let calls = 0;
  const pictures = new PictureLinks(async () => {
    calls += 1;
    if (calls === 1) throw new Error("network");
    return links("2026-12-07T10:10:00Z", 1);
  }, { now: () => NOW });
  await assert.rejects(pictures.get(7, ID));
  assert.equal((await pictures.get(7, ID)).url, "/full?1");
});

test("only an image message holding an attachment id is a picture; an older URL one is not", () => {
  assert.ok(isPictureMessage({ message_type: "image", message_content: ID }));
  assert.ok(!isPictureMessage({ message_type: "image", message_content: "https://attacker.example/pixel.png" }));
  assert.ok(!isPictureMessage({ message_type: "text", message_content: ID }));
});

test("the mini program's URLs are absolute against its base URL; the pages' stay paths", () => {
  const mp = new PictureLinks(async () => assert.fail("known"), { baseUrl: "https://cs.example.com", now: () => NOW });
  mp.put(links("2026-12-07T10:10:00Z", 1));
  assert.deepEqual(mp.urls(ID), { thumb: "https://cs.example.com/thumb?1", full: "https://cs.example.com/full?1" });
  assert.equal(mp.urls("0b6f1c2e-8a4d-4c1b-9e2f-000000000000"), null);
  const page = new PictureLinks(async () => assert.fail("known"), { now: () => NOW });
  page.put(links("2026-12-07T10:00:30Z", 2)); // within the margin: not usable as it is
  assert.equal(page.urls(ID), null);
  assert.equal(absoluteUrl("https://cs.example.com", "https://cdn.example.com/x"), "https://cdn.example.com/x");
});

test("both builds export the same picture helpers", () => {
  assert.equal(typeof wx.PictureLinks, "function");
  assert.ok(wx.isPictureMessage({ message_type: "image", message_content: ID }));
});
