"""Keys are names, not paths: any UTF-8 up to 1024 bytes, each its own
object, listed in UTF-8 byte order, never touching the filesystem."""
from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from rawhttp import request
from server import ServerProcess

KEYS = [
    "a", "a/b", "a/", "a//b", "a/./b", "a/../b", "../x", "../../escape", "./y", "..", ".", "/leading",
    "trailing/", "with space", "per%cent", "per%2Fcent", "plus+sign", "ques?tion", "hash#tag", "amp&er=sand",
    "semi;colon", "back\\slash", "tab\there", "new\nline", "carriage\rreturn", "crlf\r\n",
    "quote'\"", "<xml>&", "ünïcödé", "日本語/キー", "emoji 😀",
    "Z", "z", "~", "\u00a0nbsp", "\U0001f600", "\uffff", "a\u0301",
]


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def around(data_dir: Path) -> set[Path]:
    """Everything beside the data directory (a tree of its own), except its own contents."""
    return {p for p in data_dir.parent.rglob("*") if data_dir not in p.parents}


@pytest.fixture
def lone_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose data directory is alone in its parent: nothing else writes beside it."""
    srv = ServerProcess(tmp_path / "tree" / "data", "--durability", "fast").start()
    yield srv
    srv.stop()


def test_keys_coexist_and_list_in_utf8_order(lone_server: ServerProcess) -> None:
    server, s3 = lone_server, lone_server.client()
    bucket = "keys"
    s3.create_bucket(Bucket=bucket)
    before = around(server.data_dir)
    for i, key in enumerate(KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"{i}:{key}".encode())
    for i, key in enumerate(KEYS):
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == f"{i}:{key}".encode(), key
    listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
              for o in page.get("Contents", [])]
    assert [k.encode() for k in listed] == sorted(k.encode() for k in KEYS)
    # nothing appeared beside the data directory, whatever the keys said
    assert around(server.data_dir) == before
    assert not (server.data_dir.parent.parent / "escape").exists()
    assert not any(name in {"x", "y", "escape", "b"} for name in os.listdir(server.data_dir))


def test_similar_keys_are_distinct(s3: Any, bucket: str) -> None:
    for key in ("a", "a/", "a//", "a/b", "a//b"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.delete_object(Bucket=bucket, Key="a/")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"a"
    assert s3.get_object(Bucket=bucket, Key="a//")["Body"].read() == b"a//"
    assert s3.get_object(Bucket=bucket, Key="a//b")["Body"].read() == b"a//b"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="a/")
    assert error_of(exc) == ("NoSuchKey", 404)
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["a"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/"]
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="a/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a//"]
    assert [o["Key"] for o in page["Contents"]] == ["a/b"]


def test_dot_segments_are_sent_and_kept_verbatim(s3: Any, server: ServerProcess, bucket: str) -> None:
    # a raw path is taken byte for byte: no dot-segment removal
    for path_key, key in [("../x", "../x"), ("a/./b", "a/./b"), ("%2E%2E/y", "../y"), ("a%2Fb", "a/b")]:
        raw = request(server.endpoint, "PUT", f"/{bucket}/{path_key}", body=key.encode())
        assert raw.status == 200, (path_key, raw.body)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"../x", "a/./b", "../y", "a/b"}


def test_percent_escapes_decode_once(s3: Any, server: ServerProcess, bucket: str) -> None:
    raw = request(server.endpoint, "PUT", f"/{bucket}/{quote('100%25 sure+')}", body=b"x")
    assert raw.status == 200
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["100%25 sure+"]


def test_key_length_limit(s3: Any, server: ServerProcess, bucket: str) -> None:
    for key in ("k" * 1024, "é" * 512, "😀" * 256):  # exactly 1024 UTF-8 bytes
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 1
    for key in ("k" * 1025, "é" * 513, "a" + "😀" * 256):
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert error_of(exc) == ("KeyTooLongError", 400)
        assert exc.value.response["Error"]["MaxSizeAllowed"] == "1024"
        assert exc.value.response["Error"]["Size"] == str(len(key.encode()))
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 3


def test_invalid_utf8_in_path(server: ServerProcess, bucket: str) -> None:
    raw = request(server.endpoint, "PUT", f"/{bucket}/bad%FFkey", body=b"x")
    assert raw.status == 400
    assert raw.error()["Code"] == "InvalidURI"


def test_keys_with_characters_xml_cannot_hold(s3: Any, server: ServerProcess, bucket: str) -> None:
    keys = ["a\x01b", "nul\x00", "esc\x1b[0m", "\uffff", "\ufdd0x\ufdd1"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]  # encoding-type=url
    assert listed == sorted(keys, key=str.encode)
    # unencoded, S3 still answers, writing them as character references
    for query in ("?list-type=2", ""):
        raw = request(server.endpoint, "GET", f"/{bucket}{query}")
        assert raw.status == 200
        assert b"<Key>a&#x1;b</Key>" in raw.body and b"<Key>nul&#x0;</Key>" in raw.body
        assert "<Key>&#xfdd0;x\ufdd1</Key>".encode() in raw.body
    # and an error document naming such a key is still an S3 error
    raw = request(server.endpoint, "GET", f"/{bucket}/missing%02")
    assert raw.status == 404 and raw.headers["x-amz-request-id"]
    assert b"<Key>missing&#x2;</Key>" in raw.body and b"<Code>NoSuchKey</Code>" in raw.body


def test_copy_and_delete_odd_keys(s3: Any, bucket: str) -> None:
    for key in ("../x", "a//b", "ques?tion", "emoji 😀", "plus+sign"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        s3.copy_object(Bucket=bucket, Key=key + "#copy", CopySource={"Bucket": bucket, "Key": key})
        assert s3.get_object(Bucket=bucket, Key=key + "#copy")["Body"].read() == key.encode()
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": o["Key"]} for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]})
    assert len(resp["Deleted"]) == 10
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
