"""No single client takes the server down: under a low file descriptor limit,
slow clients (headers or bodies trickling in) are cut off and release what
they held, and the server keeps answering everyone else."""
from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from rawhttp import signed_headers
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
