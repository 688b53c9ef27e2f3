"""Additional checksums over real HTTP: boto3's defaults and each algorithm on
PutObject, multipart COMPOSITE and FULL_OBJECT values checked against values
computed here independently (zlib, awscrt, hashlib), and S3's refusals."""
from __future__ import annotations

import base64
import hashlib
import http.client
import zlib
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
from awscrt import checksums as crt
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from multipart_support import (MIN_PART, body, data_files, error, mp, mp_bucket, mp_server)  # noqa: F401
from rawhttp import request
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess, make_client

DATA = b"checksummed bytes " * 1000


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Independent implementations: (raw digest of data) per algorithm.
DIGEST: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda d: zlib.crc32(d).to_bytes(4, "big"),
    "CRC32C": lambda d: crt.crc32c(d).to_bytes(4, "big"),
    "CRC64NVME": lambda d: crt.crc64nvme(d).to_bytes(8, "big"),
    "SHA1": lambda d: hashlib.sha1(d).digest(),
    "SHA256": lambda d: hashlib.sha256(d).digest(),
}


def checksum(algorithm: str, data: bytes) -> str:
    return _b64(DIGEST[algorithm](data))


def composite(algorithm: str, parts: list[bytes]) -> str:
    return _b64(DIGEST[algorithm](b"".join(DIGEST[algorithm](p) for p in parts))) + f"-{len(parts)}"


