"""Objects: put (digests, metadata), get (ranges, conditionals, overrides),
head, delete, multi-delete and copy."""
from __future__ import annotations

import base64
import datetime as dt
import email.utils
import gzip
import hashlib
import http.client
import socket
import zlib
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.exceptions import ClientError
from lxml import etree

from conftest import fresh_bucket_name, publish
from rawhttp import request, signed_headers, strip_ns, xml
from server import ServerProcess

BODY = bytes(range(100))  # 100 distinct bytes: any wrong offset shows


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def absent(s3: Any, bucket: str, key: str) -> bool:
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key=key)
    return error_of(exc) == ("404", 404)


# -- PutObject ----------------------------------------------------------------

def test_etag_is_quoted_md5(s3: Any, bucket: str) -> None:
    resp = s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    assert resp["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == resp["ETag"]
    assert s3.get_object(Bucket=bucket, Key="k")["ETag"] == resp["ETag"]


def test_empty_object(s3: Any, bucket: str) -> None:
    resp = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert resp["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0


def test_overwrite_replaces(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"a": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second" and got["Metadata"] == {}


def test_content_md5_accepted(s3: Any, bucket: str) -> None:
    resp = s3.put_object(Bucket=bucket, Key="k", Body=BODY, ContentMD5=md5_b64(BODY))
    assert resp["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'


def test_content_md5_mismatch_is_bad_digest(s3: Any, server: ServerProcess, bucket: str) -> None:
    raw = request(server.endpoint, "PUT", f"/{bucket}/k", body=BODY, headers={"Content-MD5": md5_b64(b"other")})
    assert raw.status == 400
    assert raw.error()["Code"] == "BadDigest"
    assert absent(s3, bucket, "k")


@pytest.mark.parametrize("digest", ["not-base64!", base64.b64encode(b"short").decode(), ""])
def test_malformed_content_md5_is_invalid_digest(s3: Any, server: ServerProcess, bucket: str,
                                                 digest: str) -> None:
    raw = request(server.endpoint, "PUT", f"/{bucket}/k", body=BODY, headers={"Content-MD5": digest})
    assert raw.status == 400
    assert raw.error()["Code"] == "InvalidDigest"
    assert absent(s3, bucket, "k")


HEADERS = dict(ContentType="text/plain; charset=utf-8", ContentEncoding="gzip",
               ContentDisposition='attachment; filename="a b.txt"', ContentLanguage="de-CH",
               CacheControl="max-age=3600, public")
EXPIRES = "Wed, 21 Oct 2037 07:28:00 GMT"


def test_metadata_kept_and_returned(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="doc", Body=BODY, Metadata={"Color": "blue", "n": "1"},
                  Expires=email.utils.parsedate_to_datetime(EXPIRES), **HEADERS)
    for resp in (s3.get_object(Bucket=bucket, Key="doc"), s3.head_object(Bucket=bucket, Key="doc")):
        for name, value in HEADERS.items():
            assert resp[name] == value, name
        assert resp["Metadata"] == {"color": "blue", "n": "1"}
        assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == EXPIRES
        assert resp["ContentLength"] == len(BODY)
        assert resp["AcceptRanges"] == "bytes"
        assert resp["LastModified"] is not None
    raw = request(server.endpoint, "HEAD", f"/{bucket}/doc")
    assert raw.status == 200 and raw.body == b""
    assert raw.headers["x-amz-meta-color"] == "blue"
    assert raw.headers["Content-Length"] == str(len(BODY))
    assert email.utils.parsedate_to_datetime(raw.headers["Last-Modified"]) is not None


def test_compressed_body_is_stored_as_sent(s3: Any, bucket: str) -> None:
    compressed = gzip.compress(b"hello " * 1000)
    s3.put_object(Bucket=bucket, Key="k.gz", Body=compressed, ContentEncoding="gzip")
    got = s3.get_object(Bucket=bucket, Key="k.gz")
    assert got["ContentEncoding"] == "gzip" and got["ContentLength"] == len(compressed)
    assert got["Body"].read() == compressed
    assert got["ETag"] == f'"{hashlib.md5(compressed).hexdigest()}"'


def test_content_encoding_kept_verbatim(s3: Any, server: ServerProcess, bucket: str) -> None:
    # Content-Encoding is the object's metadata: kept byte for byte (ceph/ceph#17838: "AWS seems to persist
    # all CE values except aws-chunked"); a plain PUT that names aws-chunked keeps it (versity/versitygw#2400,
    # verified against S3); only a streaming upload loses the token (tests/test_chunked.py)
    for key, value in (("two", "deflate, gzip"), ("plain-chunked", "aws-chunked"), ("mixed", "gzip, aws-chunked")):
        reply = request(server.endpoint, "PUT", f"/{bucket}/{key}", b"x", {"Content-Encoding": value})
        assert reply.status == 200, reply.body
        assert s3.head_object(Bucket=bucket, Key=key)["ContentEncoding"] == value
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x"


def test_chunked_transfer_without_length_is_not_implemented(server: ServerProcess, bucket: str) -> None:
    # S3 answers a PUT sent with Transfer-Encoding: chunked and no length 501 naming the header
    # (aws/aws-sdk-js-v3#3403, Automattic/knox#43, ikod/dlang-requests#64)
    reply = chunked_put(server, f"/{bucket}/k", [b"hello ", b"chunked"])
    assert reply[0] == 501
    root = etree.fromstring(reply[1])
    assert (root.findtext("Code"), root.findtext("Header")) == ("NotImplemented", "Transfer-Encoding")
    assert root.findtext("Message") == "A header you provided implies functionality that is not implemented"
    assert request(server.endpoint, "HEAD", f"/{bucket}/k").status == 404


def chunked_put(server: ServerProcess, path: str, chunks: list[bytes]) -> tuple[int, bytes]:
    """A signed PUT whose body goes HTTP-chunked, without Content-Length."""
    headers = signed_headers("PUT", server.endpoint + path, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("PUT", path, body=iter(chunks), headers={**headers, "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_user_metadata_rfc2047(s3: Any, server: ServerProcess, bucket: str) -> None:
    """Encoded-words are decoded when written; non-ASCII values come back encoded, Q unless they hold
    control or replacement characters (then B), plain ASCII as is (AWS recording
    test_user_metadata_rfc2047_encoded: these inputs and outputs)."""
    sent = {
        "non-ascii": "=?UTF-8?Q?test=5F=E2=80=94=5Ffile%E2%80%94=5F=C3=A9=5F2=3F.pdf?=",
        "non-ascii-2": "=?UTF-8?B?w4RNw4Raw5XDkSBTMw==?=",  # B in, Q out
        "non-ascii-binary": "=?UTF-8?Q?=00=01=02=03?=",  # Q in, B out
        "replacement-chars": "=?UTF-8?B?77+977+977+977+977+977+977+9?=",
        "fake-encoded": "=?UTF-8?Q?actually-ascii?=",
        "asciib64-encoded": "=?UTF-8?B?YWJj?=",
        "safe-chars": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "not-encoded": "=?oops",
    }
    returned = {
        "non-ascii": "=?UTF-8?Q?test=5F=E2=80=94=5Ffile%E2%80%94=5F=C3=A9=5F2=3F.pdf?=",
        "non-ascii-2": "=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=",
        "non-ascii-binary": "=?UTF-8?B?AAECAw==?=",
        "replacement-chars": "=?UTF-8?B?77+977+977+977+977+977+977+9?=",
        "fake-encoded": "actually-ascii",
        "asciib64-encoded": "abc",
        "safe-chars": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "not-encoded": "=?oops",
    }
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata=sent)
    assert s3.head_object(Bucket=bucket, Key="m")["Metadata"] == returned
    assert s3.get_object(Bucket=bucket, Key="m")["Metadata"] == returned
    # every write path decodes: CreateMultipartUpload and CopyObject with REPLACE
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "m"}, MetadataDirective="REPLACE",
                   Metadata={"fake-encoded": sent["fake-encoded"], "non-ascii-2": sent["non-ascii-2"]})
    assert s3.head_object(Bucket=bucket, Key="c")["Metadata"] == {
        "fake-encoded": "actually-ascii", "non-ascii-2": returned["non-ascii-2"]}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"asciib64-encoded": "=?UTF-8?B?YWJj?="})
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="mp")["Metadata"] == {"asciib64-encoded": "abc"}


def test_header_value_not_utf8_is_refused(server: ServerProcess, bucket: str) -> None:
    # raw bytes that are not UTF-8 in a stored header: a 400 and nothing stored, never a 500
    for name in ("x-amz-meta-a", "Content-Disposition"):
        head = signed_headers("PUT", f"{server.endpoint}/{bucket}/k", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        lines = "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"PUT /%s/k HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (bucket.encode(), server.port) + lines
                         + b"Content-Length: 1\r\n"
                         + name.encode() + b": caf\xe9\r\nConnection: close\r\n\r\nv")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer
        # (an unsigned x-amz-* header may be refused before it is read; Content-Disposition needs no signing)
        assert name.startswith("x-amz-") or b"<Code>InvalidArgument</Code>" in answer
    assert request(server.endpoint, "HEAD", f"/{bucket}/k").status == 404


def test_default_content_type(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_user_metadata_limit(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"k": "v" * 2047})  # 2048 bytes: allowed
    assert len(s3.head_object(Bucket=bucket, Key="k")["Metadata"]["k"]) == 2047
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"x", Metadata={"k": "v" * 2048})
    assert error_of(exc) == ("MetadataTooLarge", 400)
    assert exc.value.response["Error"]["MaxSizeAllowed"] == "2048"
    assert exc.value.response["Error"]["Size"] == "2049"
    assert absent(s3, bucket, "k2")


