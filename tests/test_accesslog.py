"""The access log: one line per request on stderr, text or JSON, named by S3
operation; off with --no-access-log."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from botocore.exceptions import ClientError

from server import ServerProcess, clean_env

TEXT_LINE = re.compile(r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<request_id>[0-9A-F]{16}) "
                       r"(?P<client>\S+) (?P<access_key>\S+) (?P<operation>\w+|-) (?P<bucket>\S+) "
                       r"(?P<key>\S+|\".*\") (?:part=(?P<part>\d+) )?(?P<status>\d{3})(?: (?P<error>\w+))? "
                       r"in=(?P<bytes_in>\d+) out=(?P<bytes_out>\d+) (?P<ms>\d+\.\d)ms(?P<chunked> aws-chunked)?")
JSON_FIELDS = {"time", "level", "logger", "message", "request_id", "client", "access_key", "operation", "bucket",
               "key", "part_number", "status", "error", "bytes_in", "bytes_out", "duration_ms", "aws_chunked"}


def fields_of(line: str, *names: str) -> tuple[str | None, ...]:
    m = TEXT_LINE.fullmatch(line)
    assert m, line
    return tuple(m.group(n) for n in names)


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
    fields = [fields_of(line, "client", "access_key", "operation", "bucket", "key", "status", "error", "bytes_in",
                        "bytes_out") for line in lines]
    assert fields == [
        ("127.0.0.1", "s3emu", "CreateBucket", "logged", "-", "200", None, "0", "0"),
        ("127.0.0.1", "s3emu", "PutObject", "logged", '"dir/a file.txt"', "200", None, "5", "0"),
        ("127.0.0.1", "s3emu", "GetObject", "logged", '"dir/a file.txt"', "200", None, "0", "5"),
        ("127.0.0.1", "s3emu", "HeadObject", "logged", "missing", "404", "NoSuchKey", "0", "0"),
    ]
    # the request id in the log is the one the client saw
    request_id = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    [line] = wait_for_lines(srv, lambda line: request_id in line, 1)
    assert " ListBuckets - - 200 " in line


def test_error_codes_access_keys_and_part_numbers(start: Any) -> None:
    srv = start("--min-part-size", "1")
    s3 = srv.client()
    s3.create_bucket(Bucket="logged")
    upload = s3.create_multipart_upload(Bucket="logged", Key="mp")["UploadId"]
    s3.upload_part(Bucket="logged", Key="mp", UploadId=upload, PartNumber=7, Body=b"p" * 10)
    forger = srv.client(secret_key="not-the-secret")
    with pytest.raises(ClientError):
        forger.get_object(Bucket="logged", Key="mp")
    stranger = srv.client(access_key="AKIDSTRANGER")
    with pytest.raises(ClientError):
        stranger.list_objects_v2(Bucket="logged")
    requests.get(f"{srv.endpoint}/logged", timeout=30)  # unsigned
    lines = wait_for_lines(srv, lambda line: TEXT_LINE.fullmatch(line.rstrip("\n")) is not None, 6)
    fields = [fields_of(line, "access_key", "operation", "part", "status", "error") for line in lines[2:]]
    assert fields == [
        ("s3emu", "UploadPart", "7", "200", None),
        ("s3emu", "GetObject", None, "403", "SignatureDoesNotMatch"),  # who tried, though refused
        ("AKIDSTRANGER", "ListObjectsV2", None, "403", "InvalidAccessKeyId"),
        ("-", "ListObjects", None, "403", "AccessDenied"),
    ]


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
    entries = [e for e in map(json.loads, lines) if e["logger"] == "s3emu.access"]
    assert [set(e) for e in entries] == [JSON_FIELDS] * 5
    assert [(e["operation"], e["bucket"], e["key"], e["part_number"], e["status"], e["error"], e["message"])
            for e in entries] == [
        ("CreateBucket", "logged", None, None, 200, None, "CreateBucket 200"),
        ("CreateMultipartUpload", "logged", "mp", None, 200, None, "CreateMultipartUpload 200"),
        ("UploadPart", "logged", "mp", 1, 200, None, "UploadPart 200"),
        ("AbortMultipartUpload", "logged", "mp", None, 204, None, "AbortMultipartUpload 204"),
        ("GetObject", "no-such-bucket", "k", None, 404, "NoSuchBucket", "GetObject 404 NoSuchBucket"),
    ]
    assert {(e["level"], e["client"], e["access_key"]) for e in entries} == {("INFO", "127.0.0.1", "s3emu")}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in entries)
    assert entries[2]["bytes_in"] == 300
    assert entries[4]["bytes_out"] > 0  # the <Error> document
    assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in entries)
    assert len({e["request_id"] for e in entries}) == 5


def test_json_format_makes_every_stderr_line_json(tmp_path: Path) -> None:
    """Server messages too (start-up, shutdown, warnings), not only access lines."""
    env = {**clean_env(), "S3EMU_NO_SUCH_SETTING": "1"}  # a warning line
    proc = subprocess.Popen([sys.executable, "-m", "s3emu", "serve", "--port", "0", "--data-dir", str(tmp_path),
                             "--durability", "fast", "--log-format", "json"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        endpoint = proc.stdout.readline().split()[-1]
        requests.get(f"{endpoint}/", timeout=30)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    records = [json.loads(line) for line in stderr.splitlines()]  # each line parses
    messages = [(r["level"], r["logger"], r["message"]) for r in records]
    assert ("WARNING", "s3emu", "S3EMU_NO_SUCH_SETTING is not an s3emu setting; ignored") in messages
    assert ("INFO", "s3emu.access", "ListBuckets 403 AccessDenied") in messages
    assert ("INFO", "s3emu", "s3emu shutting down") in messages


def test_no_access_log(start: Any) -> None:
    srv = start("--no-access-log", "--log-format", "json")
    s3 = srv.client()
    s3.create_bucket(Bucket="quiet")
    s3.put_object(Bucket="quiet", Key="k", Body=b"x")
    # requests that are not logged are still counted
    text = requests.get(f"{srv.endpoint}/_s3emu/metrics", timeout=30).text
    assert 's3emu_requests_total{operation="PutObject",status="200"} 1' in text
    stop_and_drain(srv)
    assert not [line for line in srv.output if "s3emu.access" in line or "PutObject" in line]


def test_admin_requests_are_not_logged(start: Any) -> None:
    srv = start()
    requests.get(f"{srv.endpoint}/_s3emu/health", timeout=30)
    srv.client().list_buckets()
    [line] = wait_for_lines(srv, lambda line: TEXT_LINE.fullmatch(line.rstrip("\n")) is not None, 1)
    assert " ListBuckets " in line
    stop_and_drain(srv)
    logged = [line for line in srv.output if not line.startswith(("  console: ", "  data in "))]  # the banner
    assert not [line for line in logged if "_s3emu" in line or "health" in line]
