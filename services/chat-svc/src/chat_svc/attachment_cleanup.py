"""Pictures uploaded and never sent go: an attachment no image message of its session names, older than
`CHAT_UNSENT_ATTACHMENT_HOURS`, loses its row and then its files in the store (chat_svc.attachment_store), every
`CHAT_RETENTION_INTERVAL_SECONDS`.

Safe against a message sent at the same moment: the sender reads the attachment `FOR SHARE` until it commits
(`Chat.send_message`), and a pass first locks its candidates `FOR UPDATE SKIP LOCKED` (a picture being sent is
skipped), then deletes, in a statement of its own and so with a fresh snapshot, only those that still no
committed message names. A sender that comes after the lock waits, then finds no picture: 422 `unknown_attachment`, as
for any picture that is gone. Files go after the commit; a file the store fails to delete is logged (the row is
gone: nothing serves it any more).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from servicekit.tasks import every
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from chat_svc.attachment_store import AttachmentStore
from chat_svc.attachments import file_keys
from chat_svc.db import SCHEMA

log = logging.getLogger(__name__)

BATCH = 500
_UNSENT = (
    f"NOT EXISTS (SELECT 1 FROM {SCHEMA}.messages AS m WHERE m.session_id = a.session_id "
    "AND m.message_type = 'image' AND m.content = a.id::text)"
)
_CANDIDATES = text(
    f"SELECT a.id FROM {SCHEMA}.attachments AS a WHERE a.created_at < now() - make_interval(secs => :age) "
    f"AND {_UNSENT} ORDER BY a.created_at LIMIT :batch FOR UPDATE OF a SKIP LOCKED"
)
_DELETE_UNSENT = text(f"DELETE FROM {SCHEMA}.attachments AS a WHERE a.id = ANY(:ids) AND {_UNSENT} RETURNING a.id")


class UnsentAttachments:
    def __init__(self, engine: AsyncEngine, files: AttachmentStore, *, max_age: timedelta,
                 batch: int = BATCH) -> None:
        self._engine = engine
        self._files = files
        self._max_age = max_age
        self._batch = batch

    async def prune_once(self) -> int:
        """Deletes the unsent pictures older than the age; how many. Sent ones among the candidates are left
        (a sent picture stays as long as its message)."""
        total = 0
        while True:
            async with self._engine.begin() as db:
                candidates = [row.id for row in await db.execute(
                    _CANDIDATES, {"age": self._max_age.total_seconds(), "batch": self._batch})]
                gone: list[UUID] = [row.id for row in await db.execute(_DELETE_UNSENT, {"ids": candidates})] \
                    if candidates else []
            for attachment_id in gone:
                for key in file_keys(attachment_id):
                    try:
                        await self._files.delete(key)
                    except Exception:
                        log.warning("unsent picture %s: its file %s could not be deleted", attachment_id, key,
                                    exc_info=True)
            total += len(gone)
            if len(candidates) < self._batch:
                break
        if total:
            log.info("deleted %d pictures uploaded and never sent", total)
        return total


async def prune_forever(unsent: UnsentAttachments, interval: float) -> None:
    """`prune_once` every `interval` seconds (the first pass right away); a failed pass is retried next time."""
    await every(interval, unsent.prune_once, "the cleanup of unsent pictures", at_once=True)
