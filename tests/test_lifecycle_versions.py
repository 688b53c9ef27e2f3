"""Lifecycle rules on versioned buckets: NoncurrentVersionExpiration and
ExpiredObjectDeleteMarker, enforced by the reaper (a lifecycle "day" is one
second here), and never against versions Object Lock protects."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest

from conftest import fresh_bucket_name
from server import ServerProcess
from test_lifecycle import eventually, write_config


@pytest.fixture(scope="module")
def c(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    d = tmp_path_factory.mktemp("lifecycle-versions")
    cfg = write_config(d / "s3emu.toml", lifecycle_day_seconds=1, reaper_interval=0.2)
    server = ServerProcess(d / "data", "--config", str(cfg), "--durability", "fast", "--no-access-log").start()
    yield server.client()
    server.stop()


def versions(c: Any, bucket: str) -> list[tuple[str, bool, bool]]:
    """(key, is_latest, is_delete_marker) for every version, in S3's order."""
    r = c.list_object_versions(Bucket=bucket)
    out = [(v["Key"], v["IsLatest"], False, v["LastModified"]) for v in r.get("Versions", [])]
    out += [(m["Key"], m["IsLatest"], True, m["LastModified"]) for m in r.get("DeleteMarkers", [])]
    return [(k, latest, marker) for k, latest, marker, _ in sorted(out, key=lambda v: (v[0], not v[1]))]


def rule(**action: Any) -> dict[str, Any]:
    return {"Rules": [{"ID": "versions", "Status": "Enabled", "Filter": {"Prefix": "old/"}, **action}]}


def test_noncurrent_versions_expire_and_current_stays(c: Any) -> None:
    b = fresh_bucket_name("lcv")
    c.create_bucket(Bucket=b)
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2", b"v3"):
        c.put_object(Bucket=b, Key="old/k", Body=body)
        c.put_object(Bucket=b, Key="keep/k", Body=body)  # outside the rule's prefix
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rule(
        NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    assert eventually(lambda: [v for v in versions(c, b) if v[0] == "old/k"] == [("old/k", True, False)])
    assert c.get_object(Bucket=b, Key="old/k")["Body"].read() == b"v3"
    assert len([v for v in versions(c, b) if v[0] == "keep/k"]) == 3


def test_lone_delete_marker_is_removed(c: Any) -> None:
    b = fresh_bucket_name("lcv")
    c.create_bucket(Bucket=b)
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket=b, Key="old/gone", Body=b"x")
    c.delete_object(Bucket=b, Key="old/gone")  # a marker over one noncurrent version
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rule(
        NoncurrentVersionExpiration={"NoncurrentDays": 1}, Expiration={"ExpiredObjectDeleteMarker": True}))
    # first the noncurrent version expires, then the marker is alone and goes too
    assert eventually(lambda: versions(c, b) == [])


def test_locked_noncurrent_version_survives(c: Any) -> None:
    b = fresh_bucket_name("lcv")
    c.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    c.put_object(Bucket=b, Key="old/held", Body=b"held", ObjectLockLegalHoldStatus="ON")
    c.put_object(Bucket=b, Key="old/held", Body=b"new")
    c.put_object(Bucket=b, Key="old/kept", Body=b"kept", ObjectLockMode="GOVERNANCE",
                 ObjectLockRetainUntilDate=until)
    c.put_object(Bucket=b, Key="old/kept", Body=b"new")
    c.put_object(Bucket=b, Key="old/free", Body=b"free")
    c.put_object(Bucket=b, Key="old/free", Body=b"new")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rule(
        NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    assert eventually(lambda: len([v for v in versions(c, b) if v[0] == "old/free"]) == 1)
    remaining = versions(c, b)
    assert len([v for v in remaining if v[0] == "old/held"]) == 2  # legal hold protects it
    assert len([v for v in remaining if v[0] == "old/kept"]) == 2  # so does unexpired retention
