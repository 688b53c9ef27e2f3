"""The request records written once per turn of the event loop: the console's
"last requests" file and the access lines on stderr."""
from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Iterator

import pytest

from s3emu.ops.recent import RecentRequests
from s3emu.runtime.logs import ATOMIC_PIPE_WRITE, TurnBatched


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_entries_of_one_turn_are_written_together_at_its_end(tmp_path: Path) -> None:
    record = RecentRequests(tmp_path, keep=10)

    async def turn() -> tuple[int, int]:
        for i in range(3):
            record.add({"request_id": str(i), "time": str(i)})
        during = len(_lines(record.path))
        await asyncio.sleep(0)  # the turn ends
        return during, len(_lines(record.path))

    during, after = asyncio.run(turn())
    assert (during, after) == (0, 3)
    assert [e["request_id"] for e in record.read(10)] == ["2", "1", "0"]
    record.close()


def test_a_batch_crossing_the_limit_rotates_the_file_and_keeps_every_entry(tmp_path: Path) -> None:
    record = RecentRequests(tmp_path, keep=4)
    for i in range(3):
        record.add({"request_id": f"a{i}", "time": f"a{i}"})  # outside a loop: written at once

    async def turn() -> None:
        for i in range(6):
            record.add({"request_id": f"b{i}", "time": f"b{i}"})

    asyncio.run(turn())
    current, older = _lines(record.path), _lines(record.path.with_suffix(".old"))
    # as entry by entry: the file fills to 4 (b0), then rotates twice within the batch
    assert [e["request_id"] for e in older] == ["b1", "b2", "b3", "b4"]
    assert [e["request_id"] for e in current] == ["b5"]
    record.close()


def test_entries_added_after_close_are_dropped(tmp_path: Path) -> None:
    record = RecentRequests(tmp_path, keep=10)
    record.add({"request_id": "kept", "time": "1"})
    record.close()
    record.add({"request_id": "late", "time": "2"})
    assert [e["request_id"] for e in _lines(record.path)] == ["kept"]


class Writes(io.StringIO):
    """A stream that keeps each write it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, s: str) -> int:
        self.writes.append(s)
        return len(s)


@pytest.fixture
def access() -> Iterator[tuple[logging.Logger, list[str]]]:
    """A logger writing through TurnBatched, and the writes its stream got."""
    stream = Writes()
    handler = TurnBatched(stream)
    logger = logging.getLogger("test.turn-batched")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream.writes
    logger.removeHandler(handler)


def test_access_lines_of_one_turn_reach_the_stream_in_one_write(access: tuple[logging.Logger, list[str]]) -> None:
    logger, writes = access

    async def turn() -> int:
        for i in range(3):
            logger.info("line %d", i)
        during = len(writes)
        await asyncio.sleep(0)
        return during

    assert asyncio.run(turn()) == 0
    assert writes == ["line 0\nline 1\nline 2\n"]
    logger.info("outside a loop")  # written at once
    assert writes[-1] == "outside a loop\n"


def test_a_long_turn_is_written_in_whole_lines_of_at_most_an_atomic_pipe_write(
        access: tuple[logging.Logger, list[str]]) -> None:
    """On a pipe shared by several worker processes, a write of at most
    PIPE_BUF bytes is never split, so one process's line is never cut by another's."""
    logger, writes = access
    lines = [f"{i:04d} " + "\u00e9" * (100 + i % 50) for i in range(200)]  # ~50 KiB, multi-byte characters
    long_line = "x" * (ATOMIC_PIPE_WRITE * 2)

    async def turn() -> None:
        for line in lines[:100]:
            logger.info(line)
        logger.info(long_line)
        for line in lines[100:]:
            logger.info(line)

    asyncio.run(turn())
    assert "".join(writes) == "".join(f"{line}\n" for line in [*lines[:100], long_line, *lines[100:]])
    assert all(w.endswith("\n") for w in writes)
    assert long_line + "\n" in writes  # alone, as it cannot be shorter
    assert all(len(w.encode()) <= ATOMIC_PIPE_WRITE for w in writes if w != long_line + "\n")
    assert len(writes) > 10
