"""Field types and model bases shared by every contract model.

Lengths are counted in Unicode code points (Python ``len``), the limits are part of the contract.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict
from pydantic.json_schema import SkipJsonSchema

TITLE_MAX = 200
CONTENT_MAX = 5000
MESSAGE_MAX = 5000
SHORT_TEXT_MAX = 200
LINK_MAX = 2048


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace only")
    return storable(value)


def storable(value: str) -> str:
    """Refuse what no database or UTF-8 encoder takes: NUL characters and lone surrogates (found by fuzzing:
    PostgreSQL rejects "\x00" in text, so they were 500s)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must not contain unpaired surrogates")
    return value


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


Id = Annotated[int, Strict(), Field(gt=0)]
"""A database id: a strict positive integer (no numeric strings, no booleans)."""
Count = Annotated[int, Strict(), Field(ge=0)]
Priority = Annotated[int, Strict(), Field(ge=1, le=5)]
Flag = Annotated[bool, Strict()]

Title = Annotated[str, Strict(), Field(min_length=1, max_length=TITLE_MAX), AfterValidator(_not_blank)]
Content = Annotated[str, Strict(), Field(min_length=1, max_length=CONTENT_MAX), AfterValidator(_not_blank)]
MessageText = Annotated[
    str, Strict(), Field(min_length=1, max_length=MESSAGE_MAX), AfterValidator(_not_blank)
]
ShortText = Annotated[
    str, Strict(), Field(min_length=1, max_length=SHORT_TEXT_MAX), AfterValidator(_not_blank)
]
Link = Annotated[str, Strict(), Field(min_length=1, max_length=LINK_MAX), AfterValidator(_not_blank)]

_OMIT_NONE = {"default": None, "exclude_if": lambda v: v is None, "json_schema_extra": _drop_default}
OptionalLink = Annotated[Link | SkipJsonSchema[None], Field(**_OMIT_NONE)]
"""Optional, not nullable (TypeScript ``link?: string``): omitted from output when None."""
OptionalId = Annotated[Id | SkipJsonSchema[None], Field(**_OMIT_NONE)]
"""Optional, not nullable (TypeScript ``id?: number``): omitted from output when None."""
OptionalData = Annotated[dict[str, Any] | SkipJsonSchema[None], Field(**_OMIT_NONE)]


def _always_sent_is_required(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Mark as required every field the wire always carries (all but the omitted-when-None ones), even
    when Python gives it a default: the schema documents what a consumer receives."""
    sent = {f.alias or name for name, f in cls.model_fields.items() if f.exclude_if is None}
    schema["required"] = [prop for prop in schema.get("properties", {}) if prop in sent]


class Outbound(BaseModel):
    """Base for data the platform sends (server -> client, domain events, commands).

    Unknown keys are ignored, not rejected: a producer may add a field within a major version (an additive
    change) and consumers built against the older minor must keep working.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra=_always_sent_is_required)


class Inbound(BaseModel):
    """Base for data a client sends (client -> server). Unknown keys are rejected (``extra="forbid"``): the
    gateway is the boundary, and a typo in a field name must fail loudly instead of being dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
