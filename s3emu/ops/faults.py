"""Fault injection, for testing how clients cope with a misbehaving S3: rules
that answer matching requests with an S3 error, a delay or a dropped
connection. Faults strike before the handler runs, so a failed request never
stores anything.

The rules are the server's, not one process's: with `--workers N` they live in
`faults.sqlite3` in the data directory, so a rule added through any worker
applies to every request on every worker, and its matched/fired counts are
counted there. Each worker keeps the rules in memory and rereads them only
when another process has changed them (SQLite's `PRAGMA data_version`).
"""
from __future__ import annotations

import asyncio
import builtins
import json
import math
import random
import re
import socket
import sqlite3
import struct
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from aiohttp import web

from ..http.body import invite_body
from ..http.errors import ERRORS, S3Error
from ..http.operations import Operation
from ..http.request import S3Request

MAX_DELAY_MS = 300_000  # five minutes: longer than any client waits
MAX_RESET_BYTES = 5 * 1024 ** 3
MAX_TEXT = 1024
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")


@dataclass(frozen=True)
class FaultRule:
    """What a rule matches (all given conditions must hold) and what it does."""
    # matching
    operation: str | None = None       # S3 operation name, e.g. "UploadPart"; None matches any
    bucket: str | None = None
    key_prefix: str | None = None
    part_number: int | None = None
    nth: int = 1                       # fire from the nth matching request on (1 = the first)
    probability: float = 1.0           # chance a matching request fires
    seed: int | None = None            # seeds the draws, so a run is reproducible
    times: int | None = None           # fire at most this many times (None: no limit)
    # actions, in this order: delay, then reset or error
    delay_ms: float = 0
    reset_after_bytes: int | None = None  # drop the connection after reading this much of the body
    error: str | None = None           # S3 error code, e.g. "SlowDown"
    status: int | None = None          # HTTP status for `error` (default: S3's for that code)
    message: str | None = None
    # bookkeeping, kept by the store
    id: int = 0
    matched: int = 0
    fired: int = 0

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

    def eligible(self, matched: int, fired: int) -> bool:
        """Whether the `matched`-th matching request (counting from 1) may be
        struck, `fired` having been struck before it (before any draw)."""
        return matched >= self.nth and (self.times is None or fired < self.times)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_SETTABLE = tuple(f.name for f in fields(FaultRule) if f.name not in ("id", "matched", "fired"))


def _is_int(value: Any) -> bool:
    return type(value) is int  # JSON true/false are bools, not numbers


def _int(values: dict[str, Any], name: str, lo: int, hi: int | None = None, *, optional: bool = True) -> None:
    value = values.get(name)
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name} must be an integer {bound}")


def _text(values: dict[str, Any], name: str) -> None:
    value = values.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT or not value.isprintable()):
        raise ValueError(f"{name} must be printable text of at most {MAX_TEXT} characters")


