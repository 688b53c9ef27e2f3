"""Hostile and broken input: each answered with S3's error, nothing stored,
and the server healthy afterwards. Hand-built requests over raw sockets and
http.client, because well-behaved clients cannot send most of these."""
from __future__ import annotations

import http.client
import re
import socket
import time
from typing import Iterator
from urllib.parse import quote

import pytest
from lxml import etree

from rawhttp import md5_header
from server import ServerProcess

BUCKET = "hostile"
CANARY = b"the canary object: must survive everything below" * 100
IDLE_TIMEOUT = 1.5
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    d = tmp_path_factory.mktemp("hostile")
    (d / "s3emu.toml").write_text(f"request_idle_timeout = {IDLE_TIMEOUT}\n")
    server = ServerProcess(d / "data", "--config", str(d / "s3emu.toml"), "--no-auth", "--durability", "fast",
                           "--min-part-size", "1", "--no-access-log").start()
    c = server.client()
    c.create_bucket(Bucket=BUCKET)
    c.put_object(Bucket=BUCKET, Key="canary", Body=CANARY)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def still_healthy(srv: ServerProcess) -> Iterator[None]:
    """After every test: the canary reads back whole, writes work, no stray temp files."""
    yield
    status, _, body = send(srv, "GET", f"/{BUCKET}/canary")
    assert (status, body) == (200, CANARY)
    assert send(srv, "PUT", f"/{BUCKET}/after", b"ok")[0] == 200
    deadline = time.monotonic() + 10
    while list((srv.data_dir / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list((srv.data_dir / "tmp").iterdir()) == []


def send(srv: ServerProcess, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# S3 writes characters XML 1.0 cannot hold (a NUL echoed back) as character references all the same
_LENIENT = etree.XMLParser(recover=True)


def s3_error(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body, _LENIENT)
    assert root.tag == "Error", body
    return {child.tag: child.text or "" for child in root}


def exchange(srv: ServerProcess, data: bytes, *, then_close_write: bool = False, wait: float = 10.0) -> bytes:
    """Send raw bytes; return everything the server sends back until it closes (or `wait` passes)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=wait) as s:
        s.sendall(data)
        if then_close_write:
            s.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
        return received


def keys(srv: ServerProcess) -> list[str]:
    _, _, body = send(srv, "GET", f"/{BUCKET}?list-type=2")
    return sorted(e.text or "" for e in etree.fromstring(body).iter("{*}Key"))


def new_upload(srv: ServerProcess, key: str) -> str:
    status, _, body = send(srv, "POST", f"/{BUCKET}/{quote(key)}?uploads")
    assert status == 200
    return next(etree.fromstring(body).iter("{*}UploadId")).text or ""


def parts_of(srv: ServerProcess, key: str, upload_id: str) -> list[int]:
    status, _, body = send(srv, "GET", f"/{BUCKET}/{quote(key)}?uploadId={upload_id}")
    assert status == 200, body
    return [int(e.text or 0) for e in etree.fromstring(body).iter("{*}PartNumber")]


# -- XML bodies -------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"<CompleteMultipartUpload><Part>",
    b"not xml at all",
    b"<Wrong><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Wrong>",
    b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
    b"\xff\xfe<\x00C\x00",
])
def test_malformed_complete(srv: ServerProcess, body: bytes) -> None:
    upload_id = new_upload(srv, "mal")
    status, _, reply = send(srv, "POST", f"/{BUCKET}/mal?uploadId={upload_id}", body)
    assert status == 400 and s3_error(reply)["Code"] == "MalformedXML"
    assert "mal" not in keys(srv)


@pytest.mark.parametrize("body", [b"<Delete><Object><Key>a", b"<NotDelete/>"])
def test_malformed_delete_objects(srv: ServerProcess, body: bytes) -> None:
    status, _, reply = send(srv, "POST", f"/{BUCKET}?delete", body, md5_header(body))
    assert status == 400 and s3_error(reply)["Code"] == "MalformedXML"


def test_huge_xml_bodies_are_refused(srv: ServerProcess) -> None:
    upload_id = new_upload(srv, "huge")
    part = b"<Part><PartNumber>1</PartNumber><ETag>" + b"e" * 1000 + b"</ETag></Part>"
    big = b"<CompleteMultipartUpload>" + part * 5000 + b"</CompleteMultipartUpload>"
    status, _, reply = send(srv, "POST", f"/{BUCKET}/huge?uploadId={upload_id}", big)
    assert status == 400 and s3_error(reply)["Code"] == "MaxMessageLengthExceeded"
    objects = b"<Object><Key>" + b"k" * 1000 + b"</Key></Object>"
    status, _, reply = send(srv, "POST", f"/{BUCKET}?delete", b"<Delete>" + objects * 3000 + b"</Delete>")
    assert status == 400 and s3_error(reply)["Code"] == "MaxMessageLengthExceeded"
    assert send(srv, "GET", f"/{BUCKET}/canary")[0] == 200


def test_too_many_parts_in_complete(srv: ServerProcess) -> None:
    upload_id = new_upload(srv, "many")
    parts = b"".join(b"<Part><PartNumber>%d</PartNumber><ETag>x</ETag></Part>" % n for n in range(1, 10_003))
    status, _, reply = send(srv, "POST", f"/{BUCKET}/many?uploadId={upload_id}",
                            b"<CompleteMultipartUpload>" + parts + b"</CompleteMultipartUpload>")
    assert status == 400 and s3_error(reply)["Code"] in ("InvalidArgument", "InvalidPart")
    assert "many" not in keys(srv)


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
"""


@pytest.mark.parametrize("prolog, entity", [(LAUGHS, b"&lol9;"), (XXE, b"&xxe;")])
def test_entities_are_never_expanded(srv: ServerProcess, prolog: bytes, entity: bytes) -> None:
    upload_id = new_upload(srv, "ent")
    doc = prolog + b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + entity + \
        b"</ETag></Part></CompleteMultipartUpload>"
    status, _, reply = send(srv, "POST", f"/{BUCKET}/ent?uploadId={upload_id}", doc)
    assert 400 <= status < 500 and len(reply) < 4096
    assert b"root:" not in reply and b"lollol" not in reply
    # DeleteObjects echoes the keys it deleted: an expanded entity would come back here
    status, _, reply = send(srv, "POST", f"/{BUCKET}?delete",
                            prolog + b"<Delete><Object><Key>k" + entity + b"</Key></Object></Delete>")
    assert status in (200, 400) and b"root:" not in reply and b"lollol" not in reply and len(reply) < 4096
    # a lifecycle rule ID would be stored and shown back
    status, _, reply = send(srv, "PUT", f"/{BUCKET}?lifecycle", prolog + b"<LifecycleConfiguration><Rule><ID>"
                            + entity + b"</ID><Status>Enabled</Status><Filter/><Expiration><Days>9</Days>"
                            b"</Expiration></Rule></LifecycleConfiguration>")
    if status == 200:
        _, _, shown = send(srv, "GET", f"/{BUCKET}?lifecycle")
        assert b"root:" not in shown and b"lollol" not in shown
        send(srv, "DELETE", f"/{BUCKET}?lifecycle")
    assert b"root:" not in reply


# -- upload ids, part numbers, bucket names, keys, query strings -------------------------------------

@pytest.mark.parametrize("upload_id", [
    "", "nope", "../../etc/passwd", "%2e%2e%2f%2e%2e%2fmeta.sqlite3", "a/b", "x%00y", "%00", "A" * 4000,
    "18ea2954fca7b4bce23b001e89b56f7a12800762784ff310",  # well-formed, but not one of ours
    "%252e%252e", "' OR '1'='1",
])
def test_upload_ids_not_ours(srv: ServerProcess, upload_id: str) -> None:
    real = new_upload(srv, "ids")
    uid = upload_id if "%" in upload_id else quote(upload_id, safe="")
    for method, query, body in (("PUT", f"partNumber=1&uploadId={uid}", b"data"), ("GET", f"uploadId={uid}", b""),
                                ("POST", f"uploadId={uid}", b"<CompleteMultipartUpload><Part><PartNumber>1"
                                                            b"</PartNumber><ETag>x</ETag></Part>"
                                                            b"</CompleteMultipartUpload>"),
                                ("DELETE", f"uploadId={uid}", b"")):
        status, _, reply = send(srv, method, f"/{BUCKET}/ids?{query}", body)
        assert status == 404, (method, reply)
        assert s3_error(reply)["Code"] == "NoSuchUpload"
    assert parts_of(srv, "ids", real) == []  # the real upload was not touched
    assert "ids" not in keys(srv)


@pytest.mark.parametrize("number", ["0", "-1", "10001", "abc", "", "1.5", "99999999999999999999", "%00", "1%2f2",
                                    "%EF%BC%91"])
def test_bad_part_numbers(srv: ServerProcess, number: str) -> None:
    upload_id = new_upload(srv, "pn")
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/pn?partNumber={number}&uploadId={upload_id}", b"data")
    assert status == 400 and s3_error(reply)["Code"] == "InvalidArgument"
    assert parts_of(srv, "pn", upload_id) == []


@pytest.mark.parametrize("name", ["ab", "UPPER", "under_score", "-start", "end-", "192.168.1.1", "a..b",
                                  "x" * 64, "xn--punycode", "sthree-x", "a.-b", "bucket--x-s3", "%00abc"])
def test_bad_bucket_names(srv: ServerProcess, name: str) -> None:
    status, _, reply = send(srv, "PUT", f"/{name}")
    assert status == 400 and s3_error(reply)["Code"] == "InvalidBucketName"
    assert send(srv, "HEAD", f"/{name}")[0] in (400, 404)


def test_key_length_limit(srv: ServerProcess) -> None:
    assert send(srv, "PUT", f"/{BUCKET}/{'k' * 1024}", b"fits")[0] == 200
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/{'k' * 1025}", b"too long")
    assert status == 400 and s3_error(reply)["Code"] == "KeyTooLongError"
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/{quote('é' * 513)}", b"1026 bytes of UTF-8")
    assert status == 400 and s3_error(reply)["Code"] == "KeyTooLongError"
    assert [k for k in keys(srv) if k.startswith("kkk")] == ["k" * 1024]
    send(srv, "DELETE", f"/{BUCKET}/{'k' * 1024}")


@pytest.mark.parametrize("path", ["%ff%fe", "ok/%c3%28", "%ed%a0%80", "a%80"])
def test_invalid_utf8_keys(srv: ServerProcess, path: str) -> None:
    before = keys(srv)
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/{path}", b"data")
    assert status == 400 and s3_error(reply)["Code"] == "InvalidURI"
    assert keys(srv) == before


@pytest.mark.parametrize("query", ["list-type=2&prefix=%ff", "list-type=2&start-after=%c3%28", "marker=%ff%fe",
                                   "versions&key-marker=%ed%a0%80", "uploads&prefix=a%80", "location=%ff"])
def test_query_values_that_are_not_utf8(srv: ServerProcess, query: str) -> None:
    """Refused as the path is, not answered for U+FFFD in place of the bytes."""
    status, _, reply = send(srv, "GET", f"/{BUCKET}?{query}")
    assert status == 400 and s3_error(reply)["Code"] == "InvalidURI", reply


def test_repeated_and_oversized_query_values(srv: ServerProcess) -> None:
    upload_id = new_upload(srv, "q")
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/q?partNumber=1&partNumber=2&uploadId={upload_id}"
                                        f"&uploadId=other", b"data")
    assert status < 500, reply
    status, _, reply = send(srv, "GET", f"/{BUCKET}?list-type=2&prefix={'p' * 6000}&max-keys=1&max-keys=x")
    assert 200 <= status < 500 and b"Traceback" not in reply
    status, _, reply = send(srv, "GET", f"/{BUCKET}?max-keys={'9' * 5000}")
    assert status < 500 and b"Traceback" not in reply
    status, _, reply = send(srv, "GET", f"/{BUCKET}?{'&'.join(f'p{i}=v' for i in range(500))}")
    assert status < 500


# -- broken framing and misbehaving clients ------------------------------------------------------------

def _head(method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def test_body_shorter_than_content_length(srv: ServerProcess) -> None:
    reply = exchange(srv, _head("PUT", f"/{BUCKET}/short", "Content-Length: 1000\r\n") + b"x" * 10,
                     then_close_write=True)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 400")
    assert "short" not in keys(srv)


def test_body_longer_than_content_length(srv: ServerProcess) -> None:
    """The bytes past Content-Length are the next request, as HTTP says: here garbage, refused
    cleanly. The object is the declared 5 bytes, if it was stored before the connection closed."""
    reply = exchange(srv, _head("PUT", f"/{BUCKET}/long", "Content-Length: 5\r\nConnection: keep-alive\r\n")
                     + b"12345" + b"GARBAGE-NOT-HTTP\r\n\r\n", then_close_write=True)
    # the garbage is answered 400 or the connection is dropped; never a 5xx
    statuses = STATUS_LINE.findall(reply)
    assert all(s[0:1] in (b"2", b"4") for s in statuses), reply[:300]
    assert b"Traceback" not in reply
    status, _, body = send(srv, "GET", f"/{BUCKET}/long")
    assert (status, body) == (200, b"12345") or status == 404
    send(srv, "DELETE", f"/{BUCKET}/long")


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "0x10", "99999999999999999999999"])
def test_bad_content_length(srv: ServerProcess, length: str) -> None:
    reply = exchange(srv, _head("PUT", f"/{BUCKET}/badlen", f"Content-Length: {length}\r\nConnection: close\r\n")
                     + b"data")
    assert STATUS_LINE.match(reply) and STATUS_LINE.match(reply).group(1)[:1] == b"4", reply[:200]
    assert b"Traceback" not in reply
    assert "badlen" not in keys(srv)


def test_client_disconnects_in_the_middle_of_a_part(srv: ServerProcess) -> None:
    upload_id = new_upload(srv, "cut")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(_head("PUT", f"/{BUCKET}/cut?partNumber=1&uploadId={upload_id}", "Content-Length: 4000000\r\n"))
        s.sendall(b"z" * 300_000)
    deadline = time.monotonic() + 10
    while list((srv.data_dir / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert parts_of(srv, "cut", upload_id) == []
    # the upload itself carries on
    assert send(srv, "PUT", f"/{BUCKET}/cut?partNumber=1&uploadId={upload_id}", b"whole")[0] == 200
    assert parts_of(srv, "cut", upload_id) == [1]


def test_slow_client_is_timed_out_and_closed(srv: ServerProcess) -> None:
    """Answered RequestTimeout after request_idle_timeout; the connection is closed after
    aiohttp's lingering read (at most 10 s) instead of being kept alive."""
    limit = IDLE_TIMEOUT + 10 + 5
    with socket.create_connection(("127.0.0.1", srv.port), timeout=limit) as s:
        s.sendall(_head("PUT", f"/{BUCKET}/slow", "Content-Length: 1000\r\n") + b"only a little")
        started = time.monotonic()
        received = b""
        while time.monotonic() - started < limit:
            chunk = s.recv(65536)
            if not chunk:
                break  # the server closed the connection
            received += chunk
        else:
            pytest.fail("the server kept an idle connection open")
    assert received.startswith(b"HTTP/1.1 400"), received[:300]
    body = received.split(b"\r\n\r\n", 1)[1]
    assert s3_error(body)["Code"] == "RequestTimeout"
    assert "slow" not in keys(srv)


def test_oversized_header_block(srv: ServerProcess) -> None:
    def status(reply: bytes) -> bytes:
        m = STATUS_LINE.match(reply)
        assert m and b"Traceback" not in reply, reply[:200]
        return m.group(1)

    reply = exchange(srv, _head("GET", f"/{BUCKET}/canary", f"X-Big: {'h' * 20000}\r\nConnection: close\r\n"))
    assert status(reply)[:1] == b"4"
    many = "".join(f"X-H{i}: v\r\n" for i in range(5000))
    reply = exchange(srv, _head("GET", f"/{BUCKET}/canary", many + "Connection: close\r\n"))
    assert status(reply)[:1] in (b"2", b"4")
    reply = exchange(srv, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status(reply)[:1] == b"4"


def test_huge_metadata(srv: ServerProcess) -> None:
    status, _, reply = send(srv, "PUT", f"/{BUCKET}/meta", b"data", {"x-amz-meta-big": "m" * 2100})
    assert status == 400 and s3_error(reply)["Code"] == "MetadataTooLarge"
    status, _, reply = send(srv, "POST", f"/{BUCKET}/meta?uploads", b"",
                            {f"x-amz-meta-k{i}": "v" * 100 for i in range(30)})
    assert status == 400 and s3_error(reply)["Code"] == "MetadataTooLarge"
    assert "meta" not in keys(srv)


def test_unknown_methods_and_garbage_requests(srv: ServerProcess) -> None:
    status, _, reply = send(srv, "PATCH", f"/{BUCKET}/canary")
    assert status == 405 and s3_error(reply)["Code"] == "MethodNotAllowed"
    reply = exchange(srv, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100)  # a TLS hello
    assert reply == b"" or reply.startswith(b"HTTP/1.")
    reply = exchange(srv, b"GET / HTTP/9.9\r\n\r\n")
    assert reply == b"" or (STATUS_LINE.match(reply) and STATUS_LINE.match(reply).group(1)[:1] == b"4"), reply


def test_requests_aiohttp_cannot_parse_are_logged_in_one_line(srv: ServerProcess) -> None:
    """A broken header is the client's fault, answered 400: the server says so
    in one warning line, not as an ERROR with a traceback."""
    seen = len(srv.output)
    reply = exchange(srv, b"GET /hostile/canary HTTP/1.1\r\nHost: x\r\nIf-Match: \x7f\r\n\r\n")
    assert STATUS_LINE.match(reply) and STATUS_LINE.match(reply).group(1) == b"400", reply
    for _ in range(100):  # the server's stderr arrives through a pipe: bounded wait for its line
        if any("answered 400" in line for line in srv.output[seen:]):
            break
        time.sleep(0.05)
    lines = srv.output[seen:]
    assert [line for line in lines if "answered 400" in line and "Invalid header value char" in line], lines
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line], lines
