// A thin Engine.IO v4 / Socket.IO v5 client on `ws`: one process, many sockets, driven by JSON lines on stdin
// (bench/run.py), answering JSON lines on stdout. Per socket: open -> `40{"token":...}` -> `40{...}` connected;
// answers pings (`2` -> `3`); counts `42[...]` frames and reads the payload's `seq` (order check) and `sent_at`
// (latency) at a fixed place, without parsing the JSON. Much cheaper per message than socket.io-client.
//
// Commands: {cmd:"connect", url, tokens:[...], n, concurrency}  {cmd:"reset", latency:bool, title_seq:bool}
//           {cmd:"wait", total, timeout_ms, samples:bool}  {cmd:"drop"}  {cmd:"post", url, token, count, rate,
//           target_user_id}  {cmd:"exit"}
import http from "node:http";
import readline from "node:readline";
import WebSocket from "ws";
import { RawWebSocket } from "./raw_ws.js";
import { nowMs } from "./payload.js";

const sockets = [];
let received = 0, outOfOrder = 0, firstAt = 0, lastAt = 0;
let latency = false, titleSeq = false;
let lat = new Float64Array(1 << 20), latN = 0;
const recvAt = new Map();   // cell 4: seq -> [receive stamps]
const posted = new Map();   // cell 4: seq -> {t_post, t_resp, notification_id, created_at}
let waiter = null;

const PREFIX = Buffer.from('42["notification:broadcast",{"seq":');
const SENT = Buffer.from(',"sent_at":');
const TITLE = Buffer.from('"title":"bench ');

function readInt(buf, i) {
  let v = 0;
  for (let c = buf[i]; c >= 48 && c <= 57; c = buf[++i]) v = v * 10 + (c - 48);
  return v;
}

function onMessage(s, data) {
  // data: Buffer (skipUTF8Validation; text frames arrive as Buffers with isBinary false)
  const c0 = data[0];
  if (c0 === 0x34 && data[1] === 0x32) {          // "42": a Socket.IO EVENT
    const now = nowMs();
    received += 1;
    if (firstAt === 0) firstAt = now;
    lastAt = now;
    if (titleSeq) {                               // cell 4: the real NotificationData, "title":"bench <seq>"
      const j = data.indexOf(TITLE, 2);           // bytes, not a decoded string + regex: the generator stays light
      if (j >= 0) {
        const seq = readInt(data, j + TITLE.length);
        if (seq <= s.last) outOfOrder += 1;
        s.last = seq;
        let list = recvAt.get(seq);
        if (!list) recvAt.set(seq, (list = []));
        list.push(now);
      } else {
        received -= 1;                            // another event (the unread badge that comes with each): not counted
      }
    } else if (data.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) === 0) {
      const seq = readInt(data, PREFIX.length);
      if (seq !== s.last + 1) outOfOrder += 1;
      s.last = seq;
      if (latency) {
        const j = data.indexOf(SENT, PREFIX.length);
        const sent = parseFloat(data.toString("latin1", j + SENT.length, j + SENT.length + 24));
        if (latN === lat.length) { const bigger = new Float64Array(lat.length * 2); bigger.set(lat); lat = bigger; }
        lat[latN++] = now - sent;
      }
    }
    if (waiter && received >= waiter.total) { const w = waiter; waiter = null; w.resolve(); }
  } else if (c0 === 0x32 && data.length === 1) {  // "2": Engine.IO ping
    s.ws.send("3");
  } else if (c0 === 0x30) {                       // "0{...}": Engine.IO open
    s.ws.send(`40${JSON.stringify({ token: s.token })}`);
  } else if (c0 === 0x34 && data[1] === 0x30) {   // "40{...}": Socket.IO connected
    s.onConnected();
  } else if (c0 === 0x34 && data[1] === 0x34) {   // "44{...}": connect_error
    s.onError(new Error(data.toString()));
  }
}

function openSocket(url, token, deflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: deflate, skipUTF8Validation: true });
    const s = { ws, token, last: -1, onConnected: () => resolve(s), onError: reject };
    ws.on("message", (data) => onMessage(s, data));
    ws.on("error", reject);
    ws.on("close", () => reject(new Error("closed during handshake")));
  });
}

function openRawSocket(url, token) {
  return new Promise((resolve, reject) => {
    const s = { token, last: -1, onConnected: () => resolve(s), onError: reject };
    s.ws = new RawWebSocket(url, { onOpen: () => {}, onMessage: (data) => onMessage(s, data),
                                   onError: (e) => s.onError(e) });
  });
}

