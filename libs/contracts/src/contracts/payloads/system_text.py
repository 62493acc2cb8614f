"""Text the platform writes for people, as a stable code and its parameters: each client renders it in its own
language (the pages from their catalogues, key ``system.<code>``), and the server renders a fallback for the
spec's ``message_content`` (clients that do not know codes show that).

One registry, ``SYSTEM_TEXTS``: a code, the pydantic model of its parameters, and its wording in each language.
Adding a code is one ``SystemText(...)`` entry here plus the ``system.<code>`` key in web/js/i18n/zh-CN.js and
en.js with the same wording (tests/web/test_system_text.py fails until all three agree). Codes are additive: a
client that meets a code it does not know shows the fallback text, so a new code never breaks an older client.

The wording is a template with ``{name}`` placeholders, one per parameter, the syntax of the pages' catalogues.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, ValidationError
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.fields import Id, Outbound
from contracts.time import BeijingDatetime

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "zh-CN"
"""The users are Chinese-speaking: a client that cannot render codes shows the Chinese fallback."""

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
SystemCode = Annotated[str, Strict(), Field(pattern=CODE_PATTERN)]
_OMIT_NONE: dict[str, Any] = {"default": None, "exclude_if": lambda v: v is None,
                              "json_schema_extra": lambda s: s.pop("default", None)}
OptionalSystemCode = Annotated[SystemCode | SkipJsonSchema[None], Field(**_OMIT_NONE)]
"""Optional, not nullable (``system_code?: string``): omitted from output when None."""
OptionalParams = Annotated[dict[str, Any] | SkipJsonSchema[None], Field(**_OMIT_NONE)]


ServiceName = Annotated[str, Strict(), Field(min_length=1, max_length=64)]


class SystemTextParams(Outbound):
    """Base of every code's parameters."""


class AgentJoinedParams(SystemTextParams):
    """``agent_joined``: an agent (admin) took the session (assigned automatically or claimed)."""

    agent_id: Id


class SessionTransferredParams(SystemTextParams):
    """``session_transferred``: the session went from one agent to another."""

    from_agent_id: Id
    to_agent_id: Id


class SessionClosedByAgentParams(SystemTextParams):
    """``session_closed_by_agent``: the session's agent ended it."""

    agent_id: Id


class SessionRequeuedParams(SystemTextParams):
    """``session_requeued``: the session's agent went away or offline; it is back in the queue."""

    agent_id: Id


class SessionClosedByUserParams(SystemTextParams):
    """``session_closed_by_user``: the session's user ended it."""

    user_id: Id


class SessionAbandonedParams(SystemTextParams):
    """``session_abandoned``: a waiting session whose user had gone was closed by the platform."""


class SessionInactiveParams(SystemTextParams):
    """``session_inactive``: an active session with no message from either side for a while was closed by the
    platform."""


class ReplyReminderParams(SystemTextParams):
    """``reply_reminder`` (an alert to the session's agent): the user's message has waited past the first reply
    deadline."""

    session_id: Id
    seconds: Annotated[int, Strict(), Field(ge=0)]


class SessionReassignedParams(SystemTextParams):
    """``session_reassigned``: the agent did not reply by the second deadline; another agent has the session."""

    from_agent_id: Id
    to_agent_id: Id


class ReplyReassignedAwayParams(SystemTextParams):
    """``reply_reassigned_away`` (an alert to the agent who lost the session to the second reply deadline)."""

    session_id: Id
    to_agent_id: Id
    seconds: Annotated[int, Strict(), Field(ge=0)]


class ReplyReassignedToYouParams(SystemTextParams):
    """``reply_reassigned_to_you`` (an alert to the agent who got a session another agent left unanswered)."""

    session_id: Id
    from_agent_id: Id


class ReplyOverdueParams(SystemTextParams):
    """``reply_overdue`` (an alert to the session's agent): past the second reply deadline, and no other agent
    online has room to take it over; it stays with them."""

    session_id: Id
    seconds: Annotated[int, Strict(), Field(ge=0)]


class OutsideWorkingHoursParams(SystemTextParams):
    """``outside_working_hours``: a user opened a session outside working hours; their message waits."""

    next_open_at: BeijingDatetime


class NoAgentOnlineParams(SystemTextParams):
    """``no_agent_online``: a user opened a session while no agent takes new sessions; their message waits."""


GREETING_MAX = 500


class GreetingParams(SystemTextParams):
    """``greeting``: the greeting a supervisor configured, sent when a session is assigned. It carries the text in
    every language (the configuration at that moment): ``text_<locale>``, and the wording ``{text}`` is the reader's
    language's, so each client shows its own and history never changes when the greeting is edited later."""

    text_zh_cn: Annotated[str, Strict(), Field(min_length=1, max_length=GREETING_MAX)]
    text_en: Annotated[str, Strict(), Field(min_length=1, max_length=GREETING_MAX)]


class BrokerConnectionLostParams(SystemTextParams):
    """``broker_connection_lost``: a realtime gateway has been without RabbitMQ for a while (a status change)."""


