"""Security over the running stack: bad tokens refused everywhere, isolation under load, limits, Socket.IO payload
fuzzing, and poison messages dead-lettered on every queue."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import jwt
import pytest
import socketio
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import AUTH, CHAT, GATEWAY, NOTIFICATION
from tests.integration.sockets import PASSWORD, Person, connect_person, login
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _bad_tokens(stack: Stack) -> dict[str, tuple[str, str]]:
    """name -> (token, expected code), all for a real admin account."""
    body = await login(stack.url(AUTH), "admin2")
    good = body["access_token"]
    header = jwt.get_unverified_header(good)
    claims = jwt.decode(good, options={"verify_signature": False})
    key = load_pem_private_key((stack.workdir / "auth-signing-key.pem").read_bytes(), password=None)
    now = int(time.time())

    def signed(extra: dict[str, Any], kid: str = header["kid"]) -> str:
        return jwt.encode({**claims, "jti": uuid.uuid4().hex, **extra}, key, algorithm="EdDSA", headers={"kid": kid})

    async with httpx.AsyncClient() as http:
        x = (await http.get(f"{stack.url(AUTH)}/.well-known/jwks.json")).json()["keys"][0]["x"].encode()
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode())
    signing_input = f"{hs_header}.{_b64(json.dumps(claims).encode())}"
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": header["kid"]}).encode())
    return {
        "alg none": (f"{none_header}.{_b64(json.dumps(claims).encode())}.", "token_bad_algorithm"),
        "HS256 with the public key": (
            f"{signing_input}.{_b64(hmac.new(x, signing_input.encode(), hashlib.sha256).digest())}",
            "token_bad_algorithm"),
        "expired": (signed({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}), "token_expired"),
        "not yet valid": (signed({"iat": now, "nbf": now + 3600, "exp": now + 7200}), "token_not_yet_valid"),
        "wrong issuer": (signed({"iss": "someone-else"}), "token_bad_claims"),
        "wrong audience": (signed({"aud": "another-platform"}), "token_bad_claims"),
        "unknown kid": (signed({}, kid="no-such-key"), "token_unknown_key"),
    }


REST = {
    AUTH: "/api/v4/auth/me",
    NOTIFICATION: "/api/v4/notifications",
    CHAT: "/api/v4/customer-service/sessions",
}


async def test_bad_tokens_are_refused_by_every_service_and_at_the_socket_handshake(stack: Stack):
    refused: Counter[str] = Counter()
    for name, (token, code) in (await _bad_tokens(stack)).items():
        async with httpx.AsyncClient(timeout=10) as http:
            for service, path in REST.items():
                response = await http.get(f"{stack.url(service)}{path}", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401, (name, service, response.text)
                assert response.json()["error"]["code"] == code, (name, service, response.text)
                refused[service] += 1
        sio = socketio.AsyncClient(reconnection=False)
        errors: list[Any] = []
        sio.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(stack.url(GATEWAY), socketio_path="/socket.io", transports=["websocket"],
                              auth={"token": token}, wait_timeout=5)
        assert errors and "unauthorized" in errors[0]["message"] and errors[0]["data"]["code"] == code, (name, errors)
        refused[GATEWAY] += 1
    print(f"\nrefused: {dict(refused)}")


# --- isolation under load ---------------------------------------------------------------------------------

USERS, ADMINS = 50, 5


async def _create_admin(stack: Stack, database_url: str, username: str) -> None:
    env = {**os.environ, "AUTH_DATABASE_URL": database_url}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "auth-svc"), "create-admin", "--username", username, "--password-stdin",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(f"{PASSWORD}\n".encode()), 60)
    assert proc.returncode == 0, out.decode()


async def test_no_socket_receives_what_is_not_theirs_under_load(stack: Stack):
    tag = uuid.uuid4().hex[:6]
    extra_admins = [f"adm{tag}{n}" for n in range(2)]
    for name in extra_admins:
        await _create_admin(stack, stack.database_url, name)
    users = [f"iso{tag}{n:02d}" for n in range(USERS)]
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=30) as http:
        for name in users:
            assert (await http.post("/api/v4/auth/register", json={"username": name, "password": PASSWORD})
                    ).status_code == 201
    gateway = stack.url(GATEWAY)
    admins = [await connect_person(stack.url(AUTH), gateway, a) for a in ["admin1", "admin2", "admin3", *extra_admins]]
    people = [await connect_person(stack.url(AUTH), gateway, u) for u in users]
    try:
        await asyncio.sleep(0.5)
        sessions: dict[int, int] = {}  # user id -> session id

        async def chat(person: Person) -> None:
            async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=30, headers=person.headers) as http:
                opened = await http.post("/api/v4/customer-service/sessions", json={"content": f"hi from {person.username}"})
                assert opened.status_code in (200, 201), opened.text
                sessions[person.user_id] = opened.json()["session_id"]
                for n in range(3):
                    ack = await person.call("chat:send_message", {"session_id": sessions[person.user_id],
                                                                  "content": f"{person.username} says {n}"})
                    assert ack["ok"] is True, ack

        async def notify(sender: Person, target: Person) -> None:
            async with httpx.AsyncClient(base_url=stack.url(NOTIFICATION), timeout=30, headers=sender.headers) as http:
                for n in range(3):
                    response = await http.post("/api/v4/notifications/send", json={
                        "type": "order", "title": f"for {target.username} {n}", "content": "c",
                        "target_user_id": target.user_id})
                    assert response.status_code == 201, response.text

        await asyncio.gather(*(chat(p) for p in people),
                             *(notify(admins[i], admins[(i + 1) % ADMINS]) for i in range(ADMINS)))
        async with asyncio.timeout(30):  # every user hears its own 4 messages (3 + the opening one)
            while any(len(p.events("chat:new_message")) < 4 for p in people):
                await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)

        counts: Counter[str] = Counter()
        for person in people:
            own = sessions[person.user_id]
            for event, data in person.received:
                counts[f"user {event}"] += 1
                assert not event.startswith(("notification:", "system:alert", "system:status_change")), (
                    person.username, event, data)
                if event.startswith("chat:"):
                    assert data["session_id"] == own, f"{person.username} got {event} of session {data['session_id']}"
        for admin in admins:
            for data in admin.events("notification:new"):
                counts["admin notification:new"] += 1
                assert data["target_user_id"] == admin.user_id, f"{admin.username} got {data}"
            assert len(admin.events("notification:new")) == 3
        print(f"\nisolation: {USERS} users, {ADMINS} admins; received {dict(counts)}")
    finally:
        await asyncio.gather(*(p.sio.disconnect() for p in [*admins, *people]), return_exceptions=True)


# --- limits -------------------------------------------------------------------------------------------------

async def test_sizes_and_rates_over_the_limit_get_clear_errors_and_others_are_unaffected(stack: Stack):
    admin = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    user = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "user2")
    other = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "user3")
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            too_long = await http.post(f"{stack.url(NOTIFICATION)}/api/v4/notifications/send", headers=admin.headers,
                                       json={"type": "order", "title": "t" * 201, "content": "c"})
            assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "validation_error"
            opened = await http.post(f"{stack.url(CHAT)}/api/v4/customer-service/sessions", headers=user.headers,
                                     json={"content": "x" * 5001})
            assert opened.status_code == 422
        ack = await user.call("chat:send_message", {"session_id": 1, "content": "x" * 5001})
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
        # per-socket rate: the burst is 20 tokens at 10/s; 40 at once -> some refused, the socket stays up
        acks = await asyncio.gather(*(user.call("no:such_event", {}) for _ in range(40)))
        codes = Counter(a["error"]["code"] for a in acks)
        assert codes["rate_limited"] >= 10 and codes["unknown_event"] >= 15, codes
        assert user.sio.connected
        assert (await other.call("no:such_event", {}))["error"]["code"] == "unknown_event"  # not limited
    finally:
        for p in (admin, user, other):
            await p.sio.disconnect()


# --- Socket.IO payload fuzzing --------------------------------------------------------------------------------

CLIENT_EVENTS = ["chat:send_message", "notification:mark_read", "chat:typing", "register_user"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
payloads = st.fixed_dictionaries({}, optional={
    "session_id": json_values, "content": json_values, "notification_id": json_values, "message_type": json_values,
    "user_id": json_values, "user_type": json_values,
}) | json_values


async def test_generated_payloads_for_every_client_event_get_error_acks_and_the_socket_stays_up(stack: Stack):
    person = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "user4")
    answers: Counter[str] = Counter()
    loop = asyncio.get_running_loop()

    @settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])  # no shrinking: each try is a network round trip
    @given(event=st.sampled_from(CLIENT_EVENTS), payload=payloads)
    def check(event: str, payload: Any) -> None:
        time.sleep(0.1)  # stay under the per-socket rate (10/s), so the payloads reach their handlers
        try:
            ack = asyncio.run_coroutine_threadsafe(person.call(event, payload, timeout=10), loop).result(15)
        except Exception as exc:  # noqa: BLE001 - any failure: say which payload
            raise AssertionError(f"no ack for {event} {payload!r}: {exc!r}") from None
        assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        if not ack["ok"]:
            assert ack["error"]["code"] != "internal", (event, payload, ack)
        answers["ok" if ack["ok"] else ack["error"]["code"]] += 1
        assert person.sio.connected

    try:
        await asyncio.to_thread(check)  # hypothesis drives from a thread; the client lives on this loop
        print(f"\nsocket fuzz answers: {dict(answers)}")
    finally:
        await person.sio.disconnect()


# --- poison messages ------------------------------------------------------------------------------------------

async def test_poison_on_every_queue_ends_in_its_dead_letter_queue(stack: Stack):
    amqp_url = stack.amqp_url
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        marker = uuid.uuid4().hex
        targets = {
            "chat-svc.presence": ("chat-svc.presence.dlq", ""),
            "chat-svc.commands.classic": ("chat-svc.commands.classic.dlq", ""),
            "notification-svc.commands.classic": ("notification-svc.commands.classic.dlq", ""),
            # the gateways' domain events: published like a service would, read from the stream
            "chat.message_created": ("gateway.events.dlq", "chat.events"),
        }
        for route, (_, exchange) in targets.items():
            body = json.dumps({"poison": marker, "route": route}).encode()
            message = aio_pika.Message(body, message_id=f"poison-{marker}", type="poison.test")
            target = await channel.get_exchange(exchange) if exchange else channel.default_exchange
            await target.publish(message, routing_key=route)
        found: dict[str, bool] = {}
        async with asyncio.timeout(20):
            for route, (dlq_name, _) in targets.items():
                dlq = await channel.declare_queue(dlq_name, durable=True, passive=True)
                while not found.get(route):
                    message = await dlq.get(fail=False, no_ack=False)
                    if message is None:
                        await asyncio.sleep(0.1)
                        continue
                    if marker.encode() in message.body and route.encode() in message.body:
                        found[route] = True
                        await message.ack()
                    else:
                        await message.nack(requeue=True)
                        await asyncio.sleep(0.05)
        assert found == dict.fromkeys(targets, True)
    finally:
        await connection.close()
