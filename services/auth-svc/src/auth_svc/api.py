"""HTTP routes of auth-svc. Refusals (servicekit.errors) become HTTP errors in servicekit.http, as in every
service: 401 invalid_credentials / refresh_token_*, 409 username_taken, 422 validation_error / weak_password,
429 too_many_attempts with Retry-After."""

import logging
from typing import Annotated, Literal

from contracts.fields import storable
from contracts.identity import AdminRole, Principal, UserType
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from servicekit.http import CurrentPrincipal
from servicekit.openapi import raises
from servicekit.ratelimit import RateLimit, RateLimited, RateLimiter
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import accounts, refresh_tokens, wechat_accounts
from auth_svc.domain import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    USERNAME_MIN,
    USERNAME_PATTERN,
    InvalidCredentials,
    UsernameTaken,
    WeakPassword,
)
from auth_svc.keys import SigningKey, jwks
from auth_svc.passwords import Passwords
from auth_svc.refresh_tokens import Lifetimes, RefreshRefused, RefreshReused
from auth_svc.throttle import TooManyAttempts
from auth_svc.tokens import TokenIssuer
from auth_svc.wechat import (
    WeChatClient,
    WeChatCodeInvalid,
    WeChatLoginDisabled,
    WeChatMisconfigured,
    WeChatRateLimited,
    WeChatUnavailable,
    WeChatUserBlocked,
)

log = logging.getLogger(__name__)

JWKS_PATH = "/.well-known/jwks.json"
JWKS_MAX_AGE = 300


# --- dependencies (everything lives on app.state, set up by the lifespan) ---


async def _engine(request: Request) -> AsyncEngine:
    return request.app.state.engine


async def _passwords(request: Request) -> Passwords:
    return request.app.state.passwords


async def _issuer(request: Request) -> TokenIssuer:
    return request.app.state.token_issuer


EngineDep = Annotated[AsyncEngine, Depends(_engine)]
PasswordsDep = Annotated[Passwords, Depends(_passwords)]
IssuerDep = Annotated[TokenIssuer, Depends(_issuer)]


# --- payloads ---


class LoginRequest(BaseModel):
    # storable: a NUL in the username reached PostgreSQL as a 500 (found by fuzzing)
    username: Annotated[str, AfterValidator(storable)] = Field(min_length=1, max_length=64)
    password: Annotated[str, AfterValidator(storable)] = Field(min_length=1, max_length=1024)


