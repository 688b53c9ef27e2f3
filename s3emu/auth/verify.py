"""Who is asking, proven: SigV4 (Authorization header or presigned query),
legacy SigV2 (header or query), checked against the configured credentials.
Also how the request body is framed (raw, hex-SHA256-checked, or aws-chunked
with signed chunks and trailers), which holds whether or not auth is on."""
from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import AsyncIterator

from multidict import CIMultiDict, CIMultiDictProxy

from ..http.addressing import host_bucket
from ..http.errors import S3Error
from ..http.request import S3Request
from . import sigv2, sigv4
from .chunked import AwsChunkedDecoder, ChunkSigner
from .sigv4 import Signed

_V2_HEADER = re.compile(r"AWS\s+([^:\s]+):(\S+)")
_NEEDS_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_SIGNED_STREAMS = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
_PAYLOAD_VALUES = ("UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                   "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                   "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER")


@dataclass
class RequestAuth:
    """What authentication established about a request and how to decode its
    body. `trailers` fills in when an aws-chunked trailer arrives; the trailer
    checksum is verified here unless `verify_trailer_checksums` is turned off
    by code that verifies it itself."""

    scheme: str  # "v4", "v4-query", "v2", "v2-query" or "none"
    access_key: str | None
    payload: str  # x-amz-content-sha256 as sent, "" when absent
    aws_chunked: bool
    trailer_names: list[str]
    signed: Signed | None = None
    trailers: dict[str, str] = field(default_factory=dict)
    verify_trailer_checksums: bool = True

    @property
    def signing_key(self) -> bytes | None:
        return self.signed.key if self.signed else None

    @property
    def seed_signature(self) -> str | None:
        return self.signed.signature if self.signed else None

    @property
    def scope(self) -> str | None:
        return self.signed.scope if self.signed else None

    @property
    def timestamp(self) -> str | None:
        return self.signed.timestamp if self.signed else None

    def body_decoder(self, raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        if self.aws_chunked:
            signer = None
            if self.signed is not None and self.payload in _SIGNED_STREAMS:
                signer = ChunkSigner(self.signed.key, self.signed.timestamp, self.signed.scope,
                                     self.signed.signature, self.access_key or "")
            decoder = AwsChunkedDecoder(signer=signer, trailer_names=self.trailer_names,
                                        signed_trailer=self.payload.endswith("-TRAILER"),
                                        verify_checksums=self.verify_trailer_checksums,
                                        on_trailers=self.trailers.update)
            return decoder.decode(raw)
        if sigv4.is_sha256_hex(self.payload):
            return _check_sha256(raw, self.payload.lower())
        return raw


async def _check_sha256(raw: AsyncIterator[bytes], expected: str) -> AsyncIterator[bytes]:
    """The body as it streams; at its end, XAmzContentSHA256Mismatch if it is
    not what the client signed (raised before the store commits anything)."""
    digest = hashlib.sha256()
    async for piece in raw:
        digest.update(piece)
        yield piece
    if digest.hexdigest() != expected:
        raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=expected,
                      S3ComputedContentSHA256=digest.hexdigest())


def _framing(req: S3Request, scheme: str, access_key: str | None, payload: str) -> RequestAuth:
    """How the body is framed. Only a STREAMING-* payload value (which the
    signature covers) selects aws-chunked decoding: an unsigned
    Content-Encoding never changes which bytes are stored, and one naming
    aws-chunked without it is object metadata, stored as sent (AWS docs,
    SigV4 streaming; case 57)."""
    chunked = payload.startswith("STREAMING-")
    if payload and not chunked and payload != sigv4.UNSIGNED_PAYLOAD and not sigv4.is_sha256_hex(payload):
        raise S3Error("InvalidArgument", f"x-amz-content-sha256 must be {_PAYLOAD_VALUES} or a valid sha256 value.",
                      ArgumentName="x-amz-content-sha256", ArgumentValue=payload)
    trailer = [t.strip().lower() for t in req.headers.get("x-amz-trailer", "").split(",") if t.strip()]
    return RequestAuth(scheme, access_key, payload, chunked, trailer)


