"""Bucket lifecycle configuration: Put, Get, Delete.

The XML is validated as S3 does and stored as a tree of (name, value) pairs
(storage/lifecycle.py reads the rules from it; the reaper enforces them).
"""
from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from lxml import etree

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import local, parse
from ..protocol.dates import iso8601, parse_iso8601
from ..protocol.headers import TRANSITION_CLASSES
from ..storage.lifecycle import SIZE_DEFAULT, Tree, find, find_all
from .common import configuration_body

MAX_BODY = 1024 * 1024
MAX_RULES = 1000
# TransitionDefaultMinimumObjectSize (since 2024): below 128 KiB, objects do not transition unless a rule
# filters on size (all_storage_classes_128K), or only to GLACIER and DEEP_ARCHIVE (varies_by_storage_class)
SIZE = "x-amz-transition-default-minimum-object-size"
SIZES = (SIZE_DEFAULT, "varies_by_storage_class")

_RULE_ELEMENTS = {"ID", "Status", "Filter", "Prefix", "Expiration", "Transition", "NoncurrentVersionTransition",
                  "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"}
_FILTER_ELEMENTS = {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"}


def _tree(elem: etree._Element) -> Tree:
    """An element's children as [[name, text or subtree], ...]."""
    out: Tree = []
    for child in elem:
        if not isinstance(child.tag, str):
            continue  # entity references (never expanded) and the like
        if len(child):
            out.append([local(child), _tree(child)])
        else:
            out.append([local(child), (child.text or "").strip()])
    return out


def _malformed() -> S3Error:
    return S3Error("MalformedXML")


def _invalid(message: str, name: str, value: Any) -> S3Error:
    return S3Error("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


_REPEATABLE = {"Rule", "Tag", "Transition", "NoncurrentVersionTransition"}


def _only(tree: Tree, allowed: set[str]) -> None:
    """Only the allowed elements, and each at most once unless S3 lets it repeat."""
    names = [n for n, _ in tree]
    if any(n not in allowed for n in names) or any(names.count(n) > 1 for n in allowed - _REPEATABLE):
        raise _malformed()


def _int(text: Any) -> int:
    if not isinstance(text, str) or not text.lstrip("-").isdigit() or len(text) > 10:
        raise _malformed()
    return int(text)


def _days(text: Any, name: str, action: str, minimum: int = 1) -> str:
    value = _int(text)
    if value < minimum:
        raise _invalid(f"'{name}' for {action} action must be a positive integer", name, text)
    return str(value)


def _date(text: Any) -> str:
    """A lifecycle date: ISO 8601, at midnight GMT; rendered back as S3 does."""
    try:
        value = parse_iso8601(str(text))
    except ValueError:
        raise _malformed() from None
    if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
        raise _invalid("'Date' must be at midnight GMT", "Date", text)
    return iso8601(value.timestamp())


def _filter(tree: Tree) -> tuple[Tree, bool]:
    """A validated Filter, and whether it selects by tag."""
    _only(tree, _FILTER_ELEMENTS)
    if len(tree) > 1:
        raise _malformed()
    conditions = find(tree, "And")
    if conditions is None:
        conditions = tree
    elif not isinstance(conditions, list):
        raise _malformed()
    else:
        _only(conditions, _FILTER_ELEMENTS - {"And"})
    keys: set[str] = set()
    for name, value in conditions:
        if name == "Tag":
            if not isinstance(value, list) or find(value, "Key") is None or len(value) > 2:
                raise _malformed()
            if find(value, "Key") in keys:
                raise S3Error("InvalidRequest", "Duplicate Tag Keys are not allowed.")
            keys.add(find(value, "Key"))
            value.sort(key=lambda pair: pair[0] != "Key")
        elif name in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
            if _int(value) < 0:
                raise _invalid(f"'{name}' must be a non-negative integer", name, value)
        elif name == "Prefix" and not isinstance(value, str):
            raise _malformed()
    return tree, bool(keys)


def _expiration(tree: Any) -> Tree:
    if not isinstance(tree, list):
        raise _malformed()
    _only(tree, {"Days", "Date", "ExpiredObjectDeleteMarker"})
    if len(tree) != 1:
        raise _malformed()
    name, value = tree[0]
    if name == "Days":
        return [["Days", _days(value, "Days", "Expiration")]]
    if name == "Date":
        return [["Date", _date(value)]]
    if value not in ("true", "false"):
        raise _malformed()
    return [[name, value]]


def _transition(tree: Any, noncurrent: bool) -> Tree:
    """A Transition (Days or Date) or NoncurrentVersionTransition (NoncurrentDays) to a colder class;
    the reaper moves versions when due (storage/lifecycle.py)."""
    if not isinstance(tree, list):
        raise _malformed()
    when = "NoncurrentDays" if noncurrent else "Days"
    _only(tree, {when, "StorageClass", "NewerNoncurrentVersions"} | (set() if noncurrent else {"Date"}))
    if find(tree, "StorageClass") not in TRANSITION_CLASSES:
        raise _malformed()
    if sum(find(tree, name) is not None for name in (when, "Date")) != 1:
        raise _malformed()  # when it is due: one of Days or Date
    out = []
    for name, value in tree:
        if name == "Date":
            out.append([name, _date(value)])
        elif name == "StorageClass":
            out.append([name, value])
        else:
            out.append([name, _days(value, name, "Transition", minimum=0)])
    return out


def _rule(tree: Tree) -> Tree:
    _only(tree, _RULE_ELEMENTS)
    rule_id = find(tree, "ID")
    if rule_id is None or rule_id == "":
        rule_id = secrets.token_urlsafe(36)[:48]  # S3 names a rule that has no ID
    if not isinstance(rule_id, str):
        raise _malformed()
    if len(rule_id) > 255:
        raise _invalid("ID length should not exceed allowed limit of 255", "ID", rule_id)
    status = find(tree, "Status")
    if status not in ("Enabled", "Disabled"):
        raise _malformed()
    out: Tree = [["ID", rule_id]]
    has_filter, has_prefix = find(tree, "Filter") is not None, find(tree, "Prefix") is not None
    if has_filter == has_prefix:
        raise _malformed()  # one of Filter or the older Prefix, not both, not neither
    by_tag = False
    if has_filter:
        filter_tree = find(tree, "Filter")
        if not isinstance(filter_tree, list):
            filter_tree = [] if filter_tree == "" else None
            if filter_tree is None:
                raise _malformed()
        filter_tree, by_tag = _filter(filter_tree)
        out.append(["Filter", filter_tree])
    else:
        if not isinstance(find(tree, "Prefix"), str):
            raise _malformed()
        out.append(["Prefix", find(tree, "Prefix")])
    out.append(["Status", status])
    actions = 0
    if find(tree, "Expiration") is not None:
        expiration = _expiration(find(tree, "Expiration"))
        if by_tag and expiration[0][0] == "ExpiredObjectDeleteMarker":
            raise S3Error("InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Tags.")
        out.insert(0, ["Expiration", expiration])
        actions += 1
    for t in find_all(tree, "Transition"):
        out.append(["Transition", _transition(t, noncurrent=False)])
        actions += 1
    for t in find_all(tree, "NoncurrentVersionTransition"):
        out.append(["NoncurrentVersionTransition", _transition(t, noncurrent=True)])
        actions += 1
    noncurrent = find(tree, "NoncurrentVersionExpiration")
    if noncurrent is not None:
        out.append(["NoncurrentVersionExpiration", _noncurrent_expiration(noncurrent)])
        actions += 1
    abort = find(tree, "AbortIncompleteMultipartUpload")
    if abort is not None:
        if by_tag:
            raise S3Error("InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags.")
        if not isinstance(abort, list) or [n for n, _ in abort] != ["DaysAfterInitiation"]:
            raise _malformed()
        days = _days(abort[0][1], "DaysAfterInitiation", "AbortIncompleteMultipartUpload")
        out.append(["AbortIncompleteMultipartUpload", [["DaysAfterInitiation", days]]])
        actions += 1
    if not actions:
        raise S3Error("InvalidRequest", "At least one action needs to be specified in a rule")
    return out


def _noncurrent_expiration(tree: Any) -> Tree:
    if not isinstance(tree, list):
        raise _malformed()
    _only(tree, {"NoncurrentDays", "NewerNoncurrentVersions"})
    if find(tree, "NoncurrentDays") is None:
        raise _malformed()
    out = [["NoncurrentDays", _days(find(tree, "NoncurrentDays"), "NoncurrentDays",
                                    "NoncurrentVersionExpiration")]]
    newer = find(tree, "NewerNoncurrentVersions")
    if newer is not None:
        if not 1 <= _int(newer) <= 100:
            raise _invalid("NewerNoncurrentVersions must be between 1 and 100", "NewerNoncurrentVersions", newer)
        out.append(["NewerNoncurrentVersions", str(int(newer))])
    return out


def parse_lifecycle(body: bytes) -> Tree:
    """S3's LifecycleConfiguration document, validated, as a stored tree."""
    tree = _tree(parse(body, "LifecycleConfiguration"))
    _only(tree, {"Rule"})
    rules = find_all(tree, "Rule")
    if not rules or len(rules) > MAX_RULES or not all(isinstance(r, list) for r in rules):
        raise _malformed()
    out = [["Rule", _rule(r)] for r in rules]
    ids = [find(r, "ID") for _, r in out]
    if len(set(ids)) != len(ids):
        raise _invalid("Rule ID must be unique. Found same ID for more than one rule", "ID",
                       next(i for i in ids if ids.count(i) > 1))
    return out


async def put_bucket_lifecycle(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY)
    # the bucket's TransitionDefaultMinimumObjectSize, echoed by Put and Get (AWS:
    # test_s3_transition_default_minimum_object_size)
    size = req.headers.get(SIZE, SIZE_DEFAULT)
    if size not in SIZES:
        raise S3Error("InvalidRequest", f"Invalid TransitionDefaultMinimumObjectSize found: {size}")
    await req.store.call(req.store.update_bucket_config, req.bucket, {"lifecycle": parse_lifecycle(body),
                                                "transition_default_minimum_object_size":
                                                    None if size == SIZE_DEFAULT else size})
    return empty_response(headers={SIZE: size})


async def get_bucket_lifecycle(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    config = req.store.get_bucket(req.bucket).config
    tree = config.get("lifecycle")
    if not tree:
        raise S3Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", status=404,
                      BucketName=req.bucket)
    size = config.get("transition_default_minimum_object_size") or SIZE_DEFAULT
    return xml_response("LifecycleConfiguration", tree, headers={SIZE: size})


async def delete_bucket_lifecycle(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    await req.store.call(req.store.update_bucket_config, req.bucket,
                         {"lifecycle": None, "transition_default_minimum_object_size": None})
    return empty_response(204)


