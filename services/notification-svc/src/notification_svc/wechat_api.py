"""WeChat's server API for subscribe messages: the access token and `message/subscribe/send`.

The access token comes from `POST /cgi-bin/stable_token` (the "stable" token: while one is valid WeChat hands the
same one to every caller, so several processes of this service never invalidate each other's). Each process
keeps one, fetched by one caller at a time (concurrent sends wait for that fetch instead of starting their own)
and fetched again `margin` seconds before WeChat says it expires. A send answered 40001/42001 (token invalid or
expired) drops the token and tries once more with a fresh one.

WeChat answers HTTP 200 with `errcode` (0 or absent: success). The secret and the tokens are never logged: the
token travels in the query string, so errors are reported with the path only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

log = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40001, 42001})
"""The access token is not (any more) valid: fetch another and try again once."""


@dataclass(frozen=True)
class WeChatError(Exception):
    """WeChat answered an error code, or could not be reached (`errcode` None)."""

    errcode: int | None
    errmsg: str

    def __str__(self) -> str:
        return f"wechat {self.errcode}: {self.errmsg}" if self.errcode is not None else f"wechat unreachable: {self.errmsg}"


class _Token(BaseModel):
    access_token: str
    expires_in: int


class WeChatApi:
    def __init__(self, base_url: str, appid: str, secret: SecretStr, *, timeout_seconds: float = 5.0,
                 margin_seconds: int = 300, clock: Callable[[], float] = time.monotonic,
                 http: httpx.AsyncClient | None = None) -> None:
        self.appid = appid
        self._secret = secret
        self._margin = margin_seconds
        self._clock = clock
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_seconds)
        self._token: str | None = None
        self._expires_at = 0.0
        self._fetching = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def access_token(self) -> str:
        """A valid access token: the one kept, or (one caller at a time) a new one."""
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        async with self._fetching:
            if self._token is not None and self._clock() < self._expires_at:  # fetched while this one waited
                return self._token
            answer = await self._call("/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": self.appid, "secret": self._secret.get_secret_value(),
            })
            try:
                token = _Token.model_validate(answer)
            except ValidationError:
                raise WeChatError(None, "stable_token answered without access_token") from None
            self._token = token.access_token
            self._expires_at = self._clock() + max(0, token.expires_in - self._margin)
            log.info("wechat access token fetched", extra={"expires_in": token.expires_in})
            return token.access_token

    def _drop(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def send_subscribe_message(self, message: dict[str, Any]) -> None:
        """`message/subscribe/send`; raises WeChatError unless WeChat accepted it."""
        for attempt in (1, 2):
            token = await self.access_token()
            try:
                await self._call("/cgi-bin/message/subscribe/send", json=message, params={"access_token": token})
                return
            except WeChatError as error:
                if error.errcode not in TOKEN_INVALID or attempt == 2:
                    raise
                self._drop(token)

    async def _call(self, path: str, *, json: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = await self._http.post(path, json=json, params=params)
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:  # the URL carries the token: report the path only
            raise WeChatError(None, f"{path}: {type(error).__name__}") from None
        if not isinstance(answer, dict):
            raise WeChatError(None, f"{path}: not a JSON object")
        errcode = answer.get("errcode") or 0
        if errcode != 0:
            raise WeChatError(int(errcode), str(answer.get("errmsg", ""))[:200])
        return answer
