"""Server-side encryption headers through boto3: SSE-S3 / SSE-KMS kept and
echoed; SSE-C keys checked, only their MD5 kept, and the key required for
every read, copy and part, with each of S3's refusals."""
from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from multipart_support import MIN_PART, body, error, mp, mp_bucket, mp_server  # noqa: F401
from rawhttp import request
from server import ServerProcess

KEY = os.urandom(32)
OTHER = os.urandom(32)
NEEDS_KEY = ("The object was stored using a form of Server Side Encryption. The correct parameters must be "
             "provided to retrieve the object.")


def ssec(key: bytes = KEY) -> dict[str, Any]:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}  # boto3 adds the key's MD5


def key_md5(key: bytes = KEY) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def raw_ssec(key: bytes = KEY, *, algorithm: str = "AES256", md5: str | None = None) -> dict[str, str]:
    return {"x-amz-server-side-encryption-customer-algorithm": algorithm,
            "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
            "x-amz-server-side-encryption-customer-key-MD5": md5 if md5 is not None else key_md5(key)}


# -- SSE-S3 and SSE-KMS -------------------------------------------------------------------------------------------

def test_sse_s3_echoed(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"


def test_sse_kms_echoed_with_key_id(s3: Any, bucket: str) -> None:
    key_id = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id,
                        BucketKeyEnabled=True)
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == ("aws:kms", key_id, True)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)


