"""Bucket settings kept and returned as S3 keeps them, with no effect of
their own in s3emu: request payment (Put/GetBucketRequestPayment; requests
may send x-amz-request-payer, and a Requester-pays bucket answers them with
x-amz-request-charged), transfer acceleration (Put/GetBucketAccelerateConfiguration;
there is no accelerated endpoint) and replication
(Put/Get/DeleteBucketReplication: validated and stored; nothing is copied to
another bucket or region)."""
from __future__ import annotations

import secrets

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import parse
from ..protocol.documents import STATUS, Field, Schema, Tree, filter_schema, find, find_all, malformed, one_condition, \
    read
from ..storage import StorageError
from .common import configuration_body, delete_bucket_setting

MAX_BODY = 64 * 1024
ACCELERATE: Schema = (Field("Status", values=("Enabled", "Suspended")),)
REQUEST_PAYMENT: Schema = (Field("Payer", required=True, values=("Requester", "BucketOwner")),)
_STATUS: Schema = (Field("Status", required=True, values=STATUS),)
_MINUTES: Schema = (Field("Minutes", "int"),)
REPLICATION_RULE: Schema = (
    Field("ID"), Field("Priority", "int"), Field("Prefix"),
    Field("Filter", filter_schema()),
    Field("Status", required=True, values=STATUS),
    Field("SourceSelectionCriteria", (Field("SseKmsEncryptedObjects", _STATUS),
                                      Field("ReplicaModifications", _STATUS))),
    Field("ExistingObjectReplication", _STATUS),
    Field("Destination", (
        Field("Bucket", required=True), Field("Account"),
        Field("StorageClass", values=("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                                      "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")),
        Field("AccessControlTranslation", (Field("Owner", required=True, values=("Destination",)),)),
        Field("EncryptionConfiguration", (Field("ReplicaKmsKeyID"),)),
        Field("ReplicationTime", (Field("Status", required=True, values=STATUS),
                                  Field("Time", _MINUTES, required=True))),
        Field("Metrics", (Field("Status", required=True, values=STATUS), Field("EventThreshold", _MINUTES))),
    ), required=True),
    Field("DeleteMarkerReplication", (Field("Status", values=STATUS),)),
)
REPLICATION: Schema = (Field("Role", required=True), Field("Rule", REPLICATION_RULE, required=True, repeat=True))
_BUCKET_ARN = "arn:aws:s3:::"
MAX_REPLICATION_RULES = 1000


async def _document(req: S3Request, root: str, schema: Schema) -> Tree:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    return read(parse(body, root), schema)


# -- request payment ----------------------------------------------------------------------------------------------

async def put_bucket_request_payment(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    payer = find(await _document(req, "RequestPaymentConfiguration", REQUEST_PAYMENT), "Payer")
    stored = None if payer == "BucketOwner" else payer
    await req.store.call(req.store.set_bucket_config, req.bucket, "request_payment", stored)
    return empty_response()


async def get_bucket_request_payment(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    payer = req.store.get_bucket(req.bucket).config.get("request_payment") or "BucketOwner"
    return xml_response("RequestPaymentConfiguration", [("Payer", payer)])


def request_charged(req: S3Request, response: web.StreamResponse) -> None:
    """x-amz-request-charged on what a requester asked to pay for in a Requester-pays bucket."""
    if req.headers.get("x-amz-request-payer", "").lower() != "requester" or req.bucket is None \
            or response.prepared or response.status >= 300:
        return
    try:
        payer = req.store.get_bucket(req.bucket).config.get("request_payment")
    except StorageError:  # no such bucket: nothing was charged
        return
    if payer == "Requester":
        response.headers["x-amz-request-charged"] = "requester"


# -- transfer acceleration -------------------------------------------------------------------------------------------

async def put_bucket_accelerate_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)  # NoSuchBucket first
    if "." in req.bucket:
        raise S3Error("InvalidRequest", "S3 Transfer Acceleration is not supported for buckets with periods (.) in "
                                        "their names")
    status = find(await _document(req, "AccelerateConfiguration", ACCELERATE), "Status")
    if status is None:
        raise malformed()
    await req.store.call(req.store.set_bucket_config, req.bucket, "accelerate", status)
    return empty_response()


async def get_bucket_accelerate_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    # never set: an empty configuration
    return xml_response("AccelerateConfiguration", [("Status", req.store.get_bucket(req.bucket).config.get(
        "accelerate"))])


# -- replication --------------------------------------------------------------------------------------------------

def _check_replication(req: S3Request, tree: Tree) -> Tree:
    """S3's checks beyond the schema, in its order; rules without an ID get one."""
    assert req.bucket is not None
    if req.store.get_bucket(req.bucket).versioning != "Enabled":
        raise S3Error("InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication "
                                        "configuration")
    rules = find_all(tree, "Rule")
    if len(rules) > MAX_REPLICATION_RULES:
        raise malformed()
    for rule in rules:
        one_condition(find(rule, "Filter"))
        if find(rule, "Filter") is not None and find(rule, "Prefix") is not None:
            raise malformed()  # the older Prefix or a Filter, not both
        if not find(rule, "ID"):
            rule[:] = [["ID", secrets.token_urlsafe(36)[:48]], *(r for r in rule if r[0] != "ID")]
        # S3 gives the same answer for a destination that does not exist
        if not _versioned(req, str(find(rule, "Destination", "Bucket"))):
            raise S3Error("InvalidRequest", "Destination bucket must have versioning enabled.")
    return tree


def _versioned(req: S3Request, arn: str) -> bool:
    """Whether the bucket an ARN names exists here with versioning on."""
    if not arn.startswith(_BUCKET_ARN):
        return False
    try:
        return req.store.get_bucket(arn[len(_BUCKET_ARN):]).versioning == "Enabled"
    except StorageError:
        return False


async def put_bucket_replication(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    tree = _check_replication(req, await _document(req, "ReplicationConfiguration", REPLICATION))
    await req.store.call(req.store.set_bucket_config, req.bucket, "replication", tree)
    return empty_response()


async def get_bucket_replication(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    tree = req.store.get_bucket(req.bucket).config.get("replication")
    if not tree:
        raise S3Error("ReplicationConfigurationNotFoundError", BucketName=req.bucket)
    return xml_response("ReplicationConfiguration", tree)


async def delete_bucket_replication(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "replication")

