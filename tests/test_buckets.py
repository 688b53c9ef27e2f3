"""Buckets: create (with and without a location), names, head, delete, list,
and the error documents every failure carries."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request, xml, strip_ns
from server import ServerProcess

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_create_without_configuration_is_us_east_1(s3: Any, server: ServerProcess) -> None:
    name = fresh_bucket_name()
    resp = s3.create_bucket(Bucket=name)
    try:
        assert resp["Location"] == f"/{name}"
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
        raw = request(server.endpoint, "GET", f"/{name}?location")
        assert raw.status == 200
        root = xml(raw.body)
        assert strip_ns(root.tag) == "LocationConstraint" and root.text is None  # empty for us-east-1
        head = s3.head_bucket(Bucket=name)
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    finally:
        s3.delete_bucket(Bucket=name)


def test_create_with_location_constraint(s3: Any, server: ServerProcess) -> None:
    name = fresh_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        raw = request(server.endpoint, "GET", f"/{name}?location")
        assert xml(raw.body).text == "eu-west-1"
        assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
        listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
        assert listed[name]["BucketRegion"] == "eu-west-1"
    finally:
        s3.delete_bucket(Bucket=name)


def test_us_east_1_constraint_is_refused(s3: Any) -> None:
    name = fresh_bucket_name()
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_of(exc) == ("InvalidLocationConstraint", 400)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_malformed_configuration_is_malformed_xml(server: ServerProcess, s3: Any) -> None:
    name = fresh_bucket_name()
    raw = request(server.endpoint, "PUT", f"/{name}", body=b"<CreateBucketConfiguration><oops>")
    assert raw.status == 400 and raw.error()["Code"] == "MalformedXML"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_twice_is_already_owned(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=bucket)
    assert error_of(exc) == ("BucketAlreadyOwnedByYou", 409)
    assert exc.value.response["Error"]["BucketName"] == bucket


@pytest.mark.parametrize("name", [
    "ab",                      # too short
    "a" * 64,                  # too long
    "Upper-case",              # uppercase
    "under_score",             # underscore
    "192.168.5.4",             # IP address form
    "two..dots",               # adjacent periods
    "xn--punycode",            # reserved prefix
    "sthree-bucket",           # reserved prefix
    "bucket-s3alias",          # reserved suffix
    "-leading-dash",           # must start with a letter or digit
    "trailing-dash-",          # must end with a letter or digit
    "dot.-dash",               # period next to a dash
    "spa ce",                  # not a name character
])
def test_invalid_bucket_names(server: ServerProcess, s3: Any, name: str) -> None:
    raw = request(server.endpoint, "PUT", "/" + quote(name))
    assert raw.status == 400, raw.body
    err = raw.error()
    assert err["Code"] == "InvalidBucketName"
    assert err["BucketName"] == name
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.dotted.bucket", "1-2-3", "0bucket9"])
def test_valid_bucket_names(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    try:
        s3.head_bucket(Bucket=name)
    finally:
        s3.delete_bucket(Bucket=name)


def test_head_bucket(s3: Any, server: ServerProcess, bucket: str) -> None:
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    raw = request(server.endpoint, "HEAD", "/no-such-bucket-here")
    assert raw.status == 404 and raw.body == b""
    assert raw.headers["x-amz-request-id"]


def test_delete_bucket(s3: Any, server: ServerProcess) -> None:
    name = fresh_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert error_of(exc) == ("BucketNotEmpty", 409)
    assert exc.value.response["Error"]["BucketName"] == name
    s3.delete_object(Bucket=name, Key="k")
    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=name)
    assert error_of(exc) == ("NoSuchBucket", 404)
    raw = request(server.endpoint, "DELETE", f"/{name}")
    err = raw.error()
    assert raw.status == 404
    assert err["Code"] == "NoSuchBucket" and err["BucketName"] == name and "Resource" not in err
    assert err["RequestId"] == raw.headers["x-amz-request-id"]


def test_delete_bucket_aborts_its_uploads(s3: Any) -> None:
    name = fresh_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.create_multipart_upload(Bucket=name, Key="pending")
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets(s3: Any, server: ServerProcess) -> None:
    names = sorted(fresh_bucket_name("lb") for _ in range(3))
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        resp = s3.list_buckets()
        listed = [b["Name"] for b in resp["Buckets"]]
        assert all(n in listed for n in names)
        assert listed == sorted(listed)
        assert resp["Owner"]["ID"]
        assert all(b["CreationDate"] is not None for b in resp["Buckets"])
        raw = request(server.endpoint, "GET", "/")
        root = xml(raw.body)
        assert root.tag == S3_NS + "ListAllMyBucketsResult"
        page = s3.list_buckets(MaxBuckets=1, Prefix=names[0])
        assert [b["Name"] for b in page["Buckets"]] == [names[0]]
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)


def test_every_response_has_request_ids(server: ServerProcess, bucket: str) -> None:
    ids = set()
    for method, path in [("PUT", f"/{bucket}/k"), ("GET", f"/{bucket}/k"), ("HEAD", f"/{bucket}/k"),
                         ("GET", "/"), ("HEAD", f"/{bucket}"), ("GET", f"/{bucket}/missing"),
                         ("HEAD", f"/{bucket}/missing"), ("GET", "/no-such-bucket-x/k"), ("GET", f"/{bucket}"),
                         ("DELETE", f"/{bucket}/k")]:
        raw = request(server.endpoint, method, path, body=b"x" if method == "PUT" else b"")
        ids.add(raw.headers["x-amz-request-id"])
        assert raw.headers["x-amz-request-id"], (method, path)
        assert raw.headers["x-amz-id-2"], (method, path)
    assert len(ids) == 10  # one per request


def test_no_such_bucket_error_document(server: ServerProcess) -> None:
    raw = request(server.endpoint, "GET", "/no-such-bucket-x/some/key")
    assert raw.status == 404
    assert raw.headers["Content-Type"] == "application/xml"
    err = raw.error()
    assert err["Code"] == "NoSuchBucket"
    assert err["Message"] == "The specified bucket does not exist"
    assert "Resource" not in err  # S3 sends none, whatever its documentation's example shows
    assert err["RequestId"] == raw.headers["x-amz-request-id"]
    assert err["BucketName"] == "no-such-bucket-x"


@pytest.mark.parametrize("method,path,operation", [
    ("POST", "/{b}/k?select&select-type=2", "SelectObjectContent"),
    ("GET", "/{b}?analytics", "GetBucketAnalyticsConfiguration"),
    ("GET", "/{b}/k?torrent", "GetObjectTorrent"),
])
def test_unbuilt_operations_are_not_implemented(server: ServerProcess, bucket: str, method: str, path: str,
                                                operation: str) -> None:
    raw = request(server.endpoint, method, path.format(b=bucket))
    assert raw.status == 501, operation
    assert raw.error()["Code"] == "NotImplemented"
    # S3 answers a missing bucket first (AWS: put-bucket-enc-no-bucket, get-no-bucket-tags...)
    raw = request(server.endpoint, method, path.format(b="no-such-bucket-501"))
    assert (raw.status, raw.error()["Code"]) == (404, "NoSuchBucket"), operation


@pytest.mark.parametrize("method,path", [("PATCH", "/{b}"), ("PATCH", "/{b}/k"), ("PUT", "/"), ("POST", "/{b}/k")])
def test_method_not_allowed(server: ServerProcess, bucket: str, method: str, path: str) -> None:
    raw = request(server.endpoint, method, path.format(b=bucket))
    assert raw.status == 405
    err = raw.error()
    assert err["Code"] == "MethodNotAllowed"
    assert err["Method"] == method

