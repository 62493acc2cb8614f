// A remote-controlled socket.io-client 4.7.2 (unmodified; its connection state recovery is automatic) for
// tests that break connections: one JSON command per line on stdin, one JSON reply per line on stdout
// ({"rid": <the command's rid>, ...}); unsolicited lines have no rid.
//
//   {"rid":1,"cmd":"open","id":"a","url":"http://127.0.0.1:PORT","token":"..."}  -> {connected, recovered}
//   {"rid":2,"cmd":"drop","id":"a"}          close the transport abruptly, no automatic reconnection
//   {"rid":3,"cmd":"reconnect","id":"a","url":"..."}  connect again (optionally elsewhere) -> {recovered}
//   {"rid":4,"cmd":"retarget","id":"a","url":"..."}   automatic reconnections go to this url from now on
//   {"rid":5,"cmd":"wait","id":"a","count":N,"timeout":ms}  -> {events: [[name, data, offset], ...]}
//   {"rid":6,"cmd":"awaitConnects","id":"a","connects":N}  -> state once connected N times in all
//   {"rid":6,"cmd":"state","id":"a"}          -> {connected, recovered, connects, events}
//   {"rid":7,"cmd":"exit"}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const sockets = new Map();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function state(entry) {
  return {
    connected: entry.socket.connected, recovered: entry.socket.recovered, connects: entry.connects,
    events: entry.events,
  };
}

function nextConnect(entry, timeout = 10000) {
  const seen = entry.connects;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (entry.connects > seen) return resolve();
      if (entry.lastError && Date.now() - started > timeout) return reject(new Error(entry.lastError));
      if (Date.now() - started > timeout) return reject(new Error("timeout waiting for connect"));
      setTimeout(check, 10);
    };
    check();
  });
}

const commands = {
  async open({ id, url, token }) {
    const socket = io(url, {
      auth: { token }, transports: ["websocket"], forceNew: true,
      reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0,
    });
    const entry = { socket, events: [], connects: 0, lastError: null };
    sockets.set(id, entry);
    socket.on("connect", () => { entry.connects += 1; });
    socket.on("connect_error", (err) => { entry.lastError = err.message; });
    socket.onAny((name, ...args) => {
      const offset = args.length > 1 && typeof args[args.length - 1] === "string" ? args[args.length - 1] : null;
      entry.events.push([name, args[0], offset]);
    });
    await nextConnect(entry);
    return state(entry);
  },
  async drop({ id }) {
    const entry = sockets.get(id);
    entry.socket.io.reconnection(false);
    entry.socket.io.engine.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    return state(entry);
  },
  async reconnect({ id, url }) {
    const entry = sockets.get(id);
    if (url) entry.socket.io.uri = url;
    entry.socket.io.reconnection(true);
    const connected = nextConnect(entry);
    entry.socket.connect();
    await connected;
    return state(entry);
  },
  async retarget({ id, url }) {
    sockets.get(id).socket.io.uri = url;
    return {};
  },
  async awaitConnects({ id, connects, timeout }) {
    const entry = sockets.get(id);
    const started = Date.now();
    while (!(entry.connects >= connects && entry.socket.connected) && Date.now() - started < (timeout ?? 10000)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return state(entry);
  },
  async wait({ id, count, timeout }) {
    const entry = sockets.get(id);
    const started = Date.now();
    while (entry.events.length < count && Date.now() - started < (timeout ?? 5000)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return state(entry);
  },
  async state({ id }) {
    return state(sockets.get(id));
  },
  async exit() {
    for (const { socket } of sockets.values()) socket.disconnect();
    setTimeout(() => process.exit(0), 10);
    return {};
  },
};

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const command = JSON.parse(line);
  try {
    say({ rid: command.rid, ...(await commands[command.cmd](command)) });
  } catch (error) {
    say({ rid: command.rid, error: String(error) });
  }
});
lines.on("close", () => process.exit(0));
