"""ListObjectsV2 and ListObjects (v1): prefixes, delimiters, paging, URL
encoding, and every key exactly once across pages."""
from __future__ import annotations

from typing import Any, Iterator
from urllib.parse import quote, unquote_plus

import pytest
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request, strip_ns, xml
from server import ServerProcess

# 25 keys: top-level files interleaved (in sort order) with three "directories"
KEYS = sorted([f"f{i:02d}" for i in range(10)] + [f"d{d}/x{i}" for d in range(3) for i in range(4)]
              + ["e", "d1/", "d2/deep/er"])
assert len(KEYS) == 25


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def listed(s3: Any) -> Iterator[str]:
    """One bucket holding KEYS, shared by the read-only tests of this module."""
    name = fresh_bucket_name("ls")
    s3.create_bucket(Bucket=name)
    for key in KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    yield name
    for key in KEYS:
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_bucket(Bucket=name)


def expected(delimiter: str = "", prefix: str = "") -> list[str]:
    """Keys and common prefixes in listing order."""
    out: list[str] = []
    for key in KEYS:
        if not key.startswith(prefix):
            continue
        i = key.find(delimiter, len(prefix)) if delimiter else -1
        item = key if i < 0 else key[: i + len(delimiter)]
        if not out or out[-1] != item:
            out.append(item)
    return out


def page_items(page: dict[str, Any]) -> list[str]:
    items = [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return sorted(items)


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_v2_pages_return_every_key_once(s3: Any, listed: str, delimiter: str) -> None:
    seen: list[str] = []
    token = None
    for _ in range(30):  # bounded: 25 items at 7 per page need 4 pages
        args: dict[str, Any] = {"Bucket": listed, "MaxKeys": 7, "Delimiter": delimiter}
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        items = page_items(page)
        assert page["KeyCount"] == len(items) <= 7
        assert page["MaxKeys"] == 7
        seen += items
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        assert len(items) == 7
        token = page["NextContinuationToken"]
    assert seen == expected(delimiter)


@pytest.mark.parametrize("delimiter", ["", "/"])
def test_v1_pages_return_every_key_once(s3: Any, listed: str, delimiter: str) -> None:
    seen: list[str] = []
    marker = ""
    for _ in range(30):
        page = s3.list_objects(Bucket=listed, MaxKeys=7, Delimiter=delimiter, Marker=marker)
        items = page_items(page)
        assert page["Marker"] == marker
        seen += items
        if not page["IsTruncated"]:
            assert "NextMarker" not in page
            break
        if delimiter:
            assert page["NextMarker"] == items[-1]
            marker = page["NextMarker"]
        else:
            assert "NextMarker" not in page  # without a delimiter, clients continue from the last key
            marker = page["Contents"][-1]["Key"]
    assert seen == expected(delimiter)


@pytest.mark.parametrize("operation", ["list_objects", "list_objects_v2"])
@pytest.mark.parametrize("delimiter", ["", "/"])
def test_boto3_paginators(s3: Any, listed: str, operation: str, delimiter: str) -> None:
    seen: list[str] = []
    for page in s3.get_paginator(operation).paginate(Bucket=listed, Delimiter=delimiter,
                                                     PaginationConfig={"PageSize": 7}):
        seen += page_items(page)
    assert seen == expected(delimiter)


def test_prefix_and_delimiter(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["e"] + [f"f{i:02d}" for i in range(10)]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d0/", "d1/", "d2/"]
    assert page["KeyCount"] == 14 and page["Delimiter"] == "/"
    page = s3.list_objects_v2(Bucket=listed, Prefix="d2/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["d2/x0", "d2/x1", "d2/x2", "d2/x3"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d2/deep/"]
    assert page["Prefix"] == "d2/"
    page = s3.list_objects_v2(Bucket=listed, Prefix="d1")
    assert [o["Key"] for o in page["Contents"]] == ["d1/", "d1/x0", "d1/x1", "d1/x2", "d1/x3"]
    page = s3.list_objects_v2(Bucket=listed, Prefix="d1/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]][0] == "d1/"  # the prefix itself is a key
    assert "CommonPrefixes" not in page
    page = s3.list_objects_v2(Bucket=listed, Prefix="nothing")
    assert page["KeyCount"] == 0 and "Contents" not in page and not page["IsTruncated"]


def test_delimiter_other_than_slash(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, Delimiter="x")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d0/x", "d1/x", "d2/x"]
    assert "d1/" in [o["Key"] for o in page["Contents"]]


def test_start_after(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, StartAfter="f07")
    assert [o["Key"] for o in page["Contents"]] == ["f08", "f09"]
    assert page["StartAfter"] == "f07"
    page = s3.list_objects_v2(Bucket=listed, StartAfter="d2/x3", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]][0] == "e"
    page = s3.list_objects_v2(Bucket=listed, StartAfter="zzz")
    assert page["KeyCount"] == 0
    page = s3.list_objects_v2(Bucket=listed, StartAfter="a", Prefix="f0")  # before the prefix: no effect
    assert page["KeyCount"] == 10


def test_continuation_token_takes_precedence_over_start_after(s3: Any, listed: str) -> None:
    first = s3.list_objects_v2(Bucket=listed, MaxKeys=3)
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=3, StartAfter="f05",
                              ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in page["Contents"]] == KEYS[3:6]
    assert page["ContinuationToken"] == first["NextContinuationToken"]
    assert "StartAfter" not in page  # not echoed either (AWS: list-objects-start-after-token)


def test_v1_marker(s3: Any, listed: str) -> None:
    page = s3.list_objects(Bucket=listed, Marker="f07")
    assert [o["Key"] for o in page["Contents"]] == ["f08", "f09"]
    page = s3.list_objects(Bucket=listed, Marker="d1/", Delimiter="/", MaxKeys=2)
    # d1/ itself is the marker: the next items are the d2/ prefix and e
    assert page_items(page) == ["d2/", "e"]
    assert page["NextMarker"] == "e" and page["IsTruncated"]


def test_fetch_owner(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=2)
    assert all("Owner" not in o for o in page["Contents"])
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=2, FetchOwner=True)
    assert all(o["Owner"]["ID"] for o in page["Contents"])
    page = s3.list_objects(Bucket=listed, MaxKeys=2)
    assert all(list(o["Owner"]) == ["ID"] for o in page["Contents"])  # S3 no longer sends DisplayName


