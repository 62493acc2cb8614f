"""The AsyncAPI 3.0 document of the Socket.IO API, from the Socket.IO event registry.

Written from the gateway's point of view: it ``send``s server -> client events and ``receive``s
client -> server events.
"""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contracts.catalog import SOCKET_MODELS
from contracts.payloads.system_text import SYSTEM_TEXT_MODELS, SYSTEM_TEXTS
from contracts.socketio.ack import AckError, AckOk
from contracts.socketio.events import LEGACY_EVENTS, SERVER_TO_CLIENT, SOCKET_EVENTS, Direction

_AUTH_NOTE = (
    "Send the access JWT as auth.token in the Socket.IO handshake: io({ auth: { token } }). "
    "The gateway verifies the EdDSA JWT (JWKS of auth-svc) and refuses the connection with "
    "connect_error 'unauthorized' otherwise. "
    "Client -> server events with an ack get {ok: true, data?} or {ok: false, error: {code, message}}."
)


def _channel_id(name: str) -> str:
    return name.replace(":", "-")  # AsyncAPI ids allow [A-Za-z0-9_-]; event names never contain '-'


def _message(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "contentType": "application/json",
        "name": model.__name__,
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "title": model.__name__,
    }


def _operation(name: str, direction: Direction, model: type[BaseModel], summary: str, ack: bool) -> dict[str, Any]:
    channel = _channel_id(name)
    op: dict[str, Any] = {
        "action": "send" if direction == SERVER_TO_CLIENT else "receive",
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/{model.__name__}"}],
        "summary": summary,
    }
    if ack:  # the Socket.IO ack travels back on the same channel
        op["reply"] = {
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m.__name__}"} for m in (AckOk, AckError)],
        }
    return op


def system_text_codes() -> dict[str, Any]:
    """The ``SystemTextCode`` schema: every code of ``ChatMessageData.system_code`` / ``AlertData.code``, with
    its parameters' schema (``x-params``) and its wording per language (``x-text``)."""
    return {
        "type": "string",
        "title": "SystemTextCode",
        "description": "Codes of text the platform writes for people (system chat messages, alerts). Clients "
        "render `system.<code>` from their own catalogue with the params; an unknown code: show the fallback "
        "text (message_content / message). New codes are added, never changed.",
        "enum": list(SYSTEM_TEXTS),
        "x-params": {c: {"$ref": f"#/components/schemas/{e.params.__name__}"} for c, e in SYSTEM_TEXTS.items()},
        "x-text": {c: dict(e.text) for c, e in SYSTEM_TEXTS.items()},
    }


def build_asyncapi() -> dict[str, Any]:
    """The whole document as a plain dict (serialize with sorted keys for a stable file)."""
    _, defs = models_json_schema(
        [(m, "validation") for m in SOCKET_MODELS + SYSTEM_TEXT_MODELS], ref_template="#/components/schemas/{model}"
    )
    defs["$defs"]["SystemTextCode"] = system_text_codes()
    entries = [
        (s.name, s.direction, s.payload_model, s.description, s.ack_required) for s in SOCKET_EVENTS.values()
    ]
    legacy = "Legacy event of older clients; accepted, identity comes from the JWT."
    entries += [(name, "client_to_server", model, legacy, False) for name, model in LEGACY_EVENTS.items()]
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name, direction, model, summary, ack in entries:
        channel = channels.setdefault(_channel_id(name), {"address": name, "messages": {}})
        for message in (model, AckOk, AckError) if ack else (model,):
            channel["messages"][message.__name__] = {"$ref": f"#/components/messages/{message.__name__}"}
        verb = "send" if direction == SERVER_TO_CLIENT else "receive"
        operations[f"{verb}-{_channel_id(name)}"] = _operation(name, direction, model, summary, ack)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Realtime platform Socket.IO API",
            "version": "1.0.0",
            "description": "Socket.IO v4 events of the realtime gateway (docs/websocket-protocol.md). "
            "Event names follow <module>:<action>. " + _AUTH_NOTE,
        },
        "defaultContentType": "application/json",
        "servers": {
            "gateway": {
                "host": "localhost:8010",
                "pathname": "/socket.io",
                "protocol": "ws",
                "description": "Socket.IO v4 endpoint (transports websocket, polling). " + _AUTH_NOTE,
                "security": [{"$ref": "#/components/securitySchemes/handshakeJwt"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": defs["$defs"],
            "messages": {m.__name__: _message(m) for m in SOCKET_MODELS},
            "securitySchemes": {
                "handshakeJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The access token goes in the Socket.IO handshake payload as auth.token.",
                }
            },
        },
    }
