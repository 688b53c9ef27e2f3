"""Error documents as S3 sends them, checked against the bodies recorded on
AWS (LocalStack's AWS-validated snapshots, tests/aws/services/s3/*.snapshot.json,
and real-S3 bodies quoted in public issues): Code, Message, the error's own
fields, RequestId and HostId, and no <Resource>, whatever the documentation's
example shows."""
from __future__ import annotations

import base64
import hashlib
from typing import Any

from lxml import etree

from rawhttp import request
from server import ServerProcess


def children(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    assert root.tag == "Error"
    return [c.tag for c in root]


def test_error_document_shape(server: ServerProcess, bucket: str) -> None:
    # scality/cloudserver#403 quotes AWS's answer to encoding-type=foo: these children, in this order
    reply = request(server.endpoint, "GET", f"/{bucket}?encoding-type=foo")
    assert reply.status == 400
    assert children(reply.body) == ["Code", "Message", "ArgumentName", "ArgumentValue", "RequestId", "HostId"]
    err = reply.error()
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("encoding-type", "foo")
    assert err["RequestId"] == reply.headers["x-amz-request-id"]
    assert err["HostId"] == reply.headers["x-amz-id-2"]
    missing = request(server.endpoint, "GET", f"/{bucket}/missing")
    assert children(missing.body) == ["Code", "Message", "Key", "RequestId", "HostId"]
    no_bucket = request(server.endpoint, "GET", "/no-such-bucket-for-shape/k")
    assert children(no_bucket.body) == ["Code", "Message", "BucketName", "RequestId", "HostId"]


def test_host_id_differs_per_request(server: ServerProcess, bucket: str) -> None:
    ids = {request(server.endpoint, "GET", f"/{bucket}/missing").headers["x-amz-id-2"] for _ in range(3)}
    assert len(ids) == 3
    # S3's x-amz-id-2 is a base64 token of about 76 characters
    assert all(len(base64.b64decode(i)) >= 48 for i in ids)


def test_invalid_digest(server: ServerProcess, bucket: str) -> None:
    # test_s3_invalid_content_md5 (AWS): "was invalid." and the header echoed as sent
    for bad in ("__invalid__", "MTIz"):
        reply = request(server.endpoint, "PUT", f"/{bucket}/k", b"hello", {"Content-MD5": bad})
        err = reply.error()
        assert (reply.status, err["Code"]) == (400, "InvalidDigest")
        assert err["Message"] == "The Content-MD5 you specified was invalid."
        assert err["Content-MD5"] == bad


def test_bad_digest(server: ServerProcess, bucket: str) -> None:
    # the expected digest in hex, the calculated one in base64 (AWS recording md5-error-bad-digest)
    wrong = hashlib.md5(b"other").digest()
    reply = request(server.endpoint, "PUT", f"/{bucket}/k", b"hello",
                    {"Content-MD5": base64.b64encode(wrong).decode()})
    err = reply.error()
    assert (reply.status, err["Code"]) == (400, "BadDigest")
    assert err["Message"] == "The Content-MD5 you specified did not match what we received."
    assert err["ExpectedDigest"] == wrong.hex()
    assert err["CalculatedDigest"] == base64.b64encode(hashlib.md5(b"hello").digest()).decode()


def test_error_fields_as_recorded(server: ServerProcess, s3: Any, bucket: str) -> None:
    """One request per error family, each answered with the fields AWS recorded."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"12345678")
    cases = [
        # (method, path, headers, status, code, fields that must be present exactly)
        ("GET", f"/{bucket}/k", {"Range": "bytes=1024-4096"}, 416, "InvalidRange",
         {"Message": "The requested range is not satisfiable", "RangeRequested": "bytes=1024-4096",
          "ActualObjectSize": "8"}),
        ("GET", f"/{bucket}/k?partNumber=10", {}, 416, "InvalidPartNumber",
         {"Message": "The requested partnumber is not satisfiable", "PartNumberRequested": "10",
          "ActualPartCount": "1"}),
        ("GET", f"/{bucket}/k", {"If-Match": '"nope"'}, 412, "PreconditionFailed",
         {"Message": "At least one of the pre-conditions you specified did not hold", "Condition": "If-Match"}),
        ("DELETE", f"/{bucket}/k?uploadId=nope", {}, 404, "NoSuchUpload",
         {"Message": "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                     "been aborted or completed.", "UploadId": "nope"}),
        ("PUT", f"/{bucket}/k", {"x-amz-storage-class": "FakeClass"}, 400, "InvalidStorageClass",
         {"Message": "The storage class you specified is not valid", "StorageClassRequested": "FakeClass"}),
        ("PUT", f"/{bucket}/k", {"If-None-Match": '"abc"'}, 501, "NotImplemented",
         {"Message": "A header you provided implies functionality that is not implemented",
          "Header": "If-None-Match",
          "additionalMessage": "We don't accept the provided value of If-None-Match header for this API"}),
        ("PUT", "/TESTUPPERCASE-x", {}, 400, "InvalidBucketName", {"BucketName": "TESTUPPERCASE-x"}),
    ]
    for method, path, headers, status, code, fields in cases:
        reply = request(server.endpoint, method, path, b"x" if method == "PUT" else b"", headers)
        err = reply.error()
        assert (reply.status, err["Code"]) == (status, code), (path, headers, reply.body)
        assert {k: err.get(k) for k in fields} == fields, code
        assert "Resource" not in err