def test_conditional_put(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert error_of(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert error_of(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=first["ETag"])
    assert error_of(exc) == ("NoSuchKey", 404)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"three"
    assert absent(s3, bucket, "absent")


@pytest.mark.parametrize("conditions, header, detail", [
    # AWS recordings put-obj-if-match-star-value, put-obj-both-precondition, put-obj-if-none-match-bad-value
    ({"IfMatch": "*"}, "If-Match", "We don't accept the provided value of If-Match header for this API"),
    ({"IfMatch": "*", "IfNoneMatch": "*"}, "If-Match,If-None-Match",
     "Multiple conditional request headers present in the request"),
    ({"IfMatch": '"abc"', "IfNoneMatch": "*"}, "If-Match,If-None-Match",
     "Multiple conditional request headers present in the request"),
    ({"IfNoneMatch": '"abc"'}, "If-None-Match",
     "We don't accept the provided value of If-None-Match header for this API"),
])
def test_conditional_put_forms_not_implemented(s3: Any, bucket: str, conditions: dict[str, str], header: str,
                                               detail: str) -> None:
    s3.put_object(Bucket=bucket, Key="present", Body=b"1")
    for key in ("present", "absent"):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key=key, Body=b"2", **conditions)
        assert error_of(exc) == ("NotImplemented", 501)
        err = exc.value.response["Error"]
        assert (err["Header"], err["additionalMessage"]) == (header, detail)
    assert s3.get_object(Bucket=bucket, Key="present")["Body"].read() == b"1"
    assert absent(s3, bucket, "absent")


def test_anonymous_reads_cannot_override_response_headers(s3: Any, server: ServerProcess, bucket: str) -> None:
    """A public object read anonymously keeps its own headers: response-*
    needs a signed request (AWS GetObject docs), else anyone could serve it as text/html."""
    publish(s3, bucket, ["s3:GetObject"])
    s3.put_object(Bucket=bucket, Key="page", Body=b"<script>", ContentType="text/plain")
    parts = urlsplit(server.endpoint)
    for method in ("GET", "HEAD"):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request(method, f"/{bucket}/page?response-content-type=text/html")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status == 400, body
        if method == "GET":  # HEAD answers carry no body
            assert b"<Code>InvalidRequest</Code>" in body
            assert b"Request specific response headers cannot be used for anonymous GET requests." in body
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", f"/{bucket}/page")
    assert conn.getresponse().getheader("Content-Type") == "text/plain"
    conn.close()
    signed = s3.get_object(Bucket=bucket, Key="page", ResponseContentType="text/html")
    assert signed["ContentType"] == "text/html"


def test_conditional_delete(s3: Any, bucket: str) -> None:
    """DeleteObject with If-Match deletes only the version it names (AWS
    recording delete-obj-if-match); DeleteObjects takes an ETag per key."""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="k", IfMatch="badvalue")
    assert error_of(exc) == ("PreconditionFailed", 412)
    assert exc.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="absent", IfMatch="*")
    assert error_of(exc) == ("NoSuchKey", 404)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)
    assert absent(s3, bucket, "k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    s3.delete_object(Bucket=bucket, Key="k", IfMatch="*")
    assert absent(s3, bucket, "k")

    kept = s3.put_object(Bucket=bucket, Key="a", Body=b"a")["ETag"]
    gone = s3.put_object(Bucket=bucket, Key="b", Body=b"b")["ETag"]
    reply = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "ETag": gone}, {"Key": "b", "ETag": gone}]})
    assert [d["Key"] for d in reply["Deleted"]] == ["b"]
    assert [(e["Key"], e["Code"]) for e in reply["Errors"]] == [("a", "PreconditionFailed")]
    assert s3.get_object(Bucket=bucket, Key="a")["ETag"] == kept


