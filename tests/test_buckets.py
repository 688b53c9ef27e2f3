"""Buckets: create (with and without a location), names, head, delete, list,
and the error documents every failure carries."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request, xml, strip_ns
from server import ACCESS_KEY, SECRET_KEY, ServerProcess

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
        assert s3.list_buckets(Prefix=name)["Buckets"][0]["BucketRegion"] == "eu-west-1"
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


def test_create_again_in_us_east_1_changes_nothing(s3: Any, bucket: str) -> None:
    # AWS recording create-bucket-with-no-tags (test_create_bucket_with_tags_us_east_1_idempotency): us-east-1
    # keeps its legacy answer, 200 with the bucket's Location, and the bucket keeps its objects
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200 and resp["Location"] == f"/{bucket}"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]


def test_create_again_elsewhere_is_already_owned(server: ServerProcess, s3: Any) -> None:
    # test_create_bucket_with_existing_name (AWS): a us-west-1 bucket created again, with its own or another
    # constraint, is 409 BucketAlreadyOwnedByYou naming the bucket
    name = fresh_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-1"})
    try:
        for constraint in ("us-west-1", "us-east-2"):
            with pytest.raises(ClientError) as exc:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": constraint})
            assert error_of(exc) == ("BucketAlreadyOwnedByYou", 409)
            assert exc.value.response["Error"]["BucketName"] == name
            assert exc.value.response["Error"]["Message"] == ("Your previous request to create the named bucket "
                                                              "succeeded and you already own it.")
        with pytest.raises(ClientError) as exc:
            regional_client(server, "us-west-1").create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-1"})
        assert error_of(exc) == ("BucketAlreadyOwnedByYou", 409)
    finally:
        s3.delete_bucket(Bucket=name)


def regional_client(server: ServerProcess, region: str) -> Any:
    """A client signing for `region`: S3 judges a LocationConstraint by the region the request was sent to."""
    return boto3.client("s3", endpoint_url=server.endpoint, region_name=region, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY,
                        config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                          parameter_validation=False))


INCOMPATIBLE = "The {} location constraint is incompatible for the region specific endpoint this request was sent to."


@pytest.mark.parametrize("region,constraint,code,message", [
    # test_different_location_constraint, test_bucket_constraint_aws_global,
    # test_create_bucket_with_invalid_location_constraint, test_create_bucket_with_eu_location_constraint_raises
    ("us-east-1", "us-east-1", "InvalidLocationConstraint", "The specified location-constraint is not valid"),
    ("us-east-1", "aws-global", "InvalidLocationConstraint", "The specified location-constraint is not valid"),
    ("us-east-1", "foo", "InvalidLocationConstraint", "The specified location-constraint is not valid"),
    ("us-east-2", None, "IllegalLocationConstraintException", INCOMPATIBLE.format("unspecified")),
    ("us-east-2", "us-west-1", "IllegalLocationConstraintException", INCOMPATIBLE.format("us-west-1")),
    ("us-west-1", "us-east-1", "IllegalLocationConstraintException", INCOMPATIBLE.format("us-east-1")),
    ("us-west-1", "aws-global", "IllegalLocationConstraintException", INCOMPATIBLE.format("aws-global")),
    ("us-east-2", "EU", "IllegalLocationConstraintException", INCOMPATIBLE.format("EU")),
    ("eu-west-1", "bar", "IllegalLocationConstraintException", INCOMPATIBLE.format("bar")),
])
def test_location_constraint_refusals(server: ServerProcess, s3: Any, region: str, constraint: str | None,
                                      code: str, message: str) -> None:
    name = fresh_bucket_name()
    config = {"CreateBucketConfiguration": {"LocationConstraint": constraint}} if constraint else {}
    with pytest.raises(ClientError) as exc:
        regional_client(server, region).create_bucket(Bucket=name, **config)
    assert error_of(exc) == (code, 400)
    err = exc.value.response["Error"]
    assert err["Message"] == message
    assert err.get("LocationConstraint") == (constraint if code == "InvalidLocationConstraint" else None)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_location_constraint_accepted(server: ServerProcess, s3: Any) -> None:
    # a regional endpoint takes its own region; us-east-1 takes any other; EU is eu-west-1 and stays EU
    made = []
    try:
        for region, constraint, location in [("us-east-2", "us-east-2", "us-east-2"),
                                             ("us-east-1", "ap-south-1", "ap-south-1"),
                                             ("eu-west-1", "EU", "EU"), ("us-east-1", "EU", "EU")]:
            name = fresh_bucket_name()
            resp = regional_client(server, region).create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": constraint})
            made.append(name)
            # elsewhere than us-east-1 the Location is the bucket's URL (AWS: http://<bucket>.s3.amazonaws.com/)
            assert resp["Location"] == f"http://{name}.localhost:{server.port}/"
            assert resp["BucketArn"] == f"arn:aws:s3:::{name}"
            assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == location
            region_of = "eu-west-1" if constraint == "EU" else constraint
            assert s3.head_bucket(Bucket=name)["BucketRegion"] == region_of
            assert s3.list_buckets(Prefix=name)["Buckets"][0]["BucketRegion"] == region_of
    finally:
        for name in made:
            s3.delete_bucket(Bucket=name)


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
    resp = s3.head_bucket(Bucket=bucket)
    # test_create_bucket_head_bucket (AWS): the bucket's ARN, region and access point alias flag
    assert resp["BucketArn"] == f"arn:aws:s3:::{bucket}"
    assert resp["BucketRegion"] == "us-east-1" and resp["AccessPointAlias"] is False
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/xml"
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
        # AWS recordings (2026): Owner carries only ID; each bucket its ARN; BucketRegion only when the
        # request has a parameter
        assert list(resp["Owner"]) == ["ID"]
        mine = [b for b in resp["Buckets"] if b["Name"] in names]
        assert all(set(b) == {"Name", "CreationDate", "BucketArn"} for b in mine)
        assert all(b["BucketArn"] == f"arn:aws:s3:::{b['Name']}" for b in mine)
        raw = request(server.endpoint, "GET", "/")
        root = xml(raw.body)
        assert root.tag == S3_NS + "ListAllMyBucketsResult"
        assert [strip_ns(c.tag) for c in root] == ["Owner", "Buckets"]  # as S3 orders them
        page = s3.list_buckets(MaxBuckets=1, Prefix=names[0])
        assert [b["Name"] for b in page["Buckets"]] == [names[0]]
        assert page["Buckets"][0]["BucketRegion"] == "us-east-1" and page["Prefix"] == names[0]
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)


def test_list_buckets_pages(s3: Any, server: ServerProcess) -> None:
    prefix = fresh_bucket_name("lbp")
    names = [f"{prefix}-{i}" for i in range(3)]
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        seen, token = [], ""  # an empty token starts at the beginning (AWS: list-objects-with-empty-...)
        for _ in range(4):
            page = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=token)
            seen += [b["Name"] for b in page["Buckets"]]
            token = page.get("ContinuationToken")
            if token is None:
                break
            assert token not in names  # opaque, not a bucket name
        assert seen == names
        raw = request(server.endpoint, "GET", f"/?prefix={prefix}&max-buckets=1")
        assert [strip_ns(c.tag) for c in xml(raw.body)] == ["Owner", "Buckets", "ContinuationToken", "Prefix"]
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)


def test_list_buckets_bad_region(s3: Any) -> None:
    # test_list_buckets_region_validation (AWS)
    with pytest.raises(ClientError) as exc:
        s3.list_buckets(BucketRegion="eu-east-1")
    assert error_of(exc) == ("InvalidArgument", 400)
    err = exc.value.response["Error"]
    assert err["Message"] == "Argument value eu-east-1 is not a valid AWS Region"
    assert err["ArgumentName"] == "bucket-region" and "ArgumentValue" not in err


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
    ("GET", "/{b}?metadataTable", "GetBucketMetadataTableConfiguration"),
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

