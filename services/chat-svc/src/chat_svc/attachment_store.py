"""Where the bytes of attachments live, behind one small interface (`AttachmentStore`).

`LocalAttachmentStore` (the default, `CHAT_ATTACHMENTS_STORAGE=local`) keeps them in `CHAT_ATTACHMENTS_DIR`;
an S3-compatible store would implement the same three methods (not written yet). The database row is the
record of an attachment; the store only holds bytes under keys the service chooses (`<uuid>/<variant>`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol


class AttachmentStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The bytes under `key`, None when there are none."""
        ...

    async def delete(self, key: str) -> None: ...


class LocalAttachmentStore:
    """Files under `root` (created on first write); each write lands whole (temporary file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not all(part and part not in (".", "..") for part in parts):
            raise ValueError(f"bad attachment key {key!r}")
        return self.root.joinpath(*parts)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, self._path(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _get(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