@pytest.mark.parametrize("conditions, header", [
    # AWS recordings delete-obj-if-match-last-modified, -size, -all: directory buckets only
    ({"IfMatchLastModifiedTime": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)},
     "x-amz-if-match-last-modified-time"),
    ({"IfMatchSize": 10}, "x-amz-if-match-size"),
    ({"IfMatchSize": 10, "IfMatch": "badvalue",
      "IfMatchLastModifiedTime": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)},
     "x-amz-if-match-last-modified-time"),
])
def test_directory_bucket_delete_conditions_not_implemented(s3: Any, bucket: str, conditions: dict[str, Any],
                                                            header: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=bucket, Key="k", **conditions)
    assert error_of(exc) == ("NotImplemented", 501)
    assert exc.value.response["Error"]["Header"] == header
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


# -- GetObject: Range ---------------------------------------------------------

@pytest.mark.parametrize("header,first,last", [
    ("bytes=0-9", 0, 9),
    ("bytes=90-", 90, 99),
    ("bytes=-10", 90, 99),
    ("bytes=95-500", 95, 99),    # a last byte past the end is clamped
    ("bytes=-500", 0, 99),       # a suffix longer than the object is all of it
    ("bytes=99-99", 99, 99),
    ("bytes=0-0", 0, 0),
])
def test_range(s3: Any, server: ServerProcess, bucket: str, header: str, first: int, last: int) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    got = s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {first}-{last}/100"
    assert got["ContentLength"] == last - first + 1
    assert got["Body"].read() == BODY[first:last + 1]
    head = s3.head_object(Bucket=bucket, Key="k", Range=header)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == last - first + 1 and head["ContentRange"] == f"bytes {first}-{last}/100"


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=500-600"])
def test_range_beyond_size_is_invalid_range(s3: Any, server: ServerProcess, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    raw = request(server.endpoint, "GET", f"/{bucket}/k", headers={"Range": header})
    assert raw.status == 416
    err = raw.error()
    assert err["Code"] == "InvalidRange"
    assert err["ActualObjectSize"] == "100" and err["RangeRequested"] == header
    assert raw.headers["Content-Range"] == "bytes */100"
    head = request(server.endpoint, "HEAD", f"/{bucket}/k", headers={"Range": header})
    assert head.status == 416 and head.body == b""


@pytest.mark.parametrize("header", ["bytes=0-", "bytes=0-0", "bytes=0-10"])
def test_range_on_empty_object_is_invalid_range(s3: Any, bucket: str, header: str) -> None:
    # first-last forms on a zero-byte object: 416 (minio-java#636, run against AWS)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="empty", Range=header)
    assert error_of(exc) == ("InvalidRange", 416)


@pytest.mark.parametrize("header", ["bytes=-1", "bytes=-512"])
def test_suffix_range_on_empty_object_is_the_empty_object(s3: Any, server: ServerProcess, bucket: str,
                                                          header: str) -> None:
    # a suffix range is satisfiable whatever the length (RFC 9110 14.1.2); with no byte to send S3
    # answers 200 with the empty body (apache/arrow-rs-object-store#846), never "bytes 0--1/0"
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    for method in ("GET", "HEAD"):
        raw = request(server.endpoint, method, f"/{bucket}/empty", headers={"Range": header})
        assert (raw.status, raw.body) == (200, b""), method
        assert raw.headers["Content-Length"] == "0" and "Content-Range" not in raw.headers
    # bytes=-0 asks for nothing: unsatisfiable whatever the size (AWS recording get--0)
    raw = request(server.endpoint, "GET", f"/{bucket}/empty", headers={"Range": "bytes=-0"})
    assert (raw.status, raw.error()["Code"]) == (416, "InvalidRange")


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=abc", "items=0-5", "bytes=0-1,4-5"])
def test_unusable_range_sends_whole_object(s3: Any, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    got = s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == BODY and "ContentRange" not in got


# -- GetObject / HeadObject: conditionals --------------------------------------

def _day(ts: Any, days: int) -> str:
    return email.utils.format_datetime((ts + dt.timedelta(days=days)).astimezone(dt.timezone.utc), usegmt=True)


@pytest.fixture
def stored(s3: Any, bucket: str) -> dict[str, str]:
    """An object and the values conditionals compare against."""
    resp = s3.put_object(Bucket=bucket, Key="c", Body=BODY)
    head = s3.head_object(Bucket=bucket, Key="c")
    lm = head["LastModified"]
    return {"etag": resp["ETag"], "other": '"0123456789abcdef0123456789abcdef"',
            "lm": head["ResponseMetadata"]["HTTPHeaders"]["last-modified"],
            "past": _day(lm, -1), "future": _day(lm, 1)}


CONDITIONS = [
    # (headers, expected status) -- values name keys of `stored`
    ({"If-Match": "etag"}, 200),
    ({"If-Match": "other"}, 412),
    ({"If-Match": "*"}, 200),
    ({"If-None-Match": "etag"}, 304),
    ({"If-None-Match": "other"}, 200),
    ({"If-None-Match": "*"}, 304),
    ({"If-Modified-Since": "past"}, 200),
    ({"If-Modified-Since": "lm"}, 304),
    ({"If-Unmodified-Since": "past"}, 412),
    ({"If-Unmodified-Since": "lm"}, 200),
    # If-Match true makes If-Unmodified-Since irrelevant (S3 documents this pair)
    ({"If-Match": "etag", "If-Unmodified-Since": "past"}, 200),
    ({"If-Match": "other", "If-Unmodified-Since": "future"}, 412),
    # If-None-Match false (the ETag matches) wins over If-Modified-Since true
    ({"If-None-Match": "etag", "If-Modified-Since": "past"}, 304),
    # If-None-Match present: If-Modified-Since is ignored (RFC 7232 section 6)
    ({"If-None-Match": "other", "If-Modified-Since": "lm"}, 200),
    # 412 conditions are evaluated before 304 ones
    ({"If-Match": "other", "If-None-Match": "etag"}, 412),
    ({"If-Match": "etag", "If-None-Match": "etag"}, 304),
    ({"If-Unmodified-Since": "past", "If-Modified-Since": "lm"}, 412),
    ({"If-Match": "etag", "If-Modified-Since": "lm"}, 304),
    # dates that do not parse are ignored
    ({"If-Modified-Since": "yesterday"}, 200),
    ({"If-Unmodified-Since": "not a date"}, 200),
]


@pytest.mark.parametrize("conditions,status", CONDITIONS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_read_conditionals(server: ServerProcess, bucket: str, stored: dict[str, str], method: str,
                           conditions: dict[str, str], status: int) -> None:
    headers = {name: stored.get(value, value) for name, value in conditions.items()}
    raw = request(server.endpoint, method, f"/{bucket}/c", headers=headers)
    assert raw.status == status, raw.body
    if status == 200:
        assert raw.body == (BODY if method == "GET" else b"")
    elif status == 304:
        assert raw.body == b""
        assert raw.headers["ETag"] == stored["etag"]
        assert raw.headers["Last-Modified"] == stored["lm"]
    elif method == "GET":
        assert raw.error()["Code"] == "PreconditionFailed"
    else:
        assert raw.body == b""


def test_future_if_modified_since_is_ignored(s3: Any, bucket: str) -> None:
    # AWS: obj-ignore-future-modified-since (GET and HEAD), and the copy source's alike
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=future)["Body"].read() == BODY
    assert s3.head_object(Bucket=bucket, Key="k", IfModifiedSince=future)["ContentLength"] == len(BODY)
    s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"}, CopySourceIfModifiedSince=future)
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == BODY


def test_conditionals_through_boto3(s3: Any, bucket: str, stored: dict[str, str]) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch=stored["other"])
    assert error_of(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=stored["etag"])
    assert error_of(exc) == ("304", 304)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=stored["etag"].strip('"'))["Body"].read() == BODY


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=BODY, ContentType="text/plain", CacheControl="no-cache")
    got = s3.get_object(Bucket=bucket, Key="k", ResponseContentType="application/json",
                        ResponseContentDisposition="attachment; filename=x.json",
                        ResponseCacheControl="max-age=60", ResponseContentEncoding="identity",
                        ResponseContentLanguage="fr", ResponseExpires=email.utils.parsedate_to_datetime(EXPIRES))
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment; filename=x.json"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentLanguage"] == "fr"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == EXPIRES
    assert got["Body"].read() == BODY
    # the stored headers are untouched
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "text/plain"


