"""The shared engine's server-side guard against stranded transactions, on a real PostgreSQL."""

import pytest
from sqlalchemy import text

from servicekit.db import create_engine

pytestmark = pytest.mark.integration


async def test_a_transaction_left_idle_is_ended_by_the_server(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SHOW idle_in_transaction_session_timeout"))).scalar() == "15s"
    finally:
        await engine.dispose()
