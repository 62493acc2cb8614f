// What both entry points export.
export { RealtimeClient } from "./client.js";
export type {
  AckEvent, ClientOptions, ConnectionState, PayloadOf, PlainEvent, ServerEvent, TokenSource,
} from "./client.js";
export { Backoff } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { TIMEOUT, UNAVAILABLE, ackError, emitWithAck, toAck } from "./acks.js";
export { ackWasLost, newClientMsgId, sendChatMessage } from "./chat-send.js";
export type { AckRequester, ChatSendOptions } from "./chat-send.js";
export { RefreshRefused, TokenKeeper, fetchRefresher, sessionFrom } from "./tokens.js";
export type { Refresher, Session, TokenKeeperOptions, TokenResponse } from "./tokens.js";
export type * from "./contracts.js";
export { PictureLinks, absoluteUrl, isPictureMessage } from "./pictures.js";
export type { AttachmentLinks, FetchLinks, PictureLinksOptions } from "./pictures.js";
