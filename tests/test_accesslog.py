"""The access log: one line per request on stderr, text or JSON, named by S3
operation; off with --no-access-log."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from botocore.exceptions import ClientError

from server import ServerProcess

TEXT_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([0-9A-F]{16}) (\w+|-) (\S+) (\S+|\".*\") "
                       r"(\d{3}) in=(\d+) out=(\d+) (\d+\.\d)ms")


def wait_for_lines(srv: ServerProcess, accept: Callable[[str], bool], count: int) -> list[str]:
    """The server's output lines that `accept` takes, once there are `count`
    of them (the log line is written just after the response is sent)."""
    deadline = time.monotonic() + 20
    while True:
        lines = [line.rstrip("\n") for line in list(srv.output) if accept(line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def stop_and_drain(srv: ServerProcess) -> None:
    """Stop the server and wait until its last words are read: then every
    line it wrote is in srv.output."""
    srv.stop()
    assert wait_for_lines(srv, lambda line: "s3emu shutting down" in line, 1)


@pytest.fixture
def start(tmp_path: Path) -> Any:
    servers: list[ServerProcess] = []

    def start_server(*args: str) -> ServerProcess:
        srv = ServerProcess(tmp_path / f"data{len(servers)}", "--durability", "fast", *args).start()
        servers.append(srv)
        return srv
    yield start_server
    for srv in servers:
        srv.stop()


def test_text_lines(start: Any) -> None:
    srv = start()
    s3 = srv.client()
    s3.create_bucket(Bucket="logged")
    s3.put_object(Bucket="logged", Key="dir/a file.txt", Body=b"hello")
    assert s3.get_object(Bucket="logged", Key="dir/a file.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError):
        s3.head_object(Bucket="logged", Key="missing")
    lines = wait_for_lines(srv, lambda line: TEXT_LINE.fullmatch(line.rstrip("\n")) is not None, 4)
    fields = [TEXT_LINE.fullmatch(line).groups()[2:8] for line in lines]  # type: ignore[union-attr]
    assert fields == [
        ("CreateBucket", "logged", "-", "200", "0", "0"),
        ("PutObject", "logged", '"dir/a file.txt"', "200", "5", "0"),
        ("GetObject", "logged", '"dir/a file.txt"', "200", "0", "5"),
        ("HeadObject", "logged", "missing", "404", "0", "0"),
    ]
    # the request id in the log is the one the client saw
    request_id = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    [line] = wait_for_lines(srv, lambda line: request_id in line, 1)
    assert " ListBuckets - - 200 " in line


def test_json_lines(start: Any) -> None:
    srv = start("--log-format", "json")
    s3 = srv.client()
    s3.create_bucket(Bucket="logged")
    upload = s3.create_multipart_upload(Bucket="logged", Key="mp")["UploadId"]
    s3.upload_part(Bucket="logged", Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 300)
    s3.abort_multipart_upload(Bucket="logged", Key="mp", UploadId=upload)
    with pytest.raises(ClientError):
        s3.get_object(Bucket="no-such-bucket", Key="k")
    lines = wait_for_lines(srv, lambda line: line.startswith("{"), 5)
    entries = [json.loads(line) for line in lines]
    assert [set(e) for e in entries] == [{"time", "request_id", "operation", "bucket", "key", "status",
                                          "bytes_in", "bytes_out", "duration_ms"}] * 5
    assert [(e["operation"], e["bucket"], e["key"], e["status"]) for e in entries] == [
        ("CreateBucket", "logged", None, 200),
        ("CreateMultipartUpload", "logged", "mp", 200),
        ("UploadPart", "logged", "mp", 200),
        ("AbortMultipartUpload", "logged", "mp", 204),
        ("GetObject", "no-such-bucket", "k", 404),
    ]
    assert entries[2]["bytes_in"] == 300
    assert entries[4]["bytes_out"] > 0  # the <Error> document
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in entries)
    assert len({e["request_id"] for e in entries}) == 5


def test_no_access_log(start: Any) -> None:
    srv = start("--no-access-log", "--log-format", "json")
    s3 = srv.client()
    s3.create_bucket(Bucket="quiet")
    s3.put_object(Bucket="quiet", Key="k", Body=b"x")
    # requests that are not logged are still counted
    text = requests.get(f"{srv.endpoint}/_s3emu/metrics", timeout=30).text
    assert 's3emu_requests_total{operation="PutObject",status="200"} 1' in text
    stop_and_drain(srv)
    assert not [line for line in srv.output if line.startswith("{") or "PutObject" in line]


def test_admin_requests_are_not_logged(start: Any) -> None:
    srv = start()
    requests.get(f"{srv.endpoint}/_s3emu/health", timeout=30)
    srv.client().list_buckets()
    [line] = wait_for_lines(srv, lambda line: TEXT_LINE.fullmatch(line.rstrip("\n")) is not None, 1)
    assert " ListBuckets " in line
    stop_and_drain(srv)
    logged = [line for line in srv.output if not line.startswith("console: ")]  # the banner names the console
    assert not [line for line in logged if "_s3emu" in line or "health" in line]
