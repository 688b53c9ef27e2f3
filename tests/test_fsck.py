"""`s3emu fsck`: metadata against data files, on a live data directory."""
from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from server import ServerProcess

BUCKET = "fsck"
OLD = time.time() - 7200  # older than fsck's default grace of an hour
SINGLE = b"single body" * 1500  # too large to be kept in the database: a data file of its own


def fsck(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "s3emu", "fsck", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)


def data_file(data_dir: Path, sql: str, *params: Any) -> Path:
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        name = db.execute(sql, params).fetchone()[0]
    finally:
        db.close()
    return data_dir / "blobs" / name[:2] / name


def object_file(data_dir: Path, key: str, part: int = 1) -> Path:
    return data_file(data_dir, "SELECT s.file FROM segments s JOIN objects o ON o.id=s.object_id"
                               " WHERE o.key=? AND s.part_number=?", key, part)


def part_file(data_dir: Path, upload_id: str, part: int) -> Path:
    return data_file(data_dir, "SELECT file FROM parts WHERE upload_id=? AND part_number=?", upload_id, part)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[ServerProcess, Any, str]]:
    """A running server holding a single-PUT object, a multipart object and an open upload."""
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--min-part-size", "1",
                        "--no-access-log").start()
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    c.put_object(Bucket=BUCKET, Key="single", Body=SINGLE)
    upload_id = c.create_multipart_upload(Bucket=BUCKET, Key="multi")["UploadId"]
    parts = [{"PartNumber": n, "ETag": c.upload_part(Bucket=BUCKET, Key="multi", UploadId=upload_id,
                                                     PartNumber=n, Body=bytes([n]) * 1000)["ETag"]}
             for n in (1, 2)]
    c.complete_multipart_upload(Bucket=BUCKET, Key="multi", UploadId=upload_id, MultipartUpload={"Parts": parts})
    open_id = c.create_multipart_upload(Bucket=BUCKET, Key="open")["UploadId"]
    c.upload_part(Bucket=BUCKET, Key="open", UploadId=open_id, PartNumber=3, Body=b"three" * 100)
    try:
        yield srv, c, open_id
    finally:
        srv.stop()


def test_sound_store_passes(store: tuple[ServerProcess, Any, str]) -> None:
    srv, _, _ = store
    result = fsck(srv.data_dir, "--verify-digests", "--grace", "0")
    assert result.returncode == 0, result.stdout
    assert "checked 2 object(s), 1 part(s), 4 data file(s)" in result.stdout
    assert "0 problem(s)" in result.stdout


def test_finds_missing_short_and_corrupt_files(store: tuple[ServerProcess, Any, str]) -> None:
    srv, _, open_id = store
    d = srv.data_dir
    os.truncate(object_file(d, "single"), 3)
    part_file(d, open_id, 3).unlink()
    second = object_file(d, "multi", 2)
    with open(second, "r+b") as f:  # same size, different bytes: only a digest check sees it
        f.write(b"X")

    result = fsck(d)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    short = f"holds 3 bytes, {len(SINGLE)} recorded"
    assert any(line.startswith("short") and f"{BUCKET}/single segment 1" in line and short in line
               for line in lines), result.stdout
    assert any(line.startswith("missing") and f"upload {open_id} of {BUCKET}/open part 3" in line
               for line in lines), result.stdout
    assert not any(line.startswith("digest") for line in lines)

    result = fsck(d, "--verify-digests")
    assert result.returncode == 1
    assert any(line.startswith("digest") and f"{BUCKET}/multi segment 2" in line
               for line in result.stdout.splitlines()), result.stdout
    # --repair cannot bring bytes back: still unsound
    assert fsck(d, "--repair").returncode == 1


