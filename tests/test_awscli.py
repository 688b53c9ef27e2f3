"""The AWS CLI against s3emu: mb, cp up and down, ls, rm."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import fresh_bucket_name
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess


@pytest.fixture
def aws(server: ServerProcess, tmp_path: Path) -> Any:
    env = {**os.environ,
           "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION,
           # the user's own configuration must not leak in
           "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials")}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(name, None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", server.endpoint, *args],
                              env=env, capture_output=True, text=True, timeout=120)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc
    return run


def test_mb_cp_ls_rm(aws: Any, s3: Any, tmp_path: Path) -> None:
    bucket = fresh_bucket_name("cli")
    aws("s3", "mb", f"s3://{bucket}")
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    try:
        data = os.urandom(300 * 1024) + b"\r\n\x00end"
        src = tmp_path / "up.bin"
        src.write_bytes(data)
        aws("s3", "cp", str(src), f"s3://{bucket}/dir/file name+1.bin")
        assert s3.get_object(Bucket=bucket, Key="dir/file name+1.bin")["Body"].read() == data

        back = tmp_path / "down.bin"
        aws("s3", "cp", f"s3://{bucket}/dir/file name+1.bin", str(back))
        assert back.read_bytes() == data

        top = aws("s3", "ls", f"s3://{bucket}").stdout
        assert "PRE dir/" in top
        listing = aws("s3", "ls", f"s3://{bucket}/dir/").stdout
        assert "file name+1.bin" in listing and str(len(data)) in listing
        assert bucket in aws("s3", "ls").stdout

        aws("s3", "rm", f"s3://{bucket}/dir/file name+1.bin")
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        assert aws("s3", "ls", f"s3://{bucket}/dir/", check=False).stdout == ""
    finally:
        aws("s3", "rb", f"s3://{bucket}", "--force")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cp_missing_object_fails(aws: Any, bucket: str, tmp_path: Path) -> None:
    proc = aws("s3", "cp", f"s3://{bucket}/nope", str(tmp_path / "x"), check=False)
    assert proc.returncode != 0
    assert "404" in proc.stderr or "Not Found" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_s3api_put_and_head(aws: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "small.txt"
    src.write_bytes(b"hello from the cli\n")
    aws("s3api", "put-object", "--bucket", bucket, "--key", "small.txt", "--body", str(src),
        "--content-type", "text/plain", "--metadata", "origin=cli")
    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "small.txt").stdout
    assert '"ContentType": "text/plain"' in head and '"origin": "cli"' in head