def _scheme(req: S3Request) -> str:
    header = req.headers.get("Authorization")
    in_query = "X-Amz-Algorithm" in req.query or "Signature" in req.query
    if header is not None and in_query:
        raise S3Error("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                      "parameter, Signature query string parameter or the Authorization header should be specified",
                      ArgumentName="Authorization", ArgumentValue=header)
    if header is not None:
        if header.startswith(sigv4.ALGORITHM + " "):
            return "v4"
        if _V2_HEADER.fullmatch(header.strip()):
            return "v2"
        raise S3Error("InvalidArgument", "Unsupported Authorization Type", ArgumentName="Authorization",
                      ArgumentValue=header)
    if "X-Amz-Algorithm" in req.query or "X-Amz-Credential" in req.query:
        return "v4-query"
    if "Signature" in req.query or "AWSAccessKeyId" in req.query:
        return "v2-query"
    return "none"


def access_key_of(req: S3Request, scheme: str) -> str | None:
    header = req.headers.get("Authorization", "")
    if scheme == "v4":
        return sigv4.header_fields(header).get("Credential", "").split("/", 1)[0] or None
    if scheme == "v2":
        m = _V2_HEADER.fullmatch(header.strip())
        return m.group(1) if m else None
    if scheme == "v4-query":
        return req.query.get("X-Amz-Credential", "").split("/", 1)[0] or None
    return req.query.get("AWSAccessKeyId")


async def authenticate(req: S3Request) -> RequestAuth:
    """Who sent the request and how its body is framed. With auth on, a
    signature that does not hold is refused (SignatureDoesNotMatch,
    InvalidAccessKeyId, AccessDenied for unsigned headers, ...); a request
    without any is anonymous (scheme "none"), for access.authorize to judge."""
    if not req.config.auth:
        return _accept_unverified(req)
    scheme = _scheme(req)
    if scheme == "none":
        # anonymous: nothing of the request is read before authorize() judges it
        return RequestAuth("none", None, "", False, [])
    verify = {"v4": _verify_v4_header, "v4-query": _verify_v4_query, "v2": _verify_v2_header,
              "v2-query": _verify_v2_query}[scheme]
    access_key, signed, payload = verify(req)
    auth = _framing(req, scheme, access_key, payload)
    auth.signed = signed
    req.header_override = _query_headers(req, scheme)
    return auth


def _accept_unverified(req: S3Request) -> RequestAuth:
    """Auth off: any signature or none goes; the body framing still applies."""
    try:
        scheme = _scheme(req)
        access_key = access_key_of(req, scheme)
    except S3Error:
        scheme, access_key = "none", None
    payload = req.headers.get("x-amz-content-sha256", "")
    if scheme == "v4-query" and not payload:
        payload = req.query.get("X-Amz-Content-Sha256", "")
    auth = _framing(req, scheme, access_key, payload)
    req.header_override = _query_headers(req, scheme)
    return auth


# Query parameters of a presigned URL that stand for request headers, as S3
# reads them (SDKs such as aws-sdk-js v3 hoist x-amz-* headers into the query).
_AUTH_PARAMS = frozenset(p.lower() for p in (*sigv4.QUERY_PARAMS, "X-Amz-Content-Sha256"))
_V4_QUERY_HEADERS = ("if-match", "if-none-match")


def _query_headers(req: S3Request, scheme: str) -> CIMultiDictProxy[str] | None:
    """The request's headers plus the presigned query parameters that stand
    for headers: x-amz-* (SigV2 signs those too) and, signed as every SigV4
    query parameter is, If-Match / If-None-Match. A header sent as well wins.
    None when nothing is added."""
    if scheme not in ("v4-query", "v2-query"):
        return None
    added: CIMultiDict[str] = CIMultiDict()
    for name, value in req.query.items():
        lname = name.lower()
        hoisted = lname.startswith("x-amz-") or (scheme == "v4-query" and lname in _V4_QUERY_HEADERS)
        if hoisted and lname not in _AUTH_PARAMS and lname not in req.http.headers and lname not in added:
            added[name] = value
    if not added:
        return None
    merged = CIMultiDict(req.http.headers)
    merged.extend(added)
    return CIMultiDictProxy(merged)