def validate(values: Any) -> dict[str, Any]:
    """A rule's settings, checked field by field; ValueError saying what is wrong."""
    if not isinstance(values, dict):
        raise ValueError("a fault rule is a JSON object")
    unknown = set(values) - set(_SETTABLE)
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    op = values.get("operation")
    if op is not None and (not isinstance(op, str) or op not in Operation.__members__):
        raise ValueError(f"operation must be an S3 operation name such as PutObject, not {op!r}")
    for name in ("bucket", "key_prefix", "message"):
        _text(values, name)
    _int(values, "part_number", 1, 10000)
    _int(values, "nth", 1, 2 ** 31)
    _int(values, "seed", -2 ** 63, 2 ** 63 - 1)
    _int(values, "times", 0, 2 ** 31)
    _int(values, "reset_after_bytes", 0, MAX_RESET_BYTES)
    probability = values.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) \
            or not 0.0 <= probability <= 1.0:
        raise ValueError("probability must be between 0 and 1")
    delay = values.get("delay_ms", 0)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) \
            or not 0 <= delay <= MAX_DELAY_MS:
        raise ValueError(f"delay_ms must be a number of milliseconds between 0 and {MAX_DELAY_MS}")
    error, status = values.get("error"), values.get("status")
    if status is not None and (not _is_int(status) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error status (400..599)")
    if error is not None:
        if not isinstance(error, str) or not _CODE.fullmatch(error):
            raise ValueError("error must be an S3 error code such as SlowDown")
        if error not in ERRORS and status is None:
            raise ValueError(f"error {error!r} is not one s3emu knows: give its status too")
    if error is None and values.get("reset_after_bytes") is None and not delay:
        raise ValueError("a fault needs an action: error, delay_ms or reset_after_bytes")
    return dict(values)


def validate_all(specs: Any) -> list[dict[str, Any]]:
    """One rule (an object) or several (a list), all valid, or ValueError."""
    return [validate(s) for s in (specs if isinstance(specs, list) else [specs])]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS fault_rules (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    spec    TEXT NOT NULL,              -- JSON: the rule's settings
    matched INTEGER NOT NULL DEFAULT 0,
    fired   INTEGER NOT NULL DEFAULT 0,
    draws   INTEGER NOT NULL DEFAULT 0  -- probability draws made, whichever process made them
);
"""


class FaultSet:
    """The rules in force, shared through a SQLite file by every process
    serving one data directory. Changed from the admin endpoint, consulted by
    every request; safe to call from several threads."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # rules need not outlive the server
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._version: int | None = None
        self._rules: builtins.list[FaultRule] = []
        self._generators: dict[int, tuple[random.Random, int]] = {}  # rule id -> its seeded draws so far

    @classmethod
    def of(cls, data_dir: Path | str) -> "FaultSet":
        return cls(Path(data_dir) / "faults.sqlite3")

    def close(self) -> None:
        self._db.close()

    def reset(self, specs: builtins.list[dict[str, Any]]) -> None:
        """A fresh server's rules: none but the configured ones (once, at start-up)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM fault_rules")
            self._insert(validate_all(specs))
        self._version = None

    def add(self, specs: Any) -> builtins.list[FaultRule]:
        """Adds all the rules, or (if one is invalid) none of them."""
        checked = validate_all(specs)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            ids = self._insert(checked)
        self._version = None
        return [FaultRule(**spec, id=rule_id) for spec, rule_id in zip(checked, ids)]

    def _insert(self, specs: builtins.list[dict[str, Any]]) -> builtins.list[int]:
        return [self._db.execute("INSERT INTO fault_rules(spec) VALUES (?)", (json.dumps(s),)).lastrowid or 0
                for s in specs]

    def remove(self, rule_id: int) -> bool:
        with self._lock, self._db:
            found = self._db.execute("DELETE FROM fault_rules WHERE id=?", (rule_id,)).rowcount > 0
        self._version = None
        return found

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM fault_rules")
        self._version = None

    def list(self) -> builtins.list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._read()]

    def _read(self) -> builtins.list[FaultRule]:
        rows = self._db.execute("SELECT id, spec, matched, fired FROM fault_rules ORDER BY id").fetchall()
        return [FaultRule(**json.loads(spec), id=i, matched=m, fired=f) for i, spec, m, f in rows]

    def _current(self) -> builtins.list[FaultRule]:
        """The rules, reread only when some process changed them."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._version:
                self._rules, self._version = self._read(), version
            return self._rules

    def candidates(self, req: S3Request) -> builtins.list[FaultRule]:
        """The rules matching a request (cheap: no write)."""
        rules = self._current()
        return [r for r in rules if r.matches(req)] if rules else []

    def firing(self, candidates: builtins.list[FaultRule]) -> builtins.list[FaultRule]:
        """Counts a request against the rules it matches and returns those
        that strike it; one transaction, so every process counts alike."""
        struck = []
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for rule in candidates:
                row = self._db.execute("SELECT matched, fired, draws FROM fault_rules WHERE id=?",
                                       (rule.id,)).fetchone()
                if row is None:
                    continue  # removed meanwhile
                matched, fired, draws = row[0] + 1, row[1], row[2]
                fires = rule.eligible(matched, fired)
                if fires and rule.probability < 1.0:
                    draws += 1
                    fires = self._draw(rule, draws) < rule.probability
                fired += fires
                if fires:
                    struck.append(rule)
                self._db.execute("UPDATE fault_rules SET matched=?, fired=?, draws=? WHERE id=?",
                                 (matched, fired, draws, rule.id))
        return struck

    def _draw(self, rule: FaultRule, n: int) -> float:
        """The rule's n-th draw: for a seeded rule, the n-th number of
        random.Random(seed), whichever process draws it."""
        if rule.seed is None:
            return random.random()
        rng, made = self._generators.get(rule.id, (None, 0))
        if rng is None or made >= n:
            rng, made = random.Random(rule.seed), 0
        while made < n - 1:
            rng.random()
            made += 1
        self._generators[rule.id] = (rng, n)
        return rng.random()


FAULTS: web.AppKey[FaultSet] = web.AppKey("faults", FaultSet)


def fault_error(rule: FaultRule) -> S3Error:
    """The rule's S3 error: S3's status and message for a code S3 has, unless
    the rule gives its own."""
    assert rule.error is not None
    status, message = ERRORS.get(rule.error) or (rule.status or 500, rule.error)
    return S3Error(rule.error, rule.message or message, status=rule.status or status)


async def reset_connection(req: S3Request, after_bytes: int) -> None:
    """Read `after_bytes` of the body, then drop the connection with a TCP
    reset, as a failing network or load balancer would."""
    remaining = after_bytes
    await invite_body(req)
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
    """Apply the faults that strike this request (called after routing and
    authorisation, before the handler). Counting takes the shared database's
    write lock, so it runs off the event loop."""
    if faults is None:
        return
    candidates = faults.candidates(req)
    if not candidates:
        return
    for rule in await asyncio.to_thread(faults.firing, candidates):
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.reset_after_bytes is not None:
            await reset_connection(req, rule.reset_after_bytes)
        if rule.error is not None:
            raise fault_error(rule)
