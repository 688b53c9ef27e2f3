"""Object and bucket tags: x-amz-tagging on writes, Put/Get/DeleteObjectTagging
by version, x-amz-tagging-count, CopyObject's tagging directive, bucket tags,
and S3's limits and errors."""
from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request
from server import ServerProcess


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    """The status and the <Error> fields that matter (not Resource, RequestId...)."""
    r = excinfo.value.response
    return {"status": r["ResponseMetadata"]["HTTPStatusCode"],
            **{k: v for k, v in r["Error"].items() if k not in ("Resource", "RequestId", "HostId")}}


def tags(s3: Any, bucket: str, key: str, **kwargs: Any) -> list[dict[str, str]]:
    return s3.get_object_tagging(Bucket=bucket, Key=key, **kwargs)["TagSet"]


@pytest.fixture(scope="module")
def loose(server: ServerProcess) -> Any:
    """A client that sends what it is given, so the server's validation shows."""
    return server.client(parameter_validation=False)


def test_object_tagging_round_trip(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=&c=x%20y")
    assert tags(s3, bucket, "k") == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""},
                                     {"Key": "c", "Value": "x y"}]
    assert s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
    put = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "z", "Value": "9"}]})
    assert "VersionId" not in put  # an unversioned bucket names no version
    assert tags(s3, bucket, "k") == [{"Key": "z", "Value": "9"}]
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 1
    deleted = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags(s3, bucket, "k") == []
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="k")
    # a new write of the key starts without tags
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "z", "Value": "9"}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert tags(s3, bucket, "k") == []


def test_tags_by_version(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    put = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": [{"Key": "old",
                                                                                          "Value": "yes"}]})
    assert put["VersionId"] == v1
    assert tags(s3, bucket, "k", VersionId=v1) == [{"Key": "old", "Value": "yes"}]
    got = s3.get_object_tagging(Bucket=bucket, Key="k")
    assert (got["VersionId"], got["TagSet"]) == (v2, [])
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for kwargs in ({}, {"VersionId": marker}):
        with pytest.raises(ClientError) as excinfo:
            s3.get_object_tagging(Bucket=bucket, Key="k", **kwargs)
        assert error(excinfo) == {"status": 405, "Code": "MethodNotAllowed", "Message": "The specified method is "
                                  "not allowed against this resource.", "Method": "GET",
                                  "ResourceType": "DeleteMarker"}
        with pytest.raises(ClientError) as excinfo:
            s3.delete_object_tagging(Bucket=bucket, Key="k", **kwargs)
        assert error(excinfo)["Method"] == "DELETE"
    assert s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    assert tags(s3, bucket, "k", VersionId=v1) == []


def test_missing_objects_and_buckets(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_object_tagging(Bucket=bucket, Key="nope")
    assert (error(excinfo)["Code"], error(excinfo)["Key"]) == ("NoSuchKey", f"{bucket}/nope")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket=bucket, Key="nope", Tagging={"TagSet": []})
    assert (error(excinfo)["Code"], error(excinfo)["Key"]) == ("NoSuchKey", "nope")
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=f"{bucket}-none")
    assert error(excinfo)["Code"] == "NoSuchBucket"


def test_copy_tagging_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="from=source")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/src", Tagging="new=tag")
    assert tags(s3, bucket, "copy") == [{"Key": "from", "Value": "source"}]
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource=f"{bucket}/src", Tagging="new=tag",
                   TaggingDirective="REPLACE", MetadataDirective="REPLACE")
    assert tags(s3, bucket, "replaced") == [{"Key": "new", "Value": "tag"}]
    s3.copy_object(Bucket=bucket, Key="untagged", CopySource=f"{bucket}/src", TaggingDirective="REPLACE")
    assert tags(s3, bucket, "untagged") == []
    s3.copy_object(Bucket=bucket, Key="kept", CopySource=f"{bucket}/src", MetadataDirective="REPLACE")
    assert tags(s3, bucket, "kept") == [{"Key": "from", "Value": "source"}]


def test_multipart_upload_keeps_its_tags(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="part=of")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert tags(s3, bucket, "mp") == [{"Key": "part", "Value": "of"}]


