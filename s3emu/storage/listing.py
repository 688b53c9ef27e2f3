"""Prefix/delimiter/marker listing over a sorted index, shared by objects and uploads.

Rows come from a range scan in key order; keys sharing a common prefix are
folded into one CommonPrefixes entry and the scan seeks past them, so a page
costs the same wherever it starts in the bucket.
"""
from __future__ import annotations

from typing import Callable, Iterable, TypeVar

from .models import Page

T = TypeVar("T")

# The largest code point. SQLite compares UTF-8 bytes, which matches code point order.
MAX_CHAR = "\U0010ffff"

# fetch(lower, inclusive, after_id, limit) -> rows in (key, id) order with key > lower
# (key >= lower when inclusive), or key == lower and id > after_id when after_id is given.
Fetch = Callable[[str, bool, str | None, int], Iterable[T]]


def list_page(fetch: Fetch[T], key_of: Callable[[T], str], id_of: Callable[[T], str | None],
              prefix: str, delimiter: str, marker: str, marker_id: str | None, max_items: int) -> Page[T]:
    """One page of up to `max_items` entries and common prefixes after
    (marker, marker_id), of the keys under `prefix`, folding keys at
    `delimiter` into common prefixes. `key_of` and `id_of` read an entry's
    key and tie-breaking id (upload id, version seq; None where keys are unique)."""
    entries: list[T] = []
    prefixes: list[str] = []
    if max_items <= 0:
        return Page(entries, prefixes, False)
    # start at the marker, or at the prefix itself (inclusive) when that is later
    inclusive = prefix > marker
    after_key = prefix if inclusive else marker
    after_id = None if inclusive else marker_id
    last_key: str | None = None
    last_id: str | None = None
    batch = min(max(max_items, 1) + 1, 1001)
    while True:
        rows = list(fetch(after_key, inclusive, after_id, batch))
        if not rows:
            return Page(entries, prefixes, False, last_key, last_id)
        seeked = False
        for row in rows:
            key = key_of(row)
            if not key.startswith(prefix):
                return Page(entries, prefixes, False, last_key, last_id)
            common = _common_prefix(key, prefix, delimiter)
            if common is not None:
                if common > marker and (not prefixes or prefixes[-1] != common):
                    if len(entries) + len(prefixes) >= max_items:
                        return Page(entries, prefixes, True, last_key, last_id)
                    prefixes.append(common)
                    last_key, last_id = common, None
                # skip every other key under this common prefix with one seek
                beyond = _after_prefix(common)
                if beyond is None:
                    return Page(entries, prefixes, False, last_key, last_id)
                after_key, inclusive, after_id = beyond, True, None
                seeked = True
                break
            if len(entries) + len(prefixes) >= max_items:
                return Page(entries, prefixes, True, last_key, last_id)
            entries.append(row)
            last_key, last_id = key, id_of(row)
            after_key, inclusive, after_id = key, False, last_id
        if not seeked and len(rows) < batch:
            return Page(entries, prefixes, False, last_key, last_id)


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    i = key.find(delimiter, len(prefix))
    return None if i < 0 else key[: i + len(delimiter)]


def _after_prefix(prefix: str) -> str | None:
    """The least string above every string that starts with prefix (None if
    there is none): its last character incremented, dropping trailing MAX_CHARs."""
    stem = prefix.rstrip(MAX_CHAR)
    if not stem:
        return None
    nxt = ord(stem[-1]) + 1
    if nxt == 0xD800:
        nxt = 0xE000  # surrogates are not characters and never appear in keys
    return stem[:-1] + chr(nxt)
