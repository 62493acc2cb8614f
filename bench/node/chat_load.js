// The chat path's load generator (bench/chat_path.py): stock socket.io-client 4.7.2 sockets (websocket), N users each
// with an open session assigned to one of A agents, sending `chat:send_message` on a fixed schedule (open loop: a
// slow server does not slow the senders down), driven by JSON lines on stdin, answering JSON lines on stdout.
//
// Each message's content is `b|<step>|<user index>|<seq>`: the agent's and the sender's sockets read who sent it and
// its place in that session's order from it. Per step it reports the ack's and the deliveries' p50/p99 (ms from the
// emit), and the correctness counts: acks (ok, errors by code, more than one), deliveries to the agent and to the
// sender (missing, duplicated, out of order per session); and the sessions' updates (`chat:session_update`) each
// socket got: how many, any that came before the message it names as its last (out of order), and whether each
// session's final state (its last message of the step) reached the agent and the sender.
//
// Its own bookkeeping is kept cheap, since it shares the box with what it measures (bench/chat_path.py reports its CPU
// per message): message i of a step is user i % N's (i / N)-th, so per-message state lives in typed arrays indexed by
// i (no object, map entry or closure state beyond the ack callback per emit), deliveries are parsed without split(),
// completion is a counter, and the sender sleeps until the next message is due instead of waking every millisecond.
//
// Commands: {cmd:"connect", url, users:[{token, session_id}], agents:[token]}
//           {cmd:"step", name, rate, seconds, drain_ms, client_msg_ids}   {cmd:"exit"}
// With client_msg_ids each message carries its own `client_msg_id` (`<step>-<user>-<seq>`), as the SDK's, the pages'
// and the mini program's sends do.
import readline from "node:readline";
import { io } from "socket.io-client";

const now = () => performance.timeOrigin + performance.now();
let users = [], agents = [];
let step = null; // see newStep

function pct(values, p) {
  if (!values.length) return null;
  const s = Float64Array.from(values).sort();
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
}

function newStep(name, total) {
  const n = users.length;
  return {
    name, prefix: `b|${name}|`, n, total, next: 0, acked: 0, complete: 0, outOfOrder: { agent: 0, echo: 0 },
    updates: { agent: 0, echo: 0 }, updateEarly: { agent: 0, echo: 0 },
    t: new Float64Array(total), ackAt: new Float64Array(total), acks: new Uint16Array(total),
    ok: new Uint8Array(total), codes: new Map(), agentAt: new Float64Array(total), agentN: new Uint16Array(total),
    echoAt: new Float64Array(total), echoN: new Uint16Array(total),
  };
}

// Done: acked, and if acked ok, delivered to both the agent and the sender (each counted once, when it turns true).
function isComplete(st, i) {
  return st.acks[i] > 0 && (!st.ok[i] || (st.agentN[i] > 0 && st.echoN[i] > 0));
}