def absent(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


def sent_headers(client: Any) -> list[dict[str, str]]:
    """Records the headers of every request the client sends."""
    seen: list[dict[str, str]] = []
    client.meta.events.register("before-send.s3.*", lambda request, **_: seen.append(
        {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    return seen


# -- PutObject ----------------------------------------------------------------------------------------------------

def test_boto3_default_sends_crc32_which_is_checked_and_returned(server: ServerProcess, bucket: str) -> None:
    client = server.client()
    seen = sent_headers(client)
    resp = client.put_object(Bucket=bucket, Key="k", Body=DATA)
    assert seen[-1]["x-amz-checksum-crc32"] == checksum("CRC32", DATA)  # boto3's default, as a header over http
    assert resp["ChecksumCRC32"] == checksum("CRC32", DATA) and resp["ChecksumType"] == "FULL_OBJECT"
    got = client.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == checksum("CRC32", DATA) and got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == DATA  # boto3 checked the body against the returned CRC32
    head = client.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == checksum("CRC32", DATA)
    plain = request(server.endpoint, "HEAD", f"/{bucket}/k")
    assert plain.status == 200 and "x-amz-checksum-crc32" not in plain.headers
    assert "x-amz-checksum-type" not in plain.headers


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_each_algorithm(s3: Any, bucket: str, algorithm: str) -> None:
    expected = checksum(algorithm, DATA)
    resp = s3.put_object(Bucket=bucket, Key="k", Body=DATA, ChecksumAlgorithm=algorithm)
    assert resp[f"Checksum{algorithm}"] == expected
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == expected and got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == DATA
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [algorithm]


def test_no_checksum_sent_gets_crc64nvme(server: ServerProcess, bucket: str) -> None:
    client = make_client(server.endpoint, request_checksum_calculation="when_required")
    seen = sent_headers(client)
    resp = client.put_object(Bucket=bucket, Key="k", Body=DATA)
    assert not any(h.startswith("x-amz-checksum-") for h in seen[-1])
    assert resp["ChecksumCRC64NVME"] == checksum("CRC64NVME", DATA)
    head = client.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == checksum("CRC64NVME", DATA) and head["ChecksumType"] == "FULL_OBJECT"


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_wrong_value_is_bad_digest_and_nothing_is_stored(mp_server: ServerProcess, mp: Any, mp_bucket: str,
                                                          algorithm: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="k", Body=b"old")
    before = data_files(mp_server)
    with pytest.raises(ClientError) as e:
        mp.put_object(Bucket=mp_bucket, Key="k", Body=DATA, **{f"Checksum{algorithm}": checksum(algorithm, b"x")})
    assert error(e.value)["Code"] == "BadDigest" and error(e.value)["Status"] == 400
    assert error(e.value)["Message"] == f"The {algorithm} you specified did not match the calculated checksum."
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"old"
    assert data_files(mp_server) == before


@pytest.mark.parametrize("headers, message", [
    ({"x-amz-checksum-crc32": "not base64!"}, "Value for x-amz-checksum-crc32 header is invalid."),
    ({"x-amz-checksum-sha256": _b64(b"short")}, "Value for x-amz-checksum-sha256 header is invalid."),
    ({"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-crc32c": "AAAAAA=="},
     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."),
    ({"x-amz-checksum-crc32": checksum("CRC32", DATA), "x-amz-sdk-checksum-algorithm": "SHA1"},
     "Value for x-amz-sdk-checksum-algorithm header is invalid."),
    ({"x-amz-sdk-checksum-algorithm": "MD4"}, "Value for x-amz-sdk-checksum-algorithm header is invalid."),
])
def test_malformed_checksum_headers(s3: Any, server: ServerProcess, bucket: str, headers: dict[str, str],
                                    message: str) -> None:
    reply = request(server.endpoint, "PUT", f"/{bucket}/k", body=DATA, headers=headers)
    assert reply.status == 400
    assert reply.error()["Code"] == "InvalidRequest" and reply.error()["Message"] == message
    assert absent(s3, bucket, "k")


def test_checksum_mode_and_ranges(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=DATA, ChecksumAlgorithm="SHA1")
    whole = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range=f"bytes=0-{len(DATA) - 1}")
    assert whole["ChecksumSHA1"] == checksum("SHA1", DATA)  # a range that is the whole object
    part = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=1-10")
    assert "ChecksumSHA1" not in part and "ChecksumType" not in part
    reply = request(server.endpoint, "GET", f"/{bucket}/k", headers={"x-amz-checksum-mode": "SOMETIMES"})
    assert reply.status == 400 and reply.error() == {**reply.error(), "Code": "InvalidRequest",
                                                     "Message": "Value for x-amz-checksum-mode header is invalid."}


# -- aws-chunked trailers -----------------------------------------------------------------------------------------

class _TrailerAuth(S3SigV4Auth):
    def payload(self, request: Any) -> str:
        return "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def _put_with_trailer(srv: ServerProcess, path: str, data: bytes, name: str, value: str) -> tuple[int, bytes]:
    framed = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 8192]), data[i:i + 8192]) for i in range(0, len(data), 8192))
    framed += b"0\r\n" + f"{name}:{value}\r\n\r\n".encode()
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": name, "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}
    req = AWSRequest(method="PUT", url=srv.endpoint + path, headers=headers)
    _TrailerAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    conn = http.client.HTTPConnection(urlsplit(srv.endpoint).netloc, timeout=30)
    try:
        conn.request("PUT", path, body=framed, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_trailer_checksum_is_stored(s3: Any, server: ServerProcess, bucket: str) -> None:
    status, out = _put_with_trailer(server, f"/{bucket}/t", DATA, "x-amz-checksum-crc32c", checksum("CRC32C", DATA))
    assert status == 200, out
    head = s3.head_object(Bucket=bucket, Key="t", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"] == checksum("CRC32C", DATA) and head["ChecksumType"] == "FULL_OBJECT"
    status, out = _put_with_trailer(server, f"/{bucket}/bad", DATA, "x-amz-checksum-sha1", checksum("SHA1", b"x"))
    assert status == 400 and b"<Code>BadDigest</Code>" in out
    assert b"The SHA1 you specified did not match the calculated checksum." in out
    assert absent(s3, bucket, "bad")


# -- CopyObject ---------------------------------------------------------------------------------------------------

def test_copy_keeps_or_recomputes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=DATA, ChecksumAlgorithm="CRC32C")
    kept = s3.copy_object(Bucket=bucket, Key="a", CopySource={"Bucket": bucket, "Key": "src"})
    assert kept["CopyObjectResult"]["ChecksumCRC32C"] == checksum("CRC32C", DATA)
    assert kept["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"
    other = s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "src"},
                           ChecksumAlgorithm="SHA256")
    assert other["CopyObjectResult"]["ChecksumSHA256"] == checksum("SHA256", DATA)
    assert s3.head_object(Bucket=bucket, Key="b", ChecksumMode="ENABLED")["ChecksumSHA256"] == \
        checksum("SHA256", DATA)