def test_timestamps_and_region_header(s3: Any, server: ServerProcess, listed: str) -> None:
    # S3's timestamps are whole seconds, ".000Z" (AWS: test_s3_timestamp_precision), and a listing says the
    # bucket's region (AWS: test_region_header_exists_outside_us_east_1)
    for query in ("?list-type=2", ""):
        raw = request(server.endpoint, "GET", f"/{listed}{query}")
        stamps = [e.text for e in xml(raw.body).iter("{*}LastModified")]
        assert stamps and all(t.endswith(".000Z") and len(t) == 24 for t in stamps)
        assert raw.headers["x-amz-bucket-region"] == "us-east-1"
    created = [e.text for e in xml(request(server.endpoint, "GET", "/").body).iter("{*}CreationDate")]
    assert created and all(t.endswith(".000Z") for t in created)


def test_entry_fields(s3: Any, listed: str) -> None:
    obj = s3.list_objects_v2(Bucket=listed, Prefix="e")["Contents"][0]
    head = s3.head_object(Bucket=listed, Key="e")
    assert obj["ETag"] == head["ETag"] and obj["Size"] == 1
    assert obj["StorageClass"] == "STANDARD"
    assert obj["LastModified"] == head["LastModified"]  # whole seconds, as S3 keeps them


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "1_0", "%2012", "2147483648"])
def test_invalid_max_keys(server: ServerProcess, listed: str, value: str) -> None:
    for query in (f"list-type=2&max-keys={value}", f"max-keys={value}"):
        raw = request(server.endpoint, "GET", f"/{listed}?{query}")
        assert raw.status == 400, raw.body
        err = raw.error()
        assert err["Code"] == "InvalidArgument"
        assert err["ArgumentName"] == "max-keys" and err["ArgumentValue"] == unquote_plus(value)


def test_max_keys_zero_and_above_limit(s3: Any, listed: str) -> None:
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=0)
    assert page["KeyCount"] == 0 and "Contents" not in page
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=5000)
    assert page["KeyCount"] == 25 and not page["IsTruncated"]


@pytest.mark.parametrize("token", ["@@@not a token@@@", "abc", "YQ", "/w=="])
def test_invalid_continuation_token(s3: Any, listed: str, token: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=listed, ContinuationToken=token)
    assert error_of(exc) == ("InvalidArgument", 400)


def test_empty_continuation_token(server: ServerProcess, listed: str) -> None:
    raw = request(server.endpoint, "GET", f"/{listed}?list-type=2&continuation-token=")
    assert raw.status == 400 and raw.error()["Code"] == "InvalidArgument"


