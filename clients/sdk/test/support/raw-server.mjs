// A minimal Engine.IO 4 / Socket.IO 5 server over `ws`, written out by hand so the unit tests see the exact
// frames a client sends and can answer CONNECT as they like (accept with a pid, refuse with a code).
import { WebSocketServer } from "ws";

export async function startRawServer({ onConnect } = {}) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => wss.once("listening", resolve));
  const conns = [];
  const waiters = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  wss.on("connection", (ws, req) => {
    const conn = { ws, headers: req.headers, url: req.url, frames: [], connects: [] };
    conns.push(conn);
    ws.send(JSON.stringify({ sid: `s${conns.length}`, upgrades: [], pingInterval: 25000, pingTimeout: 20000,
      maxPayload: 1000000 }).replace(/^/, "0"));
    ws.on("message", (data, isBinary) => {
      conn.frames.push(isBinary ? { binary: true, bytes: [...data] } : { binary: false, text: data.toString() });
      const text = isBinary ? "" : data.toString();
      if (text.startsWith("40")) {
        const auth = text.length > 2 ? JSON.parse(text.slice(2)) : {};
        conn.connects.push(auth);
        const answer = onConnect ? onConnect(auth, conns.length) : { pid: "p1" };
        if (answer.refuse) ws.send(`44${JSON.stringify(answer.refuse)}`);
        else ws.send(`40${JSON.stringify({ sid: `io${conns.length}`, ...(answer.pid ? { pid: answer.pid } : {}) })}`);
      }
      notify();
    });
    ws.on("close", notify);
    notify();
  });
  const url = `http://127.0.0.1:${wss.address().port}`;
  return {
    url, conns,
    /** Resolves when `check()` is true (re-checked on every frame / connection / close). */
    until(check) {
      return new Promise((resolve) => {
        const test = () => (check() ? resolve() : waiters.push(test));
        test();
      });
    },
    close: () => new Promise((resolve) => {
      wss.clients.forEach((c) => c.terminate());
      wss.close(() => resolve());
    }),
  };
}

/** Resolves at the next `event` of a RealtimeClient's socket (or of an emitter with once()). */
export function next(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}
