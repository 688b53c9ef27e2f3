"""Legacy AWS Signature Version 2 for S3 (`Authorization: AWS key:sig` and
query strings with AWSAccessKeyId, Signature, Expires)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Mapping
from urllib.parse import unquote

from ..http.errors import S3Error
from .sigv4 import hex_bytes

# Query parameters that are part of the resource S3 signs.
SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle", "location",
    "logging", "metrics", "notification", "object-lock", "partNumber", "policy", "replication", "requestPayment",
    "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires", "restore", "select", "select-type",
    "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
})


def canonical_resource(path: str, raw_query: str) -> str:
    """The path as sent (with the bucket even for virtual-hosted requests),
    plus the sub-resources, sorted, values decoded."""
    subresources = []
    for item in raw_query.split("&"):
        name, sep, value = item.partition("=")
        if name in SUBRESOURCES:
            subresources.append((name, f"{name}={unquote(value)}" if sep else name))
    if not subresources:
        return path
    return path + "?" + "&".join(text for _, text in sorted(subresources, key=lambda s: s[0]))


def string_to_sign(method: str, headers: Mapping[str, list[str]], date: str, resource: str) -> str:
    """S3's string to sign: method, Content-MD5, Content-Type, date, the
    x-amz-* headers (lowercased, sorted, values joined) and the resource."""
    def first(name: str) -> str:
        values = headers.get(name)
        return values[0].strip() if values else ""

    amz = sorted((name, ",".join(v.strip() for v in values)) for name, values in headers.items()
                 if name.startswith("x-amz-"))
    lines = [method, first("content-md5"), first("content-type"), date]
    lines += [f"{name}:{value}" for name, value in amz]
    return "\n".join(lines + [resource])


def signed_headers(headers: Any, query: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Request headers by lowercase name; for query auth, x-amz-*, Content-Type
    and Content-MD5 given as query parameters count as headers too."""
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        out.setdefault(name.lower(), []).append(value)
    for name, value in (query or {}).items():
        lname = name.lower()
        if (lname.startswith("x-amz-") or lname in ("content-type", "content-md5")) and lname not in out:
            out[lname] = [value]
    return out


def check_signature(secret: str, access_key: str, candidates: list[str], provided: str) -> None:
    """Accepts a signature over any of the candidate strings to sign;
    SignatureDoesNotMatch, with the first, if none agrees."""
    for sts in candidates:
        expected = base64.b64encode(hmac.new(secret.encode(), sts.encode("utf-8"), hashlib.sha1).digest()).decode()
        if hmac.compare_digest(expected, provided):
            return
    sts = candidates[0]
    raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=access_key, StringToSign=sts,
                  SignatureProvided=provided, StringToSignBytes=hex_bytes(sts))
