"""Private notes on a chat session: written by admins for admins, never shown to the session's user. REST answers
with ``NoteData`` (``/api/v4/customer-service/sessions/{id}/notes``, admins only), the domain event
``chat.note_added`` carries it, and the gateway pushes it as ``chat:note`` (a platform addition) to the session's
agent, the note's author and the supervisors: never to a ``user:`` room."""

from pydantic import Field

from contracts.fields import Id, Outbound
from contracts.time import BeijingDatetime


class NoteData(Outbound):
    """``chat:note``: a private note on a session (admins only)."""

    note_id: Id
    session_id: Id
    author_id: Id
    content: str
    created_at: BeijingDatetime
    transfer_to: Id | None = Field(
        None, description="Written with a transfer: the agent the session went to (who is meant to read it)")