# -- multipart ----------------------------------------------------------------------------------------------------

PARTS = [body(MIN_PART + 100, 1), body(MIN_PART + 7, 2), body(300, 3)]


def _multipart(client: Any, bucket: str, key: str, algorithm: str | None, checksum_type: str | None = None,
               send_part_checksums: bool = True, **complete: Any) -> dict[str, Any]:
    create: dict[str, Any] = {}
    if algorithm:
        create["ChecksumAlgorithm"] = algorithm
    if checksum_type:
        create["ChecksumType"] = checksum_type
    created = client.create_multipart_upload(Bucket=bucket, Key=key, **create)
    if algorithm:
        assert created["ChecksumAlgorithm"] == algorithm
        assert created["ChecksumType"] == checksum_type or created["ChecksumType"]
    upload_id = created["UploadId"]
    done = []
    for n, data in enumerate(PARTS, 1):
        kwargs = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        part = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data, **kwargs)
        entry = {"PartNumber": n, "ETag": part["ETag"]}
        if algorithm:
            assert part[f"Checksum{algorithm}"] == checksum(algorithm, data)
            if send_part_checksums:
                entry[f"Checksum{algorithm}"] = part[f"Checksum{algorithm}"]
        done.append(entry)
    return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                            MultipartUpload={"Parts": done}, **complete)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite(mp: Any, mp_bucket: str, algorithm: str) -> None:
    expected = composite(algorithm, PARTS)
    done = _multipart(mp, mp_bucket, "c", algorithm)
    assert done[f"Checksum{algorithm}"] == expected and done["ChecksumType"] == "COMPOSITE"
    head = mp.head_object(Bucket=mp_bucket, Key="c", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == expected and head["ChecksumType"] == "COMPOSITE"
    got = mp.get_object(Bucket=mp_bucket, Key="c", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(PARTS)
    for n, data in enumerate(PARTS, 1):  # ?partNumber returns that part's checksum, which boto3 checks
        part = mp.get_object(Bucket=mp_bucket, Key="c", PartNumber=n, ChecksumMode="ENABLED")
        assert part[f"Checksum{algorithm}"] == checksum(algorithm, data)
        assert part["Body"].read() == data


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object(mp: Any, mp_bucket: str, algorithm: str) -> None:
    whole = checksum(algorithm, b"".join(PARTS))
    done = _multipart(mp, mp_bucket, "f", algorithm, "FULL_OBJECT", send_part_checksums=False,
                      ChecksumType="FULL_OBJECT", **{f"Checksum{algorithm}": whole})
    assert done[f"Checksum{algorithm}"] == whole and done["ChecksumType"] == "FULL_OBJECT"
    # the right value without its type named does not count (AWS: complete-part-only-checksum-algo)
    with pytest.raises(ClientError) as e:
        _multipart(mp, mp_bucket, "g", algorithm, "FULL_OBJECT", send_part_checksums=False,
                   **{f"Checksum{algorithm}": whole})
    assert (error(e.value)["Code"], error(e.value)["Message"]) == (
        "BadDigest", f"The {algorithm.lower()} you specified did not match the calculated checksum.")
    got = mp.get_object(Bucket=mp_bucket, Key="f", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == whole and got["Body"].read() == b"".join(PARTS)
    # ?partNumber of one of several parts sends no FULL_OBJECT checksum (AWS: get-object-part-checksum) ...
    for n in range(1, len(PARTS) + 1):
        part = mp.head_object(Bucket=mp_bucket, Key="f", PartNumber=n, ChecksumMode="ENABLED")
        assert not [k for k in part if k.startswith("Checksum")]
    # ... but the part that is the whole object does (AWS: get-object-part in test_get_object_part_checksum)
    done = _single_part_full_object(mp, mp_bucket, algorithm)
    part = mp.head_object(Bucket=mp_bucket, Key="one", PartNumber=1, ChecksumMode="ENABLED")
    assert (part[f"Checksum{algorithm}"], part["ChecksumType"]) == (done[f"Checksum{algorithm}"], "FULL_OBJECT")


def _single_part_full_object(mp: Any, bucket: str, algorithm: str) -> dict[str, Any]:
    upload_id = mp.create_multipart_upload(Bucket=bucket, Key="one", ChecksumAlgorithm=algorithm,
                                           ChecksumType="FULL_OBJECT")["UploadId"]
    part = mp.upload_part(Bucket=bucket, Key="one", UploadId=upload_id, PartNumber=1, Body=PARTS[0],
                          ChecksumAlgorithm=algorithm)
    return mp.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"], f"Checksum{algorithm}": part[f"Checksum{algorithm}"]}]})


def test_full_object_wrong_whole_checksum_is_bad_digest(mp: Any, mp_bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        _multipart(mp, mp_bucket, "f", "CRC32", "FULL_OBJECT", ChecksumCRC32=checksum("CRC32", b"x"))
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("BadDigest", 400)
    assert error(e.value)["Message"] == "The crc32 you specified did not match the calculated checksum."
    assert absent(mp, mp_bucket, "f")


def test_composite_whole_checksum_with_or_without_count(mp: Any, mp_bucket: str) -> None:
    expected = composite("SHA256", PARTS)
    done = _multipart(mp, mp_bucket, "a", "SHA256", ChecksumSHA256=expected.partition("-")[0])
    assert done["ChecksumSHA256"] == expected
    with pytest.raises(ClientError) as e:
        _multipart(mp, mp_bucket, "b", "SHA256", ChecksumSHA256=expected.partition("-")[0] + "-2")
    assert error(e.value)["Code"] == "BadDigest"


def test_default_multipart_is_crc64nvme_full_object(mp: Any, mp_bucket: str) -> None:
    seen = sent_headers(mp)
    done = _multipart(mp, mp_bucket, "d", None)
    assert "x-amz-checksum-crc32" in seen[-2]  # boto3 sent its default CRC32 with the parts
    assert done["ChecksumCRC64NVME"] == checksum("CRC64NVME", b"".join(PARTS))
    assert done["ChecksumType"] == "FULL_OBJECT"
    got = mp.get_object(Bucket=mp_bucket, Key="d", ChecksumMode="ENABLED")
    assert got["ChecksumCRC64NVME"] == done["ChecksumCRC64NVME"] and got["Body"].read() == b"".join(PARTS)


def test_list_parts_and_uploads_show_checksums(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="l", ChecksumAlgorithm="SHA1")["UploadId"]
    mp.upload_part(Bucket=mp_bucket, Key="l", UploadId=upload_id, PartNumber=1, Body=PARTS[0],
                   ChecksumAlgorithm="SHA1")
    listed = mp.list_parts(Bucket=mp_bucket, Key="l", UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == "SHA1" and listed["ChecksumType"] == "COMPOSITE"
    assert listed["Parts"][0]["ChecksumSHA1"] == checksum("SHA1", PARTS[0])
    upload = mp.list_multipart_uploads(Bucket=mp_bucket)["Uploads"][0]
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == ("SHA1", "COMPOSITE")


def test_upload_part_copy_gets_the_upload_checksum(mp: Any, mp_bucket: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="src", Body=PARTS[0])
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="pc", ChecksumAlgorithm="CRC32C")["UploadId"]
    copied = mp.upload_part_copy(Bucket=mp_bucket, Key="pc", UploadId=upload_id, PartNumber=1,
                                 CopySource={"Bucket": mp_bucket, "Key": "src"})
    assert copied["CopyPartResult"]["ChecksumCRC32C"] == checksum("CRC32C", PARTS[0])


@pytest.mark.parametrize("create, message", [
    ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"},
     "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
    ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
    ({"ChecksumType": "FULL_OBJECT"},
     "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."),
    ({"ChecksumAlgorithm": "CRC32", "ChecksumType": "PARTIAL"}, "Value for x-amz-checksum-type header is invalid."),
    ({"ChecksumAlgorithm": "MD4"}, "Checksum algorithm provided is unsupported. Please try again with any of the "
                                   "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"),
])
def test_create_refusals(mp: Any, mp_bucket: str, create: dict[str, str], message: str) -> None:
    with pytest.raises(ClientError) as e:
        mp.create_multipart_upload(Bucket=mp_bucket, Key="k", **create)
    assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["Message"]) == \
        ("InvalidRequest", 400, message)
    assert mp.list_multipart_uploads(Bucket=mp_bucket).get("Uploads", []) == []


def test_upload_part_must_name_the_upload_algorithm(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    with pytest.raises(ClientError) as e:  # boto3 sends its default CRC32
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=PARTS[0])
    assert (error(e.value)["Code"], error(e.value)["Message"]) == (
        "InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: "
                          "crc32")
    assert mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id).get("Parts", []) == []
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=PARTS[0],
                       ChecksumSHA256=checksum("SHA256", b"x"))
    assert error(e.value)["Code"] == "BadDigest"


def _one_part_upload(client: Any, bucket: str, key: str, **create: Any) -> tuple[str, dict[str, Any]]:
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    extra = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
    part = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=PARTS[2], **extra)
    return upload_id, part