def test_missing_key(s3: Any, server: ServerProcess, bucket: str) -> None:
    raw = request(server.endpoint, "GET", f"/{bucket}/no/such%20key")
    assert raw.status == 404
    err = raw.error()
    assert err["Code"] == "NoSuchKey"
    assert err["Message"] == "The specified key does not exist."
    assert err["Key"] == "no/such key"
    assert "Resource" not in err
    assert err["RequestId"] == raw.headers["x-amz-request-id"]
    head = request(server.endpoint, "HEAD", f"/{bucket}/no/such%20key")
    assert head.status == 404 and head.body == b""
    assert head.headers["x-amz-request-id"] and head.headers["x-amz-id-2"]
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_of(exc) == ("NoSuchKey", 404)


def test_missing_bucket_for_objects(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="no-such-bucket-x", Key="k", Body=b"x")
    assert error_of(exc) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket-x", Key="k")
    assert error_of(exc) == ("NoSuchBucket", 404)


# -- Expect: 100-continue ----------------------------------------------------

def test_expect_100_continue(s3: Any, server: ServerProcess, bucket: str) -> None:
    body = b"continued body"
    path = f"/{bucket}/expect"
    headers = signed_headers("PUT", server.endpoint + path, {"Content-Length": str(len(body)),
                                                             "Expect": "100-continue"})
    parts = urlsplit(server.endpoint)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = f"PUT {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final and len(final) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                break
            final += chunk
    assert final.startswith(b"HTTP/1.1 200"), final
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == body


