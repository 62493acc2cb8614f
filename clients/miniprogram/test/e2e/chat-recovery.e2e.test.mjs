// The acceptance of issue 18, inside the recovery window: the mini program's chat logic (its services, its
// ChatLogic, the vendored SDK) through the stand-in wx over wss:// to the edge. WeChat login against the stand-in
// -> the first message opens a session -> the admin (socket.io-client 4.7.2) gets chat:session_assigned and
// replies -> the page shows it; the app is hidden (socket closed), the admin sends two messages, the app is shown:
// recovered === true, both arrive once and in order, and the page shows them without a refetch.
import assert from "node:assert/strict";
import test from "node:test";
import { adminSocket, adminTakes, reply, waitFor } from "../../../sdk/test/e2e/helpers.mjs";
import { BASE, STANDIN, agentTexts, openMiniProgram } from "./steps.mjs";

test("the mini program over wss recovers the replies sent while it was hidden, once and in order", { skip: !(BASE && STANDIN) && "PLATFORM_URL / WECHAT_STANDIN_URL unset" }, async (t) => {
  const admin = await adminSocket();
  const app = await openMiniProgram();
  t.after(() => {
    app.close();
    admin.socket.close();
  });
  const { fake, services, chat, viewWhere } = app;
  const client = services.realtime().client;
  if (!client.connected) await waitFor(client.socket, "connect");
  assert.match(fake.tasks[0].url, /^wss:\/\//);
  assert.equal(fake.storage.get("platform.login").user.user_id, services.user.user_id); // kept with setStorageSync
  const received = [];
  client.on("chat:new_message", (m) => { if (m.sender_type === "admin" && m.message_type === "text") received.push(m.message_content); });
  let refetches = 0;
  services.realtime().onResync(() => { refetches += 1; });

  // the first message opens a session (REST); the admin gets it and replies; the page shows the reply
  await chat.send("你好，我想咨询");
  const sessionId = chat.session.session_id;
  const assignment = await adminTakes(admin, sessionId);
  assert.equal(assignment.user_id, services.user.user_id);
  await reply(admin, sessionId, "您好，请讲");
  await viewWhere((v) => agentTexts(v).includes("您好，请讲"));
  await chat.send("在吗？"); // over the socket, with its ack
  assert.ok(chat.view().items.some((i) => i.mine && i.text === "在吗？" && i.state === "sent"));

  // hidden: the socket closes; two replies meanwhile; shown: recovered, both once, in order
  fake.hide();
  chat.setVisible(false);
  assert.equal(client.state, "suspended");
  await reply(admin, sessionId, "第一条");
  await reply(admin, sessionId, "第二条");
  const back = waitFor(client.socket, "connect");
  fake.show();
  chat.setVisible(true);
  await back;
  assert.equal(client.recovered, true);
  const shown = await viewWhere((v) => agentTexts(v).includes("第二条"));
  assert.deepEqual(received, ["您好，请讲", "第一条", "第二条"]);
  assert.deepEqual(agentTexts(shown), ["您好，请讲", "第一条", "第二条"]);
  assert.equal(refetches, 0);
  assert.equal(fake.tasks.length, 2); // the first socket, and the one after the app was shown
  assert.deepEqual(fake.rejectedSends, []);
});
