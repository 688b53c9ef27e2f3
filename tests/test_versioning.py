"""Bucket versioning: the Enabled / Suspended states, version ids on every
write, delete markers, reads and deletes by version, copies from old
versions, and ListObjectVersions with its markers and paging."""
from __future__ import annotations

import asyncio
import string
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from rawhttp import request, strip_ns, xml
from server import ServerProcess
from s3emu.storage import Store

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MISSING_ID = "0" * 48  # well formed, never issued


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def headers_of(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, str]:
    return exc.value.response["ResponseMetadata"]["HTTPHeaders"]


def enable(s3: Any, bucket: str, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def versions(server: ServerProcess, bucket: str, query: str = "") -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is a delete marker) in the order S3 lists them."""
    reply = request(server.endpoint, "GET", f"/{bucket}?versions{query}")
    assert reply.status == 200, reply.body
    return [(e.findtext(f"{{{NS}}}Key"), e.findtext(f"{{{NS}}}VersionId"), e.findtext(f"{{{NS}}}IsLatest") == "true",
             strip_ns(e.tag) == "DeleteMarker")
            for e in xml(reply.body) if strip_ns(e.tag) in ("Version", "DeleteMarker")]


def versioning_body(inner: str) -> bytes:
    return f'<VersioningConfiguration xmlns="{NS}">{inner}</VersioningConfiguration>'.encode()


# -- PutBucketVersioning / GetBucketVersioning -----------------------------------

def test_never_versioned_bucket_has_empty_configuration(s3: Any, server: ServerProcess, bucket: str) -> None:
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in resp and "MFADelete" not in resp
    reply = request(server.endpoint, "GET", f"/{bucket}?versioning")
    root = xml(reply.body)
    assert reply.status == 200 and strip_ns(root.tag) == "VersioningConfiguration" and len(root) == 0


def test_enable_suspend_enable(s3: Any, bucket: str) -> None:
    for status in ("Enabled", "Suspended", "Suspended", "Enabled", "Enabled"):
        enable(s3, bucket, status)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == status


def test_mfa_delete_disabled_is_kept(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert resp["Status"] == "Enabled" and resp["MFADelete"] == "Disabled"


@pytest.mark.parametrize("body,code,status", [
    (b"", "MissingRequestBodyError", 400),
    (versioning_body(""), "IllegalVersioningConfigurationException", 400),
    (versioning_body("<Status></Status>"), "IllegalVersioningConfigurationException", 400),
    (versioning_body("<Status>Disabled</Status>"), "MalformedXML", 400),
    (versioning_body("<Status>enabled</Status>"), "MalformedXML", 400),
    (versioning_body("<Status> Enabled </Status>"), "MalformedXML", 400),
    (versioning_body("<Status>Enabled</Status><Status>Enabled</Status>"), "MalformedXML", 400),
    (versioning_body("<Status>Enabled</Status><Foo>1</Foo>"), "MalformedXML", 400),
    (versioning_body("<Status>Enabled</Status><MfaDelete>disabled</MfaDelete>"), "MalformedXML", 400),
    (versioning_body("<Status>Enabled</Status><MfaDelete>Enabled</MfaDelete>"), "AccessDenied", 403),
    (b"<VersioningConfiguration><Status>Enabled", "MalformedXML", 400),
])
def test_put_versioning_refusals(s3: Any, server: ServerProcess, bucket: str, body: bytes, code: str,
                                 status: int) -> None:
    reply = request(server.endpoint, "PUT", f"/{bucket}?versioning", body)
    assert (reply.status, reply.error()["Code"]) == (status, code)
    if code == "IllegalVersioningConfigurationException":
        assert reply.error()["Message"] == "The Versioning element must be specified"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)  # nothing changed


def test_versioning_of_missing_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_versioning(Bucket="no-such-bucket-here")
    assert error_of(exc) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as exc:
        enable(s3, "no-such-bucket-here")
    assert error_of(exc) == ("NoSuchBucket", 404)


# -- version ids on writes ------------------------------------------------------

def test_unversioned_bucket_never_reports_version_ids(s3: Any, server: ServerProcess, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert "VersionId" not in put
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    assert "VersionId" not in s3.get_object(Bucket=bucket, Key="k")
    copy = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
    assert "VersionId" not in copy and "CopySourceVersionId" not in copy
    reply = request(server.endpoint, "DELETE", f"/{bucket}/k")
    assert reply.status == 204 and "x-amz-version-id" not in reply.headers
    assert "x-amz-delete-marker" not in reply.headers
    # listed all the same, as the null version
    assert versions(server, bucket) == [("c", "null", True, False)]


def test_enabled_writes_create_unguessable_time_ordered_versions(s3: Any, server: ServerProcess,
                                                                 bucket: str) -> None:
    enable(s3, bucket)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    assert len(set(ids)) == 3 and ids == sorted(ids)
    # S3's shape (test_object_version_id_format, checked on AWS against 100 ids): 32 letters, digits, . and _
    assert all(len(v) == 32 and set(v) <= set(string.ascii_letters + string.digits + "._") for v in ids)
    assert ids[0][12:28] != ids[1][12:28]  # a random part, not a counter
    for i, version_id in enumerate(ids):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=version_id)
        assert got["Body"].read() == f"v{i}".encode() and got["VersionId"] == version_id
        assert s3.head_object(Bucket=bucket, Key="k", VersionId=version_id)["VersionId"] == version_id
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == ids[-1]
    listed = versions(server, bucket)
    assert [v[1] for v in listed] == ids[::-1]
    assert [v[2] for v in listed] == [True, False, False]
    # the current listing sees only the latest
    assert [(o["Key"], o["Size"]) for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [("k", 2)]


def test_suspended_writes_replace_the_null_version(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    enable(s3, bucket, "Suspended")
    # PutObject in a Suspended bucket names no version (AWS: put-object-suspended, put-non-versioned-post-disable)
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    put = request(server.endpoint, "PUT", f"/{bucket}/k", b"three")
    assert put.status == 200 and "x-amz-version-id" not in put.headers
    # CopyObject does name it: "null", without a CopySourceVersionId for a null source
    # (AWS: copy-in-place-versioned-suspended, copy-in-place-versioned-suspended-twice)
    copied = s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                            MetadataDirective="REPLACE")
    assert copied["VersionId"] == "null" and "CopySourceVersionId" not in copied
    from_v1 = s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1})
    assert (from_v1["VersionId"], from_v1["CopySourceVersionId"]) == ("null", v1)
    s3.delete_object(Bucket=bucket, Key="c", VersionId="null")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["VersionId"] == "null" and head["ContentLength"] == 5
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"three"
    assert versions(server, bucket) == [("k", "null", True, False), ("k", v1, False, False)]
    # re-enabled, the null version stays, under newer ones
    enable(s3, bucket)
    v3 = s3.put_object(Bucket=bucket, Key="k", Body=b"four")["VersionId"]
    assert versions(server, bucket) == [("k", v3, True, False), ("k", "null", False, False), ("k", v1, False, False)]


def test_object_from_before_versioning_is_the_null_version(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    enable(s3, bucket)
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    new = s3.put_object(Bucket=bucket, Key="k", Body=b"new")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"old"
    assert versions(server, bucket) == [("k", new, True, False), ("k", "null", False, False)]


def test_multipart_completion_into_versioned_bucket(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    made = []
    for body in (b"first upload", b"second upload"):
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=body)
        done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        made.append(done["VersionId"])
    assert made[0] != made[1]
    assert [v[1] for v in versions(server, bucket)] == made[::-1]
    assert s3.get_object(Bucket=bucket, Key="mp", VersionId=made[0])["Body"].read() == b"first upload"
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"second upload"
    enable(s3, bucket, "Suspended")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"third")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    # as PutObject there (no recording of Complete in a Suspended bucket): no version named
    assert "VersionId" not in done
    assert s3.head_object(Bucket=bucket, Key="mp")["VersionId"] == "null"


# -- delete markers ---------------------------------------------------------------

def test_delete_marker_hides_then_restores(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker not in (v1, "null")

    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(exc) == ("NoSuchKey", 404)
    assert headers_of(exc)["x-amz-delete-marker"] == "true" and headers_of(exc)["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="k")
    assert error_of(exc) == ("404", 404) and headers_of(exc)["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # the old version is still readable by id
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"data"
    assert versions(server, bucket) == [("k", marker, True, True), ("k", v1, False, False)]

    # a marker asked for by id: 405, naming what it is
    reply = request(server.endpoint, "GET", f"/{bucket}/k?versionId={marker}")
    assert reply.status == 405
    assert reply.headers["x-amz-delete-marker"] == "true" and reply.headers["Allow"] == "DELETE"
    assert reply.headers["x-amz-version-id"] == marker and reply.headers["Last-Modified"]
    err = reply.error()
    assert (err["Code"], err["Method"], err["ResourceType"]) == ("MethodNotAllowed", "GET", "DeleteMarker")
    reply = request(server.endpoint, "HEAD", f"/{bucket}/k?versionId={marker}")
    assert reply.status == 405 and reply.headers["x-amz-delete-marker"] == "true"

    # deleting the marker brings the object back
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert removed["DeleteMarker"] is True and removed["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    assert versions(server, bucket) == [("k", v1, True, False)]


def test_suspended_delete_adds_null_marker(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"a")["VersionId"]
    enable(s3, bucket, "Suspended")
    s3.put_object(Bucket=bucket, Key="k", Body=b"b")  # the null version
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    # the marker took the null version's place
    assert versions(server, bucket) == [("k", "null", True, True), ("k", v1, False, False)]


def test_deleting_a_version_for_good_promotes_the_previous(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    resp = s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert resp["VersionId"] == v2 and "DeleteMarker" not in resp
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    assert versions(server, bucket) == [("k", v1, True, False)]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert error_of(exc) == ("NoSuchVersion", 404)
    # deleting an older version leaves the current one alone
    v3 = s3.put_object(Bucket=bucket, Key="k", Body=b"three")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    assert versions(server, bucket) == [("k", v3, True, False)]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v3)
    assert versions(server, bucket) == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
def test_malformed_version_id_is_invalid_argument(s3: Any, server: ServerProcess, bucket: str,
                                                  method: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = request(server.endpoint, method, f"/{bucket}/k?versionId=not-a-version")
    assert reply.status == 400
    if method != "HEAD":
        err = reply.error()
        assert (err["Code"], err["Message"]) == ("InvalidArgument", "Invalid version id specified")
        assert (err["ArgumentName"], err["ArgumentValue"]) == ("versionId", "not-a-version")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_empty_version_id(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = request(server.endpoint, "GET", f"/{bucket}/k?versionId=")
    assert (reply.status, reply.error()["Code"]) == (400, "InvalidArgument")
    assert reply.error()["Message"] == "Version id cannot be the empty string"


def test_missing_version_is_no_such_version(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for version_id in (MISSING_ID, "null"):
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key="k", VersionId=version_id)
        assert error_of(exc) == ("NoSuchVersion", 404)
        assert exc.value.response["Error"]["VersionId"] == version_id
        with pytest.raises(ClientError) as exc:
            s3.head_object(Bucket=bucket, Key="k", VersionId=version_id)
        assert error_of(exc) == ("404", 404)
    # deleting a version that is not there succeeds and changes nothing
    reply = request(server.endpoint, "DELETE", f"/{bucket}/k?versionId={MISSING_ID}")
    assert reply.status == 204 and reply.headers["x-amz-version-id"] == MISSING_ID
    assert len(versions(server, bucket)) == 1


# -- copies from versions ------------------------------------------------------------

def test_copy_from_an_old_version(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"old bytes", Metadata={"n": "1"})["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"new bytes")
    copy = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert copy["CopySourceVersionId"] == v1 and copy["VersionId"] not in (v1, "null")
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"old bytes" and got["Metadata"] == {"n": "1"}
    assert got["VersionId"] == copy["VersionId"]
    # the current version copied onto itself unchanged is refused here too (AWS: test_s3_copy_object_in_place_versioned)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_of(exc) == ("InvalidRequest", 400)
    # restoring an old version over the current one is a copy onto itself
    restore = s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"old bytes"
    assert versions(server, bucket, "&prefix=src")[0][1] == restore["VersionId"]


def test_copy_from_the_null_version(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"null bytes")
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="src", Body=b"newer")
    copy = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "null"})
    assert copy["CopySourceVersionId"] == "null"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"null bytes"


def test_copy_source_that_is_a_delete_marker(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="src")["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_of(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": marker})
    assert error_of(exc) == ("InvalidRequest", 400)
    assert "delete marker" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "bad"})
    assert error_of(exc) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": MISSING_ID})
    assert error_of(exc) == ("NoSuchVersion", 404)


def test_upload_part_copy_from_an_old_version(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"something else")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    part = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload, PartNumber=1, CopySourceRange="bytes=2-5",
                               CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert part["CopySourceVersionId"] == v1
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"2345"


# -- DeleteObjects with versions ---------------------------------------------------------

def test_delete_objects_with_version_ids(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"a1")["VersionId"]
    a2 = s3.put_object(Bucket=bucket, Key="a", Body=b"a2")["VersionId"]
    b1 = s3.put_object(Bucket=bucket, Key="b", Body=b"b")["VersionId"]
    c_marker = s3.delete_object(Bucket=bucket, Key="c")["VersionId"]  # a marker with nothing under it
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": a2},
        {"Key": "b"},
        {"Key": "c", "VersionId": c_marker},
        {"Key": "a", "VersionId": "bad-id"},
    ]})
    deleted = {(d["Key"], d.get("VersionId")): d for d in resp["Deleted"]}
    assert "DeleteMarker" not in deleted[("a", a2)]
    b_marker = deleted[("b", None)]
    assert b_marker["DeleteMarker"] is True and b_marker["DeleteMarkerVersionId"] not in (None, "null")
    assert deleted[("c", c_marker)]["DeleteMarker"] is True
    assert deleted[("c", c_marker)]["DeleteMarkerVersionId"] == c_marker
    # a malformed id is NoSuchVersion here (AWS: delete-object-wrong-version-id)
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in resp["Errors"]] == [("a", "bad-id", "NoSuchVersion")]
    assert versions(server, bucket) == [
        ("a", a1, True, False),
        ("b", b_marker["DeleteMarkerVersionId"], True, True),
        ("b", b1, False, False),
    ]


# -- ListObjectVersions ------------------------------------------------------------------

@pytest.fixture
def history(s3: Any, bucket: str) -> Iterator[tuple[str, list[tuple[str, str, bool, bool]]]]:
    """4 keys x 5 versions, one key ending in a delete marker; the listing S3 would give."""
    enable(s3, bucket)
    expected = []
    for key in ("k0", "k1/a", "k1/b", "k2"):
        made = [s3.put_object(Bucket=bucket, Key=key, Body=f"{key}-{i}".encode())["VersionId"] for i in range(5)]
        entries = [(key, v, False, False) for v in made]
        if key == "k2":
            entries.append((key, s3.delete_object(Bucket=bucket, Key=key)["VersionId"], False, True))
        entries.reverse()
        entries[0] = (key, entries[0][1], True, entries[0][3])
        expected += entries
    yield bucket, expected


def test_listing_order_and_flags(s3: Any, server: ServerProcess, history: tuple[str, list[Any]]) -> None:
    bucket, expected = history
    assert versions(server, bucket) == expected
    resp = s3.list_object_versions(Bucket=bucket)
    assert resp["IsTruncated"] is False and resp["MaxKeys"] == 1000 and resp["Name"] == bucket
    assert "NextKeyMarker" not in resp and "NextVersionIdMarker" not in resp
    version = resp["Versions"][0]
    assert version["ETag"].startswith('"') and version["Size"] == 4 and version["StorageClass"] == "STANDARD"
    assert list(version["Owner"]) == ["ID"] and list(resp["DeleteMarkers"][0]["Owner"]) == ["ID"]


def test_paging_three_at_a_time_returns_every_version_once_in_order(s3: Any, history: tuple[str, list[Any]],
                                                                    server: ServerProcess) -> None:
    bucket, expected = history
    seen: list[tuple[str, str]] = []
    key_marker, version_marker = "", ""
    for _ in range(len(expected)):  # bounded: one page per entry at most
        query = f"/{bucket}?versions&max-keys=3&key-marker={quote(key_marker, safe='')}" \
                f"&version-id-marker={version_marker}"
        reply = request(server.endpoint, "GET", query)
        assert reply.status == 200
        root = xml(reply.body)
        items = [c for c in root if strip_ns(c.tag) in ("Version", "DeleteMarker")]
        fields = {strip_ns(c.tag): c.text for c in root if len(c) == 0}
        assert len(items) <= 3
        seen += [(i.findtext(f"{{{NS}}}Key"), i.findtext(f"{{{NS}}}VersionId")) for i in items]
        if fields["IsTruncated"] == "false":
            assert "NextKeyMarker" not in fields
            break
        assert len(items) == 3
        key_marker, version_marker = fields["NextKeyMarker"], fields["NextVersionIdMarker"]
        assert (key_marker, version_marker) == seen[-1]
    assert seen == [(k, v) for k, v, _, _ in expected]


def test_boto3_paginator_agrees(s3: Any, history: tuple[str, list[Any]]) -> None:
    bucket, expected = history
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                   PaginationConfig={"PageSize": 4}))
    assert len(pages) == 6
    got = sorted((v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", []) + p.get("DeleteMarkers", []))
    assert got == sorted((k, v) for k, v, _, _ in expected)


def test_prefix_and_delimiter(s3: Any, history: tuple[str, list[Any]]) -> None:
    bucket, expected = history
    resp = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["k1/"]
    assert {v["Key"] for v in resp["Versions"]} == {"k0", "k2"}
    resp = s3.list_object_versions(Bucket=bucket, Prefix="k1/")
    assert resp["Prefix"] == "k1/"
    assert [(v["Key"], v["VersionId"]) for v in resp["Versions"]] == [(k, v) for k, v, _, _ in expected
                                                                      if k.startswith("k1/")]
    # a common prefix counts once toward max-keys, and paging goes past it
    resp = s3.list_object_versions(Bucket=bucket, Delimiter="/", KeyMarker="k0", MaxKeys=1)
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["k1/"] and "Versions" not in resp
    assert resp["IsTruncated"] is True and resp["NextKeyMarker"] == "k1/" and "NextVersionIdMarker" not in resp
    resp = s3.list_object_versions(Bucket=bucket, Delimiter="/", KeyMarker="k1/", MaxKeys=1)
    assert "CommonPrefixes" not in resp and [d["Key"] for d in resp["DeleteMarkers"]] == ["k2"]


def test_key_marker_and_version_id_marker(s3: Any, history: tuple[str, list[Any]]) -> None:
    bucket, expected = history
    k0 = [v for k, v, _, _ in expected if k == "k0"]
    resp = s3.list_object_versions(Bucket=bucket, KeyMarker="k0")
    assert resp["KeyMarker"] == "k0" and "k0" not in {v["Key"] for v in resp["Versions"]}
    resp = s3.list_object_versions(Bucket=bucket, KeyMarker="k0", VersionIdMarker=k0[1], MaxKeys=4)
    assert resp["VersionIdMarker"] == k0[1]
    assert [(v["Key"], v["VersionId"]) for v in resp["Versions"]] == [("k0", v) for v in k0[2:]] + [
        ("k1/a", [v for k, v, _, _ in expected if k == "k1/a"][0])]
    resp = s3.list_object_versions(Bucket=bucket, KeyMarker="a")  # need not exist
    assert len(resp["Versions"]) + len(resp["DeleteMarkers"]) == len(expected)


def test_marker_refusals(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker=MISSING_ID)
    assert error_of(exc) == ("InvalidArgument", 400)
    assert exc.value.response["Error"]["Message"] == "A version-id marker cannot be specified without a key marker."
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, KeyMarker="k", VersionIdMarker="junk")
    assert error_of(exc) == ("InvalidArgument", 400)
    assert exc.value.response["Error"]["Message"] == "Invalid version id specified"
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket=bucket, MaxKeys=-1)
    assert error_of(exc) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as exc:
        s3.list_object_versions(Bucket="no-such-bucket-here")
    assert error_of(exc) == ("NoSuchBucket", 404)


def test_max_keys_zero(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = s3.list_object_versions(Bucket=bucket, MaxKeys=0)
    assert resp["MaxKeys"] == 0 and resp["IsTruncated"] is False and "Versions" not in resp


def test_encoding_type_url(s3: Any, server: ServerProcess, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="dir one/é", Body=b"x")
    reply = request(server.endpoint, "GET", f"/{bucket}?versions&encoding-type=url&delimiter=%2F&prefix=dir%20one")
    root = xml(reply.body)
    assert root.findtext(f"{{{NS}}}EncodingType") == "url"
    assert root.findtext(f"{{{NS}}}Prefix") == "dir%20one"
    assert [p.findtext(f"{{{NS}}}Prefix") for p in root.iter(f"{{{NS}}}CommonPrefixes")] == ["dir%20one/"]
    assert [k.text for k in root.iter(f"{{{NS}}}Key")] == []  # folded into the common prefix
    reply = request(server.endpoint, "GET", f"/{bucket}?versions&encoding-type=url")
    assert [k.text for k in xml(reply.body).iter(f"{{{NS}}}Key")] == ["dir%20one/%C3%A9"]
    # boto3 asks for url encoding and decodes it
    assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["Key"] == "dir one/é"


def test_unversioned_bucket_lists_null_versions(s3: Any, server: ServerProcess, bucket: str) -> None:
    for key in ("b", "a"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert versions(server, bucket) == [("a", "null", True, False), ("b", "null", True, False)]


def test_deleting_while_paging_reaches_everything(s3: Any, bucket: str) -> None:
    """A cleanup loop deletes each page before asking for the next: the
    markers it hands back name versions that are gone by then."""
    enable(s3, bucket)
    total = 0
    for key in ("a", "b"):
        for _ in range(4):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
            total += 1
    s3.delete_object(Bucket=bucket, Key="b")
    total += 1
    deleted = 0
    kwargs: dict[str, Any] = {}
    for _ in range(total):
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=3, **kwargs)
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            deleted += 1
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert deleted == total
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_bucket_with_versions_cannot_be_deleted(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(exc) == ("BucketNotEmpty", 409)
    # AWS: delete-with-obj-and-delete-marker
    assert exc.value.response["Error"]["Message"] == ("The bucket you tried to delete is not empty. You must "
                                                      "delete all versions in the bucket.")
    assert exc.value.response["Error"]["BucketName"] == bucket


# -- the storage engine's side -------------------------------------------------------------

async def _fill(store: Store) -> None:
    async def body(data: bytes) -> Any:
        yield data
    store.create_bucket("b", "us-east-1")
    store.put_bucket_versioning("b", "Enabled")
    for key in ("p/1", "p/2", "q"):
        for _ in range(3):
            await store.put_object("b", key, body(b"x"), meta={}, size=1)


def test_listing_a_key_or_prefix_is_an_index_range_scan(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    try:
        asyncio.run(_fill(store))
        statements: list[str] = []
        store.db.connection().set_trace_callback(statements.append)
        page = store.list_object_versions("b", prefix="p/", max_keys=4)
        page = store.list_object_versions("b", prefix="p/", key_marker="p/1",
                                          version_id_marker=page.entries[1].version_id)
        store.db.connection().set_trace_callback(None)
        assert [e.key for e in page.entries] == ["p/1", "p/2", "p/2", "p/2"]
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "objects" in s]
        assert selects
        for sql in selects:
            plan = " ".join(str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "SEARCH objects USING INDEX" in plan and "SCAN objects" not in plan, (sql, plan)
    finally:
        store.close()


def test_lifecycle_helpers(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    try:
        asyncio.run(_fill(store))
        store.delete_object("b", "q")  # a marker over q's versions
        store.delete_object("b", "gone")  # a marker with nothing under it
        later = 10 ** 10
        noncurrent = store.noncurrent_versions_older_than("b", "p/", 60, now=later)
        assert [(o.key, o.is_latest) for o in noncurrent] == [("p/1", False)] * 2 + [("p/2", False)] * 2
        assert store.noncurrent_versions_older_than("b", "", 60, now=0) == []
        assert [o.key for o in store.noncurrent_versions_older_than("b", "q", 60, now=later)] == ["q"] * 3
        assert [(o.key, o.delete_marker) for o in store.expired_delete_markers("b", "")] == [("gone", True)]
        assert store.expired_delete_markers("b", "q") == []
    finally:
        store.close()
