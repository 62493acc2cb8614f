// web/js/picture-links.js under Node's test runner (run by test_node_units.py): signed URLs of chat pictures.
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeTranslator } from "../../web/js/i18n-core.js";
import en from "../../web/js/i18n/en.js";
import zhCN from "../../web/js/i18n/zh-CN.js";
import { PictureLinks, filesIn, isPictureMessage, previewText } from "../../web/js/picture-links.js";

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

test("the session list's picture marker reads as the word for a picture in each language", () => {
  assert.equal(previewText("[image]", makeTranslator("zh-CN", zhCN)), "[图片]");
  assert.equal(previewText("[image]", makeTranslator("en", en)), "[Picture]");
  assert.equal(previewText("你好", makeTranslator("zh-CN", zhCN)), "你好");
});

test("every picked, pasted or dropped file goes up (chat-svc judges the bytes), nothing else", () => {
  const files = [new File(["x"], "a.png", { type: "image/png" }), new File(["y"], "notes.txt", { type: "text/plain" })];
  assert.deepEqual(filesIn([...files, null, "text"]).map((f) => f.name), ["a.png", "notes.txt"]);
  assert.deepEqual(filesIn(undefined), []);
});
