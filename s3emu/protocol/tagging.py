"""Object and bucket tags: the x-amz-tagging header, the Tagging document,
and S3's limits on both (10 tags per object, 50 per bucket; keys of 1 to 128
and values of up to 256 Unicode characters drawn from letters, digits, spaces
and `+ - = . _ : / @`; no duplicate keys; no `aws:` keys).

Tags travel as an ordered dict, key -> value, in the order they were sent."""
from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from ..http.errors import S3Error
from ..http.xml import children, local, parse

OBJECT_LIMIT = 10
BUCKET_LIMIT = 50
_SYMBOLS = frozenset("_.:/=+-@")
_HEADER = "x-amz-tagging"
HEADER_MESSAGE = ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without "
                  "tag name duplicates.")

Tags = dict[str, str]


def _allowed(text: str) -> bool:
    """Letters, numbers and spaces of any script, and S3's few symbols."""
    return all(c in _SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def _key_ok(key: str) -> bool:
    return 0 < len(key) <= 128 and _allowed(key)


def _value_ok(value: str) -> bool:
    return len(value) <= 256 and _allowed(value)


def _check(pairs: list[tuple[str, str]], *, bucket: bool, creating: bool = False) -> Tags:
    """The pairs as tags, after S3's checks in S3's order: each tag as it
    comes, then the count. CreateBucket words the `aws:` refusal its own way."""
    tags: Tags = {}
    for key, value in pairs:
        if key in tags:
            raise S3Error("InvalidTag", "Cannot provide multiple Tags with the same key", TagKey=key)
        if not _key_ok(key):
            raise S3Error("InvalidTag", "The TagKey you have provided is invalid", TagKey=key)
        if not _value_ok(value):
            raise S3Error("InvalidTag", "The TagValue you have provided is invalid", TagKey=key, TagValue=value)
        if key.startswith("aws:") and creating:
            raise S3Error("InvalidTag", 'User-defined tag keys can\'t start with "aws:". This prefix is reserved for '
                                        'system tags. Remove "aws:" from your tag keys and try again.')
        if key.startswith("aws:"):
            raise S3Error("InvalidTag", "System tags cannot be added/updated by requester" if bucket
                          else "Your TagKey cannot be prefixed with aws:", TagKey=key)
        tags[key] = value
    if bucket and len(tags) > BUCKET_LIMIT:
        raise S3Error("BadRequest", f"Bucket tag count cannot be greater than {BUCKET_LIMIT}")
    if not bucket and len(tags) > OBJECT_LIMIT:
        raise S3Error("BadRequest", f"Object tags cannot be greater than {OBJECT_LIMIT}")
    return tags


def parse_header(value: str) -> Tags:
    """The tags of an x-amz-tagging header (PutObject, CreateMultipartUpload,
    CopyObject with the REPLACE tagging directive, and a form upload's
    `tagging` field): URL query parameters, `k1=v1&k2`. InvalidArgument for
    duplicates or characters tags may not hold, then the tag limits."""
    pairs = parse_qsl(value, keep_blank_values=True)
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys) or not all(_allowed(k) and _allowed(v) for k, v in pairs):
        raise S3Error("InvalidArgument", HEADER_MESSAGE, ArgumentName=_HEADER, ArgumentValue=value)
    return _check(pairs, bucket=False)


def parse_document(body: bytes, *, bucket: bool) -> Tags:
    """The TagSet of a Tagging document (PutObjectTagging, PutBucketTagging).
    MalformedXML when a Tag lacks its Key or Value; then S3's tag checks."""
    doc = parse(body, "Tagging")
    tag_sets = children(doc, "TagSet")
    if len(tag_sets) > 1 or any(local(c) != "TagSet" for c in doc if isinstance(c.tag, str)):
        raise S3Error("MalformedXML")
    return _check(_pairs(tag_sets[0]) if tag_sets else [], bucket=bucket)


def parse_bucket_creation(tags: etree._Element) -> Tags:
    """The Tags element of a CreateBucketConfiguration, checked as S3 checks bucket tags."""
    return _check(_pairs(tags), bucket=True, creating=True)


def _pairs(container: etree._Element) -> list[tuple[str, str]]:
    """(Key, Value) of each Tag in a TagSet or Tags element; MalformedXML for an incomplete Tag."""
    if any(local(c) != "Tag" for c in container if isinstance(c.tag, str)):
        raise S3Error("MalformedXML")
    pairs = []
    for tag in children(container, "Tag"):
        fields: dict[str, Any] = {}
        for child in tag:
            name = local(child)
            if name not in ("Key", "Value") or name in fields or len(child):
                raise S3Error("MalformedXML")
            fields[name] = child.text or ""
        if set(fields) != {"Key", "Value"}:
            raise S3Error("MalformedXML")
        pairs.append((fields["Key"], fields["Value"]))
    return pairs


def tag_set(tags: Tags) -> list[tuple[str, Any]]:
    """A Tagging document's fields: <TagSet><Tag><Key/><Value/></Tag>...</TagSet>."""
    return [("TagSet", [("Tag", [("Key", k), ("Value", v)]) for k, v in tags.items()])]