@pytest.mark.parametrize("tag_set, expected", [
    ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
     {"Code": "InvalidTag", "Message": "Cannot provide multiple Tags with the same key", "TagKey": "a"}),
    ([{"Key": "a,b", "Value": "1"}], {"Code": "InvalidTag", "Message": "The TagKey you have provided is invalid",
                                      "TagKey": "a,b"}),
    ([{"Key": "k" * 129, "Value": "1"}], {"Code": "InvalidTag", "Message": "The TagKey you have provided is invalid",
                                          "TagKey": "k" * 129}),
    ([{"Key": "k", "Value": "v" * 257}], {"Code": "InvalidTag", "Message": "The TagValue you have provided is "
                                          "invalid", "TagKey": "k", "TagValue": "v" * 257}),
    ([{"Key": "aws:x", "Value": "1"}], {"Code": "InvalidTag", "Message": "Your TagKey cannot be prefixed with aws:",
                                        "TagKey": "aws:x"}),
    ([{"Key": f"k{i}", "Value": ""} for i in range(11)],
     {"Code": "BadRequest", "Message": "Object tags cannot be greater than 10"}),
    ([{"Key": "k", "Value": None}], {"Code": "MalformedXML"}),
])
def test_object_tag_limits(loose: Any, bucket: str, tag_set: list[dict[str, Any]], expected: dict[str, str]) -> None:
    loose.put_object(Bucket=bucket, Key="k", Body=b"", Tagging="keep=me")
    with pytest.raises(ClientError) as excinfo:
        loose.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tag_set})
    assert error(excinfo).items() >= {"status": 400, **expected}.items()
    assert tags(loose, bucket, "k") == [{"Key": "keep", "Value": "me"}]  # nothing half-written


def test_limits_that_hold(s3: Any, bucket: str) -> None:
    tag_set = [{"Key": "k" * 128, "Value": "v" * 256}, {"Key": "ключ 1+-=._:/@", "Value": "значение"}]
    tag_set += [{"Key": f"k{i}", "Value": ""} for i in range(8)]
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tag_set})
    assert tags(s3, bucket, "k") == tag_set


@pytest.mark.parametrize("header, expected", [
    ("a=1&a=2", {"Code": "InvalidArgument", "ArgumentName": "x-amz-tagging", "ArgumentValue": "a=1&a=2"}),
    ("a=1,b=2", {"Code": "InvalidArgument", "ArgumentValue": "a=1,b=2"}),
    ("aws:k=1", {"Code": "InvalidTag", "Message": "Your TagKey cannot be prefixed with aws:"}),
    ("&".join(f"k{i}=" for i in range(11)), {"Code": "BadRequest"}),
])
def test_tagging_header_errors(s3: Any, bucket: str, header: str, expected: dict[str, str]) -> None:
    for call in (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"", Tagging=header),
                 lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", Tagging=header)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo).items() >= {"status": 400, **expected}.items()
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_bucket_tagging(s3: Any, loose: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error(excinfo) == {"status": 404, "Code": "NoSuchTagSet", "Message": "The TagSet does not exist",
                              "BucketName": bucket}
    tag_set = [{"Key": f"k{i}", "Value": str(i)} for i in range(50)]
    assert s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set})["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tag_set
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set + [{"Key": "one", "Value": "more"}]})
    assert error(excinfo) == {"status": 400, "Code": "BadRequest",
                              "Message": "Bucket tag count cannot be greater than 50"}
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "aws:k", "Value": "v"}]})
    assert error(excinfo)["Message"] == "System tags cannot be added/updated by requester"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tag_set  # unchanged by the refusals
    loose.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})  # an empty set removes them
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error(excinfo)["Code"] == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)


def test_tagging_documents_that_are_not_xml(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    for path in (f"/{bucket}?tagging", f"/{bucket}/k?tagging"):
        for body in (b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", b"not xml", b"<Other/>"):
            reply = request(server.endpoint, "PUT", path, body)
            assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")


def test_create_bucket_with_tags(s3: Any, loose: Any) -> None:
    name = fresh_bucket_name("tagged")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": [{"Key": "team", "Value": "blue"}]})
    try:
        assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "team", "Value": "blue"}]
        # creating it again in us-east-1 is a no-op, but not with tags
        s3.create_bucket(Bucket=name)
        with pytest.raises(ClientError) as excinfo:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": [{"Key": "team", "Value": "red"}]})
        assert error(excinfo)["Code"] == "BucketAlreadyOwnedByYou"
        assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "team", "Value": "blue"}]
    finally:
        s3.delete_bucket(Bucket=name)
    for tag_set, code in (([{"Key": "aws:x", "Value": "1"}], "InvalidTag"), ([{"Key": "k", "Value": None}],
                                                                              "MalformedXML")):
        with pytest.raises(ClientError) as excinfo:
            loose.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": tag_set})
        assert error(excinfo)["Code"] == code
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # nothing half-made
