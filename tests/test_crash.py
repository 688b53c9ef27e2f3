"""Crash safety: concurrent writers, the server SIGKILLed at random moments,
restarted on the same data directory (durability fsync), and every write the
client saw acknowledged must be there, byte for byte, and nothing else half-there.

Each thread owns its keys, so per key the operations are sequential and the
acceptable states are known: the last acknowledged one, plus whatever an
unacknowledged (in-flight) operation would have produced. Every body carries
the MD5 of its own payload, so a torn or mixed body is recognised on sight.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from s3emu.storage.blobs import IN_DATABASE_BYTES
from server import ServerProcess

ROUNDS = 7
THREADS = 4
KEYS_PER_THREAD = 4
MIN_PART = 4096
BUCKET = "crash"


def body(rng: random.Random, lo: int = 1, hi: int = 96 * 1024) -> bytes:
    """Self-verifying bytes: the hex MD5 of the payload, then the payload."""
    payload = rng.randbytes(rng.randint(lo, hi))
    return hashlib.md5(payload).hexdigest().encode() + payload


def intact(data: bytes) -> bool:
    return len(data) >= 32 and hashlib.md5(data[32:]).hexdigest().encode() == data[:32]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass
class Upload:
    upload_id: str
    parts: dict[int, bytes] = field(default_factory=dict)  # acknowledged parts
    maybe_parts: dict[int, list[bytes]] = field(default_factory=dict)  # in flight when the server died
    maybe_gone: bool = False  # a Complete or Abort was in flight


@dataclass
class Key:
    name: str
    acked: str | None = None  # md5 of the acknowledged content; None: absent
    maybe: set[str | None] = field(default_factory=set)  # outcomes of unacknowledged writes
    uploads: dict[str, Upload] = field(default_factory=dict)
    unknown_creates: int = 0  # CreateMultipartUpload calls whose answer never came

    def acceptable(self) -> set[str | None]:
        return {self.acked} | self.maybe


class Writer(threading.Thread):
    """Random writes to its own keys until the server dies under it."""

    def __init__(self, client: Any, keys: list[Key], seed: int) -> None:
        super().__init__(daemon=True)
        self.client, self.keys, self.rng = client, keys, random.Random(seed)
        self.failures: list[str] = []
        self.acked = 0

    def run(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            key = self.rng.choice(self.keys)
            try:
                self.step(key)
            except ClientError as e:
                # a definite refusal: nothing we do here should be refused
                self.failures.append(f"{key.name}: {e.response['Error']}")
                return
            except Exception:
                return  # the server is gone; what was in flight is recorded as maybe

    def step(self, key: Key) -> None:
        c, rng = self.client, self.rng
        choice = rng.random()
        if choice < 0.3:
            data = body(rng)
            key.maybe.add(md5(data))
            c.put_object(Bucket=BUCKET, Key=key.name, Body=data)
            key.acked, key.maybe = md5(data), set()
        elif choice < 0.4:
            key.maybe.add(None)
            c.delete_object(Bucket=BUCKET, Key=key.name)
            key.acked, key.maybe = None, set()
        elif not key.uploads or choice < 0.45:
            key.unknown_creates += 1
            upload_id = c.create_multipart_upload(Bucket=BUCKET, Key=key.name)["UploadId"]
            key.unknown_creates -= 1
            key.uploads[upload_id] = Upload(upload_id)
        else:
            self.upload_step(key, rng.choice(list(key.uploads.values())))
        self.acked += 1

    def upload_step(self, key: Key, up: Upload) -> None:
        c, rng = self.client, self.rng
        choice = rng.random()
        if choice < 0.65 or not up.parts:
            number = rng.randint(1, 4)
            data = body(rng, MIN_PART, 64 * 1024)
            up.maybe_parts.setdefault(number, []).append(data)
            etag = c.upload_part(Bucket=BUCKET, Key=key.name, UploadId=up.upload_id, PartNumber=number,
                                 Body=data)["ETag"]
            assert etag.strip('"') == md5(data)
            up.parts[number] = data
            up.maybe_parts.pop(number)
        elif choice < 0.85:
            whole = b"".join(up.parts[n] for n in sorted(up.parts))
            up.maybe_gone = True
            key.maybe.add(md5(whole))
            c.complete_multipart_upload(Bucket=BUCKET, Key=key.name, UploadId=up.upload_id, MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": md5(up.parts[n])} for n in sorted(up.parts)]})
            del key.uploads[up.upload_id]
            key.acked, key.maybe = md5(whole), set()
        else:
            up.maybe_gone = True
            c.abort_multipart_upload(Bucket=BUCKET, Key=key.name, UploadId=up.upload_id)
            del key.uploads[up.upload_id]


def check_and_settle(client: Any, keys: list[Key]) -> None:
    """After a restart: every key holds an acceptable state, whole; every
    upload lists exactly its acknowledged parts (plus whole in-flight ones).
    The model then adopts what is there."""
    listed: dict[str, set[str]] = {}
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=BUCKET):
        for u in page.get("Uploads", []):
            listed.setdefault(u["Key"], set()).add(u["UploadId"])
    for key in keys:
        try:
            got = client.get_object(Bucket=BUCKET, Key=key.name)
            data = got["Body"].read()
            state: str | None = md5(data)
            if "-" not in got["ETag"]:  # a single PUT: its own embedded MD5 must hold
                assert intact(data) and got["ETag"].strip('"') == state, f"{key.name}: torn content"
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchKey", e.response
            state = None
        assert state in key.acceptable(), f"{key.name}: {state} not in {key.acceptable()}"
        key.acked, key.maybe = state, set()
        present = listed.pop(key.name, set())
        for up in list(key.uploads.values()):
            if up.upload_id not in present:
                assert up.maybe_gone, f"{key.name}: acknowledged upload {up.upload_id} vanished"
                del key.uploads[up.upload_id]
                continue
            present.discard(up.upload_id)
            up.maybe_gone = False
            _settle_parts(client, key, up)
        assert len(present) <= key.unknown_creates, f"{key.name}: uploads nobody created: {present}"
        for upload_id in present:  # created, but the answer never reached us
            client.abort_multipart_upload(Bucket=BUCKET, Key=key.name, UploadId=upload_id)
        key.unknown_creates = 0
    assert not listed, f"uploads for unknown keys: {listed}"


def _settle_parts(client: Any, key: Key, up: Upload) -> None:
    parts = client.list_parts(Bucket=BUCKET, Key=key.name, UploadId=up.upload_id).get("Parts", [])
    seen = {p["PartNumber"]: (p["ETag"].strip('"'), p["Size"]) for p in parts}
    for number in set(seen) | set(up.parts) | set(up.maybe_parts):
        candidates = ([up.parts[number]] if number in up.parts else []) + up.maybe_parts.get(number, [])
        if number not in seen:
            assert number not in up.parts, f"{key.name}: acknowledged part {number} vanished"
            continue
        match = [d for d in candidates if (md5(d), len(d)) == seen[number]]
        assert match, f"{key.name}: part {number} is {seen[number]}, none of the bodies sent"
        up.parts[number] = match[0]
    up.maybe_parts = {}


def fsck(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "s3emu", "fsck", "--data-dir", str(data_dir), "--grace", "0",
                           "--verify-digests"], capture_output=True, text=True, timeout=60)


def count_files(data_dir: Path) -> tuple[int, int]:
    """Data files on disk, and files the metadata refers to."""
    on_disk = sum(1 for sub in (data_dir / "blobs").iterdir() for _ in sub.iterdir())
    db = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True)
    try:
        # a segment whose bytes are in the database names no file ('')
        refs = db.execute("SELECT COUNT(*) FROM (SELECT file FROM segments WHERE file != ''"
                          " UNION SELECT file FROM parts)").fetchone()
    finally:
        db.close()
    return on_disk, refs[0]


def test_sigkill_during_concurrent_writes_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--min-part-size", str(MIN_PART), "--no-access-log")
    srv.start()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    try:
        srv.client().create_bucket(Bucket=BUCKET)
        keys = [Key(f"{prefix}/{t}-{i}") for t in range(THREADS) for i, prefix in
                enumerate(["a", "b/c", "d", "e"][:KEYS_PER_THREAD])]
        total_acked = 0
        for round_no in range(ROUNDS):
            writers = [Writer(srv.client(), keys[t * KEYS_PER_THREAD:(t + 1) * KEYS_PER_THREAD],
                              rng.randrange(1 << 30)) for t in range(THREADS)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(0.3, 1.5))
            srv.kill()
            for w in writers:
                w.join(30)
                assert not w.is_alive()
                assert not w.failures, w.failures
                total_acked += w.acked
            srv.start()
            report = fsck(data_dir)
            assert report.returncode == 0, report.stdout + report.stderr
            on_disk, referenced = count_files(data_dir)
            assert on_disk == referenced, f"round {round_no}: {on_disk} files, {referenced} referenced"
            check_and_settle(srv.client(), keys)
        assert total_acked > ROUNDS * THREADS  # the writers did get work done between kills
        # every upload left open can still be completed, and yields its parts
        client = srv.client()
        for key in keys:
            for up in list(key.uploads.values()):
                if not up.parts:
                    continue
                numbers = sorted(up.parts)
                etag = client.complete_multipart_upload(
                    Bucket=BUCKET, Key=key.name, UploadId=up.upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": md5(up.parts[n])} for n in numbers]})["ETag"]
                assert etag.strip('"').endswith(f"-{len(numbers)}")
                got = client.get_object(Bucket=BUCKET, Key=key.name)["Body"].read()
                assert got == b"".join(up.parts[n] for n in numbers)
        report = fsck(data_dir)
        assert report.returncode == 0, report.stdout + report.stderr
    finally:
        srv.stop()


# -- a full disk and a read-only data directory ------------------------------------------------

def _tmpfs(tmp_path: Path, size: str) -> Iterator[Path]:
    """A real filesystem (tmpfs) of `size` to fill up; skipped where mounting is not permitted."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem to fill up."""
    yield from _tmpfs(tmp_path, "4m")


