// The chat path's load generator (bench/chat_path.py): stock socket.io-client 4.7.2 sockets (websocket), N users each
// with an open session assigned to one of A agents, sending `chat:send_message` on a fixed schedule (open loop: a
// slow server does not slow the senders down), driven by JSON lines on stdin, answering JSON lines on stdout.
//
// Each message's content is `b|<step>|<user index>|<seq>`: the agent's and the sender's sockets read who sent it and
// its place in that session's order from it. Per step it reports the ack's and the deliveries' p50/p99 (ms from the
// emit), and the correctness counts: acks (ok, errors by code, more than one), deliveries to the agent and to the
// sender (missing, duplicated, out of order per session).
//
// Commands: {cmd:"connect", url, users:[{token, session_id}], agents:[token]}
//           {cmd:"step", name, rate, seconds, drain_ms}   {cmd:"exit"}
import readline from "node:readline";
import { io } from "socket.io-client";

const now = () => performance.timeOrigin + performance.now();
let users = [], agents = [];
let step = null; // {name, sent: [{user, seq, t, ackAt, acks, agentAt, agentN, echoAt, echoN}], ...}

function pct(values, p) {
  if (!values.length) return null;
  const s = Float64Array.from(values).sort();
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
}

function onMessage(kind, owner, data) {
  if (!step || typeof data?.message_content !== "string") return;
  const parts = data.message_content.split("|");
  if (parts[0] !== "b" || parts[1] !== step.name) return;
  const user = Number(parts[2]), seq = Number(parts[3]);
  const m = step.byKey.get(user * 1e7 + seq);
  if (!m) return;
  const t = now();
  const last = owner.last.get(user) ?? -1;
  if (seq <= last) step.outOfOrder[kind] += 1;
  owner.last.set(user, seq);
  if (kind === "agent") { m.agentN += 1; if (m.agentN === 1) m.agentAt = t; }
  else { m.echoN += 1; if (m.echoN === 1) m.echoAt = t; }
}

function connect(url, auth, kind) {
  return new Promise((resolve, reject) => {
    const s = io(url, { path: "/socket.io", transports: ["websocket"], auth: { token: auth }, reconnection: false });
    const owner = { s, last: new Map() };
    s.on("chat:new_message", (data) => onMessage(kind, owner, data));
    s.on("connect", () => resolve(owner));
    s.on("connect_error", (e) => reject(new Error(`${kind} connect_error: ${e.message}`)));
  });
}

function send(userIndex) {
  const u = users[userIndex];
  const seq = u.seq++;
  const m = { user: userIndex, seq, t: now(), ackAt: 0, acks: 0, ok: false, code: null, agentAt: 0, agentN: 0,
              echoAt: 0, echoN: 0 };
  step.sent.push(m);
  step.byKey.set(userIndex * 1e7 + seq, m);
  u.owner.s.emit("chat:send_message", { session_id: u.session_id, content: `b|${step.name}|${userIndex}|${seq}` },
    (ack) => {
      m.acks += 1;
      if (m.acks > 1) return;
      m.ackAt = now();
      m.ok = ack?.ok === true;
      if (!m.ok) m.code = ack?.error?.code ?? "malformed";
      step.acked += 1;
    });
}

async function runStep({ name, rate, seconds, drain_ms }) {
  step = { name, sent: [], byKey: new Map(), acked: 0, outOfOrder: { agent: 0, echo: 0 } };
  for (const o of [...agents, ...users.map((u) => u.owner)]) o.last.clear();
  const total = Math.round(rate * seconds);
  const t0 = now();
  let next = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
      while (next < due) { send(next % users.length); next += 1; }
      if (next >= total) resolve(); else setTimeout(tick, 1);
    };
    tick();
  });
  const sendEnd = now();
  const complete = () => step.sent.every((m) => m.acks > 0 && (!m.ok || (m.agentN > 0 && m.echoN > 0)));
  const deadline = now() + drain_ms;
  while (now() < deadline && !complete()) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200)); // duplicates arrive late, if at all
  const ms = step.sent;
  const ack = ms.filter((m) => m.acks).map((m) => m.ackAt - m.t);
  const agent = ms.filter((m) => m.agentN).map((m) => m.agentAt - m.t);
  const echo = ms.filter((m) => m.echoN).map((m) => m.echoAt - m.t);
  const codes = {};
  for (const m of ms) if (m.acks && !m.ok) codes[m.code] = (codes[m.code] ?? 0) + 1;
  const lastAck = Math.max(...ms.map((m) => m.ackAt));
  const lastAgent = Math.max(...ms.map((m) => m.agentAt));
  const out = {
    name, offered_per_s: rate, sent: ms.length, send_seconds: (sendEnd - t0) / 1000,
    acked_ok: ms.filter((m) => m.ok).length, ack_errors: codes, unacked: ms.filter((m) => !m.acks).length,
    acked_more_than_once: ms.filter((m) => m.acks > 1).length,
    agent_missing: ms.filter((m) => m.ok && !m.agentN).length, agent_duplicates: ms.filter((m) => m.agentN > 1).length,
    agent_out_of_order: step.outOfOrder.agent,
    sender_missing: ms.filter((m) => m.ok && !m.echoN).length, sender_duplicates: ms.filter((m) => m.echoN > 1).length,
    sender_out_of_order: step.outOfOrder.echo,
    // Achieved: messages acked per second from the first emit to the last ack (to the last agent delivery).
    acked_per_s: ms.length ? ack.length / ((lastAck - t0) / 1000) : 0,
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
      for (const token of cmd.agents) agents.push(await connect(cmd.url, token, "agent"));
      users = [];
      for (let i = 0; i < cmd.users.length; i += 50) {
        const batch = cmd.users.slice(i, i + 50);
        const owners = await Promise.all(batch.map((u) => connect(cmd.url, u.token, "echo")));
        owners.forEach((owner, j) => users.push({ owner, session_id: batch[j].session_id, seq: 0 }));
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
