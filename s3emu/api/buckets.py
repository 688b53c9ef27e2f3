"""Bucket operations."""
from __future__ import annotations

import ipaddress
import re

from aiohttp import web

from ..http.addressing import host_bucket
from ..http.body import read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_text, children, parse
from ..protocol import regions, tagging
from ..protocol.dates import iso8601
from ..protocol.headers import check_canned_acl
from ..storage.errors import BucketAlreadyOwnedByYou, BucketNotEmpty
from .common import (
    bucket_owner_id,
    caller,
    decode_token,
    encode_token,
    new_bucket_config,
    owner_fields,
    request_region,
    stored_owner,
)

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


def _location(req: S3Request, body: bytes) -> tuple[str, str | None]:
    """The region a CreateBucket asks for and the LocationConstraint it sent,
    judged as S3 judges them against the region the request was sent to: the
    us-east-1 endpoint takes any other region and refuses us-east-1 itself or
    a name that is no region (InvalidLocationConstraint); any other endpoint
    takes only its own region (IllegalLocationConstraintException)."""
    endpoint = request_region(req)
    constraint = None
    if body.strip():
        constraint = child_text(parse(body, "CreateBucketConfiguration"), "LocationConstraint")
    if endpoint == regions.US_EAST_1 and constraint is not None:
        if constraint == regions.US_EAST_1 or not regions.is_region(regions.region_of(constraint), endpoint):
            raise S3Error("InvalidLocationConstraint", LocationConstraint=constraint)
    elif endpoint != regions.US_EAST_1 and regions.region_of(constraint or "") != endpoint:
        raise S3Error("IllegalLocationConstraintException", f"The {constraint or 'unspecified'} location "
                      "constraint is incompatible for the region specific endpoint this request was sent to.")
    return regions.region_of(constraint) if constraint else endpoint, constraint


async def create_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    check_canned_acl(req.headers)
    check_bucket_name(req.bucket)
    body = await read_small(req, 64 * 1024)
    region, constraint = _location(req, body)
    tags = _tags(body)
    lock = req.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
    config = new_bucket_config(req)
    if tags:
        config["tags"] = tags
    if constraint is not None and constraint != region:
        config["location_constraint"] = constraint  # EU stays EU
    try:
        await req.store.call(req.store.create_bucket, req.bucket, region, object_lock=lock, owner=stored_owner(req),
                             config=config)
    except BucketAlreadyOwnedByYou:
        # us-east-1 keeps its legacy answer: creating a bucket you own there again is a 200 that changes
        # nothing, unless the request brings tags
        if region != regions.US_EAST_1 or req.store.get_bucket(req.bucket).region != regions.US_EAST_1 or tags:
            raise
    return empty_response(headers={"Location": _bucket_location(req, region),
                                   "x-amz-bucket-arn": regions.bucket_arn(req.bucket)})


def _tags(body: bytes) -> tagging.Tags:
    """The bucket's first tags, from CreateBucketConfiguration's Tags; on a
    bucket that exists already (a us-east-1 repeat) they change nothing."""
    if not body.strip():
        return {}
    found = children(parse(body, "CreateBucketConfiguration"), "Tags")
    if len(found) > 1:
        raise S3Error("MalformedXML")
    return tagging.parse_bucket_creation(found[0]) if found else {}


def _bucket_location(req: S3Request, region: str) -> str:
    """CreateBucket's Location: the path in us-east-1, the bucket's virtual-host URL elsewhere."""
    assert req.bucket is not None
    if region == regions.US_EAST_1:
        return f"/{req.bucket}"
    host, domains = req.http.host, req.config.domains
    if domains and host_bucket(host, domains) is None:  # path style: name the bucket's own host
        name, sep, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
        host = f"{req.bucket}.{name.lower() if name.lower() in domains else domains[0]}{sep}{port}"
    return f"{req.http.scheme}://{host}/"


async def head_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    return empty_response(headers={"x-amz-bucket-arn": regions.bucket_arn(b.name), "x-amz-bucket-region": b.region,
                                   "x-amz-access-point-alias": "false", "Content-Type": "application/xml"})


async def delete_bucket(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    try:
        await req.store.call(req.store.delete_bucket, req.bucket)
    except BucketNotEmpty:
        if not req.store.get_bucket(req.bucket).versioning:
            raise
        # a versioned bucket's refusal says why (AWS: test_delete_versioned_bucket_with_objects)
        raise S3Error("BucketNotEmpty", "The bucket you tried to delete is not empty. You must delete all versions "
                                        "in the bucket.", BucketName=req.bucket) from None
    return empty_response(204)


LIST_BUCKETS_PARAMS = ("prefix", "bucket-region", "max-buckets", "continuation-token")


async def list_buckets(req: S3Request) -> web.StreamResponse:
    prefix = req.param("prefix") or ""
    region = req.param("bucket-region")
    if region is not None and not regions.is_region(region, req.config.region):
        raise S3Error("InvalidArgument", f"Argument value {region} is not a valid AWS Region",
                      ArgumentName="bucket-region")
    max_buckets = req.int_param("max-buckets", 10000, lo=1, hi=10000, clamp=False)
    token = req.param("continuation-token")
    after = decode_token(token) if token else ""
    me = caller(req).canonical_id
    buckets = [b for b in req.store.list_buckets() if bucket_owner_id(req, b) == me
               and b.name.startswith(prefix) and b.name > after and (region is None or b.region == region)]
    page, more = buckets[:max_buckets], len(buckets) > max_buckets
    # BucketRegion only answers a request with a parameter (AWS API reference, Bucket)
    with_region = any(name in req.query for name in LIST_BUCKETS_PARAMS)
    # element order as S3 sends it: Owner, Buckets, ContinuationToken, Prefix
    return xml_response("ListAllMyBucketsResult", [
        ("Owner", owner_fields(me or "")),
        ("Buckets", [("Bucket", [("Name", b.name), ("CreationDate", iso8601(b.created)),
                                 ("BucketRegion", b.region if with_region else None),
                                 ("BucketArn", regions.bucket_arn(b.name))]) for b in page]),
        ("ContinuationToken", encode_token(page[-1].name) if more else None),
        ("Prefix", req.param("prefix")),
    ])


async def get_bucket_location(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    # us-east-1 is reported as an empty constraint, as S3 does; EU as it was asked for
    constraint = b.config.get("location_constraint", b.region)
    return xml_response("LocationConstraint", [], text=None if b.region == regions.US_EAST_1 else constraint)