@pytest.fixture
def disk_8m(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MiB filesystem: room for more small objects than the reserve's size in bytes."""
    yield from _tmpfs(tmp_path, "8m")


def _error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def test_disk_full_is_a_clear_error_and_reads_go_on(small_disk: Path) -> None:
    data_dir = small_disk / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--min-part-size", "1", "--no-access-log").start()
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        keep = os.urandom(100 * 1024)
        c.put_object(Bucket=BUCKET, Key="keep", Body=keep)
        upload_id = c.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
        part1 = c.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"p" * 1000)["ETag"]

        with pytest.raises(ClientError) as excinfo:
            c.put_object(Bucket=BUCKET, Key="big", Body=os.urandom(6 * 1024 * 1024))
        assert _error_of(excinfo) == (500, "InternalError", "The data directory's disk is full; nothing was stored")
        with pytest.raises(ClientError) as excinfo:
            c.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload_id, PartNumber=2, Body=os.urandom(6 << 20))
        assert _error_of(excinfo)[:2] == (500, "InternalError")
        assert "disk is full" in _error_of(excinfo)[2]

        # nothing half-written: no object, no part 2, no leftover file; the rest still reads
        assert [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["keep"]
        assert [p["PartNumber"] for p in c.list_parts(Bucket=BUCKET, Key="mp", UploadId=upload_id)["Parts"]] == [1]
        assert c.get_object(Bucket=BUCKET, Key="keep")["Body"].read() == keep
        assert list((data_dir / "tmp").iterdir()) == []
        report = fsck(data_dir)
        assert report.returncode == 0, report.stdout
        # the space came back: small writes work again
        c.put_object(Bucket=BUCKET, Key="small", Body=b"fits")
        c.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload_id,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part1}]})
        assert c.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == b"p" * 1000
    finally:
        srv.stop()