def _secret(req: S3Request, access_key: str) -> str:
    secret = req.config.secret_for(access_key)
    if secret is None:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    return secret


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _http_date(value: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _raw_path_and_query(req: S3Request) -> tuple[str, str]:
    path, _, query = req.http.raw_path.partition("?")
    return path, query


def _check_headers_signed(req: S3Request, signed: list[str], exempt: frozenset[str] = frozenset()) -> None:
    """AccessDenied unless Host and every x-amz-* header sent are among the
    signed headers, as S3 requires: an unsigned x-amz-copy-source,
    x-amz-meta-* or x-amz-tagging would change what a signed request does."""
    sent = {name.lower() for name in req.http.headers}
    required = {name for name in sent if name.startswith("x-amz-")} | {"host"}
    unsigned = sorted(required - set(signed) - exempt)
    if unsigned:
        raise S3Error("AccessDenied", "There were headers present in the request which were not signed",
                      HeadersNotSigned=", ".join(unsigned))


def _check_scope(req: S3Request, cred: sigv4.Credential, *, query: bool) -> None:
    """A signature for another service, or for a region that is none, is
    refused. The server answers as every AWS regional endpoint (a request
    signed for eu-west-1 is one sent to eu-west-1: see api.buckets), and as
    the region it is configured with."""
    known = cred.region == req.config.region or sigv4.is_region_name(cred.region)
    sigv4.check_scope(cred, req.config.region, region_known=known, query=query)


def _signed_list(raw: str) -> list[str]:
    return [h.strip() for h in raw.lower().split(";") if h.strip()]


def authenticate_signed_document(req: S3Request, body: bytes) -> RequestAuth:
    """s3emu's own endpoints: a SigV4 Authorization header by a configured
    key over this whole (already read) body, signed as any AWS service signs
    it: x-amz-content-sha256, if sent, must be the body's SHA-256, and may be
    left out (curl --aws-sigv4 leaves it out). AccessDenied otherwise."""
    if _scheme(req) != "v4":
        raise S3Error("AccessDenied", "Sign the request with AWS Signature Version 4 in the Authorization header")
    digest = hashlib.sha256(body).hexdigest()
    access_key, signed, payload = _verify_v4_header(req, default_payload=digest)
    if payload.lower() != digest:
        raise S3Error("XAmzContentSHA256Mismatch", ClientComputedContentSHA256=payload,
                      S3ComputedContentSHA256=digest)
    return RequestAuth("v4", access_key, payload, False, [], signed)


def _verify_v4_header(req: S3Request, default_payload: str = "") -> tuple[str, Signed | None, str]:
    fields = sigv4.header_fields(req.headers["Authorization"])
    cred = sigv4.header_credential(fields["Credential"], req.config.region)
    _check_scope(req, cred, query=False)
    secret = _secret(req, cred.access_key)
    raw_time = req.headers.get("x-amz-date") or req.headers.get("Date")
    when = basic = sigv4.parse_timestamp(raw_time) if raw_time else None
    if raw_time and when is None:
        when = _http_date(raw_time)
    if when is None:
        raise S3Error("AccessDenied", _NEEDS_DATE)
    sigv4.check_skew(when, raw_time or "", _now())
    # an x-amz-date in the basic format is the timestamp as signed; another date is formatted so
    timestamp = raw_time if basic is not None and raw_time else when.astimezone(timezone.utc).strftime(
        sigv4.TIMESTAMP)
    if cred.date != timestamp[:8]:
        raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential "
                      "date. Date is not the same as X-Amz-Date.")
    payload = req.headers.get("x-amz-content-sha256", default_payload)
    if not payload:
        raise S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    signed_headers = _signed_list(fields["SignedHeaders"])
    _check_headers_signed(req, signed_headers)
    path, query = _raw_path_and_query(req)
    signed = sigv4.check_signature(
        secret=secret, cred=cred, timestamp=timestamp, method=req.http.method, paths=sigv4.canonical_paths(path),
        query=sigv4.canonical_query(query), headers=req.headers, signed=signed_headers, payload=payload,
        provided=fields["Signature"])
    return cred.access_key, signed, payload


