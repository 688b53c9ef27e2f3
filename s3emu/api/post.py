"""POST Object: browser form uploads (multipart/form-data). The fields
before the file are read (bounded), the signature over the policy checked
(SigV4 or SigV2), the policy's expiration and conditions enforced, the
uploader judged as any PutObject is, and the file streamed into the store
like a PUT body: never held in memory, with the size limits of the policy
and the server and the checksums of any write."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Any, AsyncIterator, cast
from urllib.parse import quote, urlencode, urlsplit

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict

from ..access.principals import ANONYMOUS, Principal, directory_for
from ..auth import sigv4
from ..auth.access import bucket_access, may
from ..http.addressing import host_bucket
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_text, children, parse
from ..protocol import checksums, postpolicy, sse
from ..protocol.headers import object_meta
from ..storage import ObjectMeta
from .common import encrypt, notify, version_headers, write_ownership

MAX_FIELDS = 20 * 1024  # S3's limit on the form fields before the file
CHUNK = 256 * 1024
# form fields that are stored as the object's headers (as PutObject takes them)
_HEADER_FIELDS = ("cache-control", "content-type", "content-disposition", "content-encoding", "expires",
                  "x-amz-storage-class", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                  "x-amz-website-redirect-location", "x-amz-object-lock-mode",
                  "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold")


def _missing(name: str) -> S3Error:
    return S3Error("InvalidArgument", f"Bucket POST must contain a field named '{name}'.  If it is specified, "
                                      "please check the order of the fields.", ArgumentName=name, ArgumentValue="")


async def _read_field(part: BodyPartReader, budget: int, idle: float) -> tuple[str, int]:
    data = bytearray()
    while True:
        async with asyncio.timeout(idle):
            chunk = await part.read_chunk(8192)
        if not chunk:
            break
        data += chunk
        if len(data) > budget:
            raise S3Error("MaxPostPreDataLengthExceededError")
    return data.decode("utf-8", "replace"), len(data)


async def _form(req: S3Request) -> tuple[dict[str, str], BodyPartReader | None, Any]:
    """The fields before the file (original names, last value wins) and the file part (None when absent).
    Their bytes, each part's headers included, count against MAX_FIELDS, so
    a form of many tiny fields is refused as one of large ones is."""
    if not req.headers.get("Content-Type", "").lower().startswith("multipart/form-data"):
        raise S3Error("PreconditionFailed", Condition="Bucket POST must be of the enclosure-type multipart/form-data")
    try:
        reader = await req.http.multipart()
    except (ValueError, AssertionError):
        raise S3Error("MalformedPOSTRequest") from None
    fields: dict[str, str] = {}
    names: dict[str, str] = {}  # lowercase name -> the name as sent, for "last value wins"
    budget = MAX_FIELDS
    timeout = req.config.request_idle_timeout
    while True:
        try:
            async with asyncio.timeout(timeout):
                part = await reader.next()
        except ValueError:
            raise S3Error("MalformedPOSTRequest") from None
        if part is None:
            return fields, None, reader
        if not isinstance(part, BodyPartReader) or not part.name:
            raise S3Error("MalformedPOSTRequest")
        if part.name.lower() == "file":
            return fields, part, reader
        budget -= sum(len(name) + len(value) + 4 for name, value in part.headers.items())
        if budget < 0:
            raise S3Error("MaxPostPreDataLengthExceededError")
        value, used = await _read_field(part, budget, timeout)
        budget -= used
        fields.pop(names.get(part.name.lower(), ""), None)
        names[part.name.lower()] = part.name
        fields[part.name] = value


def _get(fields: dict[str, str], name: str) -> str | None:
    return next((v for k, v in fields.items() if k.lower() == name.lower()), None)


def _principal(req: S3Request, fields: dict[str, str]) -> Principal:
    """Who signed the form (SigV4 or SigV2 over the policy), or anonymous.
    With auth off, the account of the key named, unchecked."""
    directory = directory_for(req.config)
    v4 = any(_get(fields, f) is not None for f in ("x-amz-signature", "x-amz-algorithm", "x-amz-credential",
                                                    "x-amz-date"))
    v2 = _get(fields, "AWSAccessKeyId") is not None or _get(fields, "signature") is not None
    if not v4 and not v2:
        return ANONYMOUS if req.config.auth else directory.principal(None)
    names = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature") if v4 else \
        ("AWSAccessKeyId", "Signature")
    for name in names:
        if _get(fields, name) is None:
            raise _missing(name)
    encoded = _get(fields, "policy")
    if encoded is None:
        raise _missing("Policy")
    if v4:
        if _get(fields, "x-amz-algorithm") != sigv4.ALGORITHM:
            raise S3Error("InvalidArgument", "Only AWS4-HMAC-SHA256 is supported", ArgumentName="X-Amz-Algorithm",
                          ArgumentValue=_get(fields, "x-amz-algorithm"))
        credential = _get(fields, "x-amz-credential") or ""
        access_key, _, scope = credential.partition("/")
        parts = scope.split("/")
        if len(parts) != 4 or parts[3] != "aws4_request":
            raise S3Error("InvalidArgument", "Invalid credential", ArgumentName="X-Amz-Credential",
                          ArgumentValue=credential)
        provided = _get(fields, "x-amz-signature") or ""
    else:
        access_key, provided = _get(fields, "AWSAccessKeyId") or "", _get(fields, "signature") or ""
    if not req.config.auth:
        return directory.principal(access_key)
    secret = req.config.secret_for(access_key)
    if secret is None:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    if v4:
        expected = sigv4.sign(sigv4.signing_key(secret, parts[0], parts[1], parts[2]), encoded)
    else:
        expected = base64.b64encode(hmac.new(secret.encode(), encoded.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, provided):
        raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=access_key, StringToSign=encoded,
                      SignatureProvided=provided, StringToSignBytes=sigv4.hex_bytes(encoded))
    return directory.principal(access_key)


def _tagging(xml: str) -> str:
    """The form's Tagging document as the x-amz-tagging query string (MalformedXML when it is not XML)."""
    if not xml.strip().startswith("<"):
        raise S3Error("MalformedXML")
    if not xml.strip().startswith("<Tagging"):
        return ""  # another document: S3 stores no tags
    root = parse(xml.encode(), "Tagging")
    tags = [(child_text(t, "Key") or "", child_text(t, "Value") or "")
            for s in children(root, "TagSet") for t in children(s, "Tag")]
    return urlencode(tags)


