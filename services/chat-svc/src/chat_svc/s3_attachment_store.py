"""Attachments in an S3-compatible object store (`CHAT_ATTACHMENTS_STORAGE=s3`): AWS S3, MinIO, Aliyun OSS,
Tencent COS, Ceph RGW, ... anything that speaks the S3 API with AWS Signature V4.

The store only keeps bytes: pictures are still served by chat-svc behind its own signed URLs
(chat_svc.attachments), so the bucket stays private and no presigned S3 URL (nor the store's host) ever reaches a
browser, the CSP's `img-src` stays same-origin, and the participant check and the `nosniff`/`Content-Disposition`
headers apply whichever store is configured.

Library: aiobotocore (the asyncio port of botocore, maintained under aio-libs, released with botocore). It keeps
the whole of botocore's S3 handling (SigV4 signing, path- or virtual-host addressing, retries, error codes,
regions), which is what S3-compatible vendors test against, while its HTTP goes through aiohttp: no call blocks
the event loop and no thread pool is needed (boto3 would block; wrapping it in threads caps concurrency at the
pool size). Alternatives weighed: aioboto3 is a resource-style layer over the same aiobotocore that we do not
need; the `minio` SDK is synchronous; obstore is async but a Rust extension with its own S3 dialect, less proven
against the Chinese clouds' S3 endpoints. Typing comes from `types-aiobotocore-s3` (dev only).

Compatibility: botocore's default flexible checksums (CRC32 headers/trailers on every request) are turned down to
"when required", which S3-compatible services that predate them (older MinIO, OSS, COS) otherwise reject.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from chat_svc.attachment_store import StorageUnavailable, check_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = logging.getLogger(__name__)
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_BROKEN = (BotoCoreError, aiohttp.ClientError, TimeoutError)
"""Failures below the S3 answer: connection refused, timeouts, a body cut short."""


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint_url: str | None = None
    """None: AWS's own endpoint for `region`."""
    region: str = "us-east-1"
    access_key_id: str | None = None
    """None (with `secret_access_key`): botocore's usual chain (AWS_* variables, instance role, ...)."""
    secret_access_key: str | None = None
    key_prefix: str = ""
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    """Tries of one request (botocore's "standard" retries: connection errors, 5xx, throttling)."""
    max_connections: int = 20


class S3AttachmentStore:
    """Objects `<key_prefix><key>` in one bucket, through an open aiobotocore client (see `open`)."""

    def __init__(self, client: S3Client, bucket: str, key_prefix: str = "") -> None:
        self._client, self.bucket, self.key_prefix = client, bucket, key_prefix

    @classmethod
    @asynccontextmanager
    async def open(cls, config: S3Config) -> AsyncIterator[S3AttachmentStore]:
        """A store with its client (and its connection pool) open until the block ends. The bucket is checked
        once (a warning, not a failure, when it cannot be used: uploads and reads then answer 503 `unavailable`
        until it can, like the API answers while RabbitMQ is down)."""
        client_config = AioConfig(
            s3={"addressing_style": config.addressing_style},
            connect_timeout=config.timeout_seconds, read_timeout=config.timeout_seconds,
            retries={"max_attempts": config.max_attempts, "mode": "standard"},
            max_pool_connections=config.max_connections,
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
        )
        async with get_session().create_client(
            "s3", endpoint_url=config.endpoint_url, region_name=config.region,
            aws_access_key_id=config.access_key_id, aws_secret_access_key=config.secret_access_key,
            config=client_config,
        ) as client:
            store = cls(client, config.bucket, config.key_prefix)
            await store.check_bucket(config.timeout_seconds)
            yield store

    async def check_bucket(self, timeout: float = 10.0) -> bool:
        """Whether the bucket answers (within `timeout` seconds, retries included, so a start is not held up)."""
        try:
            async with asyncio.timeout(timeout):
                await self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, *_BROKEN) as error:
            log.warning("attachments: S3 bucket %r cannot be used (%s); check CHAT_S3_BUCKET, "
                        "CHAT_S3_ENDPOINT_URL, CHAT_S3_REGION and the credentials", self.bucket, error)
            return False
        return True

    def _key(self, key: str) -> str:
        check_key(key)
        return self.key_prefix + key

    async def put(self, key: str, data: bytes) -> None:
        try:
            await self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, *_BROKEN) as error:
            raise self._unavailable("put", key, error) from error

    async def get(self, key: str) -> bytes | None:
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            async with response["Body"] as body:
                return await body.read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise self._unavailable("get", key, error) from error
        except _BROKEN as error:
            raise self._unavailable("get", key, error) from error

    async def delete(self, key: str) -> None:
        """Deleting a key that is not there is not an error (S3 answers 204 either way)."""
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, *_BROKEN) as error:
            raise self._unavailable("delete", key, error) from error

    def _unavailable(self, action: str, key: str, error: Exception) -> StorageUnavailable:
        log.error("attachments: S3 %s of %r in bucket %r failed: %s", action, key, self.bucket, error)
        return StorageUnavailable()
