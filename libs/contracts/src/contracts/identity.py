"""Who is calling: the verified identity taken from an access token (JWT)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.fields import Id, ShortText

UserType = Literal["admin", "user"]


class Principal(BaseModel):
    """The identity a verified JWT names: ``sub`` -> ``user_id``, plus ``user_type`` and ``username``."""

    model_config = ConfigDict(frozen=True)

    user_id: Id
    user_type: UserType
    username: ShortText

    @property
    def is_admin(self) -> bool:
        return self.user_type == "admin"
