"""The attachment store contract (chat_svc.attachment_store.AttachmentStore), run against both stores: the local
directory and the S3 one on a real S3-compatible server (moto's, started by the test); then what is particular to
S3 (key prefix, an unreachable endpoint, a missing bucket) and a picture going through the API on the S3 store."""

import io
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from chat_svc.attachment_store import AttachmentStore, LocalAttachmentStore, StorageUnavailable
from chat_svc.s3_attachment_store import S3AttachmentStore, S3Config
from PIL import Image
from sqlalchemy import text

from .conftest import BASE, S3Server, user_headers

pytestmark = pytest.mark.integration

PICTURE = bytes(range(256)) * 64  # 16 KiB, every byte value


def s3_config(s3_server: S3Server, bucket: str, **overrides: Any) -> S3Config:
    return S3Config(**{"bucket": bucket, "endpoint_url": s3_server.endpoint_url, "region": s3_server.REGION,
                       "access_key_id": s3_server.ACCESS_KEY, "secret_access_key": s3_server.SECRET_KEY,
                       "key_prefix": "attachments/", "addressing_style": "path", **overrides})


@pytest_asyncio.fixture(params=["local", "s3"], loop_scope="session")
async def store(request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
                ) -> AsyncIterator[AttachmentStore]:
    if request.param == "local":
        yield LocalAttachmentStore(tmp_path / "attachments")
        return
    async with S3AttachmentStore.open(s3_config(s3_server, await s3_server.new_bucket())) as s3_store:
        yield s3_store


async def test_a_stored_picture_reads_back_byte_for_byte(store: AttachmentStore):
    await store.put("0b9f/full", PICTURE)
    await store.put("0b9f/thumbnail", b"small")
    assert await store.get("0b9f/full") == PICTURE
    assert await store.get("0b9f/thumbnail") == b"small"


async def test_writing_a_key_again_replaces_its_bytes(store: AttachmentStore):
    await store.put("0b9f/full", b"first")
    await store.put("0b9f/full", b"second")
    assert await store.get("0b9f/full") == b"second"


async def test_a_key_never_written_reads_as_none(store: AttachmentStore):
    assert await store.get("never-written/full") is None


async def test_a_deleted_key_reads_as_none_and_deleting_it_again_is_no_error(store: AttachmentStore):
    await store.put("gone/full", PICTURE)
    await store.put("gone/thumbnail", b"kept")
    await store.delete("gone/full")
    assert await store.get("gone/full") is None
    await store.delete("gone/full")
    await store.delete("never-written/full")
    assert await store.get("gone/thumbnail") == b"kept"


async def test_the_local_store_leaves_no_empty_folder_once_both_files_of_a_picture_are_deleted(tmp_path: Path):
    root = tmp_path / "attachments"
    store = LocalAttachmentStore(root)
    await store.put("0b9f/full", PICTURE)
    await store.put("0b9f/thumbnail", b"small")
    await store.delete("0b9f/full")
    assert (root / "0b9f").is_dir(), "the thumbnail is still there"
    await store.delete("0b9f/thumbnail")
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("key", ["", "a//b", "../etc/passwd", "a/./b"])
async def test_a_key_with_an_empty_dot_or_dot_dot_part_is_refused(store: AttachmentStore, key: str):
    with pytest.raises(ValueError, match="bad attachment key"):
        await store.put(key, b"x")
    with pytest.raises(ValueError, match="bad attachment key"):
        await store.get(key)


