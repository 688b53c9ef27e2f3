"""Identifiers: unguessable (128 random bits), URL-safe, and sorting by
creation time, so upload ids list in initiation order within a key."""
from __future__ import annotations

import base64
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


def time_ordered_id() -> str:
    """32 random bits of hex after 16 of nanoseconds since the epoch: upload and version ids."""
    # strictly increasing within a process, even if the clock repeats or steps back
    global _last_ns
    with _lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        stamp = _last_ns
    return f"{stamp:016x}{secrets.token_hex(16)}"


def is_valid(value: str) -> bool:
    """Whether value has the shape of a time_ordered_id."""
    return bool(_ID.match(value))


# Names that need only be unique (data files, request ids), not unguessable:
# a per-process generator, seeded from the OS and reseeded in every forked
# worker so no two processes draw the same sequence.
_fast = random.Random()
os.register_at_fork(after_in_child=_fast.seed)


def unique_hex(nbytes: int) -> str:
    """nbytes random bytes as hex, unique but guessable: data file names, request ids."""
    return f"{_fast.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def check_version_id(version_id: str) -> None:
    """Version ids are 'null' or ours (time-ordered hex); anything else, the
    empty string included, is InvalidVersionId."""
    if version_id != "null" and not is_valid(version_id):
        raise InvalidVersionId(version_id)


def unique_b64(nbytes: int) -> str:
    """nbytes random bytes in base64, unique but guessable: x-amz-id-2."""
    return base64.b64encode(_fast.randbytes(nbytes)).decode()
