"""The decision: may this principal make this request? S3's order (S3 User
Guide, "How Amazon S3 authorizes a request"): an explicit Deny in the bucket
policy refuses; the bucket owner's account may do anything on its bucket;
anyone else needs a policy Allow or an ACL grant. Object Ownership decides
whether ACLs count at all, the public access block whether public grants and
public policies do."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import acl, policy
from .actions import POLICY_MANAGEMENT, needs
from .principals import Principal

ENFORCED = "BucketOwnerEnforced"
OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@dataclass
class BucketAccess:
    """A bucket's side of the decision."""

    owner_account_id: str
    owner_canonical_id: str
    ownership: str | None = None  # None: no ownership controls, as ObjectWriter
    block: dict[str, bool] = field(default_factory=dict)  # the public access block ({}: none)
    statements: list[policy.Statement] | None = None  # the bucket policy
    grants: list[acl.Grant] = field(default_factory=list)  # the bucket ACL

    @property
    def acls_enabled(self) -> bool:
        return self.ownership != ENFORCED


@dataclass
class ObjectAccess:
    """An existing object's side: its owner (the writer, or the bucket owner
    under BucketOwnerEnforced) and its ACL."""

    owner: str
    grants: list[acl.Grant]


def _policy_verdict(bucket: BucketAccess, request: policy.Request) -> str | None:
    if not bucket.statements:
        return None
    same_account = request.principal.account_id == bucket.owner_account_id
    restrict = bucket.block.get("RestrictPublicBuckets") and policy.is_public(bucket.statements)
    # RestrictPublicBuckets: a public policy lets in only the bucket owner's account
    return policy.evaluate(bucket.statements, request,
                           None if not restrict else (lambda s: same_account))


def allowed(operation: str, bucket: BucketAccess, request: policy.Request, obj: ObjectAccess | None,
            versioned: bool = False) -> bool:
    """Whether `request` (its principal, action, resources and condition
    context) may perform `operation` on `bucket` (and `obj`, the existing
    object an object operation names, None when there is none)."""
    what = needs(operation)
    principal = request.principal
    verdict = _policy_verdict(bucket, request)
    owner_account = principal.account_id == bucket.owner_account_id
    if verdict == "Deny":
        return owner_account and operation in POLICY_MANAGEMENT
    if owner_account:
        if obj is not None and what.on_object and bucket.acls_enabled and obj.owner != bucket.owner_canonical_id \
                and what.permission is not None:
            # an object another account wrote is its writer's: the bucket owner needs its ACL to read it
            return _acl_allows(bucket, obj.grants, principal, what.permission, obj.owner)
        return True
    if verdict == "Allow":
        return True
    if what.permission is None or not bucket.acls_enabled:
        return False
    if what.on_object:
        return obj is not None and _acl_allows(bucket, obj.grants, principal, what.permission, obj.owner)
    return _acl_allows(bucket, bucket.grants, principal, what.permission, bucket.owner_canonical_id)


def _acl_allows(bucket: BucketAccess, grants: list[acl.Grant], principal: Principal, permission: str,
                owner: str) -> bool:
    if principal.canonical_id == owner and permission in ("READ_ACP", "WRITE_ACP"):
        return True  # a resource's owner may always read and change its ACL
    if bucket.block.get("IgnorePublicAcls"):
        grants = acl.without_public(grants)
    return acl.grants_to(grants, principal, permission)
