// A minimal RFC 6455 client on a bare TCP socket, for the connect-rate cell: the same handshake a browser makes
// (GET with Upgrade, a random Sec-WebSocket-Key, the server's Sec-WebSocket-Accept checked), masked client frames,
// unmasked server frames (text, ping -> pong, close), without `ws`'s per-socket machinery (http.ClientRequest,
// Receiver/Sender streams, extension negotiation). The generator's CPU per connect is what limited cell 10's
// connect rate (the Node twin, ~260 us of server CPU per connect, topped out at ~1,600/s); with this client the
// servers' own cost decides. Used by loadgen.js when `connect` is given `raw: true` (BENCH_CONNECT_CLIENT=raw).
import crypto from "node:crypto";
import net from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const HEAD_END = Buffer.from("\r\n\r\n");

export class RawWebSocket {
  /** `onMessage(Buffer)` per text message; `onOpen()` after a valid 101; `onError(Error)` once, on any failure. */
  constructor(url, { onOpen, onMessage, onError }) {
    const u = new URL(url);
    this.extensions = "";
    this.onMessage = onMessage;
    this.onError = onError;
    this.open = false;
    this.buffer = null;
    this.key = crypto.randomBytes(16).toString("base64");
    this.accept = crypto.createHash("sha1").update(this.key + GUID).digest("base64");
    this.sock = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true }, () => {
      this.sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n`
        + `Connection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    this.sock.on("data", (chunk) => this.data(chunk, onOpen));
    this.sock.on("error", (e) => this.fail(e));
    this.sock.on("close", () => this.fail(new Error("closed")));
  }

  fail(e) {
    const onError = this.onError;
    this.onError = null;
    if (onError) onError(e);
  }

  data(chunk, onOpen) {
    let buf = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.buffer = null;
    if (!this.open) {
      const end = buf.indexOf(HEAD_END);
      if (end < 0) { this.buffer = buf; return; }
      const head = buf.toString("latin1", 0, end);
      if (!head.startsWith("HTTP/1.1 101") || !head.toLowerCase().includes(`sec-websocket-accept: ${this.accept.toLowerCase()}`)) {
        this.fail(new Error(`handshake refused: ${head.split("\r\n")[0]}`));
        this.sock.destroy();
        return;
      }
      this.open = true;
      onOpen();
      buf = buf.subarray(end + 4);
    }
    let i = 0;
    while (buf.length - i >= 2) {
      const op = buf[i] & 0x0f;
      let len = buf[i + 1] & 0x7f, at = i + 2;
      if (len === 126) { if (buf.length - i < 4) break; len = buf.readUInt16BE(i + 2); at = i + 4; }
      else if (len === 127) { if (buf.length - i < 10) break; len = Number(buf.readBigUInt64BE(i + 2)); at = i + 10; }
      if (buf.length < at + len) break;
      const payload = buf.subarray(at, at + len);
      i = at + len;
      if (op === 0x1 || op === 0x2) this.onMessage(payload);
      else if (op === 0x9) this.frame(0xA, payload);
      else if (op === 0x8) { this.sock.destroy(); return; }
    }
    if (i < buf.length) this.buffer = buf.subarray(i);
  }

  frame(op, payload) {
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x80 | op, 0x80 | n]) : Buffer.from([0x80 | op, 0x80 | 126, n >> 8, n & 0xff]);
    const mask = crypto.randomBytes(4);
    const body = Buffer.allocUnsafe(n);
    for (let j = 0; j < n; j++) body[j] = payload[j] ^ mask[j & 3];
    this.sock.write(Buffer.concat([head, mask, body]));
  }

  send(text) {
    this.frame(0x1, Buffer.from(text));
  }

  terminate() {
    this.sock.destroy();
  }
}