def test_sse_s3_multipart_echoed(mp: Any, mp_bucket: str) -> None:
    created = mp.create_multipart_upload(Bucket=mp_bucket, Key="k", ServerSideEncryption="AES256")
    assert created["ServerSideEncryption"] == "AES256"
    part = mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=created["UploadId"], PartNumber=1, Body=b"x" * 10)
    assert part["ServerSideEncryption"] == "AES256"
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=created["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256"
    assert mp.head_object(Bucket=mp_bucket, Key="k")["ServerSideEncryption"] == "AES256"


def test_default_encryption_reported_everywhere(s3: Any, mp: Any, mp_bucket: str) -> None:
    """S3 applies SSE-S3 to every new object since January 2023 and says so (AWS recordings, e.g.
    test_s3_copy_metadata_replace: put_object, head_object, copy_object all AES256 with no SSE asked).
    s3emu stores the bytes as sent and reports what S3 would."""
    b = mp_bucket
    assert mp.put_object(Bucket=b, Key="k", Body=b"data")["ServerSideEncryption"] == "AES256"
    assert mp.head_object(Bucket=b, Key="k")["ServerSideEncryption"] == "AES256"
    got = mp.get_object(Bucket=b, Key="k")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == b"data"
    assert mp.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "k"})["ServerSideEncryption"] == "AES256"
    created = mp.create_multipart_upload(Bucket=b, Key="m")
    assert created["ServerSideEncryption"] == "AES256"
    part = mp.upload_part(Bucket=b, Key="m", UploadId=created["UploadId"], PartNumber=1, Body=b"x" * MIN_PART)
    assert part["ServerSideEncryption"] == "AES256"
    copied = mp.upload_part_copy(Bucket=b, Key="m", UploadId=created["UploadId"], PartNumber=2,
                                 CopySource={"Bucket": b, "Key": "k"})
    assert copied["ServerSideEncryption"] == "AES256"
    done = mp.complete_multipart_upload(Bucket=b, Key="m", UploadId=created["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]},
                  {"PartNumber": 2, "ETag": copied["CopyPartResult"]["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256"


def test_copy_keeps_the_encryption_it_asks_for(s3: Any, bucket: str) -> None:
    # test_s3_copy_object_in_place_with_encryption (AWS): the default COPY directive with
    # x-amz-server-side-encryption stores and echoes it
    key_id = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put_object(Bucket=bucket, Key="plain", Body=b"0123456789")
    copied = s3.copy_object(Bucket=bucket, Key="kms", CopySource={"Bucket": bucket, "Key": "plain"},
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    assert (copied["ServerSideEncryption"], copied["SSEKMSKeyId"]) == ("aws:kms", key_id)
    head = s3.head_object(Bucket=bucket, Key="kms")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)
    # a copy of that object asking for nothing gets the default again, not the source's KMS key
    again = s3.copy_object(Bucket=bucket, Key="again", CopySource={"Bucket": bucket, "Key": "kms"})
    assert again["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in again
    in_place = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"},
                              ServerSideEncryption="AES256")
    assert in_place["ServerSideEncryption"] == "AES256"


@pytest.mark.parametrize("headers, message, argument", [
    ({"x-amz-server-side-encryption": "AES512"}, "The encryption method specified is not supported",
     "x-amz-server-side-encryption"),
    ({"x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-aws-kms-key-id": "k1"},
     "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
     "x-amz-server-side-encryption-aws-kms-key-id"),
])
def test_sse_refusals(s3: Any, server: ServerProcess, bucket: str, headers: dict[str, str], message: str,
                      argument: str) -> None:
    reply = request(server.endpoint, "PUT", f"/{bucket}/k", body=b"data", headers=headers)
    assert reply.status == 400
    err = reply.error()
    assert (err["Code"], err["Message"], err["ArgumentName"]) == ("InvalidArgument", message, argument)
    assert reply.status == 400 and request(server.endpoint, "HEAD", f"/{bucket}/k").status == 404


# -- SSE-C --------------------------------------------------------------------------------------------------------

def test_ssec_round_trip_keeps_only_the_key_md5(s3: Any, server: ServerProcess, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"secret data", **ssec())
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", key_md5())
    assert "ServerSideEncryption" not in put
    got = s3.get_object(Bucket=bucket, Key="k", **ssec())
    assert got["Body"].read() == b"secret data"
    assert (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]) == ("AES256", key_md5())
    assert s3.head_object(Bucket=bucket, Key="k", **ssec())["ContentLength"] == 11
    # the key itself is written nowhere in the data directory
    encoded = base64.b64encode(KEY)
    for path in server.data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert KEY not in content and encoded not in content, path


def test_ssec_reads_need_the_key(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret data", **ssec())
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="k")
        assert error(e.value)["Status"] == 400
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="k", **ssec(OTHER))
        assert error(e.value)["Status"] == 403
    reply = request(server.endpoint, "GET", f"/{bucket}/k")
    assert (reply.status, reply.error()["Code"], reply.error()["Message"]) == (400, "InvalidRequest", NEEDS_KEY)
    reply = request(server.endpoint, "GET", f"/{bucket}/k", headers=raw_ssec(OTHER))
    assert (reply.status, reply.error()["Code"], reply.error()["Message"]) == (
        403, "AccessDenied", "Requests specifying Server Side Encryption with Customer provided keys must provide "
                             "the correct secret key.")
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert (error(e.value)["Code"], error(e.value)["Message"]) == ("InvalidRequest", NEEDS_KEY)
    # (botocore encodes the key for GetObjectAttributes only when given as text, with its MD5)
    encoded = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(KEY).decode(),
               "SSECustomerKeyMD5": key_md5()}
    assert s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"],
                                    **encoded)["ObjectSize"] == 11


def test_ssec_with_sse_is_incompatible_before_anything_else(server: ServerProcess, bucket: str) -> None:
    # AWS: put-obj-sse-c-both-encryption (an SSE-C algorithm S3 would refuse is not looked at first)
    reply = request(server.endpoint, "PUT", f"/{bucket}/k", b"data", {
        "x-amz-server-side-encryption": "AES256", **raw_ssec(algorithm="KMS")})
    err = reply.error()
    assert (reply.status, err["Code"], err["ArgumentName"], err["ArgumentValue"]) == (
        400, "InvalidArgument", "x-amz-server-side-encryption", "AES256")
    assert err["Message"] == ("Server Side Encryption with Customer provided key is incompatible with the encryption "
                              "method specified")


def test_ssec_key_on_a_plain_object_is_refused(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="plain", **ssec())
    assert (error(e.value)["Code"], error(e.value)["Message"]) == (
        "InvalidRequest", "The encryption parameters are not applicable to this object.")


