"""Bucket operations."""
from __future__ import annotations

import ipaddress
import re

from aiohttp import web

from ..http.body import read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_text, iso8601, parse
from .common import OWNER

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name: str) -> None:
    """S3's general-purpose bucket naming rules."""
    bad = (not _NAME.match(name) or ".." in name or ".-" in name or "-." in name
           or name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES))
    if not bad:
        try:
            ipaddress.IPv4Address(name)
            bad = True
        except ValueError:
            pass
    if bad:
        raise S3Error("InvalidBucketName", BucketName=name)


async def create_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    check_bucket_name(req.bucket)
    region = req.config.region
    body = await read_small(req, 64 * 1024)
    if body.strip():
        constraint = child_text(parse(body, "CreateBucketConfiguration"), "LocationConstraint")
        if constraint == "us-east-1" or constraint == "":
            # S3 wants us-east-1 expressed by leaving the constraint out
            raise S3Error("InvalidLocationConstraint", LocationConstraint=constraint)
        if constraint is not None:
            region = constraint
    lock = req.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
    req.store.create_bucket(req.bucket, region, object_lock=lock)
    return empty_response(headers={"Location": f"/{req.bucket}"})


async def head_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    return empty_response(headers={"x-amz-bucket-region": b.region})


async def delete_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.delete_bucket(req.bucket)
    return empty_response(204)


async def list_buckets(req: S3Request) -> web.StreamResponse:
    prefix = req.param("prefix") or ""
    region = req.param("bucket-region")
    max_buckets = req.int_param("max-buckets", 10000, lo=1, hi=10000, clamp=False)
    after = req.param("continuation-token") or ""
    buckets = [b for b in req.store.list_buckets()
               if b.name.startswith(prefix) and b.name > after and (region is None or b.region == region)]
    page, more = buckets[:max_buckets], len(buckets) > max_buckets
    return xml_response("ListAllMyBucketsResult", [
        ("Buckets", [("Bucket", [("Name", b.name), ("CreationDate", iso8601(b.created)),
                                 ("BucketRegion", b.region)]) for b in page]),
        ("Owner", OWNER),
        ("ContinuationToken", page[-1].name if more else None),
        ("Prefix", req.param("prefix")),
    ])


async def get_bucket_location(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    # us-east-1 is reported as an empty constraint, as S3 does
    return xml_response("LocationConstraint", [], text=None if b.region == "us-east-1" else b.region)
