"""Which bucket and key a request addresses: path style and virtual-hosted style."""
from __future__ import annotations

import pytest

from s3emu.http.addressing import check_key, host_bucket, split_path
from s3emu.http.errors import S3Error


@pytest.mark.parametrize(("host", "domains", "bucket"), [
    ("bucket.localhost:9000", ["localhost"], "bucket"),
    ("my.dotted.bucket.s3.local.test", ["s3.local.test"], "my.dotted.bucket"),
    ("BUCKET.LOCALHOST", ["localhost"], "bucket"),
    ("localhost:9000", ["localhost"], None),
    ("127.0.0.1:9000", ["localhost"], None),
    (None, ["localhost"], None),
    ("bucket.elsewhere", ["localhost"], None),
])
def test_host_bucket(host: str | None, domains: list[str], bucket: str | None) -> None:
    assert host_bucket(host, domains) == bucket


@pytest.mark.parametrize(("raw_path", "from_host", "expected"), [
    ("/", None, (None, None)),
    ("", None, (None, None)),
    ("/bucket", None, ("bucket", None)),
    ("/bucket/", None, ("bucket", None)),
    ("/bucket/key", None, ("bucket", "key")),
    ("/bucket/a/b//c/", None, ("bucket", "a/b//c/")),
    ("/bucket/..%2F.", None, ("bucket", "../.")),
    ("/bucket/a%20b%2Bc?versionId=1", None, ("bucket", "a b+c")),
    ("/bucket/%E2%9C%93", None, ("bucket", "\u2713")),
    ("/", "vhost", ("vhost", None)),
    ("/key/with/slashes", "vhost", ("vhost", "key/with/slashes")),
    ("//leading", "vhost", ("vhost", "/leading")),
])
def test_split_path(raw_path: str, from_host: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_path(raw_path, from_host) == expected


@pytest.mark.parametrize("raw_path", ["/bucket/%FF", "/bucket?prefix=%FF", "/bucket/k?versionId=a%C3%28",
                                      "/bucket?list-type=2&start-after=%ed%a0%80", "/bucket?%FF"])
def test_a_path_or_query_that_is_not_utf8_is_invalid_uri(raw_path: str) -> None:
    with pytest.raises(S3Error) as excinfo:
        split_path(raw_path, None)
    assert (excinfo.value.code, excinfo.value.status) == ("InvalidURI", 400)


def test_keys_are_limited_to_1024_utf8_bytes() -> None:
    check_key("k" * 1024)
    check_key("\u00e9" * 512)  # two bytes each
    with pytest.raises(S3Error) as excinfo:
        check_key("\u00e9" * 513)
    assert excinfo.value.code == "KeyTooLongError" and excinfo.value.fields["Size"] == 1026
