"""The reaper: a background task that enforces bucket lifecycle rules
(AbortIncompleteMultipartUpload, Expiration, NoncurrentVersionExpiration)
and the server-wide `upload_expiry`, every `reaper_interval` seconds.

Each batch of a sweep runs on the store's writer thread (Store.call), like
every write, so the event loop keeps answering requests while it works; the
batches are bounded so that requests' own writes get their turn between them.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator

from aiohttp import web

from ..config import Config
from ..storage import ObjectInfo, Store
from ..storage.ids import unique_b64, unique_hex
from .notifications import LIFECYCLE_PRINCIPAL, emit

log = logging.getLogger("s3emu.reaper")

BATCH = 200


async def sweep_once(store: Store, config: Config) -> int:
    """One full pass: repeat bounded sweeps until nothing more is due."""
    total = 0
    while True:
        upload_expiry = config.upload_expiry if isinstance(config.upload_expiry, (int, float)) else None
        result = await store.call(store.sweep, day_seconds=config.lifecycle_day_seconds,
                                  upload_expiry=upload_expiry, limit=BATCH)
        for u in result.aborted:
            log.info("aborted abandoned upload %s of %s/%s", u.upload_id, u.bucket, u.key)
        for o in result.expired:
            log.info("expired %s/%s", o.bucket, o.key)
            await notify_expired(store, config, o)
        total += result.total
        if result.total < BATCH:
            return total
        await asyncio.sleep(0)


async def notify_expired(store: Store, config: Config, obj: ObjectInfo) -> None:
    """The LifecycleExpiration event of a current version a rule expired: in a
    versioning-enabled bucket that left a delete marker."""
    marker = store.get_bucket(obj.bucket).versioning == "Enabled"
    event = "LifecycleExpiration:DeleteMarkerCreated" if marker else "LifecycleExpiration:Delete"
    await emit(store, config, event, obj.bucket, obj.key, request_id=unique_hex(8).upper(), host_id=unique_b64(56),
               principal=LIFECYCLE_PRINCIPAL, source_ip=LIFECYCLE_PRINCIPAL,
               version_id=None if marker or obj.version_id == "null" else obj.version_id)


async def _run(store: Store, config: Config) -> None:
    while True:
        await asyncio.sleep(config.reaper_interval)
        try:
            await sweep_once(store, config)
        except Exception:  # a failed sweep is retried next interval; the server carries on
            log.exception("lifecycle sweep failed")


def reaper_context(config_key: web.AppKey[Config], store_key: web.AppKey[Store]):  # type: ignore[no-untyped-def]
    """An aiohttp cleanup_ctx running the reaper for the application's lifetime."""
    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_run(app[store_key], app[config_key]), name="s3emu-reaper")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return context
