"""Server access logging delivered: requests to a bucket with logging on
(PutBucketLogging) become lines in S3's server access log format, batched
in memory and written every `logging_flush_interval` seconds as new objects
under the target bucket's TargetPrefix, as S3 delivers them. Like S3's,
delivery is best effort: lines not yet written when a process is killed are
lost (a clean stop writes them)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from typing import Any, AsyncIterator, Callable

from aiohttp import web

from ..config import DEFAULT_CANONICAL_ID, Config
from ..protocol import bucket_logging
from ..storage import BucketInfo, StorageError, Store

log = logging.getLogger("s3emu.serverlog")

ACCOUNT = "000000000000"  # the account id partitioned log keys name


class LogDelivery:
    """Lines waiting for their target bucket, by source bucket."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        # source bucket and its logging configuration (as JSON): the lines waiting, each batch
        # delivered as the configuration in effect for its requests says
        self.pending: dict[tuple[str, str], tuple[bucket_logging.Logging, list[str]]] = {}

    def setting(self, bucket: str, info: BucketInfo | None = None) -> tuple[bucket_logging.Logging | None, str]:
        """The bucket's logging configuration and its owner's canonical id,
        from `info` (the row the request read) or else from the store, so a
        PutBucketLogging served by any worker applies at once to all."""
        if info is None:
            try:
                info = self.store.get_bucket(bucket)
            except StorageError:
                return None, DEFAULT_CANONICAL_ID
        return info.config.get("logging"), info.owner or DEFAULT_CANONICAL_ID

    def observe(self, req: Any, request: web.BaseRequest, response: web.StreamResponse, seconds: float) -> None:
        """Record one answered request (req: the S3Request) if its bucket logs."""
        if not req.bucket:
            return
        config, owner = self.setting(req.bucket, req.read_bucket_info)
        if config is None:
            return
        auth = req.auth
        scheme = getattr(auth, "scheme", "none")
        line = bucket_logging.record(
            owner=owner, bucket=req.bucket, time_=time.time() - seconds, remote_ip=request.remote or "-",
            requester=req.access_key, request_id=req.request_id,
            operation=bucket_logging.operation_name(request.method, req.key, request.query,
                                                    "x-amz-copy-source" in request.headers, req.website),
            key=req.key, request_uri=f"{request.method} {request.raw_path} HTTP/{request.version.major}."
                                     f"{request.version.minor}",
            status=response.status, error_code=req.error_code,
            bytes_sent=0 if request.method == "HEAD" else response.content_length,
            object_size=response.content_length if request.method in ("GET", "HEAD") and req.key else None,
            total_ms=round(seconds * 1000), referer=request.headers.get("Referer"),
            user_agent=request.headers.get("User-Agent"), version_id=request.query.get("versionId"),
            host_id=req.host_id, signature_version={"v4": "SigV4", "v4-query": "SigV4", "v2": "SigV2",
                                                     "v2-query": "SigV2"}.get(scheme),
            auth_type="QueryString" if scheme.endswith("-query") else "AuthHeader" if scheme != "none" else None,
            host=request.host, tls_version="TLSv1.2" if request.secure else None)
        batch = (req.bucket, json.dumps(config, sort_keys=True))
        self.pending.setdefault(batch, (config, []))[1].append(line)

    async def flush(self) -> int:
        """Write every batch waiting as one log object; returns how many were written."""
        batches, self.pending = self.pending, {}
        written = 0
        for (source, _), (config, lines) in batches.items():
            try:
                region = self.store.get_bucket(source).region
            except StorageError:
                region = self.config.region
            key = bucket_logging.log_key(config, source, region, ACCOUNT, time.time(), secrets.token_hex(8).upper())
            body = ("\n".join(lines) + "\n").encode()
            try:
                await self.store.put_object(config["TargetBucket"], key, _once(body), size=len(body),
                                            meta={"headers": {"Content-Type": "text/plain"}, "user": {}})
                written += 1
            except StorageError as err:
                log.warning("server access log for %s not delivered to %s: %s", source, config["TargetBucket"], err)
        return written


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


LOG_DELIVERY: web.AppKey[LogDelivery] = web.AppKey("log_delivery", LogDelivery)


def delivery_context(config_key: web.AppKey[Config],
                     store_key: web.AppKey[Store]) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup_ctx that flushes server access logs every
    logging_flush_interval seconds, and once more when the server stops."""
    async def context(app: web.Application) -> AsyncIterator[None]:
        delivery = LogDelivery(app[store_key], app[config_key])
        app[LOG_DELIVERY] = delivery

        async def run() -> None:
            while True:
                await asyncio.sleep(delivery.config.logging_flush_interval)
                try:
                    await delivery.flush()
                except Exception:  # retried next interval with what arrives meanwhile
                    log.exception("server access log delivery failed")

        task = asyncio.create_task(run(), name="s3emu-serverlog")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await delivery.flush()
    return context
