// Compile-time checks (tsc --noEmit -p test/types): event names, payloads and acks come from the contracts;
// every `@ts-expect-error` line must BE an error, or tsc fails.
import { createClient, type Ack, type ChatMessageData, type KnownErrorCode } from "../../src/index.js";
import { createWxClient } from "../../src/wx.js";

const client = createClient({ token: "t", autoConnect: false });
client.on("chat:new_message", (m: ChatMessageData) => m.message_content.length);
// @ts-expect-error not an event of the registry
client.on("chat:new_mesage", () => undefined);
// @ts-expect-error the handler's payload type is the contract's
client.on("chat:new_message", (m: { nope: number }) => m.nope);

const ack: Promise<Ack> = client.request("chat:send_message", { session_id: 1, content: "hi" });
void ack.then((a) => (a.ok ? a.data : (a.error.code satisfies string)));
// @ts-expect-error chat:send_message needs session_id and content
void client.request("chat:send_message", { content: "hi" });
// @ts-expect-error chat:typing has no ack: send(), not request()
void client.request("chat:typing", { session_id: 1 });
client.send("chat:typing", { session_id: 1 });
// @ts-expect-error chat:send_message has an ack: request(), not send()
client.send("chat:send_message", { session_id: 1, content: "hi" });

const timeout: KnownErrorCode = "timeout";
// @ts-expect-error not a code of the contracts
const wrong: KnownErrorCode = "timed_out";
void [timeout, wrong];

// @ts-expect-error a mini program has no origin: url is required
createWxClient({ token: "t" });
