// Past the gateway's recovery window (RECOVERY_WINDOW_SECONDS: the pytest test restarts the gateway with a
// short one): the app comes back NOT recovered, onResync fires, and the app's refetch over REST shows the
// replies sent while it was hidden.
import assert from "node:assert/strict";
import test from "node:test";
import { TokenKeeper, createWxClient, sessionFrom, wxRefresher } from "../../dist/wx.js";
import { createFakeWx } from "../support/fake-wx.mjs";
import { BASE, adminSocket, adminTakes, api, registerAndLogin, reply, sleep, waitFor } from "./helpers.mjs";

const WINDOW_S = Number(process.env.RECOVERY_WINDOW_SECONDS || 0);

test("back after the recovery window: not recovered, onResync refetches what was missed", { skip: !(BASE && WINDOW_S) && "PLATFORM_URL / RECOVERY_WINDOW_SECONDS unset" }, async (t) => {
  const fake = createFakeWx();
  const login = await registerAndLogin(fake.wx);
  const keeper = new TokenKeeper({ session: sessionFrom(login), refresh: wxRefresher(BASE, fake.wx) });
  let sessionId = 0;
  let resolveRefetch;
  const refetched = new Promise((r) => { resolveRefetch = r; });
  const resyncs = [];
  const client = createWxClient({
    url: BASE, wx: fake.wx, token: keeper,
    onResync: () => {
      resyncs.push(client.recovered);
      api(`/api/v4/customer-service/sessions/${sessionId}/messages`, { token: keeper.token }).then(resolveRefetch);
    },
  });
  const admin = await adminSocket();
  t.after(() => {
    client.close();
    admin.socket.close();
  });
  const live = [];
  client.on("chat:new_message", (m) => { if (m.message_type === "text" && m.sender_type === "admin") live.push(m.message_content); });
  if (!client.connected) await waitFor(client.socket, "connect");
  sessionId = (await api("/api/v4/customer-service/sessions", { method: "POST", token: keeper.token,
    body: { content: "你好" } })).session_id;
  await adminTakes(admin, sessionId);
  const first = waitFor(client.socket, "chat:new_message", (m) => m.message_content === "您好");
  await reply(admin, sessionId, "您好");
  await first;

  fake.hide();
  await reply(admin, sessionId, "第一条");
  await reply(admin, sessionId, "第二条");
  await sleep((WINDOW_S + 2) * 1000); // past the window (a wait, not an assertion on time)
  const back = waitFor(client.socket, "connect");
  fake.show();
  await back;
  assert.equal(client.recovered, false);
  const page = await refetched;
  assert.deepEqual(resyncs, [false]);
  assert.deepEqual(live, ["您好"]); // nothing replayed: the app learns it from the refetch
  const contents = page.items.map((m) => m.message_content);
  assert.deepEqual(contents.slice(-2), ["第一条", "第二条"]);
});
