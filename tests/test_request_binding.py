"""A signature binds everything that changes what a request does: unsigned
x-amz-* headers and Host are refused, the body framing follows the signed
payload value, the credential scope names this server; presigned URLs apply
the headers their signed query carries. Unsigned requests are anonymous:
a missing bucket is 404, anything else 403, before routing says anything.
Expect: 100-continue is answered only after those checks. Header bytes that
are not UTF-8, and response overrides that cannot be sent, are 400."""
from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

import pytest
import requests
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request as raw_request
from rawhttp import signed_headers
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess
from signing import error_of, sigv4_request

CREDS = Credentials(ACCESS_KEY, SECRET_KEY)


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError:
        return False


def put_with(req: AWSRequest, body: bytes = b"", **extra: str) -> requests.Response:
    """Send a signed request with headers added after signing."""
    return requests.put(req.url, data=body, headers={**dict(req.headers.items()), **extra}, timeout=30)


# --- header-signed SigV4: every x-amz-* header and Host signed ---------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("x-amz-copy-source", "{bucket}/secret"),  # would turn an empty PutObject into a copy
    ("x-amz-meta-owner", "mallory"),
    ("x-amz-tagging", "a=b"),
    ("x-amz-website-redirect-location", "/elsewhere"),
])
def test_unsigned_amz_header_is_refused(server: ServerProcess, s3: Any, bucket: str, name: str,
                                        value: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"TOP-SECRET")
    r = put_with(sigv4_request(server.endpoint, "PUT", f"/{bucket}/k"), **{name: value.format(bucket=bucket)})
    assert r.status_code == 403, r.text
    err = error_of(r)
    assert err["Code"] == "AccessDenied"
    assert err["Message"] == "There were headers present in the request which were not signed"
    assert err["HeadersNotSigned"] == name
    assert not exists(s3, bucket, "k")


class _HostlessSigV4(S3SigV4Auth):
    def headers_to_sign(self, request: Any) -> Any:
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


def test_host_must_be_signed(server: ServerProcess, s3: Any, bucket: str) -> None:
    req = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/k", data=b"v")
    _HostlessSigV4(CREDS, "s3", REGION).add_auth(req)
    assert "host" not in req.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    r = requests.put(req.url, data=b"v", headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 403
    assert error_of(r)["HeadersNotSigned"] == "host"
    assert not exists(s3, bucket, "k")


def test_unsigned_aws_chunked_encoding_cannot_swap_the_body(server: ServerProcess, s3: Any, bucket: str) -> None:
    req = sigv4_request(server.endpoint, "PUT", f"/{bucket}/k", body=b"good")  # signs sha256(b"good")
    r = put_with(req, b"4\r\nEVIL\r\n0\r\n\r\n", **{"Content-Encoding": "aws-chunked",
                                                     "x-amz-decoded-content-length": "4"})
    assert r.status_code in (400, 403), r.text  # the unsigned x-amz-decoded-content-length, or the hash
    assert not exists(s3, bucket, "k")
    req = sigv4_request(server.endpoint, "PUT", f"/{bucket}/k", body=b"good",
                        headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "4"})
    r = requests.put(req.url, data=b"4\r\nEVIL\r\n0\r\n\r\n", headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 400 and error_of(r)["Code"] == "XAmzContentSHA256Mismatch"
    assert not exists(s3, bucket, "k")


def test_credential_scope_names_a_region_and_s3(server: ServerProcess, bucket: str) -> None:
    """A scope naming no region is refused as AWS refuses aws-global (LocalStack's
    test_create_bucket_aws_global recording); another AWS region is that region's
    endpoint (see test_buckets)."""
    req = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}")
    S3SigV4Auth(CREDS, "s3", "aws-global").add_auth(req)
    r = requests.get(req.url, headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "AuthorizationHeaderMalformed"
    assert err["Message"] == "The authorization header is malformed; the region 'aws-global' is wrong; " \
                             f"expecting '{REGION}'"
    assert err["Region"] == REGION
    req = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}")
    S3SigV4Auth(CREDS, "iam", REGION).add_auth(req)
    r = requests.get(req.url, headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 400
    assert error_of(r)["Code"] == "AuthorizationHeaderMalformed"  # no AWS recording of this message
    assert 'incorrect service "iam"' in error_of(r)["Message"]
    req = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}")
    S3SigV4QueryAuth(CREDS, "s3", "moon-1", expires=60).add_auth(req)
    r = requests.get(req.url, timeout=30)
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "AuthorizationQueryParametersError"
    assert err["Message"] == "Error parsing the X-Amz-Credential parameter; the region 'moon-1' is wrong; " \
                             f"expecting '{REGION}'"
    assert err["Region"] == REGION