class BrokerConnectionRestoredParams(SystemTextParams):
    """``broker_connection_restored``: the gateway has had RabbitMQ back for a while (a status change)."""


class ServiceUnavailableParams(SystemTextParams):
    """``service_unavailable``: no process of a platform service has reported itself healthy for a while (it stopped
    beating, or its own checks fail: database, broker, relay); a status change raised by the gateways."""

    service: ServiceName


class ServiceRestoredParams(SystemTextParams):
    """``service_restored``: a process of the service has reported itself healthy for a while after a loss."""

    service: ServiceName


@dataclass(frozen=True)
class SystemText:
    """One code: its parameters' model, its wording per language (``{param}`` placeholders), what it means.
    With ``per_locale``, the parameters are the text itself, one per language (``text_zh_cn``, ``text_en``), and the
    wording's ``{text}`` is the one of the language it is rendered in (``locale_param``)."""

    code: str
    params: type[SystemTextParams]
    text: Mapping[Locale, str]
    description: str
    per_locale: bool = False


def _registry(*texts: SystemText) -> dict[str, SystemText]:
    registry = {}
    for entry in texts:
        assert entry.code not in registry, f"system text code {entry.code!r} registered twice"
        assert set(entry.text) == set(LOCALES), f"{entry.code}: wording for {sorted(entry.text)}, need {LOCALES}"
        registry[entry.code] = entry
    return registry


SYSTEM_TEXTS: dict[str, SystemText] = _registry(
    SystemText("agent_joined", AgentJoinedParams,
               {"zh-CN": "客服 #{agent_id} 已加入会话", "en": "Agent #{agent_id} joined the conversation"},
               "An agent took the session (automatic assignment or claim)."),
    SystemText("session_transferred", SessionTransferredParams,
               {"zh-CN": "会话已由客服 #{from_agent_id} 转接给客服 #{to_agent_id}",
                "en": "Conversation transferred from agent #{from_agent_id} to agent #{to_agent_id}"},
               "The session's agent handed it to another agent."),
    SystemText("session_closed_by_agent", SessionClosedByAgentParams,
               {"zh-CN": "客服 #{agent_id} 已结束会话", "en": "Conversation closed by agent #{agent_id}"},
               "The session's agent ended it."),
    SystemText("session_closed_by_user", SessionClosedByUserParams,
               {"zh-CN": "用户 #{user_id} 已结束会话", "en": "User #{user_id} ended the conversation"},
               "The session's user ended it (waiting or active)."),
    SystemText("session_abandoned", SessionAbandonedParams,
               {"zh-CN": "用户已离开，会话已自动结束", "en": "The user left; the conversation was closed"},
               "A waiting session's user had gone (no message for CHAT_ABANDON_WAITING_AFTER_SECONDS)."),
    SystemText("session_inactive", SessionInactiveParams,
               {"zh-CN": "会话长时间没有新消息，已自动结束",
                "en": "The conversation was closed after a while without messages"},
               "No message from either side for CHAT_CLOSE_INACTIVE_AFTER_SECONDS."),
    SystemText("session_requeued", SessionRequeuedParams,
               {"zh-CN": "客服 #{agent_id} 暂时无法接待，会话已重新排队",
                "en": "Agent #{agent_id} is not available: the conversation is back in the queue"},
               "The agent was away or offline past CHAT_AGENT_AWAY_GRACE_SECONDS (CHAT_AGENT_AWAY_POLICY=requeue)."),
    SystemText("reply_reminder", ReplyReminderParams,
               {"zh-CN": "会话 #{session_id} 的用户已等待回复超过 {seconds} 秒，请尽快回复",
                "en": "The user of conversation #{session_id} has waited over {seconds} s for a reply"},
               "An alert to the agent: past CHAT_REPLY_REMIND_AFTER_SECONDS without a reply."),
    SystemText("session_reassigned", SessionReassignedParams,
               {"zh-CN": "客服 #{from_agent_id} 未能及时回复，会话已转给客服 #{to_agent_id}",
                "en": "Agent #{from_agent_id} did not reply in time: the conversation is now with agent #{to_agent_id}"},
               "No reply by CHAT_REPLY_REASSIGN_AFTER_SECONDS: the session went to another agent."),
    SystemText("reply_reassigned_away", ReplyReassignedAwayParams,
               {"zh-CN": "会话 #{session_id} 超过 {seconds} 秒未回复，已转给客服 #{to_agent_id}",
                "en": "Conversation #{session_id} had no reply for {seconds} s: it went to agent #{to_agent_id}"},
               "An alert to the agent who lost a session to the second reply deadline."),
    SystemText("reply_reassigned_to_you", ReplyReassignedToYouParams,
               {"zh-CN": "会话 #{session_id} 因客服 #{from_agent_id} 未及时回复已转给你，请尽快回复",
                "en": "Conversation #{session_id} is yours: agent #{from_agent_id} did not reply in time"},
               "An alert to the agent who got a session by the second reply deadline."),
    SystemText("reply_overdue", ReplyOverdueParams,
               {"zh-CN": "会话 #{session_id} 的用户已等待超过 {seconds} 秒，暂无其他客服可以接手，请尽快回复",
                "en": "The user of conversation #{session_id} has waited over {seconds} s and no other agent "
                      "can take over: please reply"},
               "An alert to the agent: past CHAT_REPLY_REASSIGN_AFTER_SECONDS and nobody else online has room."),
    SystemText("outside_working_hours", OutsideWorkingHoursParams,
               {"zh-CN": "现在不在客服工作时间，您的留言已收到，我们将于 {next_open_at} 起尽快回复",
                "en": "We are outside working hours: your message is kept and we will answer from {next_open_at}"},
               "A session opened outside the working hours (chat_svc.working_time) and not assigned at once."),
    SystemText("no_agent_online", NoAgentOnlineParams,
               {"zh-CN": "暂时没有客服在线，您的留言已收到，客服上线后会尽快回复",
                "en": "No agent is online right now: your message is kept and an agent will answer when one is"},
               "A session opened within working hours while no agent takes new sessions (online and available)."),
    SystemText("greeting", GreetingParams, {"zh-CN": "{text}", "en": "{text}"},
               "The configured greeting, sent when a session is assigned (automatically or claimed).",
               per_locale=True),
    SystemText("broker_connection_lost", BrokerConnectionLostParams,
               {"zh-CN": "实时网关与消息服务的连接中断，新消息和通知可能延迟",
                "en": "The realtime gateway lost the message broker: new messages and notifications may be delayed"},
               "A gateway without RabbitMQ for GATEWAY_STATUS_DEGRADED_AFTER_SECONDS (system:status_change)."),
    SystemText("broker_connection_restored", BrokerConnectionRestoredParams,
               {"zh-CN": "实时网关已恢复与消息服务的连接", "en": "The realtime gateway has the message broker back"},
               "RabbitMQ back for GATEWAY_STATUS_OPERATIONAL_AFTER_SECONDS after a loss (system:status_change)."),
    SystemText("service_unavailable", ServiceUnavailableParams,
               {"zh-CN": "平台服务 {service} 暂时不可用，部分功能可能无法使用",
                "en": "Platform service {service} is not available: some features may not work"},
               "No process of the service reported itself healthy for GATEWAY_SERVICE_DEGRADED_AFTER_SECONDS "
               "(system:status_change, component = the service)."),
    SystemText("service_restored", ServiceRestoredParams,
               {"zh-CN": "平台服务 {service} 已恢复", "en": "Platform service {service} is back"},
               "The service reported itself healthy for GATEWAY_SERVICE_OPERATIONAL_AFTER_SECONDS after a loss "
               "(system:status_change)."),
)
"""Every code the platform writes, in the order they were added."""