def _verify_v4_query(req: S3Request) -> tuple[str, Signed | None, str]:
    q = req.query
    if not all(q.get(p) for p in sigv4.QUERY_PARAMS):
        raise S3Error("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the "
                      "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                      "X-Amz-Expires parameters.")
    if q["X-Amz-Algorithm"] != sigv4.ALGORITHM:
        raise S3Error("AuthorizationQueryParametersError",
                      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"')
    cred = sigv4.query_credential(q["X-Amz-Credential"])
    _check_scope(req, cred, query=True)
    signed_at = sigv4.parse_timestamp(q["X-Amz-Date"])
    if signed_at is None:
        raise S3Error("AuthorizationQueryParametersError",
                      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    expires = sigv4.query_expires(q["X-Amz-Expires"])
    if cred.date != q["X-Amz-Date"][:8]:
        raise S3Error("AuthorizationQueryParametersError", "Invalid credential date. Date is not the same as "
                      "X-Amz-Date.")
    secret = _secret(req, cred.access_key)
    sigv4.check_expiry(signed_at, expires, _now())
    signed_headers = _signed_list(q["X-Amz-SignedHeaders"])
    # a presigned URL may leave a sent x-amz-content-sha256 unsigned (S3 ignores it then)
    _check_headers_signed(req, signed_headers, exempt=frozenset({"x-amz-content-sha256"}))
    if "x-amz-content-sha256" in signed_headers:
        payload = req.headers.get("x-amz-content-sha256", "")
    else:  # a hash in the (signed) query binds the body just as well
        payload = q.get("X-Amz-Content-Sha256", sigv4.UNSIGNED_PAYLOAD)
    path, query = _raw_path_and_query(req)
    signed = sigv4.check_signature(
        secret=secret, cred=cred, timestamp=q["X-Amz-Date"], method=req.http.method,
        paths=sigv4.canonical_paths(path), query=sigv4.canonical_query(query, skip="X-Amz-Signature"),
        headers=req.headers, signed=signed_headers, payload=payload, provided=q["X-Amz-Signature"])
    return cred.access_key, signed, payload


def _v2_resources(req: S3Request) -> list[str]:
    """The canonical resources a SigV2 signature may cover: the path as sent
    (with the bucket, even for virtual-hosted requests) and, for a request to
    a bucket, the same with or without its trailing slash: botocore signs
    "/<bucket>/", and AWS accepts both."""
    path, query = _raw_path_and_query(req)
    if host_bucket(req.http.host, req.config.domains) is not None and req.bucket is not None:
        path = f"/{req.bucket}{path}"
    paths = [path]
    if req.bucket is not None and req.key is None:
        paths.append(path[:-1] if path.endswith("/") else path + "/")
    return [sigv2.canonical_resource(p, query) for p in paths]


def _verify_v2_header(req: S3Request) -> tuple[str, Signed | None, str]:
    m = _V2_HEADER.fullmatch(req.headers["Authorization"].strip())
    assert m is not None
    access_key, provided = m.groups()
    secret = _secret(req, access_key)
    amz_date = req.headers.get("x-amz-date")
    raw_time = amz_date or req.headers.get("Date")
    when = _http_date(raw_time) if raw_time else None
    if when is None:
        raise S3Error("AccessDenied", _NEEDS_DATE)
    sigv4.check_skew(when, raw_time or "", _now())
    date_line = "" if amz_date else req.headers.get("Date", "")
    headers = sigv2.signed_headers(req.headers)  # every x-amz-* header is part of what SigV2 signs
    sigv2.check_signature(secret, access_key, [sigv2.string_to_sign(req.http.method, headers, date_line, resource)
                                               for resource in _v2_resources(req)], provided)
    return access_key, None, req.headers.get("x-amz-content-sha256", "")


def _verify_v2_query(req: S3Request) -> tuple[str, Signed | None, str]:
    q = req.query
    if not all(q.get(p) for p in ("AWSAccessKeyId", "Signature", "Expires")):
        raise S3Error("AccessDenied", "Query-string authentication requires the Signature, Expires and "
                      "AWSAccessKeyId parameters")
    access_key = q["AWSAccessKeyId"]
    secret = _secret(req, access_key)
    try:
        expires = int(q["Expires"])
        expires_at = datetime.fromtimestamp(expires, timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise S3Error("AccessDenied", "Invalid date (should be seconds since epoch): " + q["Expires"]) from None
    now = _now()
    if now > expires_at:
        raise S3Error("AccessDenied", "Request has expired", Expires=sigv4.server_time(expires_at),
                      ServerTime=sigv4.server_time(now))
    headers = sigv2.signed_headers(req.headers, q)
    sigv2.check_signature(secret, access_key, [sigv2.string_to_sign(req.http.method, headers, q["Expires"], resource)
                                               for resource in _v2_resources(req)], q["Signature"])
    return access_key, None, req.headers.get("x-amz-content-sha256", "")
