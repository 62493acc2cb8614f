// The mini program's path end to end, against the real stack behind the edge: a fresh user logs in over REST,
// the SDK connects through the stand-in wx (wx.connectSocket: no Origin, no cookies), opens a session, the admin
// (socket.io-client 4.7.2) gets it and replies, the SDK receives it; the app is hidden (socket closed), the
// admin sends two messages, the app is shown: recovered === true and both arrive once, in order.
import assert from "node:assert/strict";
import test from "node:test";
import { TokenKeeper, createWxClient, sessionFrom, wxRefresher } from "../../dist/wx.js";
import { createFakeWx } from "../support/fake-wx.mjs";
import { BASE, adminSocket, adminTakes, api, registerAndLogin, reply, waitFor } from "./helpers.mjs";

test("a hidden mini program recovers the messages sent meanwhile, once and in order", { skip: !BASE && "PLATFORM_URL unset" }, async (t) => {
  const fake = createFakeWx();
  const login = await registerAndLogin(fake.wx);
  const keeper = new TokenKeeper({ session: sessionFrom(login), refresh: wxRefresher(BASE, fake.wx) });
  const resyncs = [];
  const client = createWxClient({ url: BASE, wx: fake.wx, token: keeper, onResync: () => resyncs.push(1) });
  const admin = await adminSocket();
  t.after(() => {
    client.close();
    admin.socket.close();
  });
  const received = [];
  client.on("chat:new_message", (m) => received.push(m));
  if (!client.connected) await waitFor(client.socket, "connect");
  assert.equal(fake.tasks[0].ws.url.startsWith(BASE.replace(/^http/, "ws")), true);

  // open a session over REST, then write in it over the socket (a typed request with its ack)
  const opened = await api("/api/v4/customer-service/sessions", { method: "POST", token: keeper.token,
    body: { content: "你好，我想咨询" } });
  const sessionId = opened.session_id;
  const assignment = await adminTakes(admin, sessionId);
  assert.equal(assignment.user_id, login.user.user_id);
  const ack = await client.request("chat:send_message", { session_id: sessionId, content: "在吗？" });
  assert.equal(ack.ok, true, JSON.stringify(ack));

  const first = waitFor(client.socket, "chat:new_message", (m) => m.message_content === "您好，请讲");
  await reply(admin, sessionId, "您好，请讲");
  await first;

  // a token renewal through auth-svc's refresh route (wx.request): the socket is made again with the new token
  const before = keeper.token;
  const renewedSocket = waitFor(client.socket, "connect");
  await keeper.renew();
  await renewedSocket;
  assert.notEqual(keeper.token, before);
  assert.equal(client.recovered, true);

  // hidden: the socket closes; two replies meanwhile; shown: recovered, both replayed once, in order
  fake.hide();
  assert.equal(client.state, "suspended");
  await reply(admin, sessionId, "第一条");
  await reply(admin, sessionId, "第二条");
  const back = waitFor(client.socket, "connect");
  fake.show();
  await back;
  assert.equal(client.recovered, true);
  assert.deepEqual(resyncs, []);
  const third = waitFor(client.socket, "chat:new_message", (m) => m.message_content === "第三条");
  await reply(admin, sessionId, "第三条");
  await third;
  const fromAdmin = received.filter((m) => m.message_type === "text" && m.sender_type === "admin").map((m) => m.message_content);
  assert.deepEqual(fromAdmin, ["您好，请讲", "第一条", "第二条", "第三条"]);
  assert.equal(fake.tasks.length, 3); // first connect, after the renewal, after the app was shown
  assert.deepEqual(fake.rejectedSends, []);
});
