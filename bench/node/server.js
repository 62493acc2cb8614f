// The Node twin of the gateway's fan-out path: a socket.io 4.7.2 server (its defaults: websocket + polling,
// no permessage-deflate) whose sockets join the rooms an admin joins, and the same bench control endpoints
// as bench/py_server.py:
//   POST /bench/broadcast?count=K&rate=R&room=admins   K broadcasts of `notification:broadcast`, as fast as the
//        loop allows (rate=0, yielding to the event loop after each) or at R per second; answers at once with
//        {t_start}; GET /bench/done answers {done, t_start, t_end} when the last one has been emitted.
//   GET  /bench/stats                                  {sockets} (engine.io clients)
// With --amqp URL it also consumes `notification.created` from exchange `notification.events` (amqplib, own
// exclusive queue) and emits `notification:broadcast` to `admins`: the end-to-end twin of the gateway.
// Auth-free: the handshake's token is not verified (the Python gateway verifies real Ed25519 tokens).
import http from "node:http";
import { Server } from "socket.io";
import { benchPayload, nowMs } from "./payload.js";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
);
const port = Number(args.port || 8090);

const httpServer = http.createServer();
const io = new Server(httpServer, { path: "/socket.io", transports: ["polling", "websocket"] });

io.on("connection", (socket) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  const id = (typeof token === "string" && token.length) ? token.length : 1; // auth-free: any token is an admin
  socket.join([`user:${id}`, `admin:${id}`, "admins"]);
});

let job = { done: true, t_start: 0, t_end: 0 };

function broadcast(count, rate, room) {
  job = { done: false, t_start: nowMs(), t_end: 0, sent: 0 };
  const current = job;
  const start = current.t_start;
  const step = () => {
    if (current.sent >= count) {
      current.t_end = nowMs();
      current.done = true;
      return;
    }
    io.to(room).emit("notification:broadcast", benchPayload(current.sent, nowMs()));
    current.sent += 1;
    if (rate > 0) {
      const due = start + (current.sent * 1000) / rate;
      setTimeout(step, Math.max(0, due - nowMs()));
    } else {
      setImmediate(step);
    }
  };
  step();
}

httpServer.on("request", (req, res) => {
  const url = new URL(req.url, "http://x");
  if (!url.pathname.startsWith("/bench/")) return; // socket.io answers its own path
  const reply = (obj) => { res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify(obj)); };
  if (url.pathname === "/bench/broadcast") {
    broadcast(Number(url.searchParams.get("count") || 1), Number(url.searchParams.get("rate") || 0),
              url.searchParams.get("room") || "admins");
    reply({ t_start: job.t_start });
  } else if (url.pathname === "/bench/done") {
    reply(job);
  } else if (url.pathname === "/bench/stats") {
    reply({ sockets: io.engine.clientsCount });
  } else {
    res.writeHead(404); res.end();
  }
});

async function consumeAmqp(url) {
  const amqp = await import("amqplib");
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertExchange("notification.events", "topic", { durable: true });
  const q = await ch.assertQueue("", { exclusive: true, autoDelete: true });
  await ch.bindQueue(q.queue, "notification.events", "notification.created");
  await ch.prefetch(64);
  await ch.consume(q.queue, (msg) => {
    try {
      const envelope = JSON.parse(msg.content.toString());
      const { notification, target_user_id: target } = envelope.payload;
      if (target == null) io.to("admins").emit("notification:broadcast", notification);
      else io.to(`admin:${target}`).emit("notification:new", notification);
    } catch (e) {
      console.error("bad event", e);
    }
    ch.ack(msg);
  });
}

if (args.amqp) await consumeAmqp(args.amqp);
httpServer.listen(port, "127.0.0.1", () => console.log(JSON.stringify({ ready: true, port })));
