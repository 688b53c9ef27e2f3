"""Event notifications, delivered: emit() turns a change into S3 event
messages in the store's outbox (every server process may emit); the
Deliverer drains the outbox into the targets `notification_targets` maps
destination ARNs to: an http(s) webhook (POST, JSON body) or a file (one
JSON message per line).

Delivery is asynchronous and at least once: a message leaves the outbox only
after its target took it, a failed one is retried with exponential backoff,
and messages to one target go in the order they were emitted (so in order
per key). With --workers N, one process at a time delivers: it holds the
"notifications" lease in the store, which another takes over when it lapses.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from typing import Any, AsyncIterator

import aiohttp
from aiohttp import web

from ..config import Config
from ..protocol import notifications as events
from ..storage import StorageError, Store
from ..storage.outbox import Message

log = logging.getLogger("s3emu.notifications")

LEASE = "notifications"
LEASE_SECONDS = 15.0
POLL_SECONDS = 0.5  # how soon messages emitted by another process are noticed
OWNER_PRINCIPAL = "s3emu"  # the bucket owner's principal id in messages
LIFECYCLE_PRINCIPAL = "s3.amazonaws.com"  # who S3 names for its own lifecycle actions


async def emit(store: Store, config: Config, event: str, bucket: str, key: str, *, request_id: str, host_id: str,
         principal: str, source_ip: str, size: int | None = None, etag: str | None = None,
         version_id: str | None = None, extra: dict[str, Any] | None = None, at: float | None = None) -> int:
    """Queue the messages for `event` ("ObjectCreated:Put", ...) on bucket/key:
    one per configuration of the bucket that the event and key match and
    whose destination is mapped to a target. `at`: when it happens, if
    later than now (they are delivered from then on). Returns how many were queued: none when the
    disk has no room for them (the change stands; a warning is logged)."""
    if not config.notification_targets:
        return 0  # nothing could be delivered: spare the lookup
    try:
        info = store.get_bucket(bucket)
    except StorageError:
        return 0
    configs = events.matching(info.config.get("notification"), event, key)
    items = []
    now = time.time() if at is None else at
    for c in configs:
        target = config.notification_targets.get(c["arn"])
        if target is None:
            log.warning("no notification target for %s: %s on %s/%s not delivered", c["arn"], event, bucket, key)
            continue
        record = events.event_record(event, region=info.region, bucket=bucket, key=key, configuration_id=c["id"],
                                     time=now, principal=principal, source_ip=source_ip, request_id=request_id,
                                     host_id=host_id, owner_id=OWNER_PRINCIPAL, size=size, etag=etag,
                                     version_id=version_id, extra=extra)
        items.append((target, {"Records": [record]}))
    return await queue(store, items, at or 0.0, f"{event} on {bucket}/{key}") if items else 0


async def queue(store: Store, items: list[tuple[str, Any]], at: float, what: str) -> int:
    """Queue messages [(target, message)] for delivery from `at` (0: now), telling of
    `what`; returns how many were queued: none when the disk has no room for them. The
    change they tell of is stored already: it stands, its messages are lost (a warning)."""
    try:
        return await store.call(store.outbox.add, items, at)
    except StorageError as err:
        log.warning("%s: %d notification(s) not queued: %s", what, len(items), err)
        return 0


def backoff(attempts: int, limit: float) -> float:
    """Seconds before retry number attempts + 1: 0.5, 1, 2, 4... up to limit."""
    return float(min(limit, 0.5 * 2 ** min(attempts, 30)))


class Deliverer:
    """Drains the outbox while this process holds the lease."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.holder = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver soon: called after this process queued messages."""
        self._wake.set()

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                try:
                    if await self._lease():
                        await self.drain(session)
                except Exception:  # the next round tries again; the server carries on
                    log.exception("notification delivery failed")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()
                self._wake.clear()

    async def drain(self, session: aiohttp.ClientSession) -> None:
        """Deliver due messages, each target's in order, until none is due."""
        while True:
            heads = self.store.outbox.heads()
            if not heads:
                return
            results = await asyncio.gather(*(self.send(session, m) for m in heads))
            for message, ok in zip(heads, results):
                if ok:
                    await self.store.call(self.store.outbox.delivered, message.id)
                else:
                    delay = backoff(message.attempts, self.config.notification_max_backoff)
                    await self.store.call(self.store.outbox.failed, message.id, time.time() + delay)
            if not await self._lease():
                return

    async def send(self, session: aiohttp.ClientSession, message: Message) -> bool:
        """One delivery attempt: True when the target took the message."""
        body = json.dumps(events.with_sequencer(message.message, message.id), separators=(",", ":"))
        target = message.target
        try:
            if target.startswith(("http://", "https://")):
                async with session.post(target, data=body, headers={"Content-Type": "application/json"}) as resp:
                    if resp.status < 300:
                        return True
                    log.warning("notification target %s answered %d", target, resp.status)
                    return False
            await asyncio.get_running_loop().run_in_executor(None, _append, target.removeprefix("file://"), body)
            return True
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            log.warning("notification target %s failed: %s", target, err)
            return False

    async def _lease(self) -> bool:
        """Take or renew the delivery lease (on the store's writer thread)."""
        return await self.store.call(self.store.outbox.take_lease, LEASE, self.holder, LEASE_SECONDS)

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self.store.call(self.store.outbox.release_lease, LEASE, self.holder)


def _append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


DELIVERER: web.AppKey[Deliverer] = web.AppKey("deliverer", Deliverer)


def wake_deliverer(app: web.Application) -> None:
    """Have this process's deliverer (if it runs one) look at the outbox now."""
    deliverer = app.get(DELIVERER)
    if deliverer is not None:
        deliverer.wake()


def deliverer_context(config_key: web.AppKey[Config], store_key: web.AppKey[Store]):  # type: ignore[no-untyped-def]
    """An aiohttp cleanup_ctx running the deliverer for the application's
    lifetime, when any notification target is configured."""
    async def context(app: web.Application) -> AsyncIterator[None]:
        config = app[config_key]
        if not config.notification_targets:
            yield
            return
        deliverer = Deliverer(app[store_key], config)
        app[DELIVERER] = deliverer
        task = asyncio.create_task(deliverer.run(), name="s3emu-notifications")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await deliverer.release()
    return context
