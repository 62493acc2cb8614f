"""servicekit.openapi: one error schema for every refusal, derived from a route's input and dependencies and
declared by the route, merged per status with one example per code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from servicekit.errors import Conflict, NotFound
from servicekit.http import CurrentAdmin
from servicekit.openapi import install_openapi, raises

REF = {"$ref": "#/components/schemas/ErrorBody"}


async def _store() -> str:  # stands for a route's own dependency (an engine, a unit of work)
    return "store"


def _document() -> dict:
    router = APIRouter()

    @router.post("/things/{thing_id}", responses=raises(NotFound, Conflict("taken", code="thing_taken")))
    async def take(thing_id: int, admin: CurrentAdmin, store: Annotated[str, Depends(_store)]) -> None:
        return None

    @router.get("/public", responses={404: {"description": "no such page, in our words"}})
    async def public(page: int = 1) -> None:
        return None

    app = FastAPI()
    install_openapi(app)
    app.include_router(router)
    return app.openapi()


def test_a_route_documents_its_own_errors_and_those_of_its_input_and_dependencies_with_one_schema() -> None:
    responses = _document()["paths"]["/things/{thing_id}"]["post"]["responses"]
    assert set(responses) == {"200", "401", "403", "404", "409", "422", "503"}
    for status in ("401", "403", "404", "409", "422", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == REF, status
    assert set(responses["409"]["content"]["application/json"]["examples"]) == {"thing_taken"}
    assert {"token_missing", "token_expired"} <= set(responses["401"]["content"]["application/json"]["examples"])
    assert set(responses["503"]["content"]["application/json"]["examples"]) == {"auth_unavailable",
                                                                                "database_unavailable"}
    assert "WWW-Authenticate" in responses["401"]["headers"]


def test_fastapis_validation_schema_is_replaced_and_public_routes_declare_no_security() -> None:
    document = _document()
    public = document["paths"]["/public"]["get"]
    assert public["security"] == []
    assert "503" not in public["responses"]  # no dependency of its own: no database behind it
    assert public["responses"]["422"]["content"]["application/json"]["schema"] == REF
    assert public["responses"]["404"]["description"] == "no such page, in our words"  # the route's words are kept
    assert public["responses"]["404"]["content"]["application/json"]["schema"] == REF
    assert "HTTPValidationError" not in str(document) and "ErrorBody" in document["components"]["schemas"]
    protected = document["paths"]["/things/{thing_id}"]["post"]
    assert protected["security"] == [{"HTTPBearer": []}]