// The unsigned integer in s[from..to) (to: the end or a '|'), or -1.
function uint(s, from, to) {
  if (from >= to) return -1;
  let v = 0;
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function onMessage(kind, owner, data) {
  const st = step;
  const content = data?.message_content;
  if (!st || typeof content !== "string" || !content.startsWith(st.prefix)) return;
  const bar = content.indexOf("|", st.prefix.length);
  if (bar < 0 || content.indexOf("|", bar + 1) >= 0) return;
  const user = uint(content, st.prefix.length, bar), seq = uint(content, bar + 1, content.length);
  if (user < 0 || seq < 0 || user >= st.n) return;
  const i = seq * st.n + user;
  if (i >= st.next) return; // not one this step sent
  const t = now();
  if (seq <= owner.last[user]) st.outOfOrder[kind] += 1;
  owner.last[user] = seq;
  const was = isComplete(st, i);
  if (kind === "agent") { st.agentN[i] += 1; if (st.agentN[i] === 1) st.agentAt[i] = t; }
  else { st.echoN[i] += 1; if (st.echoN[i] === 1) st.echoAt[i] = t; }
  if (!was && isComplete(st, i)) st.complete += 1;
}

// A `chat:session_update`: its last_message is this step's message (user, seq); the socket must have got it already.
function onUpdate(kind, owner, data) {
  const st = step;
  const content = data?.last_message;
  if (!st || typeof content !== "string" || !content.startsWith(st.prefix)) return;
  const bar = content.indexOf("|", st.prefix.length);
  if (bar < 0) return;
  const user = uint(content, st.prefix.length, bar), seq = uint(content, bar + 1, content.length);
  if (user < 0 || seq < 0 || user >= st.n) return;
  st.updates[kind] += 1;
  if (seq > owner.last[user]) st.updateEarly[kind] += 1;
  owner.lastUpdate[user] = seq;
}

function connect(url, auth, kind, nUsers) {
  return new Promise((resolve, reject) => {
    const s = io(url, { path: "/socket.io", transports: ["websocket"], auth: { token: auth }, reconnection: false });
    // per user: the last seq this socket got as a message, and as its session's last_message (-1: none yet)
    const owner = { s, last: new Int32Array(nUsers), lastUpdate: new Int32Array(nUsers) };
    s.on("chat:new_message", (data) => onMessage(kind, owner, data));
    s.on("chat:session_update", (data) => onUpdate(kind, owner, data));
    s.on("connect", () => resolve(owner));
    s.on("connect_error", (e) => reject(new Error(`${kind} connect_error: ${e.message}`)));
  });
}

function send(st, i) {
  const user = i % st.n;
  const seq = (i - user) / st.n;
  const u = users[user];
  st.t[i] = now();
  st.next = i + 1;
  const message = { session_id: u.session_id, content: st.prefix + user + "|" + seq };
  if (st.clientIds) message.client_msg_id = st.name + "-" + user + "-" + seq;
  u.owner.s.emit("chat:send_message", message, (ack) => {
    st.acks[i] += 1;
    if (st.acks[i] > 1) return;
    st.ackAt[i] = now();
    st.ok[i] = ack?.ok === true ? 1 : 0;
    if (!st.ok[i]) st.codes.set(i, ack?.error?.code ?? "malformed");
    st.acked += 1;
    if (isComplete(st, i)) st.complete += 1;
  });
}

async function runStep({ name, rate, seconds, drain_ms, client_msg_ids }) {
  const total = Math.round(rate * seconds);
  const st = step = newStep(name, total);
  st.clientIds = client_msg_ids === true;
  for (const o of [...agents, ...users.map((u) => u.owner)]) { o.last.fill(-1); o.lastUpdate.fill(-1); }
  const t0 = now();
  await new Promise((resolve) => {
    // Open loop: message k is due k / rate seconds after the first; sleep until the next one is due.
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
      while (st.next < due) send(st, st.next);
      if (st.next >= total) resolve();
      else setTimeout(tick, Math.max(0, t0 + (st.next / rate) * 1000 - now()));
    };
    tick();
  });
  const sendEnd = now();
  const deadline = now() + drain_ms;
  while (now() < deadline && st.complete < total) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200)); // duplicates arrive late, if at all
  const ack = [], agent = [], echo = [];
  const codes = {};
  let ackedOk = 0, unacked = 0, ackedTwice = 0, agentMissing = 0, agentDup = 0, senderMissing = 0, senderDup = 0;
  let lastAck = 0, lastAgent = 0;
  for (let i = 0; i < total; i++) {
    const t = st.t[i];
    if (st.acks[i]) ack.push(st.ackAt[i] - t); else unacked += 1;
    if (st.acks[i] > 1) ackedTwice += 1;
    if (st.agentN[i]) agent.push(st.agentAt[i] - t);
    if (st.echoN[i]) echo.push(st.echoAt[i] - t);
    if (st.ok[i]) {
      ackedOk += 1;
      if (!st.agentN[i]) agentMissing += 1;
      if (!st.echoN[i]) senderMissing += 1;
    }
    if (st.agentN[i] > 1) agentDup += 1;
    if (st.echoN[i] > 1) senderDup += 1;
    if (st.ackAt[i] > lastAck) lastAck = st.ackAt[i];
    if (st.agentAt[i] > lastAgent) lastAgent = st.agentAt[i];
  }
  for (const code of st.codes.values()) codes[code] = (codes[code] ?? 0) + 1;
  // Each session's final state: the update naming the user's last message of the step (if it was stored).
  let agentFinalMissing = 0, senderFinalMissing = 0;
  for (let u = 0; u < Math.min(st.n, total); u++) {
    const seq = Math.floor((total - 1 - u) / st.n);
    if (!st.ok[seq * st.n + u]) continue;
    if (!agents.some((a) => a.lastUpdate[u] === seq)) agentFinalMissing += 1;
    if (users[u].owner.lastUpdate[u] !== seq) senderFinalMissing += 1;
  }
  const out = {
    name, offered_per_s: rate, sent: total, send_seconds: (sendEnd - t0) / 1000,
    acked_ok: ackedOk, ack_errors: codes, unacked, acked_more_than_once: ackedTwice,
    agent_missing: agentMissing, agent_duplicates: agentDup, agent_out_of_order: st.outOfOrder.agent,
    sender_missing: senderMissing, sender_duplicates: senderDup, sender_out_of_order: st.outOfOrder.echo,
    agent_session_updates: st.updates.agent, sender_session_updates: st.updates.echo,
    agent_session_updates_before_their_message: st.updateEarly.agent,
    sender_session_updates_before_their_message: st.updateEarly.echo,
    agent_final_session_update_missing: agentFinalMissing, sender_final_session_update_missing: senderFinalMissing,
    // Achieved: messages acked per second from the first emit to the last ack (to the last agent delivery).
    acked_per_s: total ? ack.length / ((lastAck - t0) / 1000) : 0,
    delivered_per_s: agent.length ? agent.length / ((lastAgent - t0) / 1000) : 0,
    ack_p50_ms: pct(ack, 50), ack_p99_ms: pct(ack, 99), ack_max_ms: pct(ack, 100),
    agent_p50_ms: pct(agent, 50), agent_p99_ms: pct(agent, 99), agent_max_ms: pct(agent, 100),
    sender_p50_ms: pct(echo, 50), sender_p99_ms: pct(echo, 99),
  };
  step = null;
  return out;
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = JSON.parse(line);
  try {
    if (cmd.cmd === "connect") {
      agents = [];
      for (const token of cmd.agents) agents.push(await connect(cmd.url, token, "agent", cmd.users.length));
      users = [];
      for (let i = 0; i < cmd.users.length; i += 50) {
        const batch = cmd.users.slice(i, i + 50);
        const owners = await Promise.all(batch.map((u) => connect(cmd.url, u.token, "echo", cmd.users.length)));
        owners.forEach((owner, j) => users.push({ owner, session_id: batch[j].session_id }));
      }
      console.log(JSON.stringify({ ok: true, users: users.length, agents: agents.length }));
    } else if (cmd.cmd === "step") {
      console.log(JSON.stringify({ ok: true, ...(await runStep(cmd)) }));
    } else if (cmd.cmd === "exit") {
      for (const o of [...agents, ...users.map((u) => u.owner)]) o.s.disconnect();
      console.log(JSON.stringify({ ok: true }));
      process.exit(0);
    }
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e?.stack ?? e) }));
  }
}
