"""servicekit.depcache: FastAPI's per-request dependency cache key, computed once per dependant."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.dependencies import models, utils
from servicekit import depcache


async def _dep() -> int:
    return 1


async def test_the_dependency_cache_key_is_computed_once_per_dependant_not_per_request(monkeypatch) -> None:
    calls: list[object] = []
    original = models._get_cache_key

    def counting(*, dependant, uses_scopes_cache=None):
        calls.append(dependant)
        return original(dependant=dependant, uses_scopes_cache=uses_scopes_cache)

    monkeypatch.setattr(utils, "_get_cache_key", counting)  # what FastAPI's solver calls (pinned here)
    assert depcache.install()
    app = FastAPI()

    @app.get("/x")
    async def route(a: Annotated[int, Depends(_dep)]) -> int:
        return a

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        for _ in range(5):
            assert (await client.get("/x")).json() == 1
    assert len(calls) == 1


def test_installing_twice_wraps_once(monkeypatch) -> None:
    monkeypatch.setattr(utils, "_get_cache_key", models._get_cache_key)
    assert depcache.install()
    first = utils._get_cache_key
    assert depcache.install()
    assert utils._get_cache_key is first is not models._get_cache_key
