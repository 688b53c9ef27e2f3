"""Who may do what, as stored per bucket and object: ACLs (Put/GetBucketAcl,
Put/GetObjectAcl and the ACL headers of writes), bucket policies
(Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus), the public access block
and Object Ownership, with S3's defaults for new buckets."""
from __future__ import annotations

from aiohttp import web

from ..access import acl, policy
from ..access.decide import BLOCK_FLAGS, ENFORCED, OWNERSHIPS
from ..http.body import read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_text, children, local, parse
from ..storage import BucketInfo
from ..storage.errors import DeleteMarkerHit
from .common import (
    bucket_grants,
    bucket_owner_id,
    check_acl_allowed,
    delete_bucket_setting,
    directory,
    notify,
    object_grants,
    object_owner_id,
)

MAX_ACL = 64 * 1024
MAX_POLICY = 20 * 1024  # S3's limit on a bucket policy


# --- ACLs -------------------------------------------------------------------------------------------

async def _requested_acl(req: S3Request, owner: str, bucket_owner: str) -> list[acl.Grant]:
    """The ACL a Put*Acl asks for: headers or an AccessControlPolicy body."""
    body = await read_small(req, MAX_ACL)
    grants = acl.from_headers(req.headers, directory(req), owner, bucket_owner)
    if grants is not None:
        if body.strip():
            raise S3Error("UnexpectedContent")
        return grants
    if not body.strip():
        raise S3Error("MissingSecurityHeader", MissingHeaderName="x-amz-acl")
    _, grants = acl.parse_policy(body, directory(req))
    return grants


def _acl_response(owner: str, grants: list[acl.Grant]) -> web.Response:
    return xml_response("AccessControlPolicy", acl.render(owner, grants))


async def get_bucket_acl(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    return _acl_response(bucket_owner_id(req, bucket), bucket_grants(req, bucket))


async def put_bucket_acl(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    owner = bucket_owner_id(req, bucket)
    grants = await _requested_acl(req, owner, owner)
    check_acl_allowed(bucket, grants, owner)
    stored = None if grants == [acl.user(owner, "FULL_CONTROL")] else grants
    await req.store.call(req.store.set_bucket_config, req.bucket, "acl", stored)
    return empty_response()


def _delete_marker(method: str) -> S3Error:
    return S3Error("MethodNotAllowed", Method=method, ResourceType="DeleteMarker")


async def get_object_acl(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    bucket = req.store.get_bucket(req.bucket)
    try:
        info = req.store.get_object(req.bucket, req.key, req.param("versionId"))
    except DeleteMarkerHit as hit:
        if hit.by_version:
            raise _delete_marker("GET") from None
        raise
    headers = {"x-amz-version-id": info.version_id} if req.param("versionId") else {}
    return xml_response("AccessControlPolicy", acl.render(object_owner_id(req, bucket, info.meta),
                                                          object_grants(req, bucket, info.meta)), headers=headers)


async def put_object_acl(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    bucket = req.store.get_bucket(req.bucket)
    version_id = req.param("versionId")
    try:
        info = req.store.get_object(req.bucket, req.key, version_id)
    except DeleteMarkerHit:
        raise _delete_marker("PUT") from None
    owner = object_owner_id(req, bucket, info.meta)
    bucket_owner = bucket_owner_id(req, bucket)
    grants = await _requested_acl(req, owner, bucket_owner)
    check_acl_allowed(bucket, grants, bucket_owner)
    await req.store.call(req.store.put_object_acl, req.bucket, req.key, info.version_id, grants)
    await notify(req, "ObjectAcl:Put", req.key, info)
    return empty_response(headers={"x-amz-version-id": info.version_id} if version_id else None)


# --- Object Ownership ------------------------------------------------------------------------------

async def get_bucket_ownership_controls(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    ownership = req.store.get_bucket(req.bucket).config.get("ownership")
    if ownership is None:
        raise S3Error("OwnershipControlsNotFoundError", BucketName=req.bucket)
    return xml_response("OwnershipControls", [("Rule", [("ObjectOwnership", ownership)])])


async def put_bucket_ownership_controls(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    root = parse(await read_small(req, MAX_ACL), "OwnershipControls")
    rules = children(root, "Rule")
    if len(rules) != 1 or len([c for c in root if isinstance(c.tag, str)]) != 1:
        raise S3Error("MalformedXML")
    ownership = child_text(rules[0], "ObjectOwnership")
    if ownership not in OWNERSHIPS:
        raise S3Error("MalformedXML")
    if ownership == ENFORCED and "acl" in bucket.config \
            and not acl.only_owner_full_control(bucket.config["acl"], bucket_owner_id(req, bucket)):
        raise S3Error("InvalidBucketAclWithObjectOwnership")
    await req.store.call(req.store.set_bucket_config, req.bucket, "ownership", ownership)
    return empty_response()


async def delete_bucket_ownership_controls(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "ownership")


# --- public access block ---------------------------------------------------------------------------

async def get_public_access_block(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    block = req.store.get_bucket(req.bucket).config.get("public_access_block")
    if block is None:
        raise S3Error("NoSuchPublicAccessBlockConfiguration", BucketName=req.bucket)
    return xml_response("PublicAccessBlockConfiguration", [(flag, block.get(flag, False)) for flag in BLOCK_FLAGS])


def _flag(text: str | None) -> bool:
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise S3Error("MalformedXML")
    return text.lower() == "true"


async def put_public_access_block(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)
    root = parse(await read_small(req, MAX_ACL), "PublicAccessBlockConfiguration")
    if any(isinstance(c.tag, str) and local(c) not in BLOCK_FLAGS for c in root):
        raise S3Error("MalformedXML")
    block = {flag: _flag(child_text(root, flag)) for flag in BLOCK_FLAGS}
    await req.store.call(req.store.set_bucket_config, req.bucket, "public_access_block", block)
    return empty_response()


async def delete_public_access_block(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "public_access_block")


# --- bucket policies -------------------------------------------------------------------------------

def bucket_policy(bucket: BucketInfo) -> list[policy.Statement] | None:
    """The bucket's policy as statements (it was validated when stored)."""
    text = bucket.config.get("policy")
    return policy.parsed(text, bucket.name) if text else None


async def put_bucket_policy(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    body = await read_small(req, MAX_POLICY)
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise S3Error("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'") from None
    statements = policy.parse(text, req.bucket)
    if bucket.config.get("public_access_block", {}).get("BlockPublicPolicy") and policy.is_public(statements):
        raise S3Error("AccessDenied", "Access Denied")
    await req.store.call(req.store.set_bucket_config, req.bucket, "policy", text)
    return empty_response(204)


async def get_bucket_policy(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    text = req.store.get_bucket(req.bucket).config.get("policy")
    if text is None:
        raise S3Error("NoSuchBucketPolicy", BucketName=req.bucket)
    return web.Response(body=text.encode(), content_type="application/json")


async def delete_bucket_policy(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "policy")


async def get_bucket_policy_status(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    statements = bucket_policy(req.store.get_bucket(req.bucket))
    if statements is None:
        raise S3Error("NoSuchBucketPolicy", BucketName=req.bucket)
    return xml_response("PolicyStatus", [("IsPublic", policy.is_public(statements))])


