"""Read state of a chat session, both ways: "the user has read up to message X", "the agent has read up to
message Y". ``chat:read`` (server -> client) tells the session's participants when either moves."""

from contracts.fields import Id, Outbound
from contracts.payloads.chat import SenderType
from contracts.time import BeijingDatetime


class ReadData(Outbound):
    """``chat:read``: ``reader_type``/``reader_id`` has read every message of ``session_id`` up to and
    including ``last_read_message_id`` (it only moves forward)."""

    session_id: Id
    reader_type: SenderType
    reader_id: Id
    last_read_message_id: Id
    read_at: BeijingDatetime
