"""Bucket logging: Put/GetBucketLogging as S3 validates them, and server
access log records delivered, batched, into the target bucket."""
from __future__ import annotations

import http.client
import re
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from conftest import empty_bucket, eventually, fresh_bucket_name, publish, workers_args
from server import ServerProcess

LOG_LINE = re.compile(r'^(\S+) (\S+) \[([^\]]+)\] (\S+) (\S+) (\S+) (\S+) (\S+) "([^"]*)" (\d{3}) (\S+) (\S+) (\S+) '
                      r'(\d+) (\d+) (-|"[^"]*") (-|"[^"]*") (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$')


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d = tmp_path_factory.mktemp("logging")
    cfg = d / "s3emu.toml"
    cfg.write_text("logging_flush_interval = 0.3\n")
    server = ServerProcess(d / "data", "--config", str(cfg), "--durability", "fast", "--no-access-log",
                           *workers_args()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def c(srv: ServerProcess) -> Any:
    return srv.client()


def make_bucket(c: Any, prefix: str, **kwargs: Any) -> str:
    name = fresh_bucket_name(prefix)
    c.create_bucket(Bucket=name, **kwargs)
    return name


@pytest.fixture
def pair(c: Any) -> Iterator[tuple[str, str]]:
    source, target = make_bucket(c, "src"), make_bucket(c, "logs")
    yield source, target
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    for name in (source, target):
        empty_bucket(c, name)



def error(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    r = excinfo.value.response
    return {**r["Error"], "Status": r["ResponseMetadata"]["HTTPStatusCode"]}


def test_round_trip(c: Any, pair: tuple[str, str]) -> None:
    source, target = pair
    assert set(c.get_bucket_logging(Bucket=source)) == {"ResponseMetadata"}
    grants = [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
               "Permission": "WRITE"},
              {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"}]
    status = {"TargetBucket": target, "TargetPrefix": "log/", "TargetGrants": grants,
              "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={"LoggingEnabled": status})
    assert c.get_bucket_logging(Bucket=source)["LoggingEnabled"] == status
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    assert set(c.get_bucket_logging(Bucket=source)) == {"ResponseMetadata"}


def test_validation_errors(c: Any, pair: tuple[str, str]) -> None:
    source, _ = pair
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "no-such-target-bucket", "TargetPrefix": "x"}})
    assert error(excinfo) | {"RequestId": None, "HostId": None, "Resource": None} == {
        "Code": "InvalidTargetBucketForLogging", "Message": "The target bucket for logging does not exist",
        "TargetBucket": "no-such-target-bucket", "Status": 400, "RequestId": None, "HostId": None, "Resource": None}
    west = make_bucket(c, "west", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    east2 = make_bucket(c, "east", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    try:
        with pytest.raises(ClientError) as excinfo:
            c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": west, "TargetPrefix": "x"}})
        found = error(excinfo)
        assert (found["Status"], found["Code"], found["Message"]) == (
            403, "CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. ")
        assert found["TargetBucketLocation"] == "us-west-2" and "SourceBucketLocation" not in found
        with pytest.raises(ClientError) as excinfo:
            c.put_bucket_logging(Bucket=east2, BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": west, "TargetPrefix": "x"}})
        assert error(excinfo)["SourceBucketLocation"] == "us-east-2"
    finally:
        c.delete_bucket(Bucket=west)
        c.delete_bucket(Bucket=east2)
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_logging(Bucket="no-such-bucket-logs")
    assert error(excinfo)["Code"] == "NoSuchBucket"
    assert set(c.get_bucket_logging(Bucket=source)) == {"ResponseMetadata"}


def log_lines(c: Any, target: str, prefix: str) -> list[str]:
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", [])]
    return [line for k in keys for line in c.get_object(Bucket=target, Key=k)["Body"].read().decode().splitlines()]


def test_records_delivered(c: Any, pair: tuple[str, str]) -> None:
    source, target = pair
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "access/"}})
    put = c.put_object(Bucket=source, Key="a b.txt", Body=b"hello")
    c.get_object(Bucket=source, Key="a b.txt")["Body"].read()
    with pytest.raises(ClientError):
        c.get_object(Bucket=source, Key="missing")
    c.list_objects_v2(Bucket=source)
    def logged() -> str:
        return "\n".join(log_lines(c, target, "access/"))
    # with --workers, each worker delivers the lines of the requests it served
    assert eventually(lambda: all(op in logged() for op in (
        "REST.PUT.OBJECT a%20b.txt", "REST.GET.OBJECT a%20b.txt", "REST.GET.OBJECT missing", "REST.GET.BUCKET")))
    lines = log_lines(c, target, "access/")
    parsed = [LOG_LINE.match(line) for line in lines]
    assert all(parsed), lines
    by_op = {m.group(7): m for m in parsed if m}
    put_line = by_op["REST.PUT.OBJECT"]
    assert (put_line.group(2), put_line.group(4), put_line.group(6)) == (
        source, "127.0.0.1", put["ResponseMetadata"]["RequestId"])
    assert put_line.group(8) == "a%20b.txt" and put_line.group(10) == "200"
    assert put_line.group(9).startswith(f"PUT /{source}/a%20b.txt")
    assert put_line.group(20) == "SigV4" and put_line.group(22) == "AuthHeader"
    get_line = [m for m in parsed if m and m.group(7) == "REST.GET.OBJECT" and m.group(8) == "a%20b.txt"][0]
    missing = [m for m in parsed if m and m.group(8) == "missing"][0]
    assert (missing.group(10), missing.group(11)) == ("404", "NoSuchKey")
    assert get_line.group(12) == "5" and get_line.group(13) == "5"
    assert "REST.GET.BUCKET" in by_op
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=target, Prefix="access/")["Contents"]]
    assert all(re.fullmatch(r"access/\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}", k) for k in keys), keys
    # requests to the target bucket itself are not logged there
    assert all(m.group(2) == source for m in parsed if m)


def test_logging_off_stops_records(c: Any, pair: tuple[str, str]) -> None:
    source, target = pair
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "p/"}})
    c.put_object(Bucket=source, Key="k", Body=b"x")
    assert eventually(lambda: any("REST.PUT.OBJECT" in line for line in log_lines(c, target, "p/")))
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={})
    c.put_object(Bucket=source, Key="k2", Body=b"x")
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "q/"}})
    c.head_object(Bucket=source, Key="k2")
    assert eventually(lambda: any("REST.HEAD.OBJECT" in line for line in log_lines(c, target, "q/")))
    assert not any(" k2 " in line and "REST.PUT.OBJECT" in line for line in log_lines(c, target, ""))


def test_website_requests_logged(c: Any, pair: tuple[str, str], srv: ServerProcess) -> None:
    source, target = pair
    publish(c, source, ["s3:GetObject"])
    c.put_object(Bucket=source, Key="index.html", Body=b"home", ContentType="text/html")
    c.put_bucket_website(Bucket=source, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    c.put_bucket_logging(Bucket=source, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "web/"}})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request("GET", "/", headers={"Host": f"{source}.s3-website.localhost", "User-Agent": "browser/1"})
        assert conn.getresponse().read() == b"home"
    finally:
        conn.close()
    assert eventually(lambda: any("WEBSITE.GET.OBJECT" in line for line in log_lines(c, target, "web/")))
    line = next(m for m in map(LOG_LINE.match, log_lines(c, target, "web/")) if m and m.group(7).startswith("WEB"))
    assert (line.group(5), line.group(8), line.group(17)) == ("-", "-", '"browser/1"')  # anonymous, path /
