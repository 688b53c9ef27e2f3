"""Identifiers: unguessable (128 random bits), URL-safe, and sorting by
creation time, so upload ids list in initiation order within a key."""
from __future__ import annotations

import re
import secrets
import time

_ID = re.compile(r"^[0-9a-f]{16}[0-9a-f]{32}$")


def time_ordered_id() -> str:
    return f"{time.time_ns():016x}{secrets.token_hex(16)}"


def is_valid(value: str) -> bool:
    return bool(_ID.match(value))