# --- presigned URLs ----------------------------------------------------------------------------------------------

class _HashedQueryAuth(S3SigV4QueryAuth):
    """A presigned URL whose signature covers the payload hash given in its query."""

    def __init__(self, payload: str) -> None:
        super().__init__(CREDS, "s3", REGION, expires=300)
        self._payload = payload

    def payload(self, request: Any) -> str:
        return self._payload


def presign(url: str, method: str = "PUT", auth: Any = None) -> str:
    req = AWSRequest(method=method, url=url)
    (auth or S3SigV4QueryAuth(CREDS, "s3", REGION, expires=300)).add_auth(req)
    return req.url


def test_presigned_content_sha256_binds_the_body(server: ServerProcess, s3: Any, bucket: str) -> None:
    digest = hashlib.sha256(b"the body").hexdigest()
    url = presign(f"{server.endpoint}/{bucket}/k?X-Amz-Content-Sha256={digest}", auth=_HashedQueryAuth(digest))
    r = requests.put(url, data=b"another body", timeout=30)
    assert r.status_code == 400 and error_of(r)["Code"] == "XAmzContentSHA256Mismatch"
    assert not exists(s3, bucket, "k")
    assert requests.put(url, data=b"the body", timeout=30).status_code == 200
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"the body"


def test_presigned_query_headers_apply(server: ServerProcess, s3: Any, bucket: str) -> None:
    """What aws-sdk-js v3's presigner sends: x-amz-* headers hoisted into the signed query."""
    url = presign(f"{server.endpoint}/{bucket}/k?x-amz-meta-colour=blue&x-amz-tagging=a%3Db&If-None-Match=%2A")
    assert requests.put(url, data=b"v", timeout=30).status_code == 200
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {"colour": "blue"}
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "1"
    r = requests.put(url, data=b"w", timeout=30)  # If-None-Match: * now fails
    assert r.status_code == 412 and error_of(r)["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    etag = head["ETag"].strip('"')
    url = presign(f"{server.endpoint}/{bucket}/k?If-Match={'0' * 32}")
    assert requests.put(url, data=b"x", timeout=30).status_code == 412
    url = presign(f"{server.endpoint}/{bucket}/k?If-Match={etag}")
    assert requests.put(url, data=b"x", timeout=30).status_code == 200


def test_sigv2_presigned_query_headers_apply(server: ServerProcess, s3: Any, bucket: str) -> None:
    expires = str(int(time.time()) + 300)
    sts = f"PUT\n\n\n{expires}\nx-amz-meta-colour:green\n/{bucket}/k2"
    signature = base64.b64encode(hmac.new(SECRET_KEY.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    url = (f"{server.endpoint}/{bucket}/k2?AWSAccessKeyId={ACCESS_KEY}&Expires={expires}"
           f"&Signature={quote(signature, safe='')}&x-amz-meta-colour=green")
    r = requests.put(url, data=b"v", timeout=30)
    assert r.status_code == 200, r.text
    assert s3.head_object(Bucket=bucket, Key="k2")["Metadata"] == {"colour": "green"}


# --- SigV2 bucket-level requests ---------------------------------------------------------------------------------

def test_sigv2_bucket_level_requests(server: ServerProcess) -> None:
    v2 = server.client(signature_version="s3")
    name = fresh_bucket_name("v2b")
    v2.create_bucket(Bucket=name)  # botocore signs "/<bucket>/" for PUT /<bucket>
    v2.put_object(Bucket=name, Key="k", Body=b"x")
    assert [o["Key"] for o in v2.list_objects(Bucket=name)["Contents"]] == ["k"]
    v2.head_bucket(Bucket=name)
    v2.delete_object(Bucket=name, Key="k")
    v2.delete_bucket(Bucket=name)


# --- anonymous requests ------------------------------------------------------------------------------------------

def test_anonymous_requests(server: ServerProcess, bucket: str) -> None:
    ep = server.endpoint
    missing = fresh_bucket_name("gone")
    for method, path in (("GET", f"/{missing}/foo"), ("DELETE", f"/{missing}/foo"), ("GET", f"/{missing}"),
                         ("PUT", f"/{missing}/k?select"), ("PATCH", f"/{missing}")):
        r = requests.request(method, ep + path, timeout=30)
        assert r.status_code == 404, (method, path, r.text)
        assert error_of(r)["Code"] == "NoSuchBucket" and error_of(r)["BucketName"] == missing
    for method, path in (("GET", f"/{bucket}/foo"), ("GET", "/"), ("PUT", f"/{missing}"),
                         ("PATCH", f"/{bucket}"), ("POST", f"/{bucket}/k"), ("PUT", f"/{bucket}/k?select"),
                         ("GET", f"/{bucket}?metadataTable"), ("DELETE", "/")):
        r = requests.request(method, ep + path, timeout=30)
        assert r.status_code == 403, (method, path, r.text)
        assert error_of(r)["Code"] == "AccessDenied"


def test_signed_unknown_routes_answer_after_auth(server: ServerProcess, bucket: str) -> None:
    assert raw_request(server.endpoint, "PATCH", f"/{bucket}").status == 405
    assert raw_request(server.endpoint, "POST", f"/{bucket}/k").status == 405
    assert raw_request(server.endpoint, "PUT", f"/{bucket}/k?select").status == 501
    assert raw_request(server.endpoint, "GET", f"/{bucket}?metadataTable").status == 501


# --- Expect: 100-continue ------------------------------------------------------------------------------------------

def first_status(server: ServerProcess, path: str, headers: dict[str, str] | None = None,
                 body: bytes = b"hello world") -> tuple[int, bytes]:
    """PUT with Expect: 100-continue, holding the body back: the first status line,
    and (after a 100) what follows once the body is sent."""
    host = urlsplit(server.endpoint).netloc
    head = {"Host": host, "Content-Length": str(len(body)), "Expect": "100-continue", **(headers or {})}
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                     .encode() + b"\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        status = int(data.split(b" ", 2)[1])
        rest = b""
        if status == 100:
            sock.sendall(body)
            rest = data.split(b"\r\n\r\n", 1)[1]
            while b"\r\n\r\n" not in rest:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
        return status, rest


def test_expect_100_continue_is_judged_first(server: ServerProcess, s3: Any, bucket: str) -> None:
    missing = fresh_bucket_name("gone")
    assert first_status(server, f"/{bucket}/obj")[0] == 403  # unsigned
    assert first_status(server, f"/{missing}/obj")[0] == 404
    url = f"{server.endpoint}/{missing}/obj"
    assert first_status(server, f"/{missing}/obj", signed_headers("PUT", url, {"Content-Length": "11"}))[0] == 404
    url = f"{server.endpoint}/{bucket}/obj"
    bad = signed_headers("PUT", url, {"Content-Length": "11", "x-amz-storage-class": "PAPER"})
    assert first_status(server, f"/{bucket}/obj", bad)[0] == 400
    status, rest = first_status(server, f"/{bucket}/obj", signed_headers("PUT", url, {"Content-Length": "11"}))
    assert status == 100 and rest.startswith(b"HTTP/1.1 200")
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"hello world"


# --- header bytes --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("open"), "--no-auth", "--durability", "fast").start()
    yield srv
    srv.stop()


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


@pytest.mark.parametrize("header", [b"x-amz-meta-a: caf\xe9", b"Content-Type: text/\xff"])
def test_header_bytes_not_utf8_are_400(open_server: ServerProcess, header: bytes) -> None:
    client = open_server.client()
    name = fresh_bucket_name("utf")
    client.create_bucket(Bucket=name)
    out = raw_exchange(open_server.port, b"PUT /%s/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n%s\r\n"
                       b"Connection: close\r\n\r\nv" % (name.encode(), header))
    assert out.startswith(b"HTTP/1.1 400 "), out
    assert error_of(out.split(b"\r\n\r\n", 1)[1])["Code"] == "InvalidArgument"
    assert client.list_objects_v2(Bucket=name)["KeyCount"] == 0


@pytest.mark.parametrize("value, message", [
    ("a%0D%0ASet-Cookie%3A%20x", "Header value contains control characters."),
    ("a%0Ab", "Header value contains control characters."),
    ("attachment%3B%20filename%3D%E2%80%93.txt", "Header value cannot be represented using ISO-8859-1."),
])
def test_unsendable_response_override_is_400(server: ServerProcess, s3: Any, bucket: str, value: str,
                                             message: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    reply = raw_request(server.endpoint, "GET", f"/{bucket}/k?response-content-disposition={value}")
    assert reply.status == 400
    err = reply.error()
    assert (err["Code"], err["Message"], err["ArgumentName"]) == ("InvalidArgument", message,
                                                                  "response-content-disposition")
    assert raw_request(server.endpoint, "GET", f"/{bucket}/k?response-content-disposition=caf%C3%A9").status == 200
