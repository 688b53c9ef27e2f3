"""Shared by the multipart tests: a server with a small minimum part size (so
tests run on kilobytes, not megabytes), raw signed requests for what boto3
will not send, and a look at the data directory."""
from __future__ import annotations

import hashlib
import http.client
import time
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess, settled_blobs

MIN_PART = 1024
MAX_PART = 1024 * 1024
SMALL_SERVER_ARGS = ("--min-part-size", str(MIN_PART), "--max-part-size", str(MAX_PART), "--durability", "fast")


@pytest.fixture(scope="module")
def mp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose parts may be as small as 1 KiB (and at most 1 MiB)."""
    srv = ServerProcess(tmp_path_factory.mktemp("mpdata"), *SMALL_SERVER_ARGS).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def mp(mp_server: ServerProcess) -> Any:
    return mp_server.client()


@pytest.fixture
def mp_bucket(mp: Any) -> Iterator[str]:
    name = fresh_bucket_name("mp")
    mp.create_bucket(Bucket=name)
    yield name
    try:
        empty_bucket(mp, name)
    except ClientError:
        pass  # the test deleted it itself


def error(exc: ClientError) -> dict[str, Any]:
    """botocore's parsed <Error>, extra fields included, plus the HTTP status."""
    return {**exc.response["Error"], "Status": exc.response["ResponseMetadata"]["HTTPStatusCode"]}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def mp_etag(*parts: bytes) -> str:
    return '"' + md5(b"".join(hashlib.md5(p).digest() for p in parts)) + f'-{len(parts)}"'


def body(n: int, seed: int = 0) -> bytes:
    """n bytes that differ from seed to seed and from position to position."""
    block = hashlib.sha256(f"{seed}".encode()).digest()
    return (block * (n // len(block) + 1))[:n]


def data_files(srv: ServerProcess) -> set[str]:
    """The data files in the server's blobs/ directory, once it has unlinked what it dropped."""
    return {p.name for p in settled_blobs(srv.data_dir)}


def tmp_files(srv: ServerProcess) -> list[Path]:
    return [p for p in (srv.data_dir / "tmp").iterdir()]


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    """Poll (bounded) until predicate() holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def upload(client: Any, bucket: str, key: str, parts: Iterable[bytes], **create: Any) -> tuple[str, list[dict]]:
    """Create an upload and send parts 1..N: (upload id, Parts list for Complete)."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for n, data in enumerate(parts, 1):
        etag = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    return upload_id, done


def signed(srv: ServerProcess, method: str, path_and_query: str, body: bytes = b"",
           headers: dict[str, str] | None = None) -> dict[str, str]:
    """SigV4 headers for a hand-built request (payload left unsigned)."""
    url = srv.endpoint + path_and_query
    req = AWSRequest(method=method, url=url, data=body,
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", **(headers or {})})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    return dict(req.headers.items())


def raw(srv: ServerProcess, method: str, path_and_query: str, body: bytes | None = b"",
        headers: dict[str, str] | None = None, chunks: Iterable[bytes] | None = None) -> tuple[int, bytes]:
    """Send one signed request with http.client: a whole body, or `chunks`
    with chunked transfer encoding (and so no Content-Length)."""
    all_headers = signed(srv, method, path_and_query, body or b"", headers)
    host = urlsplit(srv.endpoint).netloc
    conn = http.client.HTTPConnection(host, timeout=30)
    try:
        if chunks is not None:
            all_headers["Transfer-Encoding"] = "chunked"
            conn.request(method, path_and_query, body=iter(chunks), headers=all_headers, encode_chunked=True)
        else:
            conn.request(method, path_and_query, body=body, headers=all_headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