def locale_param(locale: Locale) -> str:
    """The parameter that holds a ``per_locale`` text in ``locale``: ``text_zh_cn``, ``text_en``."""
    return "text_" + locale.lower().replace("-", "_")


def render(code: str, params: Mapping[str, Any], locale: Locale = DEFAULT_LOCALE) -> str:
    """The wording of ``code`` in ``locale`` with its parameters filled in (KeyError for an unknown code)."""
    entry = SYSTEM_TEXTS[code]
    values = dict(params)
    if entry.per_locale:
        values["text"] = values[locale_param(locale)]
    return entry.text[locale].format_map(values)


def system_text(params: SystemTextParams) -> tuple[str, dict[str, Any]]:
    """(code, params as JSON) for a parameters model: the code is the one registered with that model."""
    [code] = [c for c, entry in SYSTEM_TEXTS.items() if entry.params is type(params)]
    return code, params.model_dump(mode="json")


def check_system_text(model: BaseModel, code: str | None, params: dict[str, Any] | None, *,
                      code_field: str, params_field: str) -> None:
    """A payload's (code, params) pair: params only with a code; a registered code's params must be valid for
    its model. An unregistered code passes (newer producer, older consumer: the fallback text is shown)."""
    error: PydanticCustomError | None = None
    loc = params_field
    if code is None and params is not None:
        error = PydanticCustomError("system_params_without_code", "{field} needs {code_field}",
                                    {"field": params_field, "code_field": code_field})
    elif code is not None and code in SYSTEM_TEXTS:
        try:
            SYSTEM_TEXTS[code].params.model_validate(params or {})
        except ValidationError as invalid:
            error = PydanticCustomError("system_params", "{field} do not fit code {code}: {detail}",
                                        {"field": params_field, "code": code, "detail": str(invalid.errors())})
    if error is not None:
        detail = InitErrorDetails(type=error, loc=(loc,), input=params)
        raise ValidationError.from_exception_data(type(model).__name__, [detail])


SYSTEM_TEXT_MODELS: list[type[BaseModel]] = sorted({e.params for e in SYSTEM_TEXTS.values()},
                                                   key=lambda m: m.__name__)