def test_invalid_encoding_type(server: ServerProcess, listed: str) -> None:
    raw = request(server.endpoint, "GET", f"/{listed}?list-type=2&encoding-type=base64")
    assert raw.status == 400 and raw.error()["Code"] == "InvalidArgument"


def test_list_missing_bucket(s3: Any) -> None:
    for call in (s3.list_objects_v2, s3.list_objects):
        with pytest.raises(ClientError) as exc:
            call(Bucket="no-such-bucket-x")
        assert error_of(exc) == ("NoSuchBucket", 404)


# -- encoding-type=url ---------------------------------------------------------

ODD_KEYS = ["a b", "a+b", "a%b", "a%20b", "dir one/x y", "dir one/x+y", "é/ü", "tab\tkey", "q?#&=", "~tilde"]


@pytest.fixture(scope="module")
def odd(s3: Any) -> Iterator[str]:
    name = fresh_bucket_name("enc")
    s3.create_bucket(Bucket=name)
    for key in ODD_KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    yield name
    for key in ODD_KEYS:
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_bucket(Bucket=name)


def test_odd_keys_round_trip_through_boto3(s3: Any, odd: str) -> None:
    # boto3 asks for encoding-type=url on its own and decodes with unquote_plus
    page = s3.list_objects_v2(Bucket=odd)
    assert [o["Key"] for o in page["Contents"]] == sorted(ODD_KEYS, key=str.encode)
    page = s3.list_objects(Bucket=odd)
    assert [o["Key"] for o in page["Contents"]] == sorted(ODD_KEYS, key=str.encode)
    page = s3.list_objects_v2(Bucket=odd, Delimiter="/", Prefix="dir one/")
    assert [o["Key"] for o in page["Contents"]] == ["dir one/x y", "dir one/x+y"]
    page = s3.list_objects_v2(Bucket=odd, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir one/", "é/"]
    for key in ODD_KEYS:
        assert s3.get_object(Bucket=odd, Key=key)["Body"].read() == key.encode()


def test_explicit_encoding_type_is_left_encoded(s3: Any, odd: str) -> None:
    # asked for explicitly, botocore hands back what S3 sent: still encoded
    page = s3.list_objects_v2(Bucket=odd, EncodingType="url", Delimiter="/", Prefix="dir one/")
    assert page["EncodingType"] == "url"
    assert page["Prefix"] != "dir one/" and unquote_plus(page["Prefix"]) == "dir one/"
    assert [unquote_plus(o["Key"]) for o in page["Contents"]] == ["dir one/x y", "dir one/x+y"]
    page = s3.list_objects_v2(Bucket=odd, EncodingType="url")
    assert [unquote_plus(o["Key"]) for o in page["Contents"]] == sorted(ODD_KEYS, key=str.encode)
    assert all(" " not in o["Key"] and "+" not in o["Key"] for o in page["Contents"])


def test_encoded_listing_on_the_wire(server: ServerProcess, odd: str) -> None:
    raw = request(server.endpoint, "GET", f"/{odd}?list-type=2&encoding-type=url&prefix={quote('dir one/', safe='')}"
                                          f"&delimiter=%2F&start-after={quote('dir one/x y', safe='')}")
    assert raw.status == 200
    root = xml(raw.body)
    fields = {strip_ns(c.tag): c.text for c in root}
    assert fields["EncodingType"] == "url"
    assert unquote_plus(fields["Prefix"]) == "dir one/" and " " not in fields["Prefix"]
    assert unquote_plus(fields["StartAfter"]) == "dir one/x y"
    keys = [c.text for c in root.iter("{*}Key")]
    assert [unquote_plus(k) for k in keys] == ["dir one/x+y"]
    raw = request(server.endpoint, "GET", f"/{odd}?list-type=2")  # unencoded: keys as they are
    assert sorted(c.text for c in xml(raw.body).iter("{*}Key")) == sorted(ODD_KEYS)


@pytest.mark.timeout(60)
def test_delimiter_after_the_largest_code_point(s3: Any, bucket: str) -> None:
    keys = ["d/\U0010ffff", "d/\U0010ffff/x", "d\U0010ffff/y", "e"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/", "d\U0010ffff/"]
    assert [o["Key"] for o in page["Contents"]] == ["e"]
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="\U0010ffff")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/\U0010ffff", "d\U0010ffff"]