def test_a_full_disk_still_lets_clients_free_space(small_disk: Path) -> None:
    """Filled to the last byte: DeleteObject, DeleteObjects and AbortMultipartUpload still
    work (a reserve file gives SQLite's log the room a delete needs), and free the space."""
    data_dir = small_disk / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--min-part-size", "1", "--no-access-log").start()
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        upload_id = c.create_multipart_upload(Bucket=BUCKET, Key="mp")["UploadId"]
        c.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"p" * 200_000)
        filled, size = 0, 256 * 1024
        while size:  # fill until not even one byte more fits (at most ~20 refusals)
            try:
                c.put_object(Bucket=BUCKET, Key=f"fill{filled}", Body=os.urandom(size))
                filled += 1
            except ClientError as e:
                assert "disk is full" in e.response["Error"]["Message"]
                size //= 2
        assert filled >= 3
        # the full disk refuses the server's own side records too (the console's request
        # list): requests are still answered, on a connection kept open for the next one
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        for _ in range(40):  # a 4 KiB page holds about 15 records
            conn.request("HEAD", f"/{BUCKET}/fill0")  # anonymous: 403, and recorded
            response = conn.getresponse()
            response.read()
            assert response.status == 403 and not response.will_close
        conn.close()
        c.delete_object(Bucket=BUCKET, Key="fill0")
        result = c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "fill1"}, {"Key": "fill2"}]})
        assert result.get("Errors", []) == [] and len(result["Deleted"]) == 2
        c.abort_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload_id)
        listed = [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert listed == sorted(f"fill{i}" for i in range(3, filled))
        assert c.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
        c.put_object(Bucket=BUCKET, Key="fits-again", Body=os.urandom(100_000))  # the space came back
        report = fsck(data_dir)
        assert report.returncode == 0, report.stdout
    finally:
        srv.stop()


def test_a_disk_filled_with_small_objects_has_its_space_back_once_they_are_deleted(disk_8m: Path) -> None:
    """Small objects keep their bytes in the metadata database. On a disk they filled, one
    DeleteObjects of them all still commits (with the reserve's room: their bytes are not
    written again, zeroed, on the way out), and it gives the disk back their space for an
    object of any size, as deleting data files does."""
    data_dir = disk_8m / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--no-access-log").start()
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        keys: list[str] = []
        for i in range(1000):  # bounded: an 8 MiB disk holds a few hundred
            try:
                c.put_object(Bucket=BUCKET, Key=f"small{i}", Body=os.urandom(IN_DATABASE_BYTES))
            except ClientError as e:
                assert "disk is full" in e.response["Error"]["Message"]
                break
            keys.append(f"small{i}")
        assert len(keys) * IN_DATABASE_BYTES > 2 * 1024 * 1024  # twice the reserve
        result = c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
        assert result.get("Errors", []) == [] and len(result["Deleted"]) == len(keys)
        big = os.urandom(4 * 1024 * 1024)  # a data file of its own, half the disk
        c.put_object(Bucket=BUCKET, Key="big", Body=big)
        assert c.get_object(Bucket=BUCKET, Key="big")["Body"].read() == big
        report = fsck(data_dir)
        assert report.returncode == 0, report.stdout
    finally:
        srv.stop()


def _with_file(text: bytes) -> bytes:
    """A body too large to be kept in the database: it needs a data file."""
    return text + b"." * IN_DATABASE_BYTES


def test_unwritable_data_directory_is_a_clear_error_and_reads_go_on(tmp_path: Path) -> None:
    """tmp/ made immutable (chattr +i, which binds root too): no data file can be created."""
    data_dir = tmp_path / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--no-access-log").start()
    tmp_dir = data_dir / "tmp"
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        c.put_object(Bucket=BUCKET, Key="keep", Body=b"still here")
        locked = subprocess.run(["chattr", "+i", str(tmp_dir)], capture_output=True)
        if locked.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {locked.stderr.decode().strip()}")
        try:
            # a small object needs no data file: its bytes are committed with its row
            c.put_object(Bucket=BUCKET, Key="small", Body=b"x" * 1000)
            assert c.get_object(Bucket=BUCKET, Key="small")["Body"].read() == b"x" * 1000
            c.delete_object(Bucket=BUCKET, Key="small")
            with pytest.raises(ClientError) as excinfo:
                c.put_object(Bucket=BUCKET, Key="new", Body=_with_file(b"x"))
            status, code, message = _error_of(excinfo)
            assert (status, code) == (500, "InternalError")
            assert message.startswith("The data directory is not writable") and "nothing was stored" in message
            assert c.get_object(Bucket=BUCKET, Key="keep")["Body"].read() == b"still here"
            assert [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["keep"]
        finally:
            subprocess.run(["chattr", "-i", str(tmp_dir)], capture_output=True)
        c.put_object(Bucket=BUCKET, Key="new", Body=b"now it works")
        assert c.get_object(Bucket=BUCKET, Key="new")["Body"].read() == b"now it works"
    finally:
        srv.stop()


def test_a_data_file_that_cannot_be_unlinked_never_fails_a_stored_change(tmp_path: Path) -> None:
    """The folder of an overwritten version's data file made immutable: the overwrite, the
    delete and the DeleteObjects are committed before their dropped files are unlinked, so
    each is answered as done; the files stay listed for deletion and go once they can."""
    data_dir = tmp_path / "data"
    srv = ServerProcess(data_dir, "--durability", "fsync", "--no-access-log").start()
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        for key in ("a", "b", "c"):
            c.put_object(Bucket=BUCKET, Key=key, Body=_with_file(b"old " + key.encode()))
        folders = {p.parent for p in (data_dir / "blobs").glob("*/*")}
        assert 1 <= len(folders) <= 3
        locked = subprocess.run(["chattr", "+i", *map(str, folders)], capture_output=True)
        if locked.returncode != 0:
            pytest.skip(f"chattr +i is not available here: {locked.stderr.decode().strip()}")
        try:
            for _ in range(10):  # a new data file landing in a locked folder is refused, cleanly
                try:
                    c.put_object(Bucket=BUCKET, Key="a", Body=_with_file(b"new a"))
                    break
                except ClientError as e:
                    assert "nothing was stored" in e.response["Error"]["Message"]
            assert c.get_object(Bucket=BUCKET, Key="a")["Body"].read() == _with_file(b"new a")
            c.delete_object(Bucket=BUCKET, Key="b")
            result = c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "c"}]})
            assert result.get("Errors", []) == [] and [d["Key"] for d in result["Deleted"]] == ["c"]
            assert [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["a"]
        finally:
            subprocess.run(["chattr", "-i", *map(str, folders)], capture_output=True)
        c.put_object(Bucket=BUCKET, Key="d", Body=_with_file(b"d"))
        c.delete_object(Bucket=BUCKET, Key="d")  # drops a file: what was left behind goes with it
        srv.stop()
        on_disk, referenced = count_files(data_dir)
        assert on_disk == referenced == 1
        report = fsck(data_dir)
        assert report.returncode == 0, report.stdout
    finally:
        srv.stop()


def test_a_change_stored_on_a_nearly_full_disk_is_answered_as_stored(small_disk: Path, tmp_path: Path) -> None:
    """Requests that store a change and then write more (PutBucketNotificationConfiguration
    queues a test event; CreateBucket with LocationConstraint EU, PutBucketVersioning with
    MfaDelete): on a disk with room for the first write and not what follows, the answer
    must say what was stored, not "nothing was stored"."""
    arn = "arn:aws:sqs:us-east-1:000000000000:full-disk"
    config = tmp_path / "s3emu.toml"
    config.write_text(f'[notification_targets]\n"{arn}" = "{tmp_path / "events.jsonl"}"\n')
    srv = ServerProcess(small_disk / "data", "--config", str(config), "--durability", "fsync",
                        "--no-access-log").start()
    try:
        c = srv.client()
        c.create_bucket(Bucket=BUCKET)
        filled, size = 0, 64 * 1024
        while size >= 4096:  # fill until not even 4 KiB more fits (at most ~70 writes)
            try:
                c.put_object(Bucket=BUCKET, Key=f"fill{filled}", Body=os.urandom(size))
                filled += 1
            except ClientError:
                size //= 2

        def notification(i: int) -> bool:
            c.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
                "QueueConfigurations": [{"Id": f"config-{i}", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
            return True

        def notification_stored(i: int) -> bool:
            found = c.get_bucket_notification_configuration(Bucket=BUCKET).get("QueueConfigurations", [])
            return bool(found) and found[0]["Id"] == f"config-{i}"

        def eu_bucket(i: int) -> bool:
            c.create_bucket(Bucket=f"eu-{i}", CreateBucketConfiguration={"LocationConstraint": "EU"})
            return True

        def eu_bucket_stored(i: int) -> bool:
            try:
                return bool(c.get_bucket_location(Bucket=f"eu-{i}")["LocationConstraint"] == "EU")
            except ClientError:
                return False

        def versioning(i: int) -> bool:
            c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={
                "Status": "Enabled" if i % 2 else "Suspended", "MFADelete": "Disabled"})
            return True

        def versioning_stored(i: int) -> bool:
            found = c.get_bucket_versioning(Bucket=BUCKET)
            return found.get("Status") == ("Enabled" if i % 2 else "Suspended") and found.get("MFADelete") == "Disabled"

        for n, (change, stored) in enumerate([(notification, notification_stored), (eu_bucket, eu_bucket_stored),
                                              (versioning, versioning_stored)]):
            c.delete_object(Bucket=BUCKET, Key=f"fill{n}")  # a little room
            outcomes = []
            for i in range(30):  # each change stored or not, as answered, until the disk is full again
                try:
                    answered = change(i)
                except ClientError as e:
                    assert "disk is full; nothing was stored" in e.response["Error"]["Message"]
                    answered = False
                assert stored(i) == answered, (change.__name__, i)
                outcomes.append(answered)
                if True in outcomes and not answered:
                    break
            assert True in outcomes and not outcomes[-1], change.__name__  # both sides of a full disk
    finally:
        srv.stop()