async function connect({ url, tokens, n, concurrency = 50, deflate = true, raw = false }) {
  const t0 = nowMs();
  let retries = 0;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          const token = tokens[i % tokens.length];
          sockets.push(await (raw ? openRawSocket(url, token) : openSocket(url, token, deflate)));
          break;
        } catch (e) {      // a handshake reset under load (listen backlog full): counted, tried again
          if (attempt >= 5) throw e;
          retries += 1;
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { connected: sockets.length, ms: nowMs() - t0, retries,
           extensions: sockets.length ? sockets[0].ws.extensions : "" };
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function wait({ total, timeout_ms = 30000, samples = false }) {
  if (received < total) {
    await Promise.race([
      new Promise((resolve) => { waiter = { total, resolve }; }),
      new Promise((resolve) => setTimeout(resolve, timeout_ms)),
    ]);
    waiter = null;
  }
  const out = { received, out_of_order: outOfOrder, first_at: firstAt, last_at: lastAt };
  if (latency && latN) {
    const sorted = Float64Array.from(lat.subarray(0, latN)).sort();
    Object.assign(out, { lat_p50: percentile(sorted, 50), lat_p99: percentile(sorted, 99), lat_n: latN });
    // cell 10 (several generators): every latency, to 0.1 ms, so percentiles can be taken over all of them
    if (samples) out.lat = Array.from(sorted, (v) => Math.round(v * 10) / 10);
  }
  if (titleSeq) {
    // Every delivery (one socket receiving one notification) is one sample, as in the latency cell.
    const all = Float64Array.from([...posted].flatMap(([seq, p]) => (recvAt.get(seq) || []).map((t) => t - p.t_post)));
    all.sort();
    Object.assign(out, { e2e_p50: percentile(all, 50), e2e_p99: percentile(all, 99), e2e_n: all.length });
    out.posted = [...posted.entries()].map(([seq, p]) => ({ seq, ...p, recv: recvAt.get(seq) || [] }))
      .map((p) => ({ ...p, recv_p50: percentile(Float64Array.from(p.recv).sort(), 50),
                     recv_min: p.recv.length ? Math.min(...p.recv) : null, recv_max: p.recv.length ? Math.max(...p.recv) : null,
                     recv_n: p.recv.length, recv: undefined }));
  }
  return out;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function postJson(url, token, body) {
  // node:http with a keep-alive agent: a fraction of fetch's (undici's) CPU per request, and nothing to load
  // lazily on the first call (fetch's first use blocks the event loop for ~40 ms).
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method: "POST", agent,
      headers: { "content-type": "application/json", "content-length": data.length, authorization: `Bearer ${token}` },
    }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        try { resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }); }
        catch (e) { reject(e); }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(data);
  });
}

async function post({ url, token, count, rate, target_user_id = null }) {
  // cell 4: POST /api/v4/notifications/send at `rate` per second; remembers when each was sent and answered.
  const start = nowMs();
  const inflight = [];
  for (let seq = 0; seq < count; seq++) {
    const due = start + (seq * 1000) / rate;
    const delay = due - nowMs();
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const t_post = nowMs();
    const body = { type: "system", title: `bench ${seq}`, content: "end-to-end bench notification" };
    if (target_user_id != null) body.target_user_id = target_user_id;   // the send cell: one admin's notification
    inflight.push(postJson(url, token, body)
      .then(({ status, body }) => {
        posted.set(seq, { t_post, t_resp: nowMs(), status, notification_id: body.notification_id,
                          created_at: body.created_at });
      }));
  }
  await Promise.all(inflight);
  return { posted: posted.size, ms: nowMs() - start };
}

const commands = {
  connect,
  wait,
  post,
  reset: async ({ latency: l = false, title_seq = false }) => {
    received = 0; outOfOrder = 0; firstAt = 0; lastAt = 0; latN = 0; latency = l; titleSeq = title_seq;
    recvAt.clear(); posted.clear();
    for (const s of sockets) s.last = -1;
    return {};
  },
  drop: async () => {
    const t0 = nowMs();
    for (const s of sockets) s.ws.terminate();   // every TCP connection destroyed at once, no close handshake
    sockets.length = 0;
    return { dropped_at: t0 };
  },
  exit: async () => { setImmediate(() => process.exit(0)); return {}; },
};

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  const msg = JSON.parse(line);
  try {
    const result = await commands[msg.cmd](msg);
    process.stdout.write(JSON.stringify({ ok: true, ...result }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e) }) + "\n");
  }
});
