"""What was acknowledged survives a restart byte for byte; a body cut short
leaves nothing behind."""
from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from rawhttp import signed_headers
from server import ServerProcess, settled_blobs

MiB = 1024 * 1024


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--min-part-size", "1").start()
    yield srv
    srv.stop()


def snapshot(s3: Any) -> dict[str, Any]:
    """Everything a client can see: buckets, locations, objects with bytes and headers."""
    out: dict[str, Any] = {}
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for o in page.get("Contents", []):
                got = s3.get_object(Bucket=name, Key=o["Key"])
                headers = {k: v for k, v in got["ResponseMetadata"]["HTTPHeaders"].items()
                           if k not in ("x-amz-request-id", "x-amz-id-2", "date", "server")}
                objects[o["Key"]] = (hashlib.sha256(got["Body"].read()).hexdigest(), headers, o["ETag"], o["Size"])
        uploads = [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=name).get("Uploads", [])]
        out[name] = (b["CreationDate"], s3.get_bucket_location(Bucket=name)["LocationConstraint"], objects,
                     uploads)
    return out


def blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in settled_blobs(data_dir)}


def test_everything_survives_a_restart(own_server: ServerProcess) -> None:
    s3 = own_server.client()
    big = os.urandom(6 * MiB + 123)
    s3.create_bucket(Bucket="alpha")
    s3.create_bucket(Bucket="beta", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_object(Bucket="alpha", Key="big.bin", Body=big)
    s3.put_object(Bucket="alpha", Key="meta/doc.txt", Body=b"hello", ContentType="text/plain",
                  CacheControl="no-cache", ContentDisposition="inline", Metadata={"owner": "me", "n": "42"})
    s3.put_object(Bucket="alpha", Key="empty", Body=b"")
    s3.put_object(Bucket="beta", Key="ünï cödé/+%", Body=b"odd key")
    up = s3.create_multipart_upload(Bucket="beta", Key="mp", Metadata={"kind": "multipart"})
    parts = [s3.upload_part(Bucket="beta", Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=data)
             for n, data in ((1, b"a" * 1000), (2, b"b" * 10))]
    s3.complete_multipart_upload(Bucket="beta", Key="mp", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": p["ETag"]} for n, p in enumerate(parts)]})
    pending = s3.create_multipart_upload(Bucket="beta", Key="pending")
    s3.upload_part(Bucket="beta", Key="pending", UploadId=pending["UploadId"], PartNumber=1, Body=b"p" * 100)
    s3.put_object(Bucket="alpha", Key="gone", Body=b"deleted before the restart")
    s3.delete_object(Bucket="alpha", Key="gone")
    before = snapshot(s3)

    assert own_server.stop() == 0  # SIGTERM: a clean shutdown
    own_server.start()
    s3 = own_server.client()

    assert snapshot(s3) == before
    assert s3.get_object(Bucket="alpha", Key="big.bin")["Body"].read() == big
    head = s3.head_object(Bucket="alpha", Key="meta/doc.txt")
    assert head["Metadata"] == {"owner": "me", "n": "42"} and head["ContentType"] == "text/plain"
    assert s3.head_object(Bucket="beta", Key="mp")["ETag"].endswith('-2"')
    assert s3.get_object(Bucket="beta", Key="mp")["Body"].read() == b"a" * 1000 + b"b" * 10
    with pytest.raises(ClientError):
        s3.head_object(Bucket="alpha", Key="gone")
    # the open upload carries on where it stopped
    listed = s3.list_parts(Bucket="beta", Key="pending", UploadId=pending["UploadId"])
    assert [p["Size"] for p in listed["Parts"]] == [100]
    assert not list((own_server.data_dir / "tmp").iterdir())


def put_cut_short(srv: ServerProcess, path: str, declared: int, sent: bytes) -> None:
    """PUT declaring `declared` bytes, send only `sent`, then hang up; return
    once the server has logged the request as done."""
    parts = urlsplit(srv.endpoint)
    headers = signed_headers("PUT", srv.endpoint + path, {"Content-Length": str(declared)})
    head = f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    tmp = srv.data_dir / "tmp"
    logged = len(srv.output)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + sent)
        if len(sent) > MiB:  # hang up only once the server is writing a data file
            assert wait_until(lambda: any(tmp.iterdir()))
    _, bucket, key = path.split("/", 2)
    assert wait_until(lambda: any(f" PutObject {bucket} {key} " in line for line in srv.output[logged:])), \
        srv.output[logged:]


def wait_until(condition: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("sent", [0, 1000, 2 * MiB + 5])
def test_body_cut_short_leaves_nothing(own_server: ServerProcess, sent: int) -> None:
    s3 = own_server.client()
    s3.create_bucket(Bucket="cut")
    s3.put_object(Bucket="cut", Key="keep", Body=b"kept")
    blobs_before = blob_files(own_server.data_dir)
    tmp = own_server.data_dir / "tmp"

    put_cut_short(own_server, "/cut/partial", 4 * MiB, os.urandom(sent))
    put_cut_short(own_server, "/cut/keep", 4 * MiB, os.urandom(sent))  # over an existing key

    assert not any(tmp.iterdir())
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="cut", Key="partial")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert s3.get_object(Bucket="cut", Key="keep")["Body"].read() == b"kept"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="cut")["Contents"]] == ["keep"]
    assert blob_files(own_server.data_dir) == blobs_before
    # and the server carries on
    s3.put_object(Bucket="cut", Key="after", Body=b"fine")
    assert s3.get_object(Bucket="cut", Key="after")["Body"].read() == b"fine"