def _header_value(value: str) -> str:
    """A form field kept as a header: S3 puts a space for each character a header cannot carry."""
    return "".join(c if ord(c) < 256 else " " for c in value)


def _headers(fields: dict[str, str], key: str) -> CIMultiDict[str]:
    """The form's fields that PutObject would take as headers."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in fields.items():
        lname = name.lower()
        if lname.startswith("x-amz-meta-"):
            headers[name] = value  # kept as typed (object_meta, encoded_words=False)
        elif lname in _HEADER_FIELDS or lname.startswith(checksums.PREFIX):
            headers[name] = _header_value(value)
        elif lname == "acl":
            headers["x-amz-acl"] = value
        elif lname == "tagging":
            tagging = _tagging(value)
            if tagging:
                headers["x-amz-tagging"] = tagging
    return headers


async def _file_chunks(part: BodyPartReader, low: int, high: int | None, idle: float) -> AsyncIterator[bytes]:
    """The file's bytes as they arrive; past `high` the rest is counted (not
    kept) to report its size, then EntityTooLarge; below `low`, EntityTooSmall."""
    size = 0
    while True:
        try:
            async with asyncio.timeout(idle):
                chunk = await part.read_chunk(CHUNK)
        except ValueError:  # the body ended inside the file
            raise S3Error("MalformedPOSTRequest") from None
        if not chunk:
            break
        size += len(chunk)
        if high is not None and size > high:
            continue
        yield chunk
    if not part.at_eof():  # the body ended before the file's closing boundary: it may be cut short
        raise S3Error("MalformedPOSTRequest")
    if high is not None and size > high:
        raise S3Error("EntityTooLarge", ProposedSize=size, MaxSizeAllowed=high)
    if size < low:
        raise S3Error("EntityTooSmall", ProposedSize=size, MinSizeAllowed=low)


def _location(req: S3Request, key: str) -> str:
    """The new object's URL, virtual-hosted style as S3 gives it."""
    assert req.bucket is not None
    host = req.http.host
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    path = quote(key, safe="/~")
    if host_bucket(host, req.config.domains) is not None:
        return f"{req.http.scheme}://{host}/{path}"
    if name.replace(".", "").isdigit() or name.startswith("["):
        return f"{req.http.scheme}://{host}/{req.bucket}/{path}"
    return f"{req.http.scheme}://{req.bucket}.{host}/{path}"


