"""Generated requests (methods, paths, query parameters, headers, bodies) thrown
at running servers, with and without auth: every answer is well formed (below
500, or a documented 500/501/503 with an S3 <Error> document), never a Python
traceback, and a known object stays intact throughout."""
from __future__ import annotations

import http.client
import string
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from rawhttp import signed_headers
from server import ServerProcess

CANARY_BUCKET = "fuzz-canary"
CANARY = b"fuzzing must never touch this" * 50
_LENIENT = etree.XMLParser(recover=True)

SUBRESOURCES = ["uploads", "uploadId", "partNumber", "delete", "lifecycle", "versioning", "location", "tagging",
                "acl", "cors", "policy", "versions", "list-type", "prefix", "delimiter", "max-keys", "marker",
                "continuation-token", "start-after", "encoding-type", "key-marker", "upload-id-marker",
                "max-uploads", "max-parts", "part-number-marker", "versionId", "response-content-type",
                "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires", "attributes", "restore"]
HEADERS = ["Content-MD5", "Content-Type", "Range", "If-Match", "If-None-Match", "If-Modified-Since",
           "If-Unmodified-Since", "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-meta-a",
           "x-amz-checksum-crc32", "x-amz-checksum-sha256", "x-amz-checksum-algorithm", "x-amz-content-sha256",
           "x-amz-decoded-content-length", "x-amz-storage-class", "x-amz-tagging", "x-amz-mp-object-size",
           "x-amz-metadata-directive", "x-amz-date", "Authorization", "Content-Encoding", "x-amz-trailer",
           "x-amz-sdk-checksum-algorithm", "x-amz-bucket-object-lock-enabled", "x-amz-object-attributes"]
XML_BODIES = [
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>",
    b"<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>",
    b"<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter/><Expiration><Days>3000</Days>"
    b"</Expiration></Rule></LifecycleConfiguration>",
    b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
    b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><Delete><Object><Key>&e;</Key>"
    b"</Object></Delete>",
]

header_text = st.text(alphabet=string.printable.replace("\r", "").replace("\n", "").replace("\x0b", "")
                      .replace("\x0c", ""), max_size=60)
names = st.text(max_size=30).filter(lambda s: s != "canary")
requests = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    "bucket": st.one_of(st.none(), st.sampled_from(["fuzz", "fuzz-missing", "a", "Fuzz", "fuzz.x"]),
                        st.text(max_size=20).filter(lambda s: s != CANARY_BUCKET)),
    "key": st.one_of(st.none(), st.sampled_from(["k", "a/b", "../x", "a//b", "%", "k?x"]), names),
    "raw_path_tail": st.sampled_from(["", "", "", "%zz", "%ff", "%00", "/..", "%2F"]),
    "query": st.lists(st.tuples(st.one_of(st.sampled_from(SUBRESOURCES), st.text(max_size=10)),
                                st.one_of(st.just(""), st.text(max_size=20), st.integers().map(str))), max_size=4),
    "headers": st.dictionaries(st.sampled_from(HEADERS), header_text, max_size=4),
    "body": st.one_of(st.just(b""), st.binary(max_size=3000), st.sampled_from(XML_BODIES)),
})


def start(tmp: Path, *args: str) -> ServerProcess:
    srv = ServerProcess(tmp / "data", "--durability", "fast", "--min-part-size", "1", "--no-access-log",
                        *args).start()
    c = srv.client()
    for bucket in ("fuzz", CANARY_BUCKET):
        c.create_bucket(Bucket=bucket)
    c.put_object(Bucket=CANARY_BUCKET, Key="canary", Body=CANARY)
    return srv


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start(tmp_path_factory.mktemp("fuzz-open"), "--no-auth")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = start(tmp_path_factory.mktemp("fuzz-auth"))
    yield srv
    srv.stop()


def build_path(r: dict[str, Any]) -> str:
    path = "/"
    if r["bucket"] is not None:
        path += quote(r["bucket"], safe="")
        if r["key"] is not None:
            path += "/" + quote(r["key"], safe="/")
    path += r["raw_path_tail"]
    if r["query"]:
        path += "?" + "&".join(quote(k, safe="") + ("=" + quote(v, safe="") if v else "") for k, v in r["query"])
    return path


def fire(srv: ServerProcess, r: dict[str, Any], sign: bool) -> tuple[int, bytes]:
    path = build_path(r)
    headers = dict(r["headers"])
    if sign:
        headers = signed_headers(r["method"], srv.endpoint + path, headers)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        conn.request(r["method"], path, body=r["body"], headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def check_answer(method: str, status: int, body: bytes) -> None:
    assert b"Traceback" not in body and b'File "/' not in body, body[:500]
    assert 100 <= status < 600
    if status >= 500:
        assert status in (500, 501, 503), (status, body[:300])
    if status >= 300 and method != "HEAD" and body:
        root = etree.fromstring(body, _LENIENT)
        assert root is not None and root.tag == "Error", body[:300]
        code = root.findtext("Code")
        assert code, body[:300]
        if status >= 500:
            assert code in ("InternalError", "NotImplemented", "ServiceUnavailable", "SlowDown"), code


def canary_intact(srv: ServerProcess) -> bool:
    return srv.client().get_object(Bucket=CANARY_BUCKET, Key="canary")["Body"].read() == CANARY


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(r=requests)
def test_fuzz_without_auth(open_server: ServerProcess, r: dict[str, Any]) -> None:
    status, body = fire(open_server, r, sign=False)
    check_answer(r["method"], status, body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(r=requests)
def test_fuzz_with_auth(auth_server: ServerProcess, r: dict[str, Any]) -> None:
    status, body = fire(auth_server, r, sign=True)
    check_answer(r["method"], status, body)


def test_canary_survived(open_server: ServerProcess, auth_server: ServerProcess) -> None:
    """Runs after the fuzzing above (pytest keeps file order): the known object is intact."""
    assert canary_intact(open_server) and canary_intact(auth_server)
    for srv in (open_server, auth_server):
        health = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        health.request("GET", "/")
        assert health.getresponse().status in (200, 403)
        health.close()
