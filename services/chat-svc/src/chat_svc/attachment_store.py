"""Where the bytes of attachments live, behind one small interface (`AttachmentStore`).

`LocalAttachmentStore` (the default, `CHAT_ATTACHMENTS_STORAGE=local`) keeps them in `CHAT_ATTACHMENTS_DIR`;
`chat_svc.s3_attachment_store.S3AttachmentStore` (`CHAT_ATTACHMENTS_STORAGE=s3`) in a bucket of an
S3-compatible object store (`CHAT_S3_*`). The database row is the record of an attachment; a store only holds
bytes under keys the service chooses (`<uuid>/<variant>`, checked by `check_key`), and a store that cannot reach
its backend raises `StorageUnavailable` (503 `unavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from servicekit.errors import Unavailable


class StorageUnavailable(Unavailable):
    message = "picture storage unavailable, try again shortly"


def check_key(key: str) -> list[str]:
    """The `/`-separated parts of `key`; ValueError when one is empty, `.` or `..`."""
    parts = key.split("/")
    if not all(part and part not in (".", "..") for part in parts):
        raise ValueError(f"bad attachment key {key!r}")
    return parts


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
        return self.root.joinpath(*check_key(key))

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, self._path(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self.root, self._path(key))

    @staticmethod
    def _delete(root: Path, path: Path) -> None:
        """The file, then its directory once empty (an attachment's files share one: no empty folder per deleted
        picture is left behind)."""
        path.unlink(missing_ok=True)
        if path.parent != root:
            with contextlib.suppress(OSError):  # not empty (the other variant is still there) or already gone
                path.parent.rmdir()

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
