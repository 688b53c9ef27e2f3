"""GetObjectAttributes through boto3: each attribute, the parts of a
multipart object paged by x-amz-max-parts / x-amz-part-number-marker, and
the errors."""
from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from multipart_support import MIN_PART, body, error, mp, mp_bucket, mp_server  # noqa: F401
from rawhttp import request
from server import ServerProcess

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
DATA = b"attributes " * 300


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_single_part_object(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=DATA, StorageClass="STANDARD_IA")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert got["ETag"] == hashlib.md5(DATA).hexdigest() == put["ETag"].strip('"')  # unquoted
    assert got["ObjectSize"] == len(DATA)
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["Checksum"] == {"ChecksumCRC32": _b64(zlib.crc32(DATA).to_bytes(4, "big")),
                               "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    assert "VersionId" not in got
    only = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == len(DATA) and "ETag" not in only and "Checksum" not in only


def test_version_id_header(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"three")
    got = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=first, ObjectAttributes=["ObjectSize"])
    assert (got["VersionId"], got["ObjectSize"]) == (first, 3)


def test_multipart_parts_paged(mp: Any, mp_bucket: str) -> None:
    parts = [body(MIN_PART + n, n) for n in range(5)]
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="m", ChecksumAlgorithm="SHA256")["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        r = mp.upload_part(Bucket=mp_bucket, Key="m", UploadId=upload_id, PartNumber=n, Body=data,
                           ChecksumAlgorithm="SHA256")
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    complete = mp.complete_multipart_upload(Bucket=mp_bucket, Key="m", UploadId=upload_id,
                                            MultipartUpload={"Parts": done})
    digests = [hashlib.sha256(p).digest() for p in parts]
    composite = _b64(hashlib.sha256(b"".join(digests)).digest())
    assert complete["ChecksumSHA256"] == composite + "-5"

    got = mp.get_object_attributes(Bucket=mp_bucket, Key="m", ObjectAttributes=ALL, MaxParts=2)
    assert got["ETag"] == complete["ETag"].strip('"')
    assert got["Checksum"] == {"ChecksumSHA256": composite, "ChecksumType": "COMPOSITE"}  # no -N here
    assert got["ObjectSize"] == sum(map(len, parts))
    page = got["ObjectParts"]
    assert (page["TotalPartsCount"], page["PartNumberMarker"], page["NextPartNumberMarker"], page["MaxParts"],
            page["IsTruncated"]) == (5, 0, 2, 2, True)
    assert page["Parts"] == [{"PartNumber": n, "Size": len(parts[n - 1]), "ChecksumSHA256": _b64(digests[n - 1])}
                             for n in (1, 2)]
    seen = [p["PartNumber"] for p in page["Parts"]]
    for _ in range(5):  # follow the markers to the end
        if not page["IsTruncated"]:
            break
        page = mp.get_object_attributes(Bucket=mp_bucket, Key="m", ObjectAttributes=["ObjectParts"], MaxParts=2,
                                        PartNumberMarker=page["NextPartNumberMarker"])["ObjectParts"]
        seen += [p["PartNumber"] for p in page["Parts"]]
    assert seen == [1, 2, 3, 4, 5] and page["NextPartNumberMarker"] == 5
    last = mp.get_object_attributes(Bucket=mp_bucket, Key="m", ObjectAttributes=["ObjectParts"],
                                    PartNumberMarker=5)["ObjectParts"]
    assert last["IsTruncated"] is False and "Parts" not in last and last["TotalPartsCount"] == 5
    # past the last part: nothing next (AWS: get-object-attrs-wrong-part)
    beyond = mp.get_object_attributes(Bucket=mp_bucket, Key="m", ObjectAttributes=["ObjectParts"], MaxParts=1,
                                      PartNumberMarker=10)["ObjectParts"]
    assert (beyond["PartNumberMarker"], beyond["NextPartNumberMarker"], beyond["TotalPartsCount"]) == (10, 0, 5)


def test_parts_counted_only_without_part_checksums(mp: Any, mp_bucket: str) -> None:
    # an object without COMPOSITE part checksums gives only its part count, whatever is asked
    # (AWS recordings object-attrs-multiparts-2-parts and get-object-attrs of FULL_OBJECT uploads)
    for key, extra in (("plain", {}), ("full", {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"})):
        upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key=key, **extra)["UploadId"]
        done = [{"PartNumber": n, "ETag": mp.upload_part(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumber=n,
                                                        Body=body(MIN_PART, n))["ETag"]} for n in (1, 2)]
        mp.complete_multipart_upload(Bucket=mp_bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
        got = mp.get_object_attributes(Bucket=mp_bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=3)
        assert got["ObjectParts"] == {"TotalPartsCount": 2}, key


def test_missing_key_and_bucket(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="nope", ObjectAttributes=["ETag"])
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket + "-gone", Key="k", ObjectAttributes=["ETag"])
    assert error(e.value)["Code"] == "NoSuchBucket"


@pytest.mark.parametrize("value", ["Colour", "", "ETag,Size"])
def test_bad_attribute_names(s3: Any, server: ServerProcess, bucket: str, value: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = request(server.endpoint, "GET", f"/{bucket}/k?attributes", headers={"x-amz-object-attributes": value})
    assert reply.status == 400
    err = reply.error()
    assert (err["Code"], err["Message"], err["ArgumentName"]) == (
        "InvalidArgument", "Invalid attribute name specified.", "x-amz-object-attributes")
