"""Who is calling: the verified identity taken from an access token (JWT)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.fields import Id, ShortText

UserType = Literal["admin", "user"]
AdminRole = Literal["agent", "supervisor"]
"""An admin's role: an `agent` serves sessions; a `supervisor` also sets priorities, agents' capacity and
availability, and sees every agent's load."""


class Principal(BaseModel):
    """The identity a verified JWT names: ``sub`` -> ``user_id``, plus ``user_type`` and ``username``."""

    model_config = ConfigDict(frozen=True)

    user_id: Id
    user_type: UserType
    username: ShortText
    role: AdminRole | None = None
    """Admins only (the token's `role` claim). Tokens issued before roles existed have none: such an admin
    is an agent."""
    wx_openid: ShortText | None = None
    """End users who logged in with WeChat (the token's `wx_openid` claim): their openid at the mini program,
    which WeChat's server API (subscribe messages) addresses them by."""

    @property
    def is_admin(self) -> bool:
        return self.user_type == "admin"

    @property
    def is_supervisor(self) -> bool:
        return self.is_admin and self.role == "supervisor"
