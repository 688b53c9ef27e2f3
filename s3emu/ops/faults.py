"""Fault injection, for testing how clients cope with a misbehaving S3: rules
that answer matching requests with an S3 error, a delay or a dropped
connection. Faults strike before the handler runs, so a failed request never
stores anything."""
from __future__ import annotations

import asyncio
import builtins
import itertools
import random
import socket
import struct
import threading
from dataclasses import dataclass, field, fields
from typing import Any

from aiohttp import web

from ..http.errors import ERRORS, S3Error
from ..http.request import S3Request

_ids = itertools.count(1)


@dataclass
class FaultRule:
    """What a rule matches (all given conditions must hold) and what it does."""
    # matching
    operation: str | None = None       # S3 operation name, e.g. "UploadPart"; None matches any
    bucket: str | None = None
    key_prefix: str | None = None
    part_number: int | None = None
    nth: int = 1                       # fire from the nth matching request on (1 = the first)
    probability: float = 1.0           # chance a matching request fires
    seed: int | None = None            # seeds the draw, so a run is reproducible
    times: int | None = None           # fire at most this many times (None: no limit)
    # actions, in this order: delay, then reset or error
    delay_ms: int = 0
    reset_after_bytes: int | None = None  # drop the connection after reading this much of the body
    error: str | None = None           # S3 error code, e.g. "SlowDown"
    status: int | None = None          # HTTP status for `error` (default: S3's for that code)
    message: str | None = None
    # bookkeeping
    id: int = field(default_factory=lambda: next(_ids))
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.error is None and self.reset_after_bytes is None and not self.delay_ms:
            raise ValueError("a fault needs an action: error, delay_ms or reset_after_bytes")
        if self.nth < 1:
            raise ValueError("nth counts from 1")
        if self.times is not None and self.times < 0:
            raise ValueError("times must not be negative")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.delay_ms < 0 or (self.reset_after_bytes is not None and self.reset_after_bytes < 0):
            raise ValueError("delay_ms and reset_after_bytes must not be negative")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400..599)")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FaultRule":
        settable = {f.name for f in fields(cls)} - {"id", "matched", "fired", "_rng"}
        unknown = set(values) - settable
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        try:
            return cls(**values)
        except TypeError as e:
            raise ValueError(str(e)) from None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_rng"}

    def matches(self, req: S3Request) -> bool:
        if self.operation is not None and self.operation != req.operation:
            return False
        if self.bucket is not None and self.bucket != req.bucket:
            return False
        if self.key_prefix is not None and not (req.key or "").startswith(self.key_prefix):
            return False
        if self.part_number is not None and req.param("partNumber") != str(self.part_number):
            return False
        return True

    def should_fire(self) -> bool:
        """Counts a matching request and decides whether the fault strikes it."""
        self.matched += 1
        if self.matched < self.nth or (self.times is not None and self.fired >= self.times):
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultSet:
    """The rules in force. Changed from the admin endpoint (or another thread),
    consulted by every request."""

    def __init__(self, rules: list[dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._rules = [FaultRule.from_dict(r) for r in rules or []]

    def add(self, specs: list[dict[str, Any]]) -> list[FaultRule]:
        """Adds all the rules, or (if one is invalid) none of them."""
        new = [FaultRule.from_dict(s) for s in specs]
        with self._lock:
            self._rules.extend(new)
        return new

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            found = len(kept) != len(self._rules)
            self._rules = kept
        return found

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def firing(self, req: S3Request) -> builtins.list[FaultRule]:
        with self._lock:
            return [r for r in self._rules if r.matches(req) and r.should_fire()]


FAULTS: web.AppKey[FaultSet] = web.AppKey("faults", FaultSet)


def fault_error(rule: FaultRule) -> S3Error:
    """The rule's S3 error: S3's status and message for a code S3 has, unless
    the rule gives its own; an unknown code without a status is a 500."""
    assert rule.error is not None
    status, message = ERRORS.get(rule.error) or (500, rule.error)
    return S3Error(rule.error, rule.message or message, status=rule.status or status)


async def reset_connection(req: S3Request, after_bytes: int) -> None:
    """Read `after_bytes` of the body, then drop the connection with a TCP
    reset, as a failing network or load balancer would."""
    remaining = after_bytes
    while remaining > 0:
        chunk = await req.http.content.read(min(remaining, 256 * 1024))
        if not chunk:
            break
        remaining -= len(chunk)
    transport = req.http.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # linger 0: close() sends RST instead of an orderly FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    raise ConnectionResetError("connection reset by an injected fault")


async def inject(req: S3Request, faults: FaultSet | None) -> None:
    """Apply the faults that strike this request (called after routing, before the handler)."""
    if faults is None:
        return
    for rule in faults.firing(req):
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.reset_after_bytes is not None:
            await reset_connection(req, rule.reset_after_bytes)
        if rule.error is not None:
            raise fault_error(rule)
