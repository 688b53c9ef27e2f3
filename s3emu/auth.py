"""Who is asking: the access key from a SigV4 (or SigV2) Authorization
header or presigned query, checked against the configured credentials."""
from __future__ import annotations

import re

from .errors import S3Error
from .request import S3Request

_V4_HEADER = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/")
_V2_HEADER = re.compile(r"AWS\s+([^:\s]+):")


def access_key_of(req: S3Request) -> str | None:
    header = req.headers.get("Authorization")
    if header:
        m = _V4_HEADER.match(header) or _V2_HEADER.match(header)
        if m is None:
            raise S3Error("InvalidArgument", "Unsupported Authorization Type", ArgumentName="Authorization",
                          ArgumentValue=header)
        return m.group(1)
    credential = req.param("X-Amz-Credential")
    if credential:
        return credential.split("/", 1)[0]
    return req.param("AWSAccessKeyId")


async def authenticate(req: S3Request) -> None:
    access_key = access_key_of(req)
    if not req.config.auth:
        req.access_key = access_key
        return
    if access_key is None:
        raise S3Error("AccessDenied", "Access Denied")
    if req.config.secret_for(access_key) is None:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    req.access_key = access_key