async def post_object(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    fields, part, _ = await _form(req)
    principal = _principal(req, fields)
    req.principal = principal
    doc = None
    if principal.account is not None and _get(fields, "policy") is not None:
        doc = postpolicy.decode(_get(fields, "policy") or "")
        postpolicy.check(doc, fields, req.bucket, datetime.now(timezone.utc))
    raw_key = _get(fields, "key")
    if raw_key is None:
        raise _missing("key")
    if part is None:
        raise S3Error("InvalidArgument", "POST requires exactly one file upload per request.",
                      ArgumentName="file", ArgumentValue="0")
    key = raw_key.replace("${filename}", part.filename) if part.filename else raw_key
    if not key:
        raise S3Error("InvalidArgument", "User key must have a length greater than 0.", ArgumentName="key",
                      ArgumentValue="")
    headers = _headers(fields, key)
    if req.config.auth:
        extra = {f"s3:{h.lower()}": [v] for h, v in headers.items() if h.lower().startswith("x-amz-")}
        if not may(req, "PutObject", bucket, bucket_access(req, bucket), key, None, principal, extra):
            raise S3Error("AccessDenied", "Access Denied")
    meta = cast(ObjectMeta, {**object_meta(headers, encoded_words=False), **sse.write_fields(headers),
                             **write_ownership(req, headers)})
    encrypt(req, meta, headers)  # the form's encryption, else the bucket's default
    asked = checksums.requested(headers, None)
    algorithm = asked.algorithm or checksums.DEFAULT_ALGORITHM
    meta.update(checksums.object_fields(algorithm))
    low, high = (postpolicy.size_range(doc) if doc else None) or (0, None)
    limit = req.config.max_object_size if high is None else min(high, req.config.max_object_size)
    info = await req.store.put_object(req.bucket, key, _file_chunks(part, low, limit, req.config.request_idle_timeout),
                                      meta=meta, algorithms=[algorithm],
                                      verify=checksums.write_verifier(None, None, asked))
    await notify(req, "ObjectCreated:Post", key, info)
    etag = f'"{info.etag}"'
    location = _location(req, key)
    out = {"ETag": etag, "Location": location, **version_headers(info), **checksums.object_headers(info),
           **sse.response_headers(info.meta)}
    redirect = _get(fields, "success_action_redirect") or _get(fields, "redirect")
    if redirect and urlsplit(redirect).scheme in ("http", "https") and urlsplit(redirect).netloc:
        query = urlencode({"bucket": req.bucket, "key": key, "etag": etag})
        target = redirect + ("&" if urlsplit(redirect).query else "?") + query
        return empty_response(303, {**out, "Location": target})
    status = _get(fields, "success_action_status")
    if status == "201":
        return xml_response("PostResponse", [("Location", location), ("Bucket", req.bucket), ("Key", key),
                                             ("ETag", etag)], status=201, headers=out)
    return empty_response(200 if status == "200" else 204, out)