def test_complete_refusals(mp: Any, mp_bucket: str) -> None:
    def complete(upload_id: str, parts: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
        with pytest.raises(ClientError) as e:
            mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts}, **kw)
        return error(e.value)

    upload_id, part = _one_part_upload(mp, mp_bucket, "k", ChecksumAlgorithm="CRC32")
    err = complete(upload_id, [{"PartNumber": 1, "ETag": part["ETag"]}])
    assert (err["Code"], err["Message"]) == ("InvalidRequest", "The upload was created using a crc32 checksum. The "
                                             "complete request must include the checksum for each part. It was "
                                             "missing for part 1 in the request.")
    # a wrong part checksum of the upload's algorithm (AWS: complete-multipart-wrong-parts-checksum) ...
    err = complete(upload_id, [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": checksum("CRC32", b"x")}])
    assert (err["Code"], err["PartNumber"], err["UploadId"]) == ("InvalidPart", "1", upload_id)
    # ... and one of another algorithm (complete-part-with-checksum)
    err = complete(upload_id, [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": checksum("SHA256", b"x")}])
    assert (err["Code"], err["Message"]) == ("BadDigest", "The sha256 you specified for part 1 did not match what we "
                                                          "received.")
    assert "PartNumber" not in err and "UploadId" not in err
    for sent in ({"ChecksumCRC32": "nope"},
                 {"ChecksumCRC32": part["ChecksumCRC32"], "ChecksumSHA1": checksum("SHA1", PARTS[2])}):
        err = complete(upload_id, [{"PartNumber": 1, "ETag": part["ETag"], **sent}])
        assert (err["Code"], err["Message"], err["ArgumentName"]) == (
            "InvalidArgument", "Invalid Base64 or multiple checksums present in request", "Checksum")
    err = complete(upload_id, [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}],
                   ChecksumType="FULL_OBJECT")
    assert err["Message"] == ("The upload was created using the COMPOSITE checksum mode. The complete request "
                              "must use the same checksum mode.")
    assert absent(mp, mp_bucket, "k")

    plain_id, plain_part = _one_part_upload(mp, mp_bucket, "k")  # created without an algorithm
    err = complete(plain_id, [{"PartNumber": 1, "ETag": plain_part["ETag"],
                               "ChecksumCRC32": plain_part["ChecksumCRC32"]}])
    assert (err["Code"], err["Status"]) == ("InvalidPart", 400)
    assert absent(mp, mp_bucket, "k")


def test_boto3_transfer_manager_multipart(s3: Any, bucket: str) -> None:
    """upload_fileobj splits a big body into parts with boto3's default checksums, then downloads it back."""
    import io

    from boto3.s3.transfer import TransferConfig

    mib = 1024 * 1024
    data = body(10 * mib + 123, 9)
    config = TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big", Config=config)
    # s3transfer creates the upload with CRC32 (so COMPOSITE) and lists each part's CRC32 at Complete
    head = s3.head_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    chunks = [data[i:i + 5 * mib] for i in range(0, len(data), 5 * mib)]
    assert head["ChecksumCRC32"] == composite("CRC32", chunks) and head["ChecksumType"] == "COMPOSITE"
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big", out)
    assert out.getvalue() == data
