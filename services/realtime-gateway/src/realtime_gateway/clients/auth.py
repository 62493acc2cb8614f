"""The handshake: the token in the CONNECT packet's `auth.token` becomes a `Principal`, or the connection is
refused with a `connect_error` the spec's frontend understands (`err.message` contains `unauthorized`)."""

import logging
from typing import Any

from contracts.identity import Principal
from contracts.socketio.ack import UNAVAILABLE
from servicekit.jwt import JwksVerifier, KeySetUnavailable, TokenError
from socketio.exceptions import ConnectionRefusedError

log = logging.getLogger(__name__)


def token_of(auth: Any) -> str | None:
    """`auth.token` when the client sent one as a string, else None."""
    token = auth.get("token") if isinstance(auth, dict) else None
    return token if isinstance(token, str) and token else None


def refusal(exc: TokenError | KeySetUnavailable) -> ConnectionRefusedError:
    """The `connect_error` for a refused token: `{message: "unauthorized: ...", data: {code}}`; a key set we
    cannot fetch is our problem, not the client's, so it says `unavailable: ...` instead."""
    if isinstance(exc, KeySetUnavailable):
        return ConnectionRefusedError("unavailable: cannot verify tokens right now", {"code": UNAVAILABLE})
    message = exc.message if exc.message.startswith("unauthorized") else f"unauthorized: {exc.message}"
    return ConnectionRefusedError(message, {"code": exc.code})


async def authenticate(verifier: JwksVerifier, auth: Any) -> Principal:
    """The verified identity, or raises `ConnectionRefusedError` (see `refusal`)."""
    try:
        return await verifier.verify(token_of(auth))
    except TokenError as exc:
        raise refusal(exc) from None
    except KeySetUnavailable as exc:
        log.warning("refusing a connection: %s", exc)
        raise refusal(exc) from None


def refusal_code(exc: ConnectionRefusedError) -> str:
    """The `data.code` a refusal carries (for metrics)."""
    data = exc.error_args.get("data") if isinstance(exc.error_args, dict) else None
    return str(data.get("code", "unknown")) if isinstance(data, dict) else "unknown"
