"""Bucket default encryption: Put/Get/DeleteBucketEncryption as S3 answers
them, and the encryption each new object records and reports from it."""
from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from server import ServerProcess

KEY_ID = str(uuid.uuid4())
KEY_ARN = f"arn:aws:kms:us-east-1:000000000000:key/{KEY_ID}"


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call()
    r = excinfo.value.response
    return {"status": r["ResponseMetadata"]["HTTPStatusCode"],
            **{k: v for k, v in r["Error"].items() if k not in ("RequestId", "HostId", "Resource")}}


def encryption(response: dict[str, Any]) -> tuple[Any, ...]:
    return (response.get("ServerSideEncryption"), response.get("SSEKMSKeyId"), response.get("BucketKeyEnabled"))


def kms_rule(key: str | None = KEY_ID, bucket_key: bool = True) -> dict[str, Any]:
    by_default = {"SSEAlgorithm": "aws:kms", **({"KMSMasterKeyID": key} if key else {})}
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": by_default, "BucketKeyEnabled": bucket_key}]}


def test_every_bucket_starts_with_sse_s3(s3: Any, bucket: str) -> None:
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                          "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    assert error(lambda: s3.get_bucket_encryption(Bucket=f"{bucket}-none"))["Code"] == "NoSuchBucket"


def test_kms_default_applies_to_new_objects(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_rule())
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == kms_rule()
    expected = ("aws:kms", KEY_ARN, True)
    assert encryption(s3.put_object(Bucket=bucket, Key="after", Body=b"x")) == expected
    assert encryption(s3.head_object(Bucket=bucket, Key="after")) == expected
    assert encryption(s3.get_object(Bucket=bucket, Key="after")) == expected
    assert encryption(s3.head_object(Bucket=bucket, Key="before")) == ("AES256", None, None)  # as written
    # a write's own choice wins over the bucket's
    assert encryption(s3.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="AES256")) == \
        ("AES256", None, None)
    # copies and multipart uploads get the destination bucket's default
    assert encryption(s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/before")) == expected
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert encryption(upload) == expected
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    assert encryption(part) == expected
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert encryption(done) == expected
    # without the bucket key, S3 leaves BucketKeyEnabled out
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_rule(bucket_key=False))
    assert encryption(s3.put_object(Bucket=bucket, Key="no-bucket-key", Body=b"x")) == ("aws:kms", KEY_ARN, None)


def test_aws_managed_key_when_none_is_named(s3: Any, bucket: str) -> None:
    other = fresh_bucket_name()
    s3.create_bucket(Bucket=other)
    try:
        first = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
        second = s3.put_object(Bucket=other, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
        assert first["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
        assert first["SSEKMSKeyId"] == second["SSEKMSKeyId"]  # one AWS managed key per account and region
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_rule(key=None))
        got = s3.put_object(Bucket=bucket, Key="d", Body=b"x")
        assert encryption(got) == ("aws:kms", first["SSEKMSKeyId"], True)
        asked = s3.put_object(Bucket=bucket, Key="e", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=KEY_ID)
        assert encryption(asked) == ("aws:kms", KEY_ARN, True)  # the bucket's key setting still applies
    finally:
        empty_bucket(s3, other)


def test_copy_in_place_allowed_with_a_bucket_configuration(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k"))["Code"] == \
        "InvalidRequest"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]})
    assert s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k")["ServerSideEncryption"] == "AES256"


@pytest.mark.parametrize("config, expected", [
    ({"Rules": []}, {"Code": "MalformedXML"}),
    ({"Rules": [kms_rule()["Rules"][0], {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
     {"Code": "MalformedXML"}),
    ({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]},
     {"Code": "InvalidArgument", "ArgumentName": "ApplyServerSideEncryptionByDefault",
      "Message": "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"}),
    ({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]}, {"Code": "MalformedXML"}),
])
def test_configurations_s3_refuses(server: ServerProcess, bucket: str, config: dict[str, Any],
                                   expected: dict[str, str]) -> None:
    loose = server.client(parameter_validation=False)
    assert error(lambda: loose.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config)) \
        .items() >= {"status": 400, **expected}.items()
    rule = loose.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # unchanged