def test_file_upload_with_expect(s3: Any, bucket: str, tmp_path: Any) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB from a file: boto3 sends Expect: 100-continue
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key="file", Body=f)
    assert s3.get_object(Bucket=bucket, Key="file")["Body"].read() == data


# -- DeleteObject / DeleteObjects ---------------------------------------------

def test_delete_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert absent(s3, bucket, "k")
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket="no-such-bucket-x", Key="k")
    assert error_of(exc) == ("NoSuchBucket", 404)


def test_delete_objects(s3: Any, bucket: str) -> None:
    keys = ["a", "b/c", "d e", "ü+%"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys + ["never"]]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys + ["never"])
    assert "Errors" not in resp
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_keys_are_verbatim(s3: Any, bucket: str) -> None:
    for key in ("a", " a ", "a\n", "\ta"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": " a "}, {"Key": "a\n"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == [" a ", "a\n"]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["\ta", "a"]


def test_delete_objects_quiet(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}], "Quiet": True})
    assert "Deleted" not in resp and "Errors" not in resp
    assert absent(s3, bucket, "a")


def test_delete_objects_reports_per_key_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x")
    long_key = "k" * 1025
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "ok"}, {"Key": long_key}], "Quiet": True})
    assert [e["Key"] for e in resp["Errors"]] == [long_key]
    assert resp["Errors"][0]["Code"] == "KeyTooLongError"
    assert resp["Errors"][0]["Message"]
    assert absent(s3, bucket, "ok")


def test_delete_objects_bad_version_id_is_no_such_version(s3: Any, server: ServerProcess, bucket: str) -> None:
    # AWS: delete-object-wrong-version-id (DeleteObjects), delete-with-bad-version (DeleteObject)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    bad = "HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD"
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": bad}]})
    assert resp["Errors"] == [{"Key": "k", "VersionId": bad, "Code": "NoSuchVersion",
                               "Message": "The specified version does not exist."}]
    assert "Deleted" not in resp
    reply = request(server.endpoint, "DELETE", f"/{bucket}/k?versionId={bad}")
    err = reply.error()
    assert (reply.status, err["Code"], err["Message"]) == (400, "InvalidArgument", "Invalid version id specified")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("versionId", bad)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_delete_objects_thousand_keys(s3: Any, bucket: str) -> None:
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)]})
    assert len(resp["Deleted"]) == 1000


def _delete_doc(keys: list[str]) -> bytes:
    return ("<Delete>" + "".join(f"<Object><Key>{k}</Key></Object>" for k in keys) + "</Delete>").encode()


@pytest.mark.parametrize("body", [
    b"this is not xml",
    b"",
    b"<Delete></Delete>",
    b"<Delete><Quiet>true</Quiet></Delete>",
    b"<Remove><Object><Key>a</Key></Object></Remove>",
    b"<Delete><Object><VersionId>x</VersionId></Object></Delete>",
    b"<Delete><Object><Key>k1</Key></Object><Object><VersionId>x</VersionId></Object></Delete>",
    _delete_doc([f"k{i}" for i in range(1001)]),
])
def test_delete_objects_malformed(s3: Any, server: ServerProcess, bucket: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="k1", Body=b"x")
    raw = request(server.endpoint, "POST", f"/{bucket}?delete", body=body,
                  headers={"Content-MD5": md5_b64(body)})
    assert raw.status == 400, raw.body
    assert raw.error()["Code"] == "MalformedXML"
    assert s3.head_object(Bucket=bucket, Key="k1")["ContentLength"] == 1  # nothing deleted