class RegisterRequest(BaseModel):
    username: str = Field(min_length=USERNAME_MIN, max_length=USERNAME_MAX, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UserOut(BaseModel):
    user_id: int
    user_type: UserType
    username: str
    role: AdminRole | None = None
    """Admins: `agent` or `supervisor`; end users: null."""

    @classmethod
    def of(cls, principal: Principal) -> "UserOut":
        return cls(user_id=principal.user_id, user_type=principal.user_type, username=principal.username,
                   role=principal.role)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    """Seconds the access token lives (`AUTH_TOKEN_TTL_SECONDS`)."""
    user: UserOut
    refresh_token: str
    """Opaque; `POST /api/v4/auth/refresh` trades it, once, for a new access token and a new refresh token."""
    refresh_expires_in: int
    """Seconds the refresh token lives."""


class WeChatLoginRequest(BaseModel):
    code: Annotated[str, AfterValidator(storable)] = Field(min_length=1, max_length=128)
    """The one-time code from `wx.login()` (valid 5 minutes, once)."""


class WeChatLoginResponse(TokenResponse):
    created: bool
    """True when this login made the account (the user's first login with WeChat)."""


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


async def _token_response(
    request: Request, engine: AsyncEngine, issuer: TokenIssuer, principal: Principal,
    refresh: refresh_tokens.IssuedRefresh | None = None,
) -> TokenResponse:
    """Tokens for `principal`: the next refresh token of a family, or (`refresh` None) a new login's first."""
    if refresh is None:
        lifetimes: Lifetimes = request.app.state.refresh_lifetimes
        refresh = await refresh_tokens.start_family(engine, lifetimes, principal.user_id)
    wechat: WeChatClient | None = request.app.state.wechat
    if wechat is not None and not principal.is_admin:  # a WeChat user's tokens name their openid (claim wx_openid)
        principal = principal.model_copy(
            update={"wx_openid": await wechat_accounts.openid_of(engine, wechat.appid, principal.user_id)})
    token = issuer.issue(principal)
    return TokenResponse(
        access_token=token.access_token, expires_in=token.expires_in, user=UserOut.of(principal),
        refresh_token=refresh.token, refresh_expires_in=refresh.expires_in,
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- routes ---

router = APIRouter(prefix="/api/v4/auth", tags=["auth"])


@router.post("/login", responses=raises(InvalidCredentials, TooManyAttempts(1)))
async def login(
    body: LoginRequest, request: Request, engine: EngineDep, passwords: PasswordsDep, issuer: IssuerDep
) -> TokenResponse:
    """Failed attempts are limited per (username, client address), per username and per client address (see
    `throttle.py`)."""
    principal = await accounts.login(engine, passwords, body.username, body.password,
                                     limits=request.app.state.login_limits, address=_address(request))
    log.info("login", extra={"user_id": principal.user_id, "user_type": principal.user_type})
    return await _token_response(request, engine, issuer, principal)


@router.post("/register", status_code=status.HTTP_201_CREATED, responses=raises(
    UsernameTaken, WeakPassword, TooManyAttempts(1, "registrations from this address")))
async def register(
    body: RegisterRequest, request: Request, engine: EngineDep, passwords: PasswordsDep, issuer: IssuerDep
) -> TokenResponse:
    max_per_address, window = request.app.state.register_limits
    principal = await accounts.register(engine, passwords, body.username, body.password, address=_address(request),
                                        max_per_address=max_per_address, window_seconds=window,
                                        hash_slots=request.app.state.registration_hashes)
    log.info("registered", extra={"user_id": principal.user_id})
    return await _token_response(request, engine, issuer, principal)


@router.post("/wechat/login", responses=raises(
    WeChatCodeInvalid, WeChatUserBlocked, WeChatRateLimited, RateLimited(retry_after=1), WeChatUnavailable,
    WeChatMisconfigured, WeChatLoginDisabled))
async def wechat_login(
    body: WeChatLoginRequest, request: Request, engine: EngineDep, issuer: IssuerDep
) -> WeChatLoginResponse:
    """The WeChat mini program's login: the code from `wx.login()` is exchanged with WeChat (`code2Session`)
    for the user's openid/unionid, bound to an end-user account (made on the first login). Answers like
    `/login`, plus `created`. Limited per client address (`AUTH_WECHAT_LOGIN_RATE_LIMIT`)."""
    client: WeChatClient | None = request.app.state.wechat
    if client is None:
        raise WeChatLoginDisabled()
    await _limit_per_address(request, "wechat.login", request.app.state.settings.wechat_login_rate_limit)
    identity = await client.identify(body.code)
    principal, created = await wechat_accounts.find_or_create(engine, client.appid, identity)
    log.info("wechat login", extra={"user_id": principal.user_id, "new_account": created})
    tokens = await _token_response(request, engine, issuer, principal)
    return WeChatLoginResponse(**tokens.model_dump(), created=created)


async def _limit_per_address(request: Request, bucket: str, limit: RateLimit) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    decision = await limiter.hit(f"{bucket}:address:{_address(request)}", limit)
    if not decision.allowed:
        raise RateLimited(f"too many requests from this address: at most {limit.requests} per "
                          f"{limit.per_seconds:g} s; retry in {decision.retry_after} s",
                          retry_after=decision.retry_after)


@router.post("/refresh", responses=raises(RefreshRefused, RefreshReused))
async def refresh(body: RefreshRequest, request: Request, engine: EngineDep, issuer: IssuerDep) -> TokenResponse:
    """A new access token and a new refresh token; the one sent is used up. Sending a used one again ends every
    token of that login (someone else holds a copy)."""
    account, following = await refresh_tokens.rotate(engine, request.app.state.refresh_lifetimes, body.refresh_token)
    return await _token_response(request, engine, issuer, account.principal(), following)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, engine: EngineDep) -> None:
    """Ends the login the refresh token belongs to (every refresh token of it). The access token is not
    revocable: it simply expires (`expires_in`). Unknown tokens are ignored (logging out twice is fine)."""
    if await refresh_tokens.revoke_family(engine, body.refresh_token):
        log.info("logout")


@router.get("/me")
async def me(principal: CurrentPrincipal) -> UserOut:
    return UserOut.of(principal)


jwks_router = APIRouter(tags=["keys"])


@jwks_router.get(JWKS_PATH)
async def jwks_document(request: Request) -> JSONResponse:
    key: SigningKey = request.app.state.signing_key
    return JSONResponse(jwks([key]), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})


routers = [router, jwks_router]
