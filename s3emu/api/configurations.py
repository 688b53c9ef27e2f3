"""The bucket configurations kept by id: inventory, analytics, metrics and
S3 Intelligent-Tiering archive settings (Put/Get/Delete by `?<kind>&id=`,
List with continuation tokens, 100 a page, by id). s3emu stores and returns
them as S3 validates them; it writes no inventory reports, analytics
exports or CloudWatch metrics, and moves no object between tiers for them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import parse
from ..protocol.documents import STATUS, Field, Schema, Tree, filter_schema, find, one_condition, read
from .common import configuration_body, decode_token, encode_token

MAX_BODY = 64 * 1024
PAGE = 100
LIMIT = 1000  # configurations of one kind per bucket

_ARN = ("arn:aws:s3:::", "arn:aws-cn:s3:::", "arn:aws-us-gov:s3:::")

INVENTORY: Schema = (
    Field("Destination", (Field("S3BucketDestination", (
        Field("AccountId"), Field("Bucket", required=True), Field("Format", required=True,
                                                                   values=("CSV", "ORC", "Parquet")),
        Field("Prefix"), Field("Encryption", (Field("SSE-S3", ()), Field("SSE-KMS", (Field("KeyId", required=True),)))),
    ), required=True),), required=True),
    Field("IsEnabled", "bool", required=True),
    Field("Filter", (Field("Prefix", required=True),)),
    Field("Id", required=True),
    Field("IncludedObjectVersions", required=True, values=("All", "Current")),
    Field("OptionalFields", (Field("Field", repeat=True, values=(
        "Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded", "ReplicationStatus",
        "EncryptionStatus", "ObjectLockRetainUntilDate", "ObjectLockMode", "ObjectLockLegalHoldStatus",
        "ObjectLockEventHoldStatus", "ObjectLockEventHoldDuration", "IntelligentTieringAccessTier",
        "BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList", "ObjectOwner", "LifecycleExpirationDate",
        "IntelligentTieringReferenceDate")),)),
    Field("Schedule", (Field("Frequency", required=True, values=("Daily", "Weekly")),), required=True),
)
ANALYTICS: Schema = (
    Field("Id", required=True),
    Field("Filter", filter_schema()),
    Field("StorageClassAnalysis", (Field("DataExport", (
        Field("OutputSchemaVersion", required=True, values=("V_1",)),
        Field("Destination", (Field("S3BucketDestination", (
            Field("Format", required=True, values=("CSV",)), Field("BucketAccountId"), Field("Bucket", required=True),
            Field("Prefix")), required=True),), required=True),
    )),), required=True),
)
METRICS: Schema = (
    Field("Id", required=True),
    Field("Filter", filter_schema(Field("AccessPointArn"))),
)
INTELLIGENT_TIERING: Schema = (
    Field("Id", required=True),
    Field("Filter", filter_schema()),
    Field("Status", required=True, values=STATUS),
    Field("Tiering", (Field("Days", "int", required=True),
                      Field("AccessTier", required=True, values=("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"))),
          required=True, repeat=True),
)


def _check_inventory(tree: Tree) -> None:
    if not str(find(tree, "Destination", "S3BucketDestination", "Bucket")).startswith(_ARN):
        raise S3Error("InvalidS3DestinationBucket")


def _check_analytics(tree: Tree) -> None:
    one_condition(find(tree, "Filter"))
    bucket = find(tree, "StorageClassAnalysis", "DataExport", "Destination", "S3BucketDestination", "Bucket")
    if bucket is not None and not str(bucket).startswith(_ARN):
        raise S3Error("InvalidS3DestinationBucket")


def _check_filter(tree: Tree) -> None:
    one_condition(find(tree, "Filter"))


@dataclass(frozen=True)
class Kind:
    """One kind of configuration: where it is kept, its document and its listing."""

    item: str  # bucket config entry
    root: str  # element of one configuration
    schema: Schema
    check: Callable[[Tree], None]
    list_root: str
    id_mismatch: str  # S3's code when the document's Id is not the query's

KINDS = {
    "inventory": Kind("inventory", "InventoryConfiguration", INVENTORY, _check_inventory,
                      "ListInventoryConfigurationsResult", "IdMismatch"),
    "analytics": Kind("analytics", "AnalyticsConfiguration", ANALYTICS, _check_analytics,
                      "ListBucketAnalyticsConfigurationResult", "MalformedXML"),
    "metrics": Kind("metrics", "MetricsConfiguration", METRICS, _check_filter, "ListMetricsConfigurationsResult",
                    "MalformedXML"),
    "intelligent-tiering": Kind("intelligent_tiering", "IntelligentTieringConfiguration", INTELLIGENT_TIERING,
                                _check_filter, "ListBucketIntelligentTieringConfigurationsOutput", "MalformedXML"),
}


def _kind(req: S3Request) -> Kind:
    return next(kind for sub, kind in KINDS.items() if sub in req.query)


def _id(req: S3Request) -> str:
    config_id = req.param("id") or ""
    if not config_id:
        raise S3Error("InvalidArgument", "Id must be specified", ArgumentName="id", ArgumentValue=config_id)
    return config_id


def _stored(req: S3Request, kind: Kind) -> dict[str, Tree]:
    assert req.bucket is not None
    config: dict[str, Any] = dict(req.store.get_bucket(req.bucket).config)
    stored: dict[str, Tree] = config.get(kind.item) or {}
    return stored


async def put_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    kind, config_id = _kind(req), _id(req)
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    tree = read(parse(body, kind.root), kind.schema)
    if find(tree, "Id") != config_id:
        raise S3Error(kind.id_mismatch)
    kind.check(tree)
    if not await req.store.call(req.store.put_bucket_config_entry, req.bucket, kind.item, config_id, tree,
                                limit=LIMIT):
        raise S3Error("TooManyConfigurations")
    return empty_response(204)


async def get_configuration(req: S3Request) -> web.StreamResponse:
    kind = _kind(req)
    tree = _stored(req, kind).get(_id(req))
    if tree is None:
        raise S3Error("NoSuchConfiguration")
    return xml_response(kind.root, tree)


async def delete_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    kind = _kind(req)
    if not await req.store.call(req.store.put_bucket_config_entry, req.bucket, kind.item, _id(req), None):
        raise S3Error("NoSuchConfiguration")
    return empty_response(204)


async def list_configurations(req: S3Request) -> web.StreamResponse:
    kind = _kind(req)
    stored = _stored(req, kind)
    token = req.param("continuation-token")
    after = decode_token(token) if token is not None else ""
    ids = sorted(i for i in stored if i > after)
    page, more = ids[:PAGE], len(ids) > PAGE
    fields: list[tuple[str, Any]] = [("IsTruncated", more), ("ContinuationToken", token),
                                     ("NextContinuationToken", encode_token(page[-1]) if more else None)]
    fields += [(kind.root, stored[i]) for i in page]
    return xml_response(kind.list_root, fields)
