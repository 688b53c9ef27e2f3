"""Fault injection: rules that fail matching requests with an S3 error, a
delay or a reset connection, and clients' retries riding over them."""
from __future__ import annotations

import http.client
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3emu.embedded import Endpoint
from server import ServerProcess

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def no_retry(s3emu_server: Any) -> Any:
    """A client that reports the first failure instead of retrying it."""
    return s3emu_server.client(retries={"mode": "standard", "total_max_attempts": 1})


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Message"]


def exists(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "404"
        return False


def test_managed_upload_retries_over_part_failures(s3emu_server: Any, s3emu_faults: Any, s3_bucket: str,
                                                   tmp_path: Path) -> None:
    data = os.urandom(20 * MiB + 4321)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    rules = [
        s3emu_faults.add_fault(operation="UploadPart", part_number=1, error="SlowDown", times=2),
        s3emu_faults.add_fault(operation="UploadPart", part_number=2, error="InternalError", times=1),
        s3emu_faults.add_fault(operation="UploadPart", part_number=3, reset_after_bytes=MiB, times=1),
        s3emu_faults.add_fault(operation="UploadPart", part_number=4, reset_after_bytes=0, times=1),
    ]
    client = s3emu_server.client(retries={"mode": "standard", "max_attempts": 5})
    client.upload_file(str(path), s3_bucket, "big.bin",
                       Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                                             max_concurrency=2))
    got = client.get_object(Bucket=s3_bucket, Key="big.bin")
    assert got["ContentLength"] == len(data)
    assert got["ETag"].endswith('-5"')
    assert got["Body"].read() == data
    fired = {r["id"]: (r["fired"], r["matched"]) for r in s3emu_faults.faults()}
    for rule in rules:  # each fired exactly `times`, and the retry after that got through
        assert fired[rule["id"]] == (rule["times"], rule["times"] + 1)


def test_error_fault_answers_with_s3_error_and_stores_nothing(s3emu_faults: Any, no_retry: Any,
                                                              s3_bucket: str) -> None:
    s3emu_faults.add_fault(operation="PutObject", error="SlowDown", times=1)
    with pytest.raises(ClientError) as exc:
        no_retry.put_object(Bucket=s3_bucket, Key="k", Body=b"first")
    assert error_of(exc) == ("SlowDown", 503, "Please reduce your request rate.")
    assert "RequestId" in exc.value.response["ResponseMetadata"]
    assert not exists(no_retry, s3_bucket, "k")
    no_retry.put_object(Bucket=s3_bucket, Key="k", Body=b"second")
    assert no_retry.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"second"


@pytest.mark.parametrize("rule, expected", [
    ({"error": "InternalError"}, ("InternalError", 500, "We encountered an internal error. Please try again.")),
    ({"error": "RequestTimeout"}, ("RequestTimeout", 400, "Your socket connection to the server was not read "
                                   "from or written to within the timeout period. Idle connections will be "
                                   "closed.")),
    ({"error": "Teapot", "status": 418, "message": "short and stout"}, ("Teapot", 418, "short and stout")),
])
def test_error_codes_and_statuses(s3emu_faults: Any, no_retry: Any, s3_bucket: str, rule: dict[str, Any],
                                  expected: tuple[str, int, str]) -> None:
    s3emu_faults.add_fault(operation="ListObjectsV2", bucket=s3_bucket, times=1, **rule)
    with pytest.raises(ClientError) as exc:
        no_retry.list_objects_v2(Bucket=s3_bucket)
    assert error_of(exc) == expected
    assert no_retry.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0