def test_delete_objects_checks_content_md5(s3: Any, server: ServerProcess, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    body = _delete_doc(["a"])
    raw = request(server.endpoint, "POST", f"/{bucket}?delete", body=body,
                  headers={"Content-MD5": md5_b64(b"something else")})
    assert raw.status == 400 and raw.error()["Code"] == "BadDigest"
    assert s3.head_object(Bucket=bucket, Key="a")["ContentLength"] == 1
    raw = request(server.endpoint, "POST", f"/{bucket}?delete", body=body)  # no digest at all
    assert raw.status == 400 and raw.error()["Code"] == "InvalidRequest"
    assert raw.error()["Message"] == "Missing required header for this request: Content-MD5"
    wrong_crc = base64.b64encode(zlib.crc32(b"something else").to_bytes(4, "big")).decode()
    raw = request(server.endpoint, "POST", f"/{bucket}?delete", body=body,
                  headers={"x-amz-checksum-crc32": wrong_crc})
    assert raw.status == 400 and raw.error()["Code"] == "BadDigest"
    assert s3.head_object(Bucket=bucket, Key="a")["ContentLength"] == 1
    raw = request(server.endpoint, "POST", f"/{bucket}?delete", body=body, headers={"Content-MD5": md5_b64(body)})
    assert raw.status == 200
    root = xml(raw.body)
    assert strip_ns(root.tag) == "DeleteResult"
    assert [strip_ns(c.tag) for c in root] == ["Deleted"]
    assert absent(s3, bucket, "a")


# -- CopyObject ---------------------------------------------------------------

@pytest.mark.parametrize("key", ["with space", "ünïcödé/日本", "plus+sign", "per%cent", "q?uestion#hash",
                                 "a+b %2B c"])
def test_copy_keys_needing_encoding(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=BODY)
    resp = s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    assert resp["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    assert resp["CopyObjectResult"]["LastModified"] is not None
    assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == BODY


@pytest.mark.parametrize("source", ["/{b}/{k}", "{b}/{k}"])
def test_copy_source_raw_forms(s3: Any, server: ServerProcess, bucket: str, source: str) -> None:
    key = "sp ace+plus%/ü"
    s3.put_object(Bucket=bucket, Key=key, Body=BODY)
    header = source.format(b=bucket, k=quote(key, safe="/"))
    raw = request(server.endpoint, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": header})
    assert raw.status == 200, raw.body
    assert strip_ns(xml(raw.body).tag) == "CopyObjectResult"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == BODY


def test_copy_metadata_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=BODY, Metadata={"a": "1"}, ContentType="text/plain",
                  CacheControl="no-cache")
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "src"},
                   Metadata={"ignored": "yes"}, ContentType="image/png")
    copied = s3.head_object(Bucket=bucket, Key="copied")
    assert copied["Metadata"] == {"a": "1"}
    assert copied["ContentType"] == "text/plain" and copied["CacheControl"] == "no-cache"
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="image/png")
    replaced = s3.head_object(Bucket=bucket, Key="replaced")
    assert replaced["Metadata"] == {"b": "2"}
    assert replaced["ContentType"] == "image/png" and "CacheControl" not in replaced
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src"},
                       MetadataDirective="MERGE")
    assert error_of(exc) == ("InvalidArgument", 400)


def test_copy_is_standard_unless_told(s3: Any, bucket: str) -> None:
    # the copy does not keep its source's storage class (AWS: object-attrs-after-copy)
    s3.put_object(Bucket=bucket, Key="ia", Body=BODY, StorageClass="STANDARD_IA")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "ia"})
    assert s3.get_object_attributes(Bucket=bucket, Key="copy", ObjectAttributes=["StorageClass"])[
        "StorageClass"] == "STANDARD"
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "ia"}, StorageClass="ONEZONE_IA")
    assert s3.head_object(Bucket=bucket, Key="copy")["StorageClass"] == "ONEZONE_IA"


def test_plus_in_copy_source_is_a_space(s3: Any, server: ServerProcess, bucket: str) -> None:
    # x-amz-copy-source is read as a form would be (AWS: test_copy_object_special_character_plus_for_space)
    s3.put_object(Bucket=bucket, Key="test key.txt", Body=BODY)
    raw = request(server.endpoint, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"{bucket}%2Ftest+key.txt"})
    assert raw.status == 200, raw.body
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == BODY
    # a bucket URL before it is taken too (AWS: test_s3_timestamp_precision copies from "{bucket_url}/{key}")
    raw = request(server.endpoint, "PUT", f"/{bucket}/dst2",
                  headers={"x-amz-copy-source": f"{server.endpoint}/{bucket}/test%20key.txt"})
    assert raw.status == 200, raw.body
    assert xml(raw.body).findtext("{*}LastModified").endswith(".000Z")
    # a copy source without a key: S3 names the header as its value too (AWS: copy-object-wrong-copy-source)
    err = request(server.endpoint, "PUT", f"/{bucket}/dst3", headers={"x-amz-copy-source": "wrongformat"}).error()
    assert (err["Code"], err["Message"]) == ("InvalidArgument", "Invalid copy source object key")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("x-amz-copy-source", "x-amz-copy-source")


