// The stock client's view: socket.io-client 4.7.2 sockets on websocket, on polling only, and on polling that
// upgrades to websocket, all in `admins`; the server then broadcasts `count` events and every socket must get
// every one, in order (the payload's `seq` 0..count-1). Tokens come as one JSON line on stdin; prints
// {connected} once all are in, then the verdict.
import readline from "node:readline";
import { io } from "socket.io-client";

const [base, clientsArg, countArg] = process.argv.slice(2);
const clients = Number(clientsArg), count = Number(countArg);
const rl = readline.createInterface({ input: process.stdin });
const tokens = JSON.parse(await new Promise((r) => rl.once("line", r)));
const modes = [["websocket"], ["polling"], ["polling", "websocket"]];

const sockets = await Promise.all(Array.from({ length: clients }, (_, i) => new Promise((resolve, reject) => {
  const transports = modes[i % modes.length];
  const s = io(base, { path: "/socket.io", transports, auth: { token: tokens[i % tokens.length] }, reconnection: false });
  const state = { s, transports: transports.join("+"), seqs: [] };
  s.on("notification:broadcast", (data) => state.seqs.push(data.seq));
  s.on("connect", () => resolve(state));
  s.on("connect_error", reject);
})));
// Give upgrading sockets time to finish their upgrade before the broadcasts start.
await new Promise((r) => setTimeout(r, 500));
console.log(JSON.stringify({ connected: sockets.length }));

const deadline = Date.now() + 20000;
while (Date.now() < deadline && sockets.some((st) => st.seqs.length < count)) await new Promise((r) => setTimeout(r, 50));
const bad = sockets.filter((st) => st.seqs.length !== count || st.seqs.some((v, i) => v !== i))
  .map((st) => ({ transports: st.transports, got: st.seqs.length, upgraded: st.s.io.engine.transport.name }));
console.log(JSON.stringify({ clients: sockets.length, every_message_in_order: bad.length === 0, bad,
  transports: [...new Set(sockets.map((st) => st.s.io.engine.transport.name))] }));
for (const st of sockets) st.s.disconnect();
process.exit(0);
