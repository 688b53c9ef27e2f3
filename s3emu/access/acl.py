"""Access control lists as S3 keeps them: a resource's grants (grantee and
permission), from canned ACL names, x-amz-grant-* headers or an
AccessControlPolicy document; rendered back as S3 does; and what they let a
principal do.

A grant is a dict with S3's member names: {"Type": "CanonicalUser", "ID": ...,
"Permission": ...} or {"Type": "Group", "URI": ..., "Permission": ...}. Grants
by e-mail are resolved to the account's canonical id when stored, as S3 does.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from lxml import etree

from ..http.errors import S3Error
from ..http.xml import Fields, child_text, children, parse
from .principals import Directory, Principal

Grant = dict[str, str]

XSI = "http://www.w3.org/2001/XMLSchema-instance"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY)
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
PERMISSIONS = ("FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP")
# the EC2 service's canonical user, whom aws-exec-read lets read (AWS documentation, Canned ACL)
EC2_READER = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
CANNED = ("private", "public-read", "public-read-write", "aws-exec-read", "authenticated-read",
          "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write")
GRANT_HEADERS = {"x-amz-grant-full-control": "FULL_CONTROL", "x-amz-grant-read": "READ",
                 "x-amz-grant-read-acp": "READ_ACP", "x-amz-grant-write": "WRITE",
                 "x-amz-grant-write-acp": "WRITE_ACP"}
_CANONICAL_ID = re.compile(r"[0-9a-f]{64}")
_GRANTEE = re.compile(r'\s*(\w+)\s*=\s*"([^"]*)"\s*')


def user(canonical_id: str, permission: str) -> Grant:
    return {"Type": "CanonicalUser", "ID": canonical_id, "Permission": permission}


def group(uri: str, permission: str) -> Grant:
    return {"Type": "Group", "URI": uri, "Permission": permission}


def canned(name: str, owner: str, bucket_owner: str | None = None) -> list[Grant]:
    """The grants of a canned ACL set by `owner` on a resource in a bucket
    owned by `bucket_owner` (canonical ids). InvalidArgument for an unknown name."""
    grants = [user(owner, "FULL_CONTROL")]
    if name == "public-read":
        grants.append(group(ALL_USERS, "READ"))
    elif name == "public-read-write":
        grants += [group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")]
    elif name == "authenticated-read":
        grants.append(group(AUTHENTICATED_USERS, "READ"))
    elif name == "aws-exec-read":
        grants.append(user(EC2_READER, "READ"))
    elif name == "log-delivery-write":
        grants += [group(LOG_DELIVERY, "WRITE"), group(LOG_DELIVERY, "READ_ACP")]
    elif name in ("bucket-owner-read", "bucket-owner-full-control"):
        if bucket_owner is not None and bucket_owner != owner:
            grants.append(user(bucket_owner, "READ" if name == "bucket-owner-read" else "FULL_CONTROL"))
    elif name != "private":
        err = S3Error("InvalidArgument", ArgumentName="x-amz-acl", ArgumentValue=name)
        err.message = ""  # S3 sends an empty Message here
        raise err
    return grants


def _grantee(kind: str, value: str, directory: Directory, argument: str) -> Grant:
    """A grantee named by `id`, `uri` or `emailAddress` (header keys, or the
    XML's CanonicalUser/ID, Group/URI, AmazonCustomerByEmail/EmailAddress)."""
    if kind in ("id", "CanonicalUser/ID"):
        if not _CANONICAL_ID.fullmatch(value) or not directory.knows_canonical_id(value):
            raise S3Error("InvalidArgument", "Invalid id", ArgumentName=argument or kind, ArgumentValue=value)
        return {"Type": "CanonicalUser", "ID": value}
    if kind in ("uri", "Group/URI"):
        if value not in GROUPS:
            raise S3Error("InvalidArgument", "Invalid group uri", ArgumentName=argument or kind, ArgumentValue=value)
        return {"Type": "Group", "URI": value}
    account = directory.by_email(value)
    if account is None:
        raise S3Error("UnresolvableGrantByEmailAddress", EmailAddress=value)
    return {"Type": "CanonicalUser", "ID": account.canonical_id}


def from_grant_headers(headers: Mapping[str, str], directory: Directory) -> list[Grant] | None:
    """The grants x-amz-grant-* headers name (`id="..."`, `uri="..."`,
    `emailAddress="..."`, comma-separated), None when none is sent."""
    grants: list[Grant] = []
    found = False
    for header, permission in GRANT_HEADERS.items():
        raw = headers.get(header)
        if raw is None:
            continue
        found = True
        for item in raw.split(","):
            m = _GRANTEE.fullmatch(item)
            if m is None or m.group(1) not in ("id", "uri", "emailAddress"):
                raise S3Error("InvalidArgument", "Argument format not recognized", ArgumentName=header,
                              ArgumentValue=raw)
            grants.append({**_grantee(m.group(1), m.group(2), directory, m.group(1)), "Permission": permission})
    return grants if found else None


def from_headers(headers: Mapping[str, str], directory: Directory, owner: str,
                 bucket_owner: str | None = None) -> list[Grant] | None:
    """A request's ACL: its canned x-amz-acl or its x-amz-grant-* headers
    (InvalidRequest for both), None when it sends neither."""
    name = headers.get("x-amz-acl")
    grants = from_grant_headers(headers, directory)
    if name is not None and grants is not None:
        raise S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
    if name is not None:
        return canned(name.strip(), owner, bucket_owner)
    return grants


def _malformed() -> S3Error:
    return S3Error("MalformedACLError")


def _xml_grantee(elem: etree._Element, directory: Directory) -> Grant:
    kind = elem.get(f"{{{XSI}}}type")
    fields = {"CanonicalUser": "ID", "Group": "URI", "AmazonCustomerByEmail": "EmailAddress"}
    if kind not in fields:
        raise _malformed()
    value = child_text(elem, fields[kind])
    if value is None:
        raise _malformed()
    return _grantee(f"{kind}/{fields[kind]}", value, directory, f"{kind}/{fields[kind]}")


def parse_policy(body: bytes, directory: Directory) -> tuple[str, list[Grant]]:
    """An AccessControlPolicy document: its owner's canonical id and its
    grants. MalformedACLError when it does not follow S3's schema (no Owner,
    an unknown permission or grantee type), InvalidArgument for an unknown id
    or group."""
    try:
        root = parse(body, "AccessControlPolicy")
    except S3Error:
        raise _malformed() from None
    owners = children(root, "Owner")
    lists = children(root, "AccessControlList")
    if len(owners) != 1 or len(lists) > 1:
        raise _malformed()
    owner = child_text(owners[0], "ID")
    if owner is None:
        raise _malformed()
    _grantee("CanonicalUser/ID", owner, directory, "CanonicalUser/ID")
    grants = []
    for elem in children(lists[0], "Grant") if lists else []:
        grantees, permission = children(elem, "Grantee"), child_text(elem, "Permission")
        if len(grantees) != 1 or permission not in PERMISSIONS:
            raise _malformed()
        grants.append({**_xml_grantee(grantees[0], directory), "Permission": permission})
    return owner, grants


def render(owner: str, grants: Iterable[Grant]) -> Fields:
    """AccessControlPolicy's children: Owner (its ID only, as S3 answers
    today) and the grants in the order stored."""
    out: list[tuple[str, Any]] = []
    for g in grants:
        member = "ID" if g["Type"] == "CanonicalUser" else "URI"
        out.append(("Grant", [("Grantee", _XsiType(g["Type"], [(member, g[member])])),
                              ("Permission", g["Permission"])]))
    return [("Owner", [("ID", owner)]), ("AccessControlList", out)]


class _XsiType(list):  # type: ignore[type-arg]
    """A Grantee's children, rendered with its xsi:type attribute (see http.xml)."""

    def __init__(self, kind: str, fields: list[tuple[str, Any]]) -> None:
        super().__init__(fields)
        self.attributes = {f"{{{XSI}}}type": kind}


def grants_to(grants: Iterable[Grant], principal: Principal, permission: str) -> bool:
    """Whether a grant gives `principal` `permission` (FULL_CONTROL gives every one)."""
    for g in grants:
        if g["Permission"] not in (permission, "FULL_CONTROL"):
            continue
        if g["Type"] == "CanonicalUser" and g.get("ID") == principal.canonical_id:
            return True
        if g["Type"] == "Group" and (g.get("URI") == ALL_USERS
                                     or (g.get("URI") == AUTHENTICATED_USERS and not principal.anonymous)):
            return True
    return False


def is_public(grants: Iterable[Grant]) -> bool:
    """A grant to AllUsers or AuthenticatedUsers: what the public access block calls a public ACL."""
    return any(g["Type"] == "Group" and g.get("URI") in PUBLIC_GROUPS for g in grants)


def without_public(grants: Iterable[Grant]) -> list[Grant]:
    """The grants IgnorePublicAcls leaves in force."""
    return [g for g in grants if not (g["Type"] == "Group" and g.get("URI") in PUBLIC_GROUPS)]


def only_owner_full_control(grants: Iterable[Grant], bucket_owner: str) -> bool:
    """True for bucket-owner-full-control or its equivalent: the bucket owner
    holds FULL_CONTROL and nobody else holds anything (what a bucket whose
    ACLs are disabled still accepts)."""
    grants = list(grants)
    return all(g["Type"] == "CanonicalUser" and g["Permission"] == "FULL_CONTROL" for g in grants) \
        and user(bucket_owner, "FULL_CONTROL") in grants