@pytest.mark.parametrize("source", ["%ff", "ok/%c3%28", "a%80b"])
def test_copy_source_that_is_not_utf8(s3: Any, server: ServerProcess, bucket: str, source: str) -> None:
    """Refused (as a public thread quotes S3), not copied from a key with U+FFFD in place of the bytes."""
    s3.put_object(Bucket=bucket, Key="\ufffd", Body=BODY)
    s3.put_object(Bucket=bucket, Key="ok/\ufffd(", Body=BODY)
    s3.put_object(Bucket=bucket, Key="a\ufffdb", Body=BODY)
    err = request(server.endpoint, "PUT", f"/{bucket}/dst", headers={"x-amz-copy-source": f"{bucket}/{source}"}).error()
    assert (err["Code"], err["Message"]) == ("InvalidArgument", "Invalid copy source encoding")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="dst")


def test_copy_destination_conditions(s3: Any, bucket: str) -> None:
    """If-Match / If-None-Match on CopyObject judge the destination, as on PutObject
    (AWS: test_copy_object_if_none_match, test_copy_object_if_match, ..._in_place, ..._write_validation)."""
    src = {"Bucket": bucket, "Key": "src"}
    put = s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, IfNoneMatch="*")
    assert error_of(exc) == ("PreconditionFailed", 412) and exc.value.response["Error"]["Condition"] == "If-None-Match"
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, IfMatch=copied["CopyObjectResult"]["ETag"])
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, IfMatch='"wrong-etag"')
    assert error_of(exc) == ("PreconditionFailed", 412) and exc.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="absent", CopySource=src, IfMatch=put["ETag"])
    assert error_of(exc) == ("NoSuchKey", 404) and exc.value.response["Error"]["Key"] == "absent"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=src, IfMatch="*")
    assert error_of(exc) == ("NotImplemented", 501) and exc.value.response["Error"]["Header"] == "If-Match"
    assert absent(s3, bucket, "absent")


def test_write_refusals_as_recorded(s3: Any, server: ServerProcess, bucket: str) -> None:
    # an unknown canned ACL: InvalidArgument with an empty Message (AWS: put-object-canned-acl)
    for method, path, headers in (("PUT", f"/{bucket}/k", {}), ("POST", f"/{bucket}/k?uploads", {}),
                                  ("PUT", f"/{bucket}/k2", {"x-amz-copy-source": f"/{bucket}/k"})):
        reply = request(server.endpoint, method, path, b"", {"x-amz-acl": "fake-acl", **headers})
        err = reply.error()
        assert (reply.status, err["Code"], err["Message"]) == (400, "InvalidArgument", ""), path
        assert (err["ArgumentName"], err["ArgumentValue"]) == ("x-amz-acl", "fake-acl")
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x", ACL="bucket-owner-full-control")  # a real one is taken
    # a tag key given twice (AWS: put-obj-duplicate-tagging)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="key1=val1&key1=val2")
    assert error_of(exc) == ("InvalidArgument", 400)
    err = exc.value.response["Error"]
    assert err["Message"] == ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                              "parameters without tag name duplicates.")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("x-amz-tagging", "key1=val1&key1=val2")
    # and a character no tag may hold (AWS: put-obj-wrong-format)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="key1=val1,key2=val2")
    assert error_of(exc) == ("InvalidArgument", 400)
    assert exc.value.response["Error"]["ArgumentValue"] == "key1=val1,key2=val2"
    assert absent(s3, bucket, "t")
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a%20b=c%2Bd%3A%2F%40&empty=")
    assert s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"


def test_archived_objects_are_not_readable(s3: Any, server: ServerProcess, bucket: str) -> None:
    # GLACIER and DEEP_ARCHIVE objects need a restore first (AWS: get-object-invalid-state); HEAD still answers
    for storage_class in ("GLACIER", "DEEP_ARCHIVE"):
        s3.put_object(Bucket=bucket, Key=storage_class, Body=b"cold", StorageClass=storage_class)
        reply = request(server.endpoint, "GET", f"/{bucket}/{storage_class}")
        err = reply.error()
        assert (reply.status, err["Code"], err["StorageClass"]) == (403, "InvalidObjectState", storage_class)
        assert err["Message"] == "The operation is not valid for the object's storage class"
        assert reply.headers["x-amz-storage-class"] == storage_class
        assert s3.head_object(Bucket=bucket, Key=storage_class)["StorageClass"] == storage_class
    s3.put_object(Bucket=bucket, Key="ir", Body=b"warm", StorageClass="GLACIER_IR")
    assert s3.get_object(Bucket=bucket, Key="ir")["Body"].read() == b"warm"
    # a general purpose bucket takes no OUTPOSTS objects (AWS: put-object-outposts)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="o", Body=b"x", StorageClass="OUTPOSTS")
    assert error_of(exc) == ("InvalidStorageClass", 400)
    assert exc.value.response["Error"]["StorageClassRequested"] == "OUTPOSTS"