def test_reports_and_repairs_orphans(store: tuple[ServerProcess, Any, str]) -> None:
    srv, c, _ = store
    d = srv.data_dir
    orphan = d / "blobs" / "ab" / ("ab" + secrets.token_hex(15))
    orphan.write_bytes(b"nobody's")
    stale_tmp = d / "tmp" / secrets.token_hex(16)
    stale_tmp.write_bytes(b"half a write")
    fresh = d / "blobs" / "cd" / ("cd" + secrets.token_hex(15))
    fresh.write_bytes(b"maybe a write in flight")
    for path in (orphan, stale_tmp):
        os.utime(path, (OLD, OLD))

    result = fsck(d)
    assert result.returncode == 1
    assert f"orphan   {orphan.name}: 8 bytes that no object or part refers to" in result.stdout
    assert f"tmp      tmp/{stale_tmp.name}: an abandoned partial write" in result.stdout
    assert fresh.name not in result.stdout  # within the grace period
    assert "1 recent file(s) skipped" in result.stdout
    assert orphan.exists() and stale_tmp.exists()  # reporting changes nothing

    result = fsck(d, "--repair")
    assert result.returncode == 0, result.stdout
    assert "2 removed" in result.stdout
    assert not orphan.exists() and not stale_tmp.exists() and fresh.exists()

    result = fsck(d, "--grace", "0")
    assert result.returncode == 1 and f"orphan   {fresh.name}" in result.stdout
    assert fsck(d, "--grace", "0", "--repair").returncode == 0
    assert not fresh.exists()
    # and the store is whole afterwards
    assert fsck(d, "--grace", "0", "--verify-digests").returncode == 0
    assert c.get_object(Bucket=BUCKET, Key="multi")["Body"].read() == b"\x01" * 1000 + b"\x02" * 1000


def test_stray_file_is_reported_not_removed(store: tuple[ServerProcess, Any, str]) -> None:
    srv, _, _ = store
    stray = srv.data_dir / "blobs" / "notes.txt"
    stray.write_text("someone's notes")
    os.utime(stray, (OLD, OLD))
    result = fsck(srv.data_dir, "--repair")
    assert result.returncode == 1
    assert "stray    blobs/notes.txt: not a data file s3emu made" in result.stdout
    assert stray.exists()


def test_live_directory_under_writes_has_no_false_alarms(store: tuple[ServerProcess, Any, str]) -> None:
    """Concurrent puts, overwrites, deletes and part uploads while fsck runs:
    files deleted or committed meanwhile are never reported."""
    srv, _, open_id = store
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        c = srv.client()
        n = 0
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            n += 1
            try:
                c.put_object(Bucket=BUCKET, Key=f"w{n % 5}", Body=os.urandom(2000 + n))
                c.delete_object(Bucket=BUCKET, Key=f"w{(n + 2) % 5}")
                c.upload_part(Bucket=BUCKET, Key="open", UploadId=open_id, PartNumber=1 + n % 3, Body=b"x" * n)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(4):
            result = fsck(srv.data_dir, "--verify-digests")
            assert result.returncode == 0, result.stdout
            assert "0 problem(s)" in result.stdout
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors
    # once quiet, there is nothing unreferenced either
    result = fsck(srv.data_dir, "--grace", "0", "--verify-digests")
    assert result.returncode == 0, result.stdout


def test_not_a_data_directory(tmp_path: Path) -> None:
    result = fsck(tmp_path / "nothing-here")
    assert result.returncode == 2
    assert "is not an s3emu data directory" in result.stderr
    assert not (tmp_path / "nothing-here").exists()  # never creates one


def test_an_unwritable_data_directory_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """fsck and uploads write to the directory (SQLite's WAL index, aborts):
    one that refuses writes is exit status 2 and one line saying so."""
    data_dir = tmp_path / "data"
    ServerProcess(data_dir, "--no-access-log").start().stop()
    for leftover in ("meta.sqlite3-shm", "meta.sqlite3-wal"):  # gone after a clean stop, as a rule
        (data_dir / leftover).unlink(missing_ok=True)
    locked = subprocess.run(["chattr", "+i", str(data_dir)], capture_output=True)  # binds root too
    if locked.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {locked.stderr.decode().strip()}")
    try:
        for command in (["fsck"], ["uploads", "list"]):
            result = subprocess.run([sys.executable, "-m", "s3emu", *command, "--data-dir", str(data_dir)],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith(f"s3emu: {data_dir} cannot be opened for writing (")
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    finally:
        subprocess.run(["chattr", "-i", str(data_dir)], capture_output=True)