async def test_s3_objects_are_kept_under_the_key_prefix(s3_server: S3Server):
    bucket = await s3_server.new_bucket()
    async with S3AttachmentStore.open(s3_config(s3_server, bucket, key_prefix="chat/pictures/")) as store:
        await store.put("0b9f/full", PICTURE)
        assert await s3_server.keys(bucket) == ["chat/pictures/0b9f/full"]
        await store.delete("0b9f/full")
        assert await s3_server.keys(bucket) == []


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_s3_endpoint_raises_storage_unavailable_not_a_library_error(
    s3_server: S3Server, caplog: pytest.LogCaptureFixture
):
    config = s3_config(s3_server, "chat-test-nowhere", endpoint_url=f"http://127.0.0.1:{closed_port()}",
                       timeout_seconds=1.0, max_attempts=1)
    with caplog.at_level(logging.WARNING, logger="chat_svc.s3_attachment_store"):
        async with S3AttachmentStore.open(config) as store:
            for call in (store.put("k/full", b"x"), store.get("k/full"), store.delete("k/full")):
                with pytest.raises(StorageUnavailable) as raised:
                    await call
                assert (raised.value.status, raised.value.code) == (503, "unavailable")
    assert "S3 bucket 'chat-test-nowhere' cannot be used" in caplog.text


async def test_a_missing_bucket_is_reported_at_start(s3_server: S3Server, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="chat_svc.s3_attachment_store"):
        async with S3AttachmentStore.open(s3_config(s3_server, "chat-test-no-such-bucket")) as store:
            assert not await store.check_bucket()
            with pytest.raises(StorageUnavailable):
                await store.put("k/full", b"x")
    assert "S3 bucket 'chat-test-no-such-bucket' cannot be used" in caplog.text


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 130, 60)).save(out, "PNG")
    return out.getvalue()


async def test_a_picture_uploaded_with_the_s3_store_is_kept_in_the_bucket_and_served_by_its_signed_url(
    make_stack, s3_server: S3Server, user_id: int
):
    bucket = await s3_server.new_bucket()
    stack = await make_stack(**s3_server.settings(bucket))
    session_id = (await stack.open_session(user_id))["session_id"]
    uploaded = await stack.client.post(f"{BASE}/sessions/{session_id}/attachments", headers=user_headers(user_id),
                                       files={"file": ("photo.png", png((640, 480)), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    attachment_id = attachment["attachment_id"]
    assert await s3_server.keys(bucket) == [f"attachments/{attachment_id}/full",
                                            f"attachments/{attachment_id}/thumbnail"]
    assert not any(Path(stack.app.state.settings.attachments_dir).rglob("*"))  # nothing in the local directory

    full = await stack.client.get(attachment["url"])
    assert full.status_code == 200, full.text
    assert full.headers["content-type"] == "image/png"
    assert full.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(full.content)).size == (640, 480)
    stored = await s3_server.client.get_object(Bucket=bucket, Key=f"attachments/{attachment_id}/full")
    async with stored["Body"] as body:
        assert full.content == await body.read()
    thumbnail = await stack.client.get(attachment["thumbnail_url"])
    assert Image.open(io.BytesIO(thumbnail.content)).size == (320, 240)

    # a refused file leaves nothing in the bucket either
    refused = await stack.client.post(f"{BASE}/sessions/{session_id}/attachments", headers=user_headers(user_id),
                                      files={"file": ("notes.png", b"not a picture" * 20, "image/png")})
    assert refused.status_code == 415, refused.text
    assert len(await s3_server.keys(bucket)) == 2


async def test_an_upload_while_the_s3_store_is_unreachable_answers_503_unavailable_and_records_nothing(
    make_stack, s3_server: S3Server, user_id: int
):
    nowhere = f"http://127.0.0.1:{closed_port()}"
    stack = await make_stack(**s3_server.settings("chat-test-nowhere", s3_endpoint_url=nowhere, s3_max_attempts=1,
                                                  s3_timeout_seconds=1.0))
    session_id = (await stack.open_session(user_id))["session_id"]
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/attachments", headers=user_headers(user_id),
                                       files={"file": ("photo.png", png((64, 48)), "image/png")})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    async with stack.app.state.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM chat.attachments WHERE session_id = :s"),
                                   {"s": session_id})).scalar_one()
    assert rows == 0
