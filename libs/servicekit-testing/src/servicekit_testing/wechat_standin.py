"""A stand-in for WeChat's server API (api.weixin.qq.com), for tests: the real one is out of reach, and its
answers for bad codes, rate limits and a busy system are what the platform must handle.

It behaves as WeChat documents it (mini program "登录" / `auth.code2Session`): ``GET /sns/jscode2session`` with
``appid``, ``secret``, ``js_code``, ``grant_type=authorization_code`` answers ``{"openid", "session_key"[,
"unionid"]}`` or ``{"errcode", "errmsg"}``, always HTTP 200 and ``Content-Type: text/plain`` (WeChat's own quirk).
A code is good once (then 40163 "code been used"); an unknown one is 40029; a wrong appid 40013, a wrong secret
40125. ``fail_next(errcode)`` makes the next call answer that error (-1 system busy, 45011 rate limited, 40226
high-risk user).

    async with WeChatStandIn(appid="wx-test", secret="s3cret") as wechat:
        code = wechat.issue_code("openid-1", unionid="union-1")   # what wx.login() would hand the app
        ... AUTH_WECHAT_API_BASE_URL=wechat.base_url ...
        wechat.calls                                                # every request, for assertions

Subscribe messages (server API "获取稳定版接口调用凭据" and "发送订阅消息"): ``POST /cgi-bin/stable_token``
``{"grant_type": "client_credential", "appid", "secret"[, "force_refresh"]}`` answers ``{"access_token",
"expires_in"}`` (``token_ttl`` seconds, 7200 by default); ``POST /cgi-bin/message/subscribe/send?access_token=``
with ``{"touser", "template_id", "data", ...}`` answers ``{"errcode": 0, "errmsg": "ok"}``, 40001 for a token it
did not issue (or one ``expire_tokens()`` ended: then 42001), 40003 for an empty openid; ``sent`` lists the
accepted messages, ``fail_next`` works here too (e.g. 43101: the user refused the subscription).

``python -m servicekit_testing.wechat_standin --port 8099 --appid wx-test --secret s3cret`` runs it alone (the
Node end-to-end tests start it this way); ``POST /_standin/codes {"openid", "unionid"?}`` issues a code there,
``GET /_standin/sent?touser=<openid>`` lists the subscribe messages it accepted (for that openid).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

ERRMSG = {
    -1: "system error",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40226: "high risk user",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit mustslower retry next minute",
}


@dataclass
class Call:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None


@dataclass
class _Identity:
    openid: str
    unionid: str | None


@dataclass
class WeChatStandIn:
    appid: str = "wx-standin-appid"
    secret: str = "standin-secret"
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    _codes: dict[str, _Identity] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)
    _failures: list[int] = field(default_factory=list)
    token_ttl: int = 7200
    sent: list[dict[str, Any]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _tokens: dict[str, bool] = field(default_factory=dict)
    """Access tokens issued -> still valid."""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def issue_code(self, openid: str, *, unionid: str | None = None) -> str:
        """A one-time login code for `openid`, as wx.login() gives a mini program."""
        code = "code-" + secrets.token_hex(8)
        self._codes[code] = _Identity(openid, unionid)
        return code

    def fail_next(self, errcode: int) -> None:
        """The next API call answers this WeChat error code."""
        self._failures.append(errcode)

    def expire_tokens(self) -> None:
        """Every access token issued so far answers 42001 (expired) from now on."""
        self._tokens = dict.fromkeys(self._tokens, False)

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/sns/jscode2session", self._jscode2session)
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_post("/cgi-bin/message/subscribe/send", self._subscribe_send)
        app.router.add_post("/_standin/codes", self._issue)
        app.router.add_get("/_standin/sent", self._sent)
        return app

    async def start(self) -> None:
        if self.port == 0:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = s.getsockname()[1]
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.stop()

    # --- WeChat's API ---------------------------------------------------------------------------------

    @staticmethod
    def _answer(body: dict[str, Any]) -> web.Response:
        return web.Response(text=json.dumps(body), content_type="text/plain")

    def _error(self, errcode: int) -> web.Response:
        return self._answer({"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')}, rid: {secrets.token_hex(6)}"})

    async def _jscode2session(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.calls.append(Call(request.method, request.path, query))
        if self._failures:
            return self._error(self._failures.pop(0))
        if query.get("appid") != self.appid:
            return self._error(40013)
        if query.get("secret") != self.secret:
            return self._error(40125)
        code = query.get("js_code", "")
        if query.get("grant_type") != "authorization_code" or code not in self._codes:
            return self._error(40029)
        if code in self._used:
            return self._error(40163)
        self._used.add(code)
        identity = self._codes[code]
        body: dict[str, Any] = {"openid": identity.openid, "session_key": secrets.token_urlsafe(16)}
        if identity.unionid is not None:
            body["unionid"] = identity.unionid
        return self._answer(body)

    async def _stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(Call(request.method, request.path, dict(request.query), body))
        if self._failures:
            return self._error(self._failures.pop(0))
        if body.get("appid") != self.appid:
            return self._error(40013)
        if body.get("secret") != self.secret:
            return self._error(40125)
        if body.get("grant_type") != "client_credential":
            return self._error(40002)
        token = "token-" + secrets.token_hex(12)
        self._tokens[token] = True
        return self._answer({"access_token": token, "expires_in": self.token_ttl})

    async def _subscribe_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        query = dict(request.query)
        self.calls.append(Call(request.method, request.path, query, body))
        if self._failures:
            return self._error(self._failures.pop(0))
        valid = self._tokens.get(query.get("access_token", ""))
        if valid is None:
            return self._error(40001)
        if not valid:
            return self._error(42001)
        if not body.get("touser"):
            return self._error(40003)
        self.sent.append(body)
        return self._answer({"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)})

    async def _issue(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"code": self.issue_code(str(body["openid"]), unionid=body.get("unionid"))})

    async def _sent(self, request: web.Request) -> web.Response:
        touser = request.query.get("touser")
        return web.json_response([m for m in self.sent if touser is None or m.get("touser") == touser])


async def _serve(args: argparse.Namespace) -> None:
    standin = WeChatStandIn(appid=args.appid, secret=args.secret, host=args.host, port=args.port)
    await standin.start()
    print(f"wechat stand-in on {standin.base_url}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--appid", default="wx-standin-appid")
    parser.add_argument("--secret", default="standin-secret")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
