"""The listing engine (storage/listing.py) over an in-memory index, and the
same pages through a Store: prefixes, delimiters, markers, seeks."""
from __future__ import annotations

import asyncio
import bisect
from pathlib import Path
from typing import AsyncIterator

import pytest

from s3emu.storage import Store
from s3emu.storage.blobs import IN_DATABASE_BYTES
from s3emu.storage.listing import list_page

KEYS = sorted(["a", "a/1", "a/2", "a/b/3", "b", "b/1", "c/\U0010ffff", "c/x", "d", "\u00e9/1", "\U0001f600"])


class Index:
    """Sorted keys, fetched as the SQL range scans fetch them; counts the scans."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.scans = 0

    def fetch(self, lower: str, inclusive: bool, _after_id: str | None, limit: int) -> list[str]:
        self.scans += 1
        start = (bisect.bisect_left if inclusive else bisect.bisect_right)(self.keys, lower)
        return self.keys[start:start + limit]


def _page(keys: list[str], prefix: str = "", delimiter: str = "", marker: str = "", max_items: int = 1000):
    return list_page(Index(keys).fetch, lambda k: k, lambda k: None, prefix, delimiter, marker, None, max_items)


def _expected(keys: list[str], prefix: str, delimiter: str, marker: str) -> list[str]:
    """Entries and common prefixes as S3 defines them, computed the slow way."""
    out: list[str] = []
    for key in keys:
        if not key.startswith(prefix):
            continue
        i = key.find(delimiter, len(prefix)) if delimiter else -1
        item = key if i < 0 else key[: i + len(delimiter)]
        if item > marker and item not in out:
            out.append(item)
    return out


@pytest.mark.parametrize("prefix", ["", "a", "a/", "c/", "z"])
@pytest.mark.parametrize("delimiter", ["", "/", "1"])
@pytest.mark.parametrize("marker", ["", "a/1", "b", "c/"])
def test_pages_join_up_to_the_definition(prefix: str, delimiter: str, marker: str) -> None:
    for size in (1, 2, 1000):
        seen: list[str] = []
        after = marker
        for _ in range(len(KEYS) + 2):
            page = _page(KEYS, prefix, delimiter, after, size)
            seen += page.entries + page.prefixes
            if not page.is_truncated:
                break
            assert page.last_key is not None
            after = page.last_key
        assert sorted(seen) == _expected(KEYS, prefix, delimiter, marker)


def test_a_common_prefix_costs_one_seek() -> None:
    index = Index(sorted([f"big/{i:05d}" for i in range(5000)] + ["small"]))
    page = list_page(index.fetch, lambda k: k, lambda k: None, "", "/", "", None, 10)
    assert (page.prefixes, page.entries) == (["big/"], ["small"])
    assert index.scans <= 3


def test_zero_max_items_is_an_empty_page() -> None:
    page = _page(KEYS, max_items=0)
    assert (page.entries, page.prefixes, page.is_truncated) == ([], [], False)


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_the_same_through_a_store(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    try:
        store.create_bucket("b", "us-east-1")
        body = b"x" * (IN_DATABASE_BYTES + 1)  # each in a data file of its own
        for key in KEYS:
            asyncio.run(store.put_object("b", key, _body(body), meta={}, size=len(body)))
        page = store.list_objects("b", delimiter="/", max_keys=1000)
        assert sorted([o.key for o in page.entries] + page.prefixes) == _expected(KEYS, "", "/", "")
        files = set(store.blobs.all_files())
        assert len(files) == len(KEYS)
        assert store.delete_object("b", "a").version_id is None  # an unversioned bucket's key just goes
        assert "a" not in [o.key for o in store.list_objects("b").entries]
        assert len(files - set(store.blobs.all_files())) == 1  # and its data file with it
    finally:
        store.close()
