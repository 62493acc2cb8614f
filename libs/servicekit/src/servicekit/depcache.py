"""FastAPI's dependency cache key of each dependant computed once, not on every request.

FastAPI (0.12x-0.16x) calls ``fastapi.dependencies.models._get_cache_key`` for every sub-dependency of every
request: it walks the dependant's subtree to learn whether it uses OAuth scopes (each route behind the bearer scheme
does), then sorts its scopes. The answer depends only on the dependant, which FastAPI builds once per route and never
changes. At notification-svc's send saturation that walk was ~6% of the process's samples (py-spy, cell 11).

``install()`` wraps the function FastAPI's solver calls with a memo per dependant object (bounded: dependants made
per request, as ``dependency_overrides`` does in tests, are computed as before once it is full). A FastAPI without
the function is left alone; ``tests/unit/test_depcache.py`` pins what this relies on.
"""

from __future__ import annotations

from typing import Any

_MEMO_MAX = 4096


def install() -> bool:
    """Idempotent. True when FastAPI's solver now uses the memo (False: this FastAPI has no such function)."""
    try:
        from fastapi.dependencies import utils
    except ImportError:  # pragma: no cover - a service without FastAPI
        return False
    original = getattr(utils, "_get_cache_key", None)
    if original is None:
        return False
    if getattr(original, "_servicekit_memo", False):
        return True
    memo: dict[int, tuple[Any, Any]] = {}

    def cache_key(*, dependant: Any, uses_scopes_cache: Any = None) -> Any:
        known = memo.get(id(dependant))
        if known is not None and known[0] is dependant:
            return known[1]
        key = original(dependant=dependant, uses_scopes_cache=uses_scopes_cache)
        if len(memo) < _MEMO_MAX:
            memo[id(dependant)] = (dependant, key)  # held: its id is not reused while it is in the memo
        return key

    cache_key._servicekit_memo = True  # type: ignore[attr-defined]
    setattr(utils, "_get_cache_key", cache_key)  # noqa: B010 - a private name of FastAPI (pinned by a test)
    return True
