"""A body becomes a data file in batches of its chunks: the bytes in order
whatever sizes they arrive in, their digests, and bounded bookkeeping for a
body that trickles in byte by byte."""
from __future__ import annotations

import asyncio
import hashlib
import os
import zlib
from pathlib import Path
from typing import AsyncIterator

import pytest

from s3emu.storage.blobs import FLUSH_BYTES, SMALL_CHUNK, BlobStore, _Batches
from s3emu.storage.errors import IncompleteBody


async def _chunks(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at, i = [], 0, 0
    while at < len(data):
        out.append(data[at:at + sizes[i % len(sizes)]])
        at += len(out[-1])
        i += 1
    return out


@pytest.mark.parametrize("sizes", [[1], [4096], [SMALL_CHUNK - 1, SMALL_CHUNK, 7], [256 * 1024, 3, 100_000],
                                   [FLUSH_BYTES + 1]])
@pytest.mark.parametrize("durable", [False, True])
def test_the_file_holds_the_body_in_order(tmp_path: Path, sizes: list[int], durable: bool) -> None:
    data = os.urandom(3 * FLUSH_BYTES + 12345 if sizes != [1] else 200_000)
    blobs = BlobStore(tmp_path, durable=durable)
    blob = asyncio.run(blobs.write(_chunks(_pieces(data, sizes)), size=len(data), algorithms=["CRC32"]))
    assert blobs.path(blob.file).read_bytes() == data
    assert blob.size == len(data)
    assert blob.md5 == hashlib.md5(data).hexdigest()
    assert blob.digests["CRC32"] == zlib.crc32(data).to_bytes(4, "big")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_short_body_leaves_nothing(tmp_path: Path) -> None:
    data = os.urandom(2 * FLUSH_BYTES)
    blobs = BlobStore(tmp_path, durable=False)
    with pytest.raises(IncompleteBody):
        asyncio.run(blobs.write(_chunks(_pieces(data, [300_000])), size=len(data) + 1))
    assert list((tmp_path / "tmp").iterdir()) == []
    assert list(blobs.all_files()) == []


def test_large_chunks_are_kept_small_ones_gathered() -> None:
    """Chunks of SMALL_CHUNK or more are handed on as they came (no copy);
    a body of single bytes becomes one buffer per SMALL_CHUNK, not one object per byte."""
    batches = _Batches()
    large = os.urandom(SMALL_CHUNK)
    assert batches.add(b"a") is None
    assert batches.add(large) is None
    assert batches.add(b"b") is None
    batch = batches.take()
    assert batch == [b"a", large, b"b"] and batch[1] is large

    full = None
    for _ in range(FLUSH_BYTES):
        full = batches.add(b"x") or full
    assert full is not None and len(full) == FLUSH_BYTES // SMALL_CHUNK
    assert b"".join(full) == b"x" * FLUSH_BYTES
