"""Multipart upload under concurrency: parts from many threads, parts still
arriving when their upload completes or aborts, Complete racing Abort and
itself, uploads surviving a restart, and boto3's managed transfer."""
from __future__ import annotations

import hashlib
import http.client
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from multipart_support import MIN_PART, body, data_files, error, mp_etag, tmp_files, upload, wait_for
from server import ServerProcess

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Small minimum part size, default maximum: parts of a few MiB can be in flight."""
    server = ServerProcess(tmp_path_factory.mktemp("mpconc"), "--min-part-size", str(MIN_PART),
                           "--durability", "fast").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(srv: ServerProcess) -> Any:
    return srv.client(max_pool_connections=16)


@pytest.fixture
def bkt(client: Any) -> Iterator[str]:
    name = fresh_bucket_name("mpc")
    client.create_bucket(Bucket=name)
    yield name
    empty_bucket(client, name)


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Start the calls at the same moment in threads: each call's result, or the ClientError it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait(10)
        try:
            return call()
        except ClientError as e:
            return e

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls, timeout=60))


# -- many parts, many threads ----------------------------------------------------

def test_parts_from_many_threads_in_any_order(client: Any, bkt: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bkt, Key="k")["UploadId"]
    data = {n: body(MIN_PART + n, n) for n in range(1, 41)}
    order = list(data)
    random.Random(7).shuffle(order)

    def send(n: int) -> tuple[int, str]:
        return n, client.upload_part(Bucket=bkt, Key="k", UploadId=upload_id, PartNumber=n, Body=data[n])["ETag"]

    with ThreadPoolExecutor(8) as pool:
        etags = dict(pool.map(send, order, timeout=120))
    listed = client.list_parts(Bucket=bkt, Key="k", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in listed] == list(range(1, 41))
    parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
    done = client.complete_multipart_upload(Bucket=bkt, Key="k", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
    assert done["ETag"] == mp_etag(*(data[n] for n in sorted(data)))
    assert client.get_object(Bucket=bkt, Key="k")["Body"].read() == b"".join(data[n] for n in sorted(data))


def test_same_part_number_from_many_threads(srv: ServerProcess, client: Any, bkt: str) -> None:
    upload_id = client.create_multipart_upload(Bucket=bkt, Key="k")["UploadId"]
    before = data_files(srv)
    versions = [body(2000, seed) for seed in range(8)]
    results = run_together(*[lambda d=d: client.upload_part(Bucket=bkt, Key="k", UploadId=upload_id, PartNumber=1,
                                                            Body=d) for d in versions])
    assert all(isinstance(r, dict) for r in results)
    listed = client.list_parts(Bucket=bkt, Key="k", UploadId=upload_id)["Parts"]
    assert len(listed) == 1
    winner = [d for d in versions if f'"{hashlib.md5(d).hexdigest()}"' == listed[0]["ETag"]]
    assert len(winner) == 1
    assert len(data_files(srv) - before) == 1  # the replaced versions left no files
    client.complete_multipart_upload(Bucket=bkt, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": listed[0]["ETag"]}]})
    assert client.get_object(Bucket=bkt, Key="k")["Body"].read() == winner[0]


# -- a part still arriving when its upload ends ------------------------------------

class SlowPart(threading.Thread):
    """An UploadPart through a presigned URL whose body is a generator: the
    first chunk goes at once, the rest only after release()."""

    def __init__(self, client: Any, bucket: str, key: str, upload_id: str, number: int, data: bytes,
                 first: int) -> None:
        super().__init__(daemon=True)
        self.url = client.generate_presigned_url("upload_part", ExpiresIn=300, Params={
            "Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number})
        self.data, self.first = data, first
        self.go = threading.Event()
        self.status = 0
        self.payload = b""

    def _body(self) -> Iterator[bytes]:
        yield self.data[:self.first]
        self.go.wait(30)
        yield self.data[self.first:]

    def run(self) -> None:
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.netloc, timeout=60)
        try:
            conn.request("PUT", f"{parts.path}?{parts.query}", body=self._body(),
                         headers={"Content-Length": str(len(self.data))})
            resp = conn.getresponse()
            self.status, self.payload = resp.status, resp.read()
        finally:
            conn.close()

    def release(self) -> None:
        self.go.set()
        self.join(60)
        assert not self.is_alive()


def start_slow_part(srv: ServerProcess, client: Any, bucket: str, key: str, upload_id: str, number: int,
                    data: bytes) -> SlowPart:
    slow = SlowPart(client, bucket, key, upload_id, number, data, first=3 * MiB)
    slow.start()
    # the server is streaming the part once its file appears in tmp/
    assert wait_for(lambda: len(tmp_files(srv)) > 0), "the part never started streaming"
    return slow


def assert_no_such_upload(slow: SlowPart, upload_id: str) -> None:
    assert slow.status == 404, slow.payload
    assert b"<Code>NoSuchUpload</Code>" in slow.payload
    assert f"<UploadId>{upload_id}</UploadId>".encode() in slow.payload


def test_part_in_flight_when_upload_is_aborted(srv: ServerProcess, client: Any, bkt: str) -> None:
    before = data_files(srv)
    upload_id, _ = upload(client, bkt, "k", [body(MIN_PART, 1)])
    slow = start_slow_part(srv, client, bkt, "k", upload_id, 2, body(4 * MiB, 2))
    client.abort_multipart_upload(Bucket=bkt, Key="k", UploadId=upload_id)
    slow.release()
    assert_no_such_upload(slow, upload_id)
    assert data_files(srv) == before
    assert tmp_files(srv) == []
    with pytest.raises(ClientError) as e:
        client.list_parts(Bucket=bkt, Key="k", UploadId=upload_id)
    assert error(e.value)["Code"] == "NoSuchUpload"


def test_part_in_flight_when_upload_is_completed(srv: ServerProcess, client: Any, bkt: str) -> None:
    before = data_files(srv)
    first = body(MIN_PART, 1)
    upload_id, parts = upload(client, bkt, "k", [first])
    # a new part 2, and a replacement of the listed part 1, both still arriving
    slow_new = start_slow_part(srv, client, bkt, "k", upload_id, 2, body(4 * MiB, 2))
    slow_replace = SlowPart(client, bkt, "k", upload_id, 1, body(4 * MiB, 3), first=3 * MiB)
    slow_replace.start()
    assert wait_for(lambda: len(tmp_files(srv)) == 2)
    done = client.complete_multipart_upload(Bucket=bkt, Key="k", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
    slow_new.release()
    slow_replace.release()
    assert_no_such_upload(slow_new, upload_id)
    assert_no_such_upload(slow_replace, upload_id)
    got = client.get_object(Bucket=bkt, Key="k")
    assert (got["Body"].read(), got["ETag"]) == (first, done["ETag"])
    assert len(data_files(srv) - before) == 1  # only the object's one segment
    assert tmp_files(srv) == []


# -- Complete racing Abort, and itself ------------------------------------------------

def test_complete_racing_abort(srv: ServerProcess, client: Any, bkt: str) -> None:
    outcomes = set()
    for round_ in range(6):
        key = f"race-{round_}"
        before = data_files(srv)
        data = [body(MIN_PART, round_), body(10, round_ + 100)]
        upload_id, parts = upload(client, bkt, key, data)
        completed, aborted = run_together(
            lambda: client.complete_multipart_upload(Bucket=bkt, Key=key, UploadId=upload_id,
                                                     MultipartUpload={"Parts": parts}),
            lambda: client.abort_multipart_upload(Bucket=bkt, Key=key, UploadId=upload_id))
        won = [not isinstance(r, ClientError) for r in (completed, aborted)]
        assert won.count(True) == 1, (completed, aborted)
        loser = aborted if won[0] else completed
        assert error(loser)["Code"] == "NoSuchUpload"
        uploads = client.list_multipart_uploads(Bucket=bkt).get("Uploads", [])
        assert upload_id not in [u["UploadId"] for u in uploads]
        if won[0]:
            outcomes.add("complete")
            assert client.get_object(Bucket=bkt, Key=key)["Body"].read() == b"".join(data)
            assert len(data_files(srv) - before) == 2
        else:
            outcomes.add("abort")
            with pytest.raises(ClientError):
                client.head_object(Bucket=bkt, Key=key)
            assert data_files(srv) - before == set()
    assert outcomes  # either may win; the store is consistent whichever does


def test_concurrent_completes_of_one_upload_agree(srv: ServerProcess, client: Any, bkt: str) -> None:
    before = data_files(srv)
    data = [body(MIN_PART, 1), body(MIN_PART, 2), body(5, 3)]
    upload_id, parts = upload(client, bkt, "k", data)
    results = run_together(*[lambda: client.complete_multipart_upload(
        Bucket=bkt, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}) for _ in range(6)])
    assert [r["ETag"] for r in results] == [mp_etag(*data)] * 6
    assert client.get_object(Bucket=bkt, Key="k")["Body"].read() == b"".join(data)
    assert len(data_files(srv) - before) == 3


def test_concurrent_completes_with_different_part_lists(srv: ServerProcess, client: Any, bkt: str) -> None:
    before = data_files(srv)
    data = [body(MIN_PART, 1), body(MIN_PART, 2), body(5, 3)]
    upload_id, parts = upload(client, bkt, "k", data)
    lists = [parts, parts[:2], parts[:1], [parts[0], parts[2]]]
    results = run_together(*[lambda p=p: client.complete_multipart_upload(
        Bucket=bkt, Key="k", UploadId=upload_id, MultipartUpload={"Parts": p}) for p in lists])
    winners = [(p, r) for p, r in zip(lists, results) if not isinstance(r, ClientError)]
    assert len(winners) == 1
    for r in results:
        if isinstance(r, ClientError):
            assert error(r)["Code"] == "NoSuchUpload"
    listed, result = winners[0]
    chosen = [data[p["PartNumber"] - 1] for p in listed]
    assert result["ETag"] == mp_etag(*chosen)
    assert client.get_object(Bucket=bkt, Key="k")["Body"].read() == b"".join(chosen)
    assert len(data_files(srv) - before) == len(listed)


def test_uploads_to_one_key_from_threads_last_complete_wins(client: Any, bkt: str) -> None:
    def whole_upload(seed: int) -> tuple[bytes, str]:
        data = [body(MIN_PART, seed), body(7, seed + 50)]
        upload_id, parts = upload(client, bkt, "shared", data)
        etag = client.complete_multipart_upload(Bucket=bkt, Key="shared", UploadId=upload_id,
                                                MultipartUpload={"Parts": parts})["ETag"]
        return b"".join(data), etag

    with ThreadPoolExecutor(4) as pool:
        finished = list(pool.map(whole_upload, range(8), timeout=120))
    got = client.get_object(Bucket=bkt, Key="shared")
    content = got["Body"].read()
    assert (content, got["ETag"]) in finished  # exactly one upload's object, whole
    assert client.list_multipart_uploads(Bucket=bkt).get("Uploads", []) == []


# -- restart -------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["stop", "kill"])
def test_upload_survives_restart(tmp_path: Path, how: str) -> None:
    server = ServerProcess(tmp_path / "data", "--min-part-size", str(MIN_PART), "--durability", "fast").start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="resume")
        data = [body(MIN_PART, n) for n in range(1, 4)] + [b"last"]
        upload_id, parts = upload(s3, "resume", "big.bin", data[:2], Metadata={"kept": "yes"})
        server.kill() if how == "kill" else server.stop()
        server.start()
        s3 = server.client()
        # resume: find the upload and what it holds, send the rest, complete
        uploads = s3.list_multipart_uploads(Bucket="resume")["Uploads"]
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big.bin", upload_id)]
        listed = s3.list_parts(Bucket="resume", Key="big.bin", UploadId=upload_id)["Parts"]
        assert [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed] == parts
        for n in (3, 4):
            etag = s3.upload_part(Bucket="resume", Key="big.bin", UploadId=upload_id, PartNumber=n,
                                  Body=data[n - 1])["ETag"]
            parts.append({"PartNumber": n, "ETag": etag})
        done = s3.complete_multipart_upload(Bucket="resume", Key="big.bin", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})
        assert done["ETag"] == mp_etag(*data)
        got = s3.get_object(Bucket="resume", Key="big.bin")
        assert (got["Body"].read(), got["Metadata"]) == (b"".join(data), {"kept": "yes"})
    finally:
        server.stop()


# -- boto3 managed transfer against the real 5 MiB minimum ------------------------------

def test_managed_transfer_64_mib(s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    rng = random.Random(64)
    with open(source, "wb") as f:
        for _ in range(64):
            f.write(rng.randbytes(MiB))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=8)
    s3.upload_file(str(source), bucket, "big/file.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == 64 * MiB
    assert head["ETag"].endswith('-13"')  # 12 parts of 5 MiB and a 4 MiB tail
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    target = tmp_path / "target.bin"
    s3.download_file(bucket, "big/file.bin", str(target), Config=config)
    assert digest(target) == digest(source)
    assert target.stat().st_size == 64 * MiB


def test_default_server_enforces_5_mib_minimum(s3: Any, bucket: str) -> None:
    upload_id, parts = upload(s3, bucket, "k", [body(5 * MiB - 1, 1), b"tail"])
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    err = error(e.value)
    assert (err["Code"], err["MinSizeAllowed"], err["ProposedSize"], err["PartNumber"]) == \
        ("EntityTooSmall", "5242880", str(5 * MiB - 1), "1")


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()
