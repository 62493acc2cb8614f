"""End users' consents to WeChat subscribe messages (wechat_reach.py), recorded by the mini program's chat page.

After `wx.requestSubscribeMessage({tmplIds: [template_id]})` answers `accept` for the template, the page calls
`POST /api/v4/notifications/wechat/subscriptions {"template_id"}`: one more reply may reach the user while they
have no socket online. `GET` tells the page the template to ask for and the consents left (ask again when 0).
Only tokens of WeChat logins carry the openid (claim `wx_openid`) WeChat addresses the user by.
"""

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from servicekit.errors import Conflict, Invalid
from servicekit.http import CurrentPrincipal
from servicekit.openapi import raises

from notification_svc.settings import Settings
from notification_svc.wechat_reach import add_consent, consents_left


class NotAWeChatUser(Conflict):
    code, message = "not_a_wechat_user", "only an end user logged in with WeChat can subscribe to WeChat messages"


class WeChatReachOff(Conflict):
    code, message = "wechat_reach_disabled", "WeChat subscribe messages are not configured on this platform"


class UnknownTemplate(Invalid):
    code, message, field = "unknown_template", "this template is not the one the platform sends", "template_id"


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: Annotated[str, Field(min_length=1, max_length=128)]
    """The template id the user accepted in `wx.requestSubscribeMessage`."""


class Subscription(BaseModel):
    template_id: str
    """The template the platform sends (ask the user's consent for this one)."""
    remaining: int
    """Replies that may still reach the user by WeChat while they are offline (one per consent)."""


router = APIRouter(prefix="/api/v4/notifications/wechat", tags=["wechat subscriptions"])


def _template(request: Request) -> str:
    settings: Settings = request.app.state.settings
    if not settings.wechat_reach or settings.wechat_template_id is None:
        raise WeChatReachOff()
    return settings.wechat_template_id


@router.get("/subscriptions", response_model=Subscription, responses=raises(WeChatReachOff))
async def read_subscription(request: Request, principal: CurrentPrincipal) -> Subscription:
    """The template to ask consent for, and the caller's consents left for it."""
    template_id = _template(request)
    async with request.app.state.engine.connect() as db:
        remaining = await consents_left(db, principal.user_id, template_id)
    return Subscription(template_id=template_id, remaining=remaining)


@router.post("/subscriptions", response_model=Subscription,
             responses=raises(NotAWeChatUser, WeChatReachOff, UnknownTemplate))
async def subscribe(body: SubscribeRequest, request: Request, principal: CurrentPrincipal) -> Subscription:
    """Records one consent (the user tapped "allow" once): one more reply may reach them by WeChat."""
    template_id = _template(request)
    if principal.is_admin or principal.wx_openid is None:
        raise NotAWeChatUser()
    if body.template_id != template_id:
        raise UnknownTemplate(f"this platform sends template {template_id!r}; ask consent for that one")
    settings: Settings = request.app.state.settings
    async with request.app.state.engine.begin() as db:
        remaining = await add_consent(db, principal.user_id, principal.wx_openid, template_id,
                                      settings.wechat_max_consents)
    return Subscription(template_id=template_id, remaining=remaining)
