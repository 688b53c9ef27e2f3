"""Identifiers: unguessable (at least 104 random bits), URL-safe, and sorting
by creation time, so upload ids list in initiation order within a key."""
from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import secrets
import threading
import time

from .errors import InvalidVersionId

_ID = re.compile(r"^[0-9a-f]{16}[0-9a-f]{32}$")
_lock = threading.Lock()
_last_ns = 0


def _next_ns() -> int:
    # strictly increasing within a process, even if the clock repeats or steps back
    global _last_ns
    with _lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        return _last_ns


def time_ordered_id() -> str:
    """32 random bits of hex after 16 of nanoseconds since the epoch: upload ids."""
    return f"{_next_ns():016x}{secrets.token_hex(16)}"


# Version ids look like S3's: 32 characters of letters, digits, "." and "_". Ours are 64 bits of
# nanoseconds and 104 random bits in an alphabet that sorts as ASCII does (so ids sort by creation),
# then 4 characters of check, so an id altered by hand is invalid rather than merely unknown, as on S3.
_ALPHABET = ".0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_VERSION_ID = re.compile(r"^[.0-9A-Z_a-z]{32}$")


def _encode(number: int, length: int) -> str:
    return "".join(_ALPHABET[(number >> (6 * i)) & 63] for i in reversed(range(length)))


def _check(body: str) -> str:
    return _encode(int.from_bytes(hashlib.sha256(body.encode()).digest()[:3], "big"), 4)


def new_version_id() -> str:
    """A new object version's id: 32 characters, unguessable, sorting by creation time."""
    body = _encode(_next_ns() << 104 | secrets.randbits(104), 28)
    return body + _check(body)


def created_at(version_id: str) -> float:
    """When a valid version id (not 'null') was issued, in epoch seconds."""
    if _VERSION_ID.match(version_id):
        ns = 0
        for char in version_id[:11]:  # the first 66 bits hold the 64 of nanoseconds
            ns = ns << 6 | _ALPHABET.index(char)
        return (ns >> 2) / 1e9
    return int(version_id[:16], 16) / 1e9


def is_valid(value: str) -> bool:
    """Whether value is a version id we issued (or a time_ordered_id, which
    versions had before)."""
    if _VERSION_ID.match(value):
        return _check(value[:28]) == value[28:]
    return bool(_ID.match(value))


# Names that need only be unique (data files, request ids), not unguessable:
# a per-process generator, seeded from the OS and reseeded in every forked
# worker so no two processes draw the same sequence.
_fast = random.Random()
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_fast.seed)


def unique_hex(nbytes: int) -> str:
    """nbytes random bytes as hex, unique but guessable: data file names, request ids."""
    return f"{_fast.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def check_version_id(version_id: str) -> None:
    """Version ids are 'null' or ours (new_version_id()); anything else, the
    empty string included, is InvalidVersionId."""
    if version_id != "null" and not is_valid(version_id):
        raise InvalidVersionId(version_id)


def unique_b64(nbytes: int) -> str:
    """nbytes random bytes in base64, unique but guessable: x-amz-id-2."""
    return base64.b64encode(_fast.randbytes(nbytes)).decode()


def new_object_id() -> int:
    """A new object version's row id: random, never one a deleted version had.
    (SQLite would hand a deleted row's id to the next insert, and a reader
    holding the old id would then find the new version's data files.)"""
    return secrets.randbits(62) + 1
