"""Creating use cases answer once per ``Idempotency-Key``: a retry with the same key and the same input gets
the first answer and creates nothing (``servicekit.uow.UnitOfWork.once``, in the creation's transaction)."""

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from contracts.identity import Principal
from pydantic import BaseModel
from servicekit.uow import UnitOfWork


async def create_once(
    uow: UnitOfWork, admin: Principal, key: str | None, operation: str, new: Any,
    create: Callable[[], Awaitable[BaseModel]],
) -> dict[str, Any]:
    """``create()`` as JSON, or the answer stored for ``key`` (``new`` is the dataclass of the input)."""

    async def created() -> tuple[int, Any]:
        return 201, (await create()).model_dump(mode="json")

    _, answer = await uow.once(user_id=admin.user_id, key=key, operation=operation, request=asdict(new),
                               create=created)
    return answer
