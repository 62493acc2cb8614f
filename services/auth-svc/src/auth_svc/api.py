"""HTTP routes of auth-svc. DomainError -> HTTP happens in `domain_error_handler`, nowhere else."""

import logging
from typing import Annotated, Literal

from contracts.fields import storable
from contracts.identity import Principal, UserType
from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from servicekit.http import CurrentPrincipal, error_response
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import accounts
from auth_svc.domain import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    USERNAME_MIN,
    USERNAME_PATTERN,
    DomainError,
    InvalidCredentials,
    InvalidPassword,
    InvalidUsername,
    UsernameTaken,
)
from auth_svc.keys import SigningKey, jwks
from auth_svc.passwords import Passwords
from auth_svc.throttle import TooManyAttempts
from auth_svc.tokens import TokenIssuer

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

    @classmethod
    def of(cls, principal: Principal) -> "UserOut":
        return cls(user_id=principal.user_id, user_type=principal.user_type, username=principal.username)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut


def _token_response(issuer: TokenIssuer, principal: Principal) -> TokenResponse:
    token = issuer.issue(principal)
    return TokenResponse(access_token=token.access_token, expires_in=token.expires_in, user=UserOut.of(principal))


# --- routes ---

router = APIRouter(prefix="/api/v4/auth", tags=["auth"])


@router.post("/login", responses={429: {"description": "too many failed attempts: `too_many_attempts`, "
                                              "with a Retry-After header"}})
async def login(
    body: LoginRequest, request: Request, engine: EngineDep, passwords: PasswordsDep, issuer: IssuerDep
) -> TokenResponse:
    """Failed attempts are limited per username and per client address (see `throttle.py`)."""
    address = request.client.host if request.client else None
    principal = await accounts.login(engine, passwords, body.username, body.password,
                                     limits=request.app.state.login_limits, address=address)
    log.info("login", extra={"user_id": principal.user_id, "user_type": principal.user_type})
    return _token_response(issuer, principal)


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(
    body: RegisterRequest, engine: EngineDep, passwords: PasswordsDep, issuer: IssuerDep
) -> TokenResponse:
    principal = await accounts.register(engine, passwords, body.username, body.password)
    log.info("registered", extra={"user_id": principal.user_id})
    return _token_response(issuer, principal)


@router.get("/me")
async def me(principal: CurrentPrincipal) -> UserOut:
    return UserOut.of(principal)


jwks_router = APIRouter(tags=["keys"])


@jwks_router.get(JWKS_PATH)
async def jwks_document(request: Request) -> JSONResponse:
    key: SigningKey = request.app.state.signing_key
    return JSONResponse(jwks([key]), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})


# --- errors ---

_STATUS: dict[type[DomainError], int] = {
    InvalidCredentials: 401,
    TooManyAttempts: 429,
    UsernameTaken: 409,
    InvalidUsername: 422,
    InvalidPassword: 422,
}


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status_code = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
    details = [{"field": exc.field, "in": "body", "message": exc.message}] if exc.field else None
    if isinstance(exc, InvalidCredentials):
        log.info("login refused")
    if isinstance(exc, TooManyAttempts):
        log.warning("login locked out", extra={"retry_after": exc.retry_after})
        return error_response(status_code, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)})
    return error_response(status_code, exc.code, exc.message, details)


def install_routes(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(jwks_router)
    app.add_exception_handler(DomainError, domain_error_handler)
