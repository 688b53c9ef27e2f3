"""Shared fixtures: a real server on loopback, boto3 clients, fresh buckets."""
from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any, Callable, Iterator

import pytest

from browser import browser  # noqa: F401  (a fixture: headless Chromium, see browser.py)
from server import ServerProcess

_names = itertools.count()


def publish(client: Any, bucket: str, actions: list[str]) -> None:
    """Lift a new bucket's public access block and let everyone `actions`
    ("s3:GetObject", "s3:ListBucket"...), as a website's bucket is made public."""
    client.delete_public_access_block(Bucket=bucket)
    statement = {"Effect": "Allow", "Principal": "*", "Action": actions,
                 "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete everything in a bucket (all versions, all uploads), then the bucket."""
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for u in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            client.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
    client.delete_bucket(Bucket=bucket)


def eventually(check: Callable[[], bool], seconds: float = 20.0, step: float = 0.05) -> bool:
    """Poll until check() holds: bounded in time and count."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / step)):
        if check() or time.monotonic() > deadline:
            break
        time.sleep(step)
    return check()


def fresh_bucket_name(prefix: str = "t") -> str:
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def workers_args() -> list[str]:
    """`--workers N` for a test's own server: N from S3EMU_TEST_WORKERS (1)."""
    return ["--workers", os.environ.get("S3EMU_TEST_WORKERS", "1")]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session with s3emu's real defaults (5 MiB minimum part).
    S3EMU_TEST_WORKERS=2 runs the whole suite against a multi-process server."""
    srv = ServerProcess(tmp_path_factory.mktemp("data"), "--durability", "fast", *workers_args()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def s3(server: ServerProcess) -> Any:
    return server.client()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = fresh_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    try:
        empty_bucket(s3, name)
    except Exception:
        pass  # the test may have deleted it itself
