"""No single client takes the server down: under a low file descriptor limit,
slow clients (headers or bodies trickling in) are cut off and release what
they held, and the server keeps answering everyone else."""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import os
import select
import socket
import time
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
import requests

from rawhttp import signed_headers
from s3emu.storage import CompletedPart, Store
from server import ServerProcess
from signing import error_of

NOFILE = 128  # the server process's whole file descriptor allowance
SLOW = 32


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d = tmp_path_factory.mktemp("limited")
    (d / "s3emu.toml").write_text("request_header_timeout = 1\nrequest_idle_timeout = 1\n"
                                  "request_min_rate = 100000\n")
    srv = ServerProcess(d / "data", "--config", str(d / "s3emu.toml"), "--durability", "fast",
                        "--min-part-size", "1", "--no-access-log", nofile=NOFILE).start()
    srv.client().create_bucket(Bucket="limits")
    yield srv
    srv.stop()


def open_fds(srv: ServerProcess) -> int:
    assert srv.proc is not None
    return len(os.listdir(f"/proc/{srv.proc.pid}/fd"))


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    return f"{method} {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()


def test_slow_clients_are_cut_off(limited: ServerProcess) -> None:
    """32 slowloris connections: a third never finish their headers, a third trickle an
    unsigned body, a third a signed one. The server answers others meanwhile, and closes
    every slow connection (RequestTimeout for the signed bodies), leaving no temp file."""
    host = f"127.0.0.1:{limited.port}"
    url = f"{limited.endpoint}/limits/slow"
    baseline = open_fds(limited)
    conns: dict[socket.socket, bytes] = {}
    for i in range(SLOW):
        s = socket.create_connection(("127.0.0.1", limited.port), timeout=10)
        if i % 3 == 0:  # headers that never end
            first = f"GET /limits/x HTTP/1.1\r\nHost: {host}\r\n".encode()
        elif i % 3 == 1:  # an anonymous upload, refused, its body never sent in time
            first = head("PUT", f"/limits/slow{i}", {"Host": host, "Content-Length": "1000000"}) + b"\r\n"
        else:  # a signed upload whose body trickles
            sent = signed_headers("PUT", f"{url}{i}", {"Content-Length": "1000000"})
            first = head("PUT", f"/limits/slow{i}", {"Host": host, **sent}) + b"\r\n"
        s.sendall(first)
        s.setblocking(False)
        conns[s] = b""
    # the server answers others meanwhile
    assert requests.get(f"{limited.endpoint}/_s3emu/health", timeout=30).status_code == 200
    client = limited.client()
    client.put_object(Bucket="limits", Key="meanwhile", Body=b"ok")
    assert client.get_object(Bucket="limits", Key="meanwhile")["Body"].read() == b"ok"
    # trickle a byte at a time until the server has closed every slow connection (bounded)
    open_ones = set(conns)
    deadline = time.monotonic() + 60
    while open_ones and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_ones), [], [], 0.2)
        for s in readable:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                conns[s] += chunk
            else:
                open_ones.discard(s)
        for s in open_ones - set(readable):
            try:
                s.send(b"x")
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
    for s in conns:
        s.close()
    assert not open_ones, f"{len(open_ones)} slow connections still open"
    signed = [reply for i, reply in enumerate(conns.values()) if i % 3 == 2]
    for reply in signed:
        assert reply.startswith(b"HTTP/1.1 400 "), reply[:200]
        assert error_of(reply.split(b"\r\n\r\n", 1)[1])["Code"] == "RequestTimeout"
    assert [o["Key"] for o in client.list_objects_v2(Bucket="limits")["Contents"]] == ["meanwhile"]
    data_dir: Path = limited.data_dir
    deadline = time.monotonic() + 30
    while (list((data_dir / "tmp").iterdir()) or open_fds(limited) > baseline + 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list((data_dir / "tmp").iterdir()) == []
    assert open_fds(limited) <= baseline + 2  # every slow connection's socket (and file) released


# -- many-part objects under the same low file descriptor limit -------------------------------------------------

def test_300_part_object_reads_whole(limited: ServerProcess) -> None:
    """More parts than the process may open files: read one at a time, then closed."""
    client = limited.client(max_pool_connections=16)
    upload = client.create_multipart_upload(Bucket="limits", Key="p300")["UploadId"]
    parts = {n: bytes([97 + n % 26]) * 3 for n in range(1, 301)}
    with cf.ThreadPoolExecutor(16) as pool:
        done = list(pool.map(lambda n: {"PartNumber": n, "ETag": client.upload_part(
            Bucket="limits", Key="p300", UploadId=upload, PartNumber=n, Body=parts[n])["ETag"]}, parts))
    client.complete_multipart_upload(Bucket="limits", Key="p300", UploadId=upload, MultipartUpload={"Parts": done})
    baseline = open_fds(limited)
    whole = b"".join(parts[n] for n in sorted(parts))
    for _ in range(3):
        assert client.get_object(Bucket="limits", Key="p300")["Body"].read() == whole
    client.copy_object(Bucket="limits", Key="p300-copy", CopySource={"Bucket": "limits", "Key": "p300"})
    assert client.get_object(Bucket="limits", Key="p300-copy")["Body"].read() == whole
    assert client.get_object(Bucket="limits", Key="p300", PartNumber=300)["Body"].read() == parts[300]
    assert open_fds(limited) <= baseline + 2
    assert requests.get(f"{limited.endpoint}/_s3emu/health", timeout=30).status_code == 200


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _many_parts(root: Path, count: int) -> bytes:
    """An object of `count` one-byte parts, made through the storage engine itself
    (10,000 UploadPart requests would take longer than what this test is about)."""
    store = Store(root, durable=False)
    try:
        store.create_bucket("many", "us-east-1")
        upload = store.create_multipart_upload("many", "k", {})
        gate = asyncio.Semaphore(64)

        async def part(n: int) -> CompletedPart:
            async with gate:
                stored = await store.upload_part("many", "k", upload.upload_id, n, _body(bytes([97 + n % 26])),
                                                 size=1)
                return CompletedPart(n, stored.etag)

        done = await asyncio.gather(*(part(n) for n in range(1, count + 1)))
        await store.call(store.complete_multipart_upload, "many", "k", upload.upload_id, done, min_part_size=0)
    finally:
        store.close()
    return bytes(97 + n % 26 for n in range(1, count + 1))


def test_10000_part_object_read_and_copied_concurrently(tmp_path: Path) -> None:
    whole = asyncio.run(_many_parts(tmp_path / "data", 10000))
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--min-part-size", "0", "--no-access-log",
                        nofile=NOFILE).start()
    try:
        client = srv.client(max_pool_connections=8)

        def read(_: int) -> bytes:
            return bytes(client.get_object(Bucket="many", Key="k")["Body"].read())

        def copy(i: int) -> bytes:
            client.copy_object(Bucket="many", Key=f"copy{i}", CopySource={"Bucket": "many", "Key": "k"})
            return bytes(client.get_object(Bucket="many", Key=f"copy{i}")["Body"].read())

        with cf.ThreadPoolExecutor(6) as pool:
            jobs = [pool.submit(read, i) for i in range(3)] + [pool.submit(copy, i) for i in range(3)]
            assert [j.result() for j in jobs] == [whole] * 6
        head = client.head_object(Bucket="many", Key="k", PartNumber=10000)
        assert head["ContentLength"] == 1 and head["PartsCount"] == 10000
    finally:
        assert srv.stop() == 0
