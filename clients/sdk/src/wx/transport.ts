// An engine.io transport over `wx.connectSocket` (the mini program's only WebSocket). Same wire as
// engine.io-client's WebSocket transport (name "websocket", one engine.io packet per frame): text packets go as
// strings, binary ones as ArrayBuffer (wx's SocketTask.send takes nothing else), and come back the same way
// (wx's onMessage gives a string for a text frame, an ArrayBuffer for a binary one). No cookies, no Origin
// header: WeChat sends neither; the token travels in the CONNECT packet's auth.

import { Transport } from "engine.io-client/build/esm/transport.js";
import { encodePacket } from "engine.io-parser";
import type { Packet } from "engine.io-parser";

export interface WxSocketTask {
  send(options: { data: string | ArrayBuffer; fail?: (err: { errMsg: string }) => void }): void;
  close(options: { code?: number; reason?: string }): void;
  onOpen(cb: (res: unknown) => void): void;
  onClose(cb: (res: { code: number; reason: string }) => void): void;
  onError(cb: (err: { errMsg: string }) => void): void;
  onMessage(cb: (res: { data: string | ArrayBuffer }) => void): void;
}

/** The part of the `wx` API the SDK uses (the real one, or a stand-in in tests). */
export interface WxApi {
  connectSocket(options: {
    url: string;
    header?: Record<string, string>;
    protocols?: string[];
    tcpNoDelay?: boolean;
    timeout?: number;
    fail?: (err: { errMsg: string }) => void;
  }): WxSocketTask;
  request?(options: {
    url: string;
    method?: string;
    data?: unknown;
    header?: Record<string, string>;
    success?: (res: { statusCode: number; data: unknown }) => void;
    fail?: (err: { errMsg: string }) => void;
  }): void;
  onAppHide?(cb: () => void): void;
  offAppHide?(cb: () => void): void;
  onAppShow?(cb: () => void): void;
  offAppShow?(cb: () => void): void;
  onNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType?: string }) => void): void;
  offNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType?: string }) => void): void;
}

declare const wx: WxApi | undefined;

/** The global `wx` of a mini program, if any. */
export function globalWx(): WxApi | undefined {
  return typeof wx !== "undefined" ? wx : undefined;
}

function toArrayBuffer(data: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

export class WxWebSocket extends Transport {
  private task: WxSocketTask | null = null;

  override get name(): string {
    return "websocket";
  }

  protected override doOpen(): void {
    const api = (this.opts as { wx?: WxApi }).wx ?? globalWx();
    if (!api) {
      this.onError("wx.connectSocket is not available", undefined);
      return;
    }
    const { extraHeaders, protocols } = this.opts as { extraHeaders?: Record<string, string>; protocols?: string[] };
    let task: WxSocketTask;
    try {
      task = api.connectSocket({
        url: this.uri(),
        tcpNoDelay: true,
        ...(extraHeaders ? { header: extraHeaders } : {}),
        ...(protocols ? { protocols } : {}),
        fail: (err) => {
          if (this.task === task) this.onError("websocket error", err);
        },
      });
    } catch (err) {
      this.onError("websocket error", err);
      return;
    }
    this.task = task;
    task.onOpen(() => {
      if (this.task === task) this.onOpen();
    });
    task.onClose((res) => {
      if (this.task !== task) return; // closed by us: Transport.close() already reported it
      this.task = null;
      this.onClose({ description: "websocket connection closed", context: res });
    });
    task.onError((err) => {
      if (this.task === task) this.onError("websocket error", err);
    });
    task.onMessage((res) => {
      if (this.task === task) this.onData(res.data);
    });
  }

  protected override write(packets: Packet[]): void {
    this.writable = false;
    packets.forEach((packet, i) => {
      encodePacket(packet, this.supportsBinary, (data) => {
        const task = this.task;
        if (task) {
          const frame = typeof data === "string" ? data : toArrayBuffer(data as ArrayBuffer | ArrayBufferView);
          task.send({ data: frame, fail: () => undefined }); // a failed send closes the task: onClose follows
        }
        if (i === packets.length - 1) {
          // like engine.io-client's WebSocket transport: a "drain" on the next tick
          Promise.resolve().then(() => {
            this.writable = true;
            this.emitReserved("drain");
          });
        }
      });
    });
  }

  protected override doClose(): void {
    const task = this.task;
    this.task = null;
    if (task) task.close({ code: 1000 });
  }

  private uri(): string {
    const query: Record<string, unknown> = { ...(this.query || {}) };
    if (!this.supportsBinary) query.b64 = 1;
    return this.createUri((this.opts as { secure?: boolean }).secure ? "wss" : "ws", query);
  }
}
