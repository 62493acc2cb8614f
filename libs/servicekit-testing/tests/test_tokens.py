"""The test token mint produces tokens the real verifier accepts, and refusals where claims are broken."""

import time

import pytest
from servicekit.jwt import TokenError
from servicekit_testing.tokens import TokenMint


async def test_minted_tokens_verify_and_broken_ones_are_refused():
    mint = TokenMint()
    verifier = mint.verifier()
    try:
        principal = await verifier.verify(mint.token(7, "admin", "admin7"))
        assert (principal.user_id, principal.user_type, principal.username) == (7, "admin", "admin7")
        with pytest.raises(TokenError) as expired:
            await verifier.verify(mint.token(7, "admin", exp=int(time.time()) - 10))
        assert expired.value.code == "token_expired"
        with pytest.raises(TokenError) as foreign:
            await verifier.verify(TokenMint().token(7, "admin"))
        assert foreign.value.code == "token_bad_signature"
    finally:
        await verifier.aclose()
