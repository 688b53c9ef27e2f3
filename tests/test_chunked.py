"""aws-chunked request bodies, hand-built and sent with http.client: signed
chunks, unsigned chunks with a checksum trailer, signed chunks with a signed
trailer. Chunk and trailer signatures are computed here with hmac/hashlib;
the seed request is signed by botocore. A bad stream must store nothing."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import os
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess, settled_blobs
from signing import error_of, signature_of, sigv4_request

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def signing_key(secret: str, date: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass
class Seed:
    headers: dict[str, str]
    timestamp: str
    scope: str
    signature: str
    key: bytes

    def sign(self, string_to_sign: str) -> str:
        return hmac.new(self.key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def chunk_signature(self, previous: str, chunk: bytes) -> str:
        return self.sign(f"AWS4-HMAC-SHA256-PAYLOAD\n{self.timestamp}\n{self.scope}\n{previous}\n{EMPTY_SHA256}\n"
                         f"{hashlib.sha256(chunk).hexdigest()}")

    def trailer_signature(self, previous: str, trailer: bytes) -> str:
        return self.sign(f"AWS4-HMAC-SHA256-TRAILER\n{self.timestamp}\n{self.scope}\n{previous}\n"
                         f"{hashlib.sha256(trailer).hexdigest()}")


def seed(endpoint: str, path: str, mode: str, decoded_length: int | None,
         extra: dict[str, str] | None = None, encoding: str | None = "aws-chunked") -> Seed:
    """A request signed by botocore with `mode` as its payload hash; the chunks
    are then signed from its signature."""
    headers = {"Content-Encoding": encoding} if encoding else {}
    headers.update(extra or {})
    if decoded_length is not None:
        headers["x-amz-decoded-content-length"] = str(decoded_length)
    request = sigv4_request(endpoint, "PUT", path, headers=headers, payload_hash=mode)
    timestamp = request.headers["X-Amz-Date"]
    return Seed(dict(request.headers.items()), timestamp, f"{timestamp[:8]}/{REGION}/s3/aws4_request",
                signature_of(request), signing_key(SECRET_KEY, timestamp[:8]))


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def signed_body(s: Seed, chunks: list[bytes], trailer: bytes | None = None) -> bytes:
    out, previous = [], s.signature
    for chunk in chunks + [b""]:
        previous = s.chunk_signature(previous, chunk)
        out.append(b"%x;chunk-signature=%s\r\n%s" % (len(chunk), previous.encode(), chunk))
        if chunk:
            out.append(b"\r\n")
    if trailer is None:
        out.append(b"\r\n")
    else:
        out.append(trailer)
        canonical = trailer.replace(b"\r\n", b"\n")
        out.append(b"x-amz-trailer-signature:%s\r\n\r\n" % s.trailer_signature(previous, canonical).encode())
    return b"".join(out)


def unsigned_body(chunks: list[bytes], trailer: bytes) -> bytes:
    out = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks]
    return b"".join(out) + b"0\r\n" + trailer + b"\r\n"


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def put(server: ServerProcess, path: str, headers: dict[str, str], body: bytes | Any,
        chunked: bool = False) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("PUT", path, body=body, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def stored_files(data_dir: Path) -> tuple[set[Path], list[Path]]:
    return settled_blobs(data_dir), list((data_dir / "tmp").iterdir())


@pytest.fixture
def data() -> bytes:
    return os.urandom(200_000)


@pytest.fixture
def nothing_stored(server: ServerProcess, s3: Any) -> Iterator[Any]:
    """Yields a check that a failed upload left no object and no file behind."""
    blobs_before, _ = stored_files(server.data_dir)

    def check(bucket: str, key: str) -> None:
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key=key)
        assert exc.value.response["Error"]["Code"] == "NoSuchKey"
        blobs, tmp = stored_files(server.data_dir)
        assert blobs == blobs_before
        assert tmp == []

    yield check


def assert_error(status: int, body: bytes, want_status: int, code: str) -> dict[str, str]:
    err = error_of(body)
    assert (status, err["Code"]) == (want_status, code), err
    return err


# --- accepted framings ------------------------------------------------------------------------------------------

def test_signed_chunks(server: ServerProcess, s3: Any, bucket: str, data: bytes) -> None:
    path = f"/{bucket}/signed"
    chunks = pieces(data, 65536)
    s = seed(server.endpoint, path, SIGNED, len(data), {"Content-Type": "text/plain"})
    body = signed_body(s, chunks)
    status, out, headers = put(server, path, s.headers, body)
    assert status == 200, out
    assert headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    obj = s3.get_object(Bucket=bucket, Key="signed")
    assert obj["Body"].read() == data
    assert obj["ContentLength"] == len(data)
    assert obj["ContentType"] == "text/plain"
    assert "ContentEncoding" not in obj


def test_signed_chunks_without_content_encoding(server: ServerProcess, s3: Any, bucket: str) -> None:
    """Detected by the payload hash alone (minio-go and Java v1 differ on the header)."""
    data = b"x" * 9000 + b"tail"
    path = f"/{bucket}/no-encoding"
    s = seed(server.endpoint, path, SIGNED, len(data), encoding=None)
    body = signed_body(s, pieces(data, 9000))
    assert "Content-Encoding" not in s.headers
    status, out, _ = put(server, path, s.headers, body)
    assert status == 200, out
    assert s3.get_object(Bucket=bucket, Key="no-encoding")["Body"].read() == data


def test_unsigned_chunks_with_trailer_over_transfer_encoding(server: ServerProcess, s3: Any, bucket: str,
                                                            data: bytes) -> None:
    """What boto3 sends over https: no Content-Length, HTTP chunked around aws-chunked."""
    path = f"/{bucket}/unsigned-trailer"
    trailer = f"x-amz-checksum-crc32:{crc32_b64(data)}\r\n".encode()
    s = seed(server.endpoint, path, UNSIGNED_TRAILER, len(data),
             {"X-Amz-Trailer": "x-amz-checksum-crc32", "Content-Encoding": "gzip,aws-chunked"})
    body = unsigned_body(pieces(data, 1 << 15), trailer)
    status, out, _ = put(server, path, {**s.headers, "Transfer-Encoding": "chunked"}, iter(pieces(body, 10_000)),
                         chunked=True)
    assert status == 200, out
    obj = s3.get_object(Bucket=bucket, Key="unsigned-trailer")
    assert obj["Body"].read() == data
    assert obj["ContentEncoding"] == "gzip"


def test_signed_chunks_with_signed_trailer(server: ServerProcess, s3: Any, bucket: str, data: bytes) -> None:
    path = f"/{bucket}/signed-trailer"
    trailer = f"x-amz-checksum-sha256:{sha256_b64(data)}\r\n".encode()
    s = seed(server.endpoint, path, SIGNED_TRAILER, len(data), {"X-Amz-Trailer": "x-amz-checksum-sha256"})
    status, out, _ = put(server, path, s.headers, signed_body(s, pieces(data, 50_000), trailer))
    assert status == 200, out
    assert s3.get_object(Bucket=bucket, Key="signed-trailer")["Body"].read() == data


def test_signed_chunks_upload_part(server: ServerProcess, s3: Any, bucket: str) -> None:
    data = os.urandom(5 * 1024 * 1024 + 1000)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    path = f"/{bucket}/mpu?partNumber=1&uploadId={upload_id}"
    s = seed(server.endpoint, path, SIGNED, len(data))
    status, out, headers = put(server, path, s.headers, signed_body(s, pieces(data, 1 << 20)))
    assert status == 200, out
    assert headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": headers["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mpu")["Body"].read() == data


def test_empty_signed_body(server: ServerProcess, s3: Any, bucket: str) -> None:
    path = f"/{bucket}/empty"
    s = seed(server.endpoint, path, SIGNED, 0)
    status, out, _ = put(server, path, s.headers, signed_body(s, []))
    assert status == 200, out
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


# --- refused streams store nothing ------------------------------------------------------------------------------

def test_bad_chunk_signature(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/bad-chunk-sig"
    s = seed(server.endpoint, path, SIGNED, len(data))
    body = signed_body(s, pieces(data, 65536))
    tampered = body.replace(data[70000:70010], bytes(b ^ 1 for b in data[70000:70010]))  # second chunk's data
    status, out, _ = put(server, path, s.headers, tampered)
    err = assert_error(status, out, 403, "SignatureDoesNotMatch")
    assert err["StringToSign"].startswith("AWS4-HMAC-SHA256-PAYLOAD\n" + s.timestamp)
    nothing_stored(bucket, "bad-chunk-sig")


def test_chunk_signed_with_wrong_previous_signature(server: ServerProcess, bucket: str, data: bytes,
                                                    nothing_stored: Any) -> None:
    path = f"/{bucket}/bad-chain"
    s = seed(server.endpoint, path, SIGNED, len(data))
    other = Seed(s.headers, s.timestamp, s.scope, "0" * 64, s.key)  # chained from the wrong seed
    status, out, _ = put(server, path, s.headers, signed_body(other, pieces(data, 65536)))
    assert_error(status, out, 403, "SignatureDoesNotMatch")
    nothing_stored(bucket, "bad-chain")


def test_truncated_stream(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/truncated"
    s = seed(server.endpoint, path, SIGNED, len(data))
    body = signed_body(s, pieces(data, 65536))[:100_000]
    status, out, _ = put(server, path, s.headers, body)
    assert_error(status, out, 400, "IncompleteBody")
    nothing_stored(bucket, "truncated")


def test_truncated_unsigned_stream(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/truncated-unsigned"
    s = seed(server.endpoint, path, UNSIGNED_TRAILER, len(data), {"X-Amz-Trailer": "x-amz-checksum-crc32"})
    body = unsigned_body(pieces(data, 65536), f"x-amz-checksum-crc32:{crc32_b64(data)}\r\n".encode())
    status, out, _ = put(server, path, s.headers, body[:-40])  # cut inside the zero chunk's trailer
    assert_error(status, out, 400, "IncompleteBody")
    nothing_stored(bucket, "truncated-unsigned")


@pytest.mark.parametrize("delta", [1, -1])
def test_decoded_length_mismatch(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any,
                                 delta: int) -> None:
    path = f"/{bucket}/length-mismatch"
    s = seed(server.endpoint, path, SIGNED, len(data) + delta)
    status, out, _ = put(server, path, s.headers, signed_body(s, pieces(data, 65536)))
    assert_error(status, out, 400, "IncompleteBody")
    nothing_stored(bucket, "length-mismatch")


def test_missing_decoded_length(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/no-decoded-length"
    s = seed(server.endpoint, path, SIGNED, None)
    status, out, _ = put(server, path, s.headers, signed_body(s, pieces(data, 65536)))
    assert_error(status, out, 411, "MissingContentLength")
    nothing_stored(bucket, "no-decoded-length")


def test_short_chunk_before_the_last(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/short-chunk"
    s = seed(server.endpoint, path, SIGNED, len(data))
    chunks = [data[:8192], data[8192:10000], data[10000:]]
    status, out, _ = put(server, path, s.headers, signed_body(s, chunks))
    err = assert_error(status, out, 400, "InvalidChunkSizeError")
    assert (err["Chunk"], err["BadChunkSize"]) == ("2", str(10000 - 8192))
    nothing_stored(bucket, "short-chunk")


def test_trailer_checksum_mismatch(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/bad-trailer-checksum"
    s = seed(server.endpoint, path, UNSIGNED_TRAILER, len(data), {"X-Amz-Trailer": "x-amz-checksum-crc32"})
    body = unsigned_body(pieces(data, 65536), f"x-amz-checksum-crc32:{crc32_b64(data + b'!')}\r\n".encode())
    status, out, _ = put(server, path, s.headers, body)
    err = assert_error(status, out, 400, "BadDigest")
    assert err["Message"] == "The CRC32 you specified did not match the calculated checksum."
    nothing_stored(bucket, "bad-trailer-checksum")


def test_trailer_signature_mismatch(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/bad-trailer-sig"
    s = seed(server.endpoint, path, SIGNED_TRAILER, len(data), {"X-Amz-Trailer": "x-amz-checksum-sha256"})
    body = signed_body(s, pieces(data, 65536), f"x-amz-checksum-sha256:{sha256_b64(data)}\r\n".encode())
    sig_at = body.rindex(b"x-amz-trailer-signature:") + len(b"x-amz-trailer-signature:")
    tampered = body[:sig_at] + (b"0" if body[sig_at:sig_at + 1] != b"0" else b"1") + body[sig_at + 1:]
    status, out, _ = put(server, path, s.headers, tampered)
    err = assert_error(status, out, 403, "SignatureDoesNotMatch")
    assert err["StringToSign"].startswith("AWS4-HMAC-SHA256-TRAILER\n")
    nothing_stored(bucket, "bad-trailer-sig")


def test_missing_declared_trailer(server: ServerProcess, bucket: str, data: bytes, nothing_stored: Any) -> None:
    path = f"/{bucket}/no-trailer"
    s = seed(server.endpoint, path, UNSIGNED_TRAILER, len(data), {"X-Amz-Trailer": "x-amz-checksum-crc32"})
    status, out, _ = put(server, path, s.headers, unsigned_body(pieces(data, 65536), b""))
    assert_error(status, out, 400, "MalformedTrailerError")
    nothing_stored(bucket, "no-trailer")


def test_malformed_chunk_header(server: ServerProcess, bucket: str, nothing_stored: Any) -> None:
    path = f"/{bucket}/malformed"
    s = seed(server.endpoint, path, UNSIGNED_TRAILER, 5)
    status, out, _ = put(server, path, s.headers, b"zz\r\nhello\r\n0\r\n\r\n")
    assert_error(status, out, 400, "IncompleteBody")
    nothing_stored(bucket, "malformed")


# --- auth off: framing still decoded ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("noauth-chunked"), "--no-auth", "--durability", "fast").start()
    yield srv
    srv.stop()


def test_no_auth_still_decodes_signed_chunks(open_server: ServerProcess) -> None:
    client = open_server.client()
    client.create_bucket(Bucket="chunky")
    data = os.urandom(30_000)
    path = "/chunky/obj"
    s = seed(open_server.endpoint, path, SIGNED, len(data))
    wrong = Seed(s.headers, s.timestamp, s.scope, "f" * 64, b"not the key")
    status, out, _ = put(open_server, path, {**s.headers, "Authorization": "AWS4-HMAC-SHA256 garbage"},
                         signed_body(wrong, pieces(data, 10_000)))
    assert status == 200, out
    assert client.get_object(Bucket="chunky", Key="obj")["Body"].read() == data
    trailer = f"x-amz-checksum-crc32:{crc32_b64(data)}\r\n".encode()
    status, out, _ = put(open_server, "/chunky/unsigned", {"Content-Encoding": "aws-chunked",
                                                           "x-amz-decoded-content-length": str(len(data)),
                                                           "x-amz-content-sha256": UNSIGNED_TRAILER,
                                                           "X-Amz-Trailer": "x-amz-checksum-crc32"},
                         unsigned_body(pieces(data, 10_000), trailer))
    assert status == 200, out
    assert client.get_object(Bucket="chunky", Key="unsigned")["Body"].read() == data


# --- boto3 over HTTPS: what it really sends ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    srv = ServerProcess(where / "data", "--tls-cert", str(cert), "--tls-key", str(key), "--durability", "fast").start()
    yield srv, str(cert)
    srv.stop()


def test_boto3_over_https_streams_unsigned_trailer(tls_server: tuple[ServerProcess, str]) -> None:
    srv, cert = tls_server
    assert srv.endpoint.startswith("https://")
    seen: list[dict[str, str]] = []
    client = boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=REGION, verify=cert,
                          config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    client.meta.events.register("before-send.s3.*", lambda request, **_: seen.append(
        {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    client.create_bucket(Bucket="tls-bucket")
    data = os.urandom(3 * 1024 * 1024 + 17)
    client.put_object(Bucket="tls-bucket", Key="obj", Body=io.BytesIO(data), ContentEncoding="gzip")
    sent = seen[-1]
    assert sent["x-amz-content-sha256"] == UNSIGNED_TRAILER
    assert sent["content-encoding"] == "gzip,aws-chunked" and sent["transfer-encoding"] == "chunked"
    obj = client.get_object(Bucket="tls-bucket", Key="obj", ChecksumMode="ENABLED")
    assert obj["Body"].read() == data
    assert obj["ContentEncoding"] == "gzip"
    upload_id = client.create_multipart_upload(Bucket="tls-bucket", Key="mpu")["UploadId"]
    part = client.upload_part(Bucket="tls-bucket", Key="mpu", UploadId=upload_id, PartNumber=1, Body=io.BytesIO(data))
    assert seen[-1]["x-amz-content-sha256"] == UNSIGNED_TRAILER
    assert part["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    client.abort_multipart_upload(Bucket="tls-bucket", Key="mpu", UploadId=upload_id)