def test_self_copy(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=BODY, Metadata={"a": "1"})
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(exc) == ("InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                   MetadataDirective="REPLACE", Metadata={"a": "2"})
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Metadata"] == {"a": "2"} and got["Body"].read() == BODY


COPY_CONDITIONS = [
    ({"CopySourceIfMatch": "etag"}, 200),
    ({"CopySourceIfMatch": "other"}, 412),
    ({"CopySourceIfNoneMatch": "other"}, 200),
    ({"CopySourceIfNoneMatch": "etag"}, 412),
    ({"CopySourceIfModifiedSince": "past"}, 200),
    ({"CopySourceIfModifiedSince": "lm"}, 412),
    ({"CopySourceIfUnmodifiedSince": "lm"}, 200),
    ({"CopySourceIfUnmodifiedSince": "past"}, 412),
    # the pairs S3 documents for CopyObject
    ({"CopySourceIfMatch": "etag", "CopySourceIfUnmodifiedSince": "past"}, 200),
    ({"CopySourceIfNoneMatch": "etag", "CopySourceIfModifiedSince": "past"}, 412),
]


@pytest.mark.parametrize("conditions,status", COPY_CONDITIONS)
def test_copy_source_conditionals(s3: Any, bucket: str, stored: dict[str, str], conditions: dict[str, str],
                                  status: int) -> None:
    args: dict[str, Any] = {}
    for name, value in conditions.items():
        v = stored[value]
        args[name] = email.utils.parsedate_to_datetime(v).astimezone(dt.timezone.utc) if "Since" in name else v
    call = dict(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "c"}, **args)
    if status == 200:
        s3.copy_object(**call)
        assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == BODY
    else:
        with pytest.raises(ClientError) as exc:
            s3.copy_object(**call)
        assert error_of(exc) == ("PreconditionFailed", 412)
        assert absent(s3, bucket, "dst")


def test_copy_of_multipart_object_has_plain_etag(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Metadata={"m": "1"})
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=BODY)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["ETag"].endswith('-1"')
    resp = s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "mp"})
    assert resp["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert head["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"' and head["Metadata"] == {"m": "1"}


def test_copy_missing_source(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})
    assert error_of(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": "no-such-bucket-x", "Key": "k"})
    assert error_of(exc) == ("NoSuchBucket", 404)
    assert absent(s3, bucket, "dst")


def test_copy_into_missing_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket="no-such-bucket-x", Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert error_of(exc) == ("NoSuchBucket", 404)


def test_copy_across_buckets(s3: Any, bucket: str) -> None:
    other = fresh_bucket_name()
    s3.create_bucket(Bucket=other)
    try:
        s3.put_object(Bucket=bucket, Key="src", Body=BODY)
        s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
        assert s3.get_object(Bucket=other, Key="dst")["Body"].read() == BODY
    finally:
        s3.delete_object(Bucket=other, Key="dst")
        s3.delete_bucket(Bucket=other)


# -- checksums -----------------------------------------------------------------

def _crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_checksum_header_is_verified_and_returned(s3: Any, server: ServerProcess, bucket: str) -> None:
    resp = s3.put_object(Bucket=bucket, Key="k", Body=BODY, ChecksumAlgorithm="SHA256")
    sha = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert resp["ChecksumSHA256"] == sha and resp["ChecksumType"] == "FULL_OBJECT"
    for call in (s3.get_object, s3.head_object):
        got = call(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
        assert got["ChecksumSHA256"] == sha and got["ChecksumType"] == "FULL_OBJECT"
    # (boto3 asks for checksums on its own; a plain GET does not get them)
    assert "x-amz-checksum-sha256" not in request(server.endpoint, "GET", f"/{bucket}/k").headers
    ranged = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=0-9")
    assert "ChecksumSHA256" not in ranged
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == ["SHA256"]

    raw = request(server.endpoint, "PUT", f"/{bucket}/bad", body=BODY,
                  headers={"x-amz-checksum-crc32": _crc32_b64(b"other")})
    assert raw.status == 400
    err = raw.error()
    assert err["Code"] == "BadDigest"
    assert err["Message"] == "The CRC32 you specified did not match the calculated checksum."
    assert absent(s3, bucket, "bad")
    raw = request(server.endpoint, "PUT", f"/{bucket}/good", body=BODY,
                  headers={"x-amz-checksum-crc32": _crc32_b64(BODY)})
    assert raw.status == 200 and raw.headers["x-amz-checksum-crc32"] == _crc32_b64(BODY)


@pytest.mark.parametrize("headers", [
    {"x-amz-checksum-crc32": "not base64!"},
    {"x-amz-checksum-crc32": base64.b64encode(b"12345678").decode()},  # a CRC32 is 4 bytes
    {"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
])
def test_malformed_checksum_header(s3: Any, server: ServerProcess, bucket: str, headers: dict[str, str]) -> None:
    raw = request(server.endpoint, "PUT", f"/{bucket}/k", body=BODY, headers=headers)
    assert raw.status == 400 and raw.error()["Code"] == "InvalidRequest"
    assert absent(s3, bucket, "k")


def test_copy_computes_its_own_checksum(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=BODY, ChecksumAlgorithm="CRC32")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert resp["CopyObjectResult"]["ChecksumCRC32"] == _crc32_b64(BODY)
    resp = s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "src"},
                          ChecksumAlgorithm="SHA1")
    sha1 = base64.b64encode(hashlib.sha1(BODY).digest()).decode()
    assert resp["CopyObjectResult"]["ChecksumSHA1"] == sha1
    assert s3.head_object(Bucket=bucket, Key="dst2", ChecksumMode="ENABLED")["ChecksumSHA1"] == sha1
