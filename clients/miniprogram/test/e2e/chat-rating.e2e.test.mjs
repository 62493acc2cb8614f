// Satisfaction end to end: the mini program's chat page logic (ChatLogic + RatingLogic, as pages/chat/index.js wires
// them) through the stand-in wx over wss:// to the edge. The user writes, the admin takes the session and closes
// it; the page sees the session closed (chat:session_update) and asks for a rating; the user gives 4 stars and a
// comment: the admin reads them on the session (GET /sessions/{id}/rating, as the console shows them), then the
// user changes it within chat-svc's edit window and the admin reads the change.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { adminSocket, adminTakes, api, waitFor } from "../../../sdk/test/e2e/helpers.mjs";
import { BASE, STANDIN, openMiniProgram } from "./steps.mjs";

const require = createRequire(import.meta.url);
const { RatingLogic } = require("../../logic/rating.js");

test("a rating given in the mini program after the agent closes the session reaches chat-svc and can be changed", { skip: !(BASE && STANDIN) && "PLATFORM_URL / WECHAT_STANDIN_URL unset" }, async (t) => {
  const admin = await adminSocket();
  const app = await openMiniProgram();
  const rating = new RatingLogic({ services: app.services });
  t.after(() => {
    rating.stop();
    app.close();
    admin.socket.close();
  });
  const { services, chat, viewWhere } = app;
  const client = services.realtime().client;
  if (!client.connected) await waitFor(client.socket, "connect");

  await chat.send("我想查询退款进度");
  const sessionId = chat.session.session_id;
  await rating.show(chat.session);
  assert.equal(rating.view().show, false); // open: nothing asked
  await adminTakes(admin, sessionId);
  await api(`/api/v4/customer-service/sessions/${sessionId}/close`, { method: "POST", token: admin.token });
  await viewWhere((v) => v.status === "closed");

  await rating.show(chat.session);
  assert.equal(rating.view().mode, "form");
  assert.equal(rating.view().question, "请为本次服务评分");
  rating.pick(4);
  rating.type("处理得很快");
  assert.equal(await rating.submit(), "rated");
  assert.equal(rating.view().thanksText, "感谢您的评价：4 星");
  assert.equal(rating.view().canEdit, true); // CHAT_RATING_EDIT_SECONDS, 600 s by default
  const seen = await api(`/api/v4/customer-service/sessions/${sessionId}/rating`, { token: admin.token });
  assert.deepEqual([seen.score, seen.comment], [4, "处理得很快"]);

  rating.edit();
  rating.pick(5);
  assert.equal(await rating.submit(), "rated");
  const changed = await api(`/api/v4/customer-service/sessions/${sessionId}/rating`, { token: admin.token });
  assert.deepEqual([changed.score, changed.comment], [5, "处理得很快"]);
});