@pytest.mark.parametrize("headers, code, message", [
    (raw_ssec(algorithm="AES512"), "InvalidEncryptionAlgorithmError",
     "The Encryption request you specified is not valid. Supported value: AES256."),
    (raw_ssec(os.urandom(16)), "InvalidArgument", "The secret key was invalid for the specified algorithm."),
    (raw_ssec(md5=key_md5(OTHER)), "InvalidArgument",
     "The calculated MD5 hash of the key did not match the hash that was provided."),
    ({k: v for k, v in raw_ssec().items() if not k.endswith("algorithm")}, "InvalidArgument",
     "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption "
     "algorithm."),
    ({"x-amz-server-side-encryption-customer-algorithm": "AES256"}, "InvalidArgument",
     "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret "
     "key."),
    ({**raw_ssec(), "x-amz-server-side-encryption": "AES256"}, "InvalidArgument",
     "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"),
])
def test_ssec_write_refusals(s3: Any, server: ServerProcess, bucket: str, headers: dict[str, str], code: str,
                             message: str) -> None:
    reply = request(server.endpoint, "PUT", f"/{bucket}/k", body=b"data", headers=headers)
    assert reply.status == 400
    err = reply.error()
    assert (err["Code"], err["Message"], err["ArgumentName"]) == (code, message, "x-amz-server-side-encryption")
    assert request(server.endpoint, "HEAD", f"/{bucket}/k").status == 404


def test_ssec_copy_source_needs_its_key(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"secret data", **ssec())
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source)
    assert (error(e.value)["Code"], error(e.value)["Message"]) == ("InvalidRequest", NEEDS_KEY)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceSSECustomerAlgorithm="AES256",
                       CopySourceSSECustomerKey=OTHER)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("AccessDenied", 403)
    # with the source's key, into a plain object and into one under another key
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceSSECustomerAlgorithm="AES256",
                   CopySourceSSECustomerKey=KEY)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"secret data"
    copied = s3.copy_object(Bucket=bucket, Key="dst2", CopySource=source, CopySourceSSECustomerAlgorithm="AES256",
                            CopySourceSSECustomerKey=KEY, **ssec(OTHER))
    assert copied["SSECustomerKeyMD5"] == key_md5(OTHER)
    assert s3.get_object(Bucket=bucket, Key="dst2", **ssec(OTHER))["Body"].read() == b"secret data"
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="dst2", **ssec(KEY))


def test_ssec_multipart_every_part_needs_the_key(mp: Any, mp_bucket: str) -> None:
    created = mp.create_multipart_upload(Bucket=mp_bucket, Key="k", **ssec())
    assert created["SSECustomerKeyMD5"] == key_md5()
    upload_id = created["UploadId"]
    data = body(MIN_PART, 1)
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data)
    assert (error(e.value)["Code"], error(e.value)["Message"]) == (
        "InvalidRequest", "The multipart upload initiate requested encryption. Subsequent part requests must "
                          "include the appropriate encryption parameters.")
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, **ssec(OTHER))
    assert (error(e.value)["Code"], error(e.value)["Message"]) == (
        "InvalidRequest", "The provided encryption parameters did not match the ones used originally.")
    assert mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id).get("Parts", []) == []
    part = mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, **ssec())
    assert part["SSECustomerKeyMD5"] == key_md5()
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert "SSECustomerKeyMD5" not in done
    # an SSE-C upload that named no checksum algorithm has none (AWS: test_multipart_upload_sse_c)
    assert not [k for k in done if k.startswith("Checksum")]
    with pytest.raises(ClientError):
        mp.get_object(Bucket=mp_bucket, Key="k")
    got = mp.get_object(Bucket=mp_bucket, Key="k", ChecksumMode="ENABLED", **ssec())
    assert got["Body"].read() == data and not [k for k in got if k.startswith("Checksum")]
    # a copy computes its own, SSE-C or not (AWS: copy-obj-sse-c)
    copied = mp.copy_object(Bucket=mp_bucket, Key="c", CopySource={"Bucket": mp_bucket, "Key": "k"},
                            CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=KEY, **ssec())
    assert copied["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"


def test_key_on_a_part_of_a_plain_upload_is_refused(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x", **ssec())
    assert error(e.value)["Code"] == "InvalidRequest"
