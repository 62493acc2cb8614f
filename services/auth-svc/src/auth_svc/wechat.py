"""WeChat's `auth.code2Session` (jscode2session): trades the one-time code a mini program got from
`wx.login()` for the user's `openid` (per mini program) and, when the mini program is bound to a WeChat Open
Platform account, `unionid` (the same person across its apps).

https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html. WeChat answers HTTP
200 whatever happened, with `{"errcode", "errmsg"}` on failure, as `text/plain`. Its failures become refusals
people and apps can act on (servicekit.errors), never a 500:

| WeChat errcode | answer |
|---|---|
| 40029 invalid code, 40163 code been used | 401 `wechat_code_invalid` (call `wx.login()` again) |
| 40226 high-risk user (blocked by WeChat) | 403 `wechat_user_blocked` |
| 45011 frequency limit | 429 `wechat_rate_limited` + Retry-After |
| -1 system busy, timeouts, unreachable, not JSON | 503 `wechat_unavailable` |
| 40013 invalid appid, 40125 invalid secret, any other | 503 `wechat_misconfigured` (logged as an error) |
| (no AUTH_WECHAT_APPID / AUTH_WECHAT_SECRET) | 404 `wechat_login_disabled` |

The app secret travels in the query string (WeChat's design), so no URL of these requests is ever logged or put
in an error: the messages here name the endpoint only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

import httpx
from pydantic import BaseModel, Field, SecretStr, ValidationError
from servicekit.errors import Forbidden, NotFound, TooMany, Unauthorized, Unavailable

log = logging.getLogger(__name__)

JSCODE2SESSION = "/sns/jscode2session"
WECHAT_RATE_LIMIT_RETRY_SECONDS = 60
"""WeChat's frequency limits are per minute."""


class WeChatCodeInvalid(Unauthorized):
    code = "wechat_code_invalid"
    message = "the WeChat login code is invalid or already used; call wx.login() again"


class WeChatUserBlocked(Forbidden):
    code = "wechat_user_blocked"
    message = "WeChat refused to log this user in (a high-risk account)"


class WeChatRateLimited(TooMany):
    code = "wechat_rate_limited"
    message = "WeChat's login quota is exhausted for now; try again later"

    def __init__(self) -> None:
        super().__init__(retry_after=WECHAT_RATE_LIMIT_RETRY_SECONDS)


class WeChatUnavailable(Unavailable):
    code = "wechat_unavailable"
    message = "WeChat's login service is busy or unreachable; try again shortly"


class WeChatMisconfigured(Unavailable):
    code = "wechat_misconfigured"
    message = "WeChat login is misconfigured on this server"


class WeChatLoginDisabled(NotFound):
    """No WeChat login on this server: nothing to find here, not a fault (a 5xx would page whoever is on call)."""

    code = "wechat_login_disabled"
    message = "WeChat login is not configured on this server (AUTH_WECHAT_APPID, AUTH_WECHAT_SECRET)"


WeChatId = Annotated[str, Field(min_length=1, max_length=128)]


class _Code2SessionAnswer(BaseModel):
    """What WeChat answers (success and failure share one shape)."""

    errcode: int = 0
    errmsg: str = ""
    openid: WeChatId | None = None
    unionid: WeChatId | None = None


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None


_ERRORS: dict[int, type[Exception]] = {
    40029: WeChatCodeInvalid, 40163: WeChatCodeInvalid, 40226: WeChatUserBlocked, 45011: WeChatRateLimited,
    -1: WeChatUnavailable,
}


class WeChatClient:
    """One per process; `http` is closed by `aclose`."""

    def __init__(self, *, base_url: str, appid: str, secret: SecretStr, timeout_seconds: float,
                 http: httpx.AsyncClient | None = None) -> None:
        self.appid = appid
        self._secret = secret
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_seconds)

    def __repr__(self) -> str:
        return f"WeChatClient(appid={self.appid!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def identify(self, code: str) -> WeChatIdentity:
        """The user behind a `wx.login()` code, or one of this module's refusals."""
        params = {"appid": self.appid, "secret": self._secret.get_secret_value(), "js_code": code,
                  "grant_type": "authorization_code"}
        try:
            response = await self._http.get(JSCODE2SESSION, params=params)
        except httpx.HTTPError as error:
            log.warning("WeChat %s failed: %s", JSCODE2SESSION, type(error).__name__)
            raise WeChatUnavailable() from None
        if response.status_code != 200:
            log.warning("WeChat %s answered HTTP %d", JSCODE2SESSION, response.status_code)
            raise WeChatUnavailable()
        try:
            answer = _Code2SessionAnswer.model_validate_json(response.content)
        except ValidationError:
            log.warning("WeChat %s answered something that is not its JSON", JSCODE2SESSION)
            raise WeChatUnavailable() from None
        if answer.errcode != 0 or answer.openid is None:
            refusal = _ERRORS.get(answer.errcode)
            if refusal is None:
                log.error("WeChat %s refused: errcode %d (%s); check AUTH_WECHAT_APPID / AUTH_WECHAT_SECRET",
                          JSCODE2SESSION, answer.errcode, answer.errmsg[:200])
                raise WeChatMisconfigured()
            log.info("WeChat %s refused: errcode %d", JSCODE2SESSION, answer.errcode)
            raise refusal()
        return WeChatIdentity(answer.openid, answer.unionid)
