"""Bucket policies: the JSON document validated as S3 validates it
(MalformedPolicy with S3's messages), evaluated against a request, and
judged public or not as the public access block judges it.

A parsed policy is a list of statements, each a dict with lists in place of
IAM's "string or list" members: {"Effect", "Principal" | "NotPrincipal",
"Action" | "NotAction", "Resource" | "NotResource", "Condition"}.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..http.errors import S3Error
from .matching import condition_holds, like, split_operator
from .principals import Principal

Statement = dict[str, Any]
# the request's condition keys (lower-case names) and their values; a
# callable is asked only when a condition names the key (tags need a look-up)
Context = dict[str, "list[str] | Callable[[], list[str] | None]"]

VERSIONS = ("2012-10-17", "2008-10-17")
_ACCOUNT = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:aws:(iam|sts)::(\d{12}):\S+")
_CANONICAL = re.compile(r"[0-9a-f]{64}")

# Every action a bucket policy may name (the s3 actions of the IAM service
# authorization reference that apply to buckets and objects).
ACTIONS = frozenset(a.lower() for a in """
AbortMultipartUpload BypassGovernanceRetention CreateBucket DeleteBucket DeleteBucketOwnershipControls
DeleteBucketPolicy DeleteBucketWebsite DeleteObject DeleteObjectTagging DeleteObjectVersion
DeleteObjectVersionTagging GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAcl GetBucketCORS
GetBucketLocation GetBucketLogging GetBucketNotification GetBucketObjectLockConfiguration
GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration
GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration GetMetricsConfiguration
GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold GetObjectRetention GetObjectTagging
GetObjectTorrent GetObjectVersion GetObjectVersionAcl GetObjectVersionAttributes GetObjectVersionForReplication
GetObjectVersionTagging GetObjectVersionTorrent GetReplicationConfiguration ListBucket ListBucketMultipartUploads
ListBucketVersions ListMultipartUploadParts ObjectOwnerOverrideToBucketOwner PutAccelerateConfiguration
PutAnalyticsConfiguration PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock
PutBucketRequestPayment PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration
PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention PutObjectTagging PutObjectVersionAcl
PutObjectVersionTagging PutReplicationConfiguration ReplicateDelete ReplicateObject ReplicateTags RestoreObject
""".split())

# condition keys that, fixed to known values, keep an Allow to everyone from
# being public (S3 User Guide, "The meaning of public")
_RESTRICTING_KEYS = ("aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
                     "aws:sourceowner", "aws:principalorgid", "aws:principalaccount", "aws:principalarn",
                     "aws:userid", "s3:dataaccesspointarn", "s3:dataaccesspointaccount")


def _malformed(message: str) -> S3Error:
    return S3Error("MalformedPolicy", message)


def _strings(value: Any, member: str) -> list[str]:
    """IAM's "a string or a list of strings"."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise _malformed(f"Invalid {member}")
    return values


def parse(text: str, bucket: str) -> list[Statement]:
    """A PutBucketPolicy document for `bucket`, as statements. MalformedPolicy
    (S3's messages) for what S3 refuses: not JSON, a missing member, an
    unknown action, a resource outside the bucket, a principal that is none."""
    if not text.lstrip().startswith("{"):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text)
    except ValueError:
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(doc, dict):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise _malformed("The policy must contain a valid version string")
    if "Statement" not in doc:
        raise _malformed("Missing required field Statement")
    raw = doc["Statement"]
    statements = raw if isinstance(raw, list) else [raw]
    if not statements or not all(isinstance(s, dict) for s in statements):
        raise _malformed("Missing required field Statement")
    return [_statement(s, bucket) for s in statements]


def _one_of(raw: dict[str, Any], name: str) -> str:
    """Which of Name / NotName a statement has (exactly one)."""
    if name in raw and f"Not{name}" in raw:
        raise _malformed(f"Statement cannot have both {name} and Not{name}")
    if name not in raw and f"Not{name}" not in raw:
        raise _malformed(f"Missing required field {name}")
    return name if name in raw else f"Not{name}"


