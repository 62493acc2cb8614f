// Where the platform is: its https origin, which must be on the mini program's whitelist (微信公众平台 → 开发管理 →
// 开发设置 → 服务器域名: request, socket, uploadFile and downloadFile legal domains). A development server: see
// README.md ("Pointing at a dev server"); `./scripts/run` serves HTTPS/WSS on port 3443 with a local CA.
module.exports = {
  baseUrl: "https://localhost:3443",
  /** On wx.onAppHide: "close" the socket (recovered when shown again within the gateway's window) or "keep" it. */
  background: "close",
};
