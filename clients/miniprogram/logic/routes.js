// Where the pages are. The chat page shows one given session with `?session_id=<id>`: the past sessions page opens
// it that way, and so does WeChat from a subscribe message (notification-svc sends `page` =
// NOTIFICATION_WECHAT_PAGE + "?session_id=<id>", whose default is CHAT_PAGE: tests/miniprogram checks they agree).
const CHAT_PAGE = "pages/chat/index";
const LOGIN_PAGE = "pages/login/index";

/** The chat page on session `sessionId` (0: the user's latest session). */
function chatUrl(sessionId = 0) {
  return sessionId ? `/${CHAT_PAGE}?session_id=${sessionId}` : `/${CHAT_PAGE}`;
}

/** The login page; `sessionId` is carried to the chat page after the login. */
function loginUrl(sessionId = 0) {
  return sessionId ? `/${LOGIN_PAGE}?session_id=${sessionId}` : `/${LOGIN_PAGE}`;
}

/** The session a page's query names (WeChat passes query values as strings); 0 when none or not an id. */
function sessionIdFrom(query) {
  const value = String((query && query.session_id) || "");
  return /^[1-9]\d{0,15}$/.test(value) ? Number(value) : 0;
}

module.exports = { CHAT_PAGE, LOGIN_PAGE, chatUrl, loginUrl, sessionIdFrom };