def _statement(raw: dict[str, Any], bucket: str) -> Statement:
    effect = raw.get("Effect")
    if effect is None:
        raise _malformed("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise _malformed(f"Invalid effect: {effect}")
    out: Statement = {"Effect": effect}
    member = _one_of(raw, "Principal")
    out[member] = _principal(raw[member])
    member = _one_of(raw, "Action")
    actions = _strings(raw[member], "action")
    for action in actions:
        service, _, name = action.partition(":")
        if action != "*" and (service.lower() != "s3" or not any(like(name, a, ignore_case=True)
                                                                 for a in ACTIONS)):
            raise _malformed("Policy has invalid action")
    out[member] = actions
    member = _one_of(raw, "Resource")
    resources = _strings(raw[member], "resource")
    for resource in resources:
        if resource != "*" and not _names_bucket(resource, bucket):
            raise _malformed("Policy has invalid resource")
    out[member] = resources
    if "Condition" in raw:
        out["Condition"] = _conditions(raw["Condition"])
    return out


def _names_bucket(resource: str, bucket: str) -> bool:
    """An S3 ARN whose bucket part can match `bucket`."""
    if not resource.startswith("arn:aws:s3:::"):
        return False
    name = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
    return like(name, bucket)


def _principal(value: Any) -> dict[str, list[str]]:
    """{"AWS": [...], "CanonicalUser": [...], "Service": [...], "Federated": [...]}; "*" is {"AWS": ["*"]}."""
    if value == "*":
        return {"AWS": ["*"]}
    if not isinstance(value, dict) or not value:
        raise _malformed("Invalid principal in policy")
    out: dict[str, list[str]] = {}
    for kind, names in value.items():
        if kind not in ("AWS", "CanonicalUser", "Service", "Federated"):
            raise _malformed("Invalid principal in policy")
        names = _strings(names, "principal in policy") if names != [] else []
        for name in names:
            if not _valid_principal(kind, name):
                raise _malformed("Invalid principal in policy")
        out[kind] = names
    return out


def _valid_principal(kind: str, name: str) -> bool:
    if kind == "AWS":
        return name == "*" or bool(_ACCOUNT.fullmatch(name) or _IAM_ARN.fullmatch(name))
    if kind == "CanonicalUser":
        return bool(_CANONICAL.fullmatch(name))
    if kind == "Service":
        return name == "*" or name.endswith(".amazonaws.com")
    return bool(name)


def _conditions(value: Any) -> dict[str, dict[str, list[str]]]:
    if not isinstance(value, dict):
        raise _malformed("Invalid Condition block")
    out: dict[str, dict[str, list[str]]] = {}
    for operator, keys in value.items():
        if split_operator(operator) is None:
            raise _malformed(f"Invalid Condition type : {operator}")
        if not isinstance(keys, dict):
            raise _malformed("Invalid Condition block")
        out[operator] = {}
        for key, values in keys.items():
            values = values if isinstance(values, list) else [values]
            if not all(isinstance(v, (str, int, float, bool)) for v in values):
                raise _malformed("Invalid Condition block")
            out[operator][key.lower()] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return out


@functools.lru_cache(maxsize=256)
def parsed(text: str, bucket: str) -> list[Statement]:
    """parse(), remembered: a stored policy is read on every request to its bucket."""
    return parse(text, bucket)


# --- evaluation ----------------------------------------------------------------------------------

@dataclass
class Request:
    """What a statement is matched against."""

    principal: Principal
    action: str  # "s3:GetObject"
    resources: list[str]  # ARNs: arn:aws:s3:::bucket or arn:aws:s3:::bucket/key
    context: Context = field(default_factory=dict)
    # keys not in context (s3:ExistingObjectTag/<key> and the like) are asked of this
    lookup: Callable[[str], list[str] | None] | None = None

    def values(self, key: str) -> list[str] | None:
        if key.lower() not in self.context and self.lookup is not None:
            return self.lookup(key.lower())
        found = self.context.get(key.lower())
        if callable(found):
            found = found()
            self.context[key.lower()] = found if found is not None else []
        return found or None


def _principal_matches(principals: dict[str, list[str]], who: Principal) -> bool:
    for name in principals.get("AWS", []):
        if name == "*":
            return True
        if who.account is None:
            continue
        m = _IAM_ARN.fullmatch(name)
        if name == who.account_id or (m and m.group(2) == who.account_id and name.endswith(":root")):
            return True
    return who.canonical_id is not None and who.canonical_id in principals.get("CanonicalUser", [])


def applies(statement: Statement, request: Request) -> bool:
    """Whether a statement covers the request: principal, action, resource and every condition."""
    if "Principal" in statement:
        if not _principal_matches(statement["Principal"], request.principal):
            return False
    elif _principal_matches(statement["NotPrincipal"], request.principal):
        return False
    negate, actions = ("NotAction" in statement), statement.get("Action") or statement["NotAction"]
    if any(like(a, request.action, ignore_case=True) for a in actions) == negate:
        return False
    negate, resources = ("NotResource" in statement), statement.get("Resource") or statement["NotResource"]
    if any(like(p, r) for p in resources for r in request.resources) == negate:
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not condition_holds(operator, request.values(key), expected):
                return False
    return True


def evaluate(statements: list[Statement], request: Request,
             allow_filter: Callable[[Statement], bool] | None = None) -> str | None:
    """"Deny" when a Deny statement applies (an explicit deny wins), else
    "Allow" when an Allow statement does (and passes allow_filter), else None."""
    allowed = False
    for statement in statements:
        if not applies(statement, request):
            continue
        if statement["Effect"] == "Deny":
            return "Deny"
        allowed = allowed or allow_filter is None or allow_filter(statement)
    return "Allow" if allowed else None


def is_public_statement(statement: Statement) -> bool:
    """An Allow to everyone ("*", or NotPrincipal) that no condition ties to
    fixed sources or principals."""
    if statement["Effect"] != "Allow":
        return False
    if "NotPrincipal" not in statement and "*" not in statement["Principal"].get("AWS", []):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            if key in _RESTRICTING_KEYS and not operator.startswith(("StringNot", "NotIp", "ArnNot")) \
                    and not any(v in ("*", "0.0.0.0/0", "::/0") for v in values):
                return False
    return True


def is_public(statements: list[Statement]) -> bool:
    """GetBucketPolicyStatus's IsPublic: some statement allows everyone."""
    return any(is_public_statement(s) for s in statements)