def test_times_limits_how_often_a_rule_fires(s3emu_faults: Any, no_retry: Any, s3_bucket: str) -> None:
    rule = s3emu_faults.add_fault(operation="PutObject", bucket=s3_bucket, error="SlowDown", times=2)
    outcomes = []
    for i in range(4):
        try:
            no_retry.put_object(Bucket=s3_bucket, Key=f"k{i}", Body=b"x")
            outcomes.append("ok")
        except ClientError as e:
            outcomes.append(e.response["Error"]["Code"])
    assert outcomes == ["SlowDown", "SlowDown", "ok", "ok"]
    [listed] = [r for r in s3emu_faults.faults() if r["id"] == rule["id"]]
    assert (listed["matched"], listed["fired"]) == (4, 2)
    keys = [o["Key"] for o in no_retry.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["k2", "k3"]


def test_nth_matching_request(s3emu_faults: Any, no_retry: Any, s3_bucket: str) -> None:
    no_retry.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
    s3emu_faults.add_fault(operation="GetObject", bucket=s3_bucket, nth=3, times=1, error="InternalError")
    outcomes = []
    for _ in range(5):
        try:
            no_retry.get_object(Bucket=s3_bucket, Key="k")["Body"].read()
            outcomes.append("ok")
        except ClientError as e:
            outcomes.append(e.response["Error"]["Code"])
    assert outcomes == ["ok", "ok", "InternalError", "ok", "ok"]


def test_seeded_probability_is_reproducible(s3emu_faults: Any, no_retry: Any, s3_bucket: str) -> None:
    def run() -> list[bool]:
        s3emu_faults.add_fault(operation="HeadBucket", bucket=s3_bucket, probability=0.5, seed=1234,
                               error="SlowDown")
        failed = []
        for _ in range(24):
            try:
                no_retry.head_bucket(Bucket=s3_bucket)
                failed.append(False)
            except ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                failed.append(True)
        s3emu_faults.clear_faults()
        return failed

    first, second = run(), run()
    assert first == second
    rng = random.Random(1234)  # the rule draws once per matching request
    assert first == [rng.random() < 0.5 for _ in range(24)]
    assert any(first) and not all(first)


def test_rules_match_bucket_and_key_prefix(s3emu_faults: Any, no_retry: Any, s3_bucket: str) -> None:
    s3emu_faults.add_fault(bucket=s3_bucket, key_prefix="logs/", error="InternalError")
    s3emu_faults.add_fault(bucket="some-other-bucket", error="InternalError")
    no_retry.put_object(Bucket=s3_bucket, Key="data/a", Body=b"x")
    no_retry.put_object(Bucket=s3_bucket, Key="log", Body=b"x")
    with pytest.raises(ClientError) as exc:
        no_retry.put_object(Bucket=s3_bucket, Key="logs/a", Body=b"x")
    assert error_of(exc)[:2] == ("InternalError", 500)
    s3emu_faults.clear_faults()
    keys = [o["Key"] for o in no_retry.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["data/a", "log"]


def test_delay_then_success(s3emu_faults: Any, no_retry: Any, s3_bucket: str) -> None:
    rule = s3emu_faults.add_fault(operation="PutObject", bucket=s3_bucket, delay_ms=50, times=1)
    no_retry.put_object(Bucket=s3_bucket, Key="k", Body=b"late")
    assert no_retry.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"late"
    [listed] = s3emu_faults.faults()
    assert listed["id"] == rule["id"] and listed["fired"] == 1


@pytest.mark.parametrize("after", [0, 64 * 1024])
def test_reset_drops_the_connection_and_stores_nothing(s3emu_faults: Any, no_retry: Any, s3_bucket: str,
                                                       after: int) -> None:
    s3emu_faults.add_fault(operation="PutObject", bucket=s3_bucket, reset_after_bytes=after, times=1)
    # faults strike after authentication: sign the hand-built request with a presigned URL
    target = urlsplit(no_retry.generate_presigned_url("put_object", Params={"Bucket": s3_bucket, "Key": "k"}))
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    body = b"z" * (4 * MiB)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("PUT", f"{target.path}?{target.query}", body=body)
        conn.getresponse().read()
    conn.close()
    assert s3emu_faults.faults()[0]["fired"] == 1
    assert not exists(no_retry, s3_bucket, "k")


def test_faults_from_config_file(tmp_path: Path) -> None:
    config = tmp_path / "s3emu.toml"
    config.write_text('durability = "fast"\n\n[[faults]]\noperation = "CreateBucket"\nerror = "SlowDown"\n'
                      'times = 1\n')
    srv = ServerProcess(tmp_path / "data", "--config", str(config)).start()
    try:
        client = Endpoint(srv.endpoint).client(retries={"total_max_attempts": 1})
        with pytest.raises(ClientError) as exc:
            client.create_bucket(Bucket="from-config")
        assert error_of(exc)[:2] == ("SlowDown", 503)
        client.create_bucket(Bucket="from-config")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["from-config"]
    finally:
        srv.stop()


def test_bad_fault_rule_in_config_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "s3emu.toml"
    config.write_text('[[faults]]\noperation = "PutObject"\nerorr = "SlowDown"\n')
    done = subprocess.run([sys.executable, "-m", "s3emu", "serve", "--config", str(config), "--port", "0",
                           "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown fault settings: erorr" in done.stderr
