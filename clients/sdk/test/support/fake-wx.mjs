// A stand-in for the mini program's `wx` API, built on `ws` and fetch, that behaves like WeChat's:
// wx.connectSocket sends no cookies and no Origin header (only the `header` it is given), onMessage gives a
// string for a text frame and an ArrayBuffer for a binary one, SocketTask.send accepts only a string or an
// ArrayBuffer (anything else fails, as in WeChat); wx.request answers {statusCode, data}; the app life cycle
// (onAppHide/onAppShow) and onNetworkStatusChange are driven by the test (hide(), show(), networkChange()).
import WebSocket from "ws";

function toArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

export function createFakeWx({ fetchImpl = globalThis.fetch } = {}) {
  const hooks = { hide: new Set(), show: new Set(), network: new Set() };
  const tasks = [];
  const sent = []; // every frame the app sent: {kind: "text" | "binary", data}
  const rejectedSends = [];

  const wx = {
    connectSocket({ url, header = {}, protocols, fail }) {
      const ws = new WebSocket(url, protocols || [], { headers: { ...header } });
      const cbs = { open: [], close: [], error: [], message: [] };
      const task = {
        url, ws,
        send({ data, fail: sendFail }) {
          if (typeof data !== "string" && !(data instanceof ArrayBuffer)) {
            rejectedSends.push(data);
            sendFail?.({ errMsg: "sendSocketMessage:fail parameter error: data should be String or ArrayBuffer" });
            return;
          }
          if (ws.readyState !== WebSocket.OPEN) {
            sendFail?.({ errMsg: "sendSocketMessage:fail WebSocket is not connected" });
            return;
          }
          sent.push({ kind: typeof data === "string" ? "text" : "binary", data });
          ws.send(typeof data === "string" ? data : Buffer.from(data), { binary: typeof data !== "string" });
        },
        close({ code = 1000, reason = "" } = {}) {
          ws.close(code, reason);
        },
        onOpen: (cb) => cbs.open.push(cb),
        onClose: (cb) => cbs.close.push(cb),
        onError: (cb) => cbs.error.push(cb),
        onMessage: (cb) => cbs.message.push(cb),
      };
      ws.on("open", () => cbs.open.forEach((cb) => cb({ header: {} })));
      ws.on("message", (data, isBinary) => {
        const payload = isBinary ? toArrayBuffer(Buffer.isBuffer(data) ? data : Buffer.concat(data)) : data.toString("utf8");
        cbs.message.forEach((cb) => cb({ data: payload }));
      });
      ws.on("error", (err) => {
        cbs.error.forEach((cb) => cb({ errMsg: `connectSocket:fail ${err.message}` }));
        if (ws.readyState === WebSocket.CONNECTING) fail?.({ errMsg: `connectSocket:fail ${err.message}` });
      });
      ws.on("close", (code, reason) => cbs.close.forEach((cb) => cb({ code, reason: reason.toString() })));
      tasks.push(task);
      return task;
    },
    request({ url, method = "GET", data, header = {}, success, fail }) {
      const body = data === undefined ? undefined : typeof data === "string" ? data : JSON.stringify(data);
      fetchImpl(url, { method, headers: header, body })
        .then(async (res) => {
          const text = await res.text();
          let parsed = text;
          try { parsed = JSON.parse(text); } catch { /* WeChat gives the text when it is not JSON */ }
          success?.({ statusCode: res.status, data: parsed, header: {} });
        })
        .catch((err) => fail?.({ errMsg: `request:fail ${err.message}` }));
    },
    onAppHide: (cb) => hooks.hide.add(cb),
    offAppHide: (cb) => hooks.hide.delete(cb),
    onAppShow: (cb) => hooks.show.add(cb),
    offAppShow: (cb) => hooks.show.delete(cb),
    onNetworkStatusChange: (cb) => hooks.network.add(cb),
    offNetworkStatusChange: (cb) => hooks.network.delete(cb),
  };

  return {
    wx, tasks, sent, rejectedSends, hooks,
    hide: () => hooks.hide.forEach((cb) => cb()),
    show: () => hooks.show.forEach((cb) => cb({ scene: 1001 })),
    networkChange: (isConnected, networkType = "wifi") => hooks.network.forEach((cb) => cb({ isConnected, networkType })),
    /** Cuts every open socket without a close handshake (the network went away). */
    cut: () => tasks.forEach((t) => t.ws.terminate()),
  };
}
