"""The shapes of the JSON columns: what `objects.meta`, `uploads.meta` and
`buckets.config` hold. Plain dicts on disk (json.dumps of these, key order as
written), typed here so every reader and writer agrees on the names."""
from __future__ import annotations

from typing import Any, TypedDict
from urllib.parse import parse_qsl


class LockState(TypedDict, total=False):
    """A version's Object Lock state."""

    mode: str  # "GOVERNANCE" or "COMPLIANCE"; absent: no retention
    until: float  # retain-until date, seconds since the epoch, UTC
    legal_hold: str  # "ON" or "OFF"


class RestoreState(TypedDict, total=False):
    """An archived version's restore: asked at `requested`, readable from
    `ready` until `expiry` (seconds since the epoch, UTC)."""

    requested: float
    ready: float
    expiry: float
    days: int
    tier: str  # "Standard", "Bulk" or "Expedited"


class ObjectMeta(TypedDict, total=False):
    """What an object version keeps besides its bytes (`objects.meta`)."""

    headers: dict[str, str]  # Content-Type and the other stored headers, as sent
    user: dict[str, str]  # x-amz-meta-* without the prefix, names lower-case
    storage_class: str  # absent on old rows: STANDARD
    tags: dict[str, str]  # key -> value, in the order they were set; absent: none
    tagging: str  # older rows: the x-amz-tagging query string instead of tags
    checksums: dict[str, str]  # algorithm -> base64 value, computed by the store
    checksum_algorithm: str | None  # the one reported to clients
    checksum_type: str | None  # FULL_OBJECT or COMPOSITE
    sse_c: str  # base64 MD5 of the customer's key (SSE-C)
    lock: LockState
    owner: str  # the writer's canonical id; absent on old rows: the default account
    acl: list[dict[str, str]]  # ACL grants ({"Type", "ID" | "URI", "Permission"}); absent: owner FULL_CONTROL
    initiator: str  # an upload's (and its object's) initiator, canonical id; absent: the default account
    restore: RestoreState  # archived objects (GLACIER, DEEP_ARCHIVE) once a restore was asked for


class UploadMeta(ObjectMeta, total=False):
    """What CreateMultipartUpload keeps for the object it will make
    (`uploads.meta`): the same names as ObjectMeta, and one of its own."""

    key_changed: bool  # the key was written or deleted since the upload began (not kept with the object)


class LockRule(TypedDict, total=False):
    """A bucket's default retention: a mode and days or years."""

    mode: str
    days: int
    years: int


class BucketConfig(TypedDict, total=False):
    """A bucket's sub-resources (`buckets.config`), each as the server validated it."""

    lifecycle: list[Any]  # the LifecycleConfiguration as a tree: [[name, text-or-tree], ...]
    cors: list[dict[str, Any]]  # CORS rules, one dict each
    object_lock: LockRule  # {} when Object Lock is on without a default retention
    mfa_delete: str  # "Enabled" or "Disabled", as PutBucketVersioning set it
    transition_default_minimum_object_size: str  # absent: all_storage_classes_128K
    location_constraint: str  # CreateBucket's LocationConstraint where it differs from the region (EU)
    ownership: str  # Object Ownership: BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter; absent: none set
    public_access_block: dict[str, bool]  # the four flags; absent: none set
    policy: str  # the bucket policy as sent (validated)
    acl: list[dict[str, str]]  # the bucket ACL's grants; absent: owner FULL_CONTROL
    tags: dict[str, str]  # the bucket's tags, key -> value
    encryption: dict[str, Any]  # default encryption (protocol/sse.py DefaultRule); absent: SSE-S3
    request_payment: str  # "Requester" when requesters pay; absent: the bucket owner pays
    accelerate: str  # transfer acceleration: "Enabled" or "Suspended"; absent: never set
    replication: list[Any]  # the ReplicationConfiguration as a tree
    inventory: dict[str, list[Any]]  # configurations by id, each as a tree; so are the next three
    analytics: dict[str, list[Any]]
    metrics: dict[str, list[Any]]
    intelligent_tiering: dict[str, list[Any]]
    website: dict[str, Any]  # the WebsiteConfiguration (see protocol.website)
    notification: dict[str, Any]  # the NotificationConfiguration (see protocol.notifications)
    logging: dict[str, Any]  # the LoggingEnabled settings (see protocol.bucket_logging)


def object_tags(meta: ObjectMeta) -> dict[str, str]:
    """A version's tags, key -> value (empty when it has none)."""
    if "tags" in meta:
        return dict(meta["tags"])
    return dict(parse_qsl(meta.get("tagging") or "", keep_blank_values=True))
