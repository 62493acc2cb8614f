"""JwksVerifier: each refusal has its own stable code; the key set is cached and refetched with a bound."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm
from servicekit.jwt import TOKEN_ERROR_CODES, JwksVerifier, KeySetUnavailable, TokenError

JWKS_URL = "http://auth.test/.well-known/jwks.json"


class KeyServer:
    """Serves a JWKS through httpx.MockTransport and counts the fetches."""

    def __init__(self, *keys: tuple[str, Ed25519PrivateKey]) -> None:
        self.keys = dict(keys)
        self.fetches = 0
        self.fail = False
        self.delay = 0.0

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys.items():
            jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
            out.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": out}

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json=self.jwks())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "42",
        "user_type": "user",
        "username": "alice",
        "iss": "platform-auth",
        "aud": "platform",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: Ed25519PrivateKey, kid: str = "k1", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="EdDSA", headers={"kid": kid})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def server(key: Ed25519PrivateKey) -> KeyServer:
    return KeyServer(("k1", key))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def verifier(server: KeyServer, clock: FakeClock):
    http = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
    v = JwksVerifier(JWKS_URL, issuer="platform-auth", audience="platform", http=http, clock=clock)
    yield v
    await v.aclose()
    await http.aclose()


async def refused(verifier: JwksVerifier, token: str | None) -> TokenError:
    with pytest.raises(TokenError) as info:
        await verifier.verify(token)
    assert info.value.code in TOKEN_ERROR_CODES
    assert info.value.message
    return info.value


async def test_good_token_becomes_a_principal(verifier, key):
    principal = await verifier.verify(sign(key, sub="42", user_type="admin", username="admin1"))
    assert (principal.user_id, principal.user_type, principal.username) == (42, "admin", "admin1")


async def test_an_admins_role_claim_becomes_the_principals_role(verifier, key):
    supervisor = await verifier.verify(sign(key, sub="42", user_type="admin", username="a", role="supervisor"))
    assert (supervisor.role, supervisor.is_supervisor) == ("supervisor", True)
    agent = await verifier.verify(sign(key, sub="43", user_type="admin", username="b", role="agent"))
    assert (agent.role, agent.is_supervisor) == ("agent", False)


async def test_an_end_users_wx_openid_claim_becomes_the_principals_and_an_admin_never_has_one(verifier, key):
    user = await verifier.verify(sign(key, sub="42", user_type="user", username="wx_1", wx_openid="o-abc"))
    assert user.wx_openid == "o-abc"
    plain = await verifier.verify(sign(key, sub="43", user_type="user", username="u"))
    admin = await verifier.verify(sign(key, sub="44", user_type="admin", username="a", wx_openid="o-x"))
    assert (plain.wx_openid, admin.wx_openid) == (None, None)


async def test_a_token_from_before_roles_still_verifies_as_an_agents(verifier, key):
    principal = await verifier.verify(sign(key, sub="42", user_type="admin", username="admin1"))
    assert (principal.role, principal.is_supervisor) == (None, False)


async def test_an_end_user_never_gets_a_role_even_if_the_token_claims_one(verifier, key):
    principal = await verifier.verify(sign(key, sub="7", user_type="user", username="u", role="supervisor"))
    assert (principal.role, principal.is_supervisor) == (None, False)


@pytest.mark.parametrize("token", [None, ""])
async def test_missing_token(verifier, token):
    assert (await refused(verifier, token)).code == "token_missing"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "....", b64({"alg": "EdDSA"}) + ".x.y"])
async def test_garbage_is_malformed(verifier, token):
    assert (await refused(verifier, token)).code == "token_malformed"


async def test_expired_token(verifier, key):
    now = int(time.time())
    error = await refused(verifier, sign(key, iat=now - 100, nbf=now - 100, exp=now - 10))
    assert (error.code, error.message) == ("token_expired", "token expired")


async def test_nbf_in_the_future_is_not_yet_valid(verifier, key):
    assert (await refused(verifier, sign(key, nbf=int(time.time()) + 300))).code == "token_not_yet_valid"


async def test_iat_in_the_future_is_not_yet_valid(verifier, key):
    assert (await refused(verifier, sign(key, iat=int(time.time()) + 300))).code == "token_not_yet_valid"


async def test_signature_of_another_key_is_forged(verifier):
    error = await refused(verifier, sign(Ed25519PrivateKey.generate(), kid="k1"))
    assert (error.code, error.message) == ("token_bad_signature", "unauthorized: bad signature")


async def test_alg_none_is_refused_before_any_key_lookup(verifier, server):
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    assert (await refused(verifier, token)).code == "token_bad_algorithm"
    assert server.fetches == 0


async def test_hs256_signed_with_the_public_key_is_refused(verifier, server, key):
    public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_b64 = base64.urlsafe_b64encode(public_raw).rstrip(b"=")
    for secret in (public_raw, public_b64):
        header = b64({"alg": "HS256", "typ": "JWT", "kid": "k1"})
        body = b64(claims())
        mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        token = f"{header}.{body}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        assert (await refused(verifier, token)).code == "token_bad_algorithm"
    assert server.fetches == 0


async def test_unknown_kid(verifier, key):
    assert (await refused(verifier, sign(key, kid="nope"))).code == "token_unknown_key"


async def test_token_without_kid_names_no_key(verifier, key):
    token = jwt.encode(claims(), key, algorithm="EdDSA")
    assert (await refused(verifier, token)).code == "token_unknown_key"


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "someone-else"},
        {"aud": "another-audience"},
        {"aud": ["platform", "other"]},
        {"sub": None},
        {"sub": "abc"},
        {"sub": "0"},
        {"user_type": None},
        {"user_type": "root"},
        {"user_type": "admin", "role": "root"},
        {"username": None},
        {"jti": None},
        {"exp": None},
        {"iat": None},
        {"nbf": None},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
async def test_bad_or_missing_claims(verifier, key, overrides):
    assert (await refused(verifier, sign(key, **overrides))).code == "token_bad_claims"


async def test_keys_are_fetched_once_and_reused(verifier, server, key):
    for _ in range(5):
        await verifier.verify(sign(key))
    assert server.fetches == 1


async def test_cache_expires_after_ttl(verifier, server, key, clock):
    await verifier.verify(sign(key))
    clock.now += verifier.cache_ttl + 1
    await verifier.verify(sign(key))
    assert server.fetches == 2


async def test_unknown_kid_triggers_a_refetch_that_finds_a_rotated_key(verifier, server, key, clock):
    await verifier.verify(sign(key))
    new_key = Ed25519PrivateKey.generate()
    server.keys["k2"] = new_key
    clock.now += verifier.min_refresh_interval
    principal = await verifier.verify(sign(new_key, kid="k2"))
    assert principal.user_id == 42
    assert server.fetches == 2


async def test_unknown_kid_refetch_is_rate_limited(verifier, server, key, clock):
    await verifier.verify(sign(key))
    for _ in range(5):
        assert (await refused(verifier, sign(key, kid="unknown"))).code == "token_unknown_key"
    assert server.fetches == 1  # the first fetch was less than min_refresh_interval ago
    clock.now += verifier.min_refresh_interval
    await refused(verifier, sign(key, kid="unknown"))
    await refused(verifier, sign(key, kid="unknown"))
    assert server.fetches == 2


async def test_concurrent_callers_share_one_fetch(verifier, server, key):
    server.delay = 0.05
    tokens = [sign(key) for _ in range(20)]
    principals = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert len(principals) == 20
    assert server.fetches == 1


async def test_unreachable_key_set_is_a_server_problem_not_a_bad_token(verifier, server, key):
    server.fail = True
    with pytest.raises(KeySetUnavailable):
        await verifier.verify(sign(key))


async def test_stale_keys_keep_working_when_a_refetch_fails(verifier, server, key, clock):
    await verifier.verify(sign(key))
    server.fail = True
    clock.now += verifier.cache_ttl + 1
    assert (await verifier.verify(sign(key))).username == "alice"
    assert server.fetches == 2


async def test_keys_of_other_algorithms_are_ignored(key):
    jwks = {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k1", "alg": "HS256"}]}
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=jwks)))
    verifier = JwksVerifier(JWKS_URL, issuer="platform-auth", audience="platform", http=http)
    assert (await refused(verifier, sign(key))).code == "token_unknown_key"
    await http.aclose()


def test_token_error_rejects_unknown_codes():
    with pytest.raises(ValueError):
        TokenError("token_whatever")


async def test_a_token_seen_before_skips_the_signature_check_but_not_its_expiry_or_its_key(
    verifier, server, key, clock, monkeypatch
):
    decoded = []
    real = verifier._decode
    monkeypatch.setattr(verifier, "_decode", lambda token, k: decoded.append(token) or real(token, k))
    now = int(time.time())
    token = sign(key, exp=now + 2)
    for _ in range(3):
        assert (await verifier.verify(token)).user_id == 42
    assert len(decoded) == 1  # verified once, then remembered

    head, body, signature = token.split(".")
    middle = len(signature) // 2
    tampered = ".".join([head, body, signature[:middle] + ("A" if signature[middle] != "A" else "B")
                         + signature[middle + 1:]])
    assert (await refused(verifier, tampered)).code in ("token_bad_signature", "token_malformed")

    await asyncio.sleep(now + 2 - time.time() + 0.05)  # past exp: a remembered token is refused too
    assert (await refused(verifier, token)).code == "token_expired"

    fresh = sign(key)
    await verifier.verify(fresh)
    del server.keys["k1"]  # the key leaves the set: at the next refresh its tokens are unknown
    server.keys["k2"] = Ed25519PrivateKey.generate()
    clock.now += verifier.cache_ttl + 1
    assert (await refused(verifier, fresh)).code == "token_unknown_key"


async def test_a_verified_token_is_answered_from_the_cache(verifier, server, key, monkeypatch):
    token = sign(key)
    first = await verifier.verify(token)
    monkeypatch.setattr(verifier, "_decode", lambda *_: pytest.fail("decoded again"))
    monkeypatch.setattr(jwt, "get_unverified_header", lambda *_: pytest.fail("header parsed again"))
    assert await verifier.verify(token) == first


async def test_a_cached_token_is_refused_once_its_key_is_withdrawn(verifier, server, key, clock):
    token = sign(key)
    await verifier.verify(token)
    server.keys = {"k2": Ed25519PrivateKey.generate()}  # k1 withdrawn from the key set
    clock.now += verifier.cache_ttl + 1  # the key set is due for a refetch: the cache must not answer
    assert (await refused(verifier, token)).code == "token_unknown_key"


async def test_fresh_tokens_of_one_key_have_their_header_parsed_once(verifier, key, monkeypatch):
    calls = []
    real = jwt.get_unverified_header
    monkeypatch.setattr(jwt, "get_unverified_header", lambda token: calls.append(token) or real(token))
    for user_id in range(1, 6):  # five fresh tokens, as a handshake storm brings: none is in the verified cache
        principal = await verifier.verify(sign(key, sub=str(user_id)))
        assert principal.user_id == user_id
    assert len(calls) == 1


async def test_a_cached_header_with_a_broken_body_is_still_malformed(verifier, key):
    good = sign(key)
    await verifier.verify(good)
    header = good.split(".")[0]
    assert (await refused(verifier, header + ".!!!.???")).code == "token_malformed"
    assert (await refused(verifier, header)).code == "token_malformed"


async def test_a_good_ed25519_token_is_verified_without_pyjwts_decode(verifier, key, monkeypatch):
    monkeypatch.setattr(jwt, "decode", lambda *_, **__: pytest.fail("PyJWT decoded a token the fast path accepts"))
    issued = int(time.time()) - 10  # auth-svc's tokens reach the gateway after their issue second
    principal = await verifier.verify(sign(key, iat=issued, nbf=issued))
    assert principal.user_id == 42


async def test_a_token_near_a_time_bound_or_with_an_unusual_claim_is_left_to_pyjwt(verifier, key, monkeypatch):
    decoded: list[str] = []
    real = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        decoded.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    now = int(time.time())
    just_issued = sign(key, iat=now, nbf=now)  # within the fast path's second of margin: PyJWT decides (accepts)
    float_exp = sign(key, exp=now + 600.5)  # PyJWT truncates a float; the fast path only takes ints
    for token in (just_issued, float_exp):
        await verifier.verify(token)
    assert decoded == [just_issued, float_exp]
    with pytest.raises(TokenError) as refused:
        await verifier.verify(sign(key, aud=["platform", "other"]))  # a list: PyJWT's strict_aud refuses it
    assert refused.value.code == "token_bad_claims"


async def test_a_verified_tokens_expiry_is_known_without_decoding_it_again(verifier, key):
    exp = int(time.time()) + 600
    token = sign(key, exp=exp)
    assert verifier.verified_expiry(token) is None  # not verified yet
    await verifier.verify(token)
    assert verifier.verified_expiry(token) == exp
    assert verifier.verified_expiry(None) is None and verifier.verified_expiry(sign(key, sub="2")) is None


async def test_an_ed25519_signature_is_checked_by_libsodium_not_by_openssl(verifier, key, monkeypatch):
    import servicekit.jwt as module

    checked: list[bytes] = []
    real = module.crypto_sign_open
    monkeypatch.setattr(module, "crypto_sign_open", lambda signed, pk: checked.append(pk) or real(signed, pk))
    monkeypatch.setattr(jwt, "decode", lambda *_, **__: pytest.fail("PyJWT decoded a token the fast path accepts"))
    issued = int(time.time()) - 10
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    for user_id in (1, 2):
        assert (await verifier.verify(sign(key, sub=str(user_id), iat=issued, nbf=issued))).user_id == user_id
    assert checked == [raw, raw]


async def test_a_signature_libsodium_refuses_is_refused_with_bad_signature(verifier, key):
    issued = int(time.time()) - 10
    head, body, _ = sign(key, iat=issued, nbf=issued).split(".")
    other = sign(Ed25519PrivateKey.generate(), iat=issued, nbf=issued).split(".")[2]  # valid shape, wrong key
    assert (await refused(verifier, f"{head}.{body}.{other}")).code == "token_bad_signature"
    short = base64.urlsafe_b64encode(b"\0" * 63).rstrip(b"=").decode()  # not 64 bytes
    assert (await refused(verifier, f"{head}.{body}.{short}")).code in ("token_bad_signature", "token_malformed")


async def test_a_forged_signature_is_refused_after_one_check_without_pyjwt(verifier, key, monkeypatch):
    monkeypatch.setattr(jwt, "decode", lambda *_, **__: pytest.fail("a forged token was verified a second time"))
    issued = int(time.time()) - 10
    head, body, _ = sign(key, iat=issued, nbf=issued).split(".")
    forged = sign(Ed25519PrivateKey.generate(), iat=issued, nbf=issued).split(".")[2]
    assert (await refused(verifier, f"{head}.{body}.{forged}")).code == "token_bad_signature"


async def test_a_broken_payload_segment_is_malformed_even_with_a_bad_signature(verifier, key):
    issued = int(time.time()) - 10
    head, _, signature = sign(key, iat=issued, nbf=issued).split(".")
    assert (await refused(verifier, f"{head}.a.{signature}")).code == "token_malformed"  # not base64 (1 char)
