// Past the gateway's recovery window (RECOVERY_WINDOW_SECONDS: the pytest test restarts the gateway with a short
// one): the mini program comes back NOT recovered, and its chat page refetches over REST and shows both replies
// sent while it was hidden.
import assert from "node:assert/strict";
import test from "node:test";
import { adminSocket, adminTakes, reply, sleep, waitFor } from "../../../sdk/test/e2e/helpers.mjs";
import { BASE, STANDIN, agentTexts, openMiniProgram } from "./steps.mjs";

const WINDOW_S = Number(process.env.RECOVERY_WINDOW_SECONDS || 0);

test("the mini program back after the recovery window is not recovered and its page refetches both replies", { skip: !(BASE && STANDIN && WINDOW_S) && "PLATFORM_URL / WECHAT_STANDIN_URL / RECOVERY_WINDOW_SECONDS unset" }, async (t) => {
  const admin = await adminSocket();
  const app = await openMiniProgram();
  t.after(() => {
    app.close();
    admin.socket.close();
  });
  const { fake, services, chat, viewWhere } = app;
  const client = services.realtime().client;
  if (!client.connected) await waitFor(client.socket, "connect");
  const live = [];
  client.on("chat:new_message", (m) => { if (m.sender_type === "admin" && m.message_type === "text") live.push(m.message_content); });
  let refetches = 0;
  services.realtime().onResync(() => { refetches += 1; });

  await chat.send("你好");
  const sessionId = chat.session.session_id;
  await adminTakes(admin, sessionId);
  await reply(admin, sessionId, "您好");
  await viewWhere((v) => agentTexts(v).includes("您好"));

  fake.hide();
  chat.setVisible(false);
  await reply(admin, sessionId, "第一条");
  await reply(admin, sessionId, "第二条");
  await sleep((WINDOW_S + 2) * 1000); // past the window (a wait, not an assertion on time)
  const back = waitFor(client.socket, "connect");
  fake.show();
  chat.setVisible(true);
  await back;
  assert.equal(client.recovered, false);
  const shown = await viewWhere((v) => agentTexts(v).includes("第二条"));
  assert.equal(refetches, 1);
  assert.deepEqual(live, ["您好"]); // nothing replayed: the page learnt them from its refetch
  assert.deepEqual(agentTexts(shown), ["您好", "第一条", "第二条"]);
});
