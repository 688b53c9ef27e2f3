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


def _framing(req: S3Request, scheme: str, access_key: str | None) -> RequestAuth:
    payload = req.headers.get("x-amz-content-sha256", "")
    # only the signed payload hash makes a body aws-chunked: a Content-Encoding naming aws-chunked
    # without it is object metadata, stored as sent (AWS docs, SigV4 streaming; case 57)
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
    request without a valid signature is refused (AccessDenied,
    SignatureDoesNotMatch, InvalidAccessKeyId, ...)."""
    if not req.config.auth:
        return _accept_unverified(req)
    scheme = _scheme(req)
    if scheme == "none":
        # anonymous: nothing of the request is read before authorize() judges it
        return RequestAuth("none", None, "", False, [])
    verify = {"v4": _verify_v4_header, "v4-query": _verify_v4_query, "v2": _verify_v2_header,
              "v2-query": _verify_v2_query}[scheme]
    auth = _framing(req, scheme, None)
    auth.access_key, auth.signed = verify(req, auth.payload)
    return auth


def _accept_unverified(req: S3Request) -> RequestAuth:
    """Auth off: any signature or none goes; the body framing still applies."""
    try:
        scheme = _scheme(req)
        access_key = access_key_of(req, scheme)
    except S3Error:
        scheme, access_key = "none", None
    return _framing(req, scheme, access_key)


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


def _verify_v4_header(req: S3Request, payload: str) -> tuple[str, Signed | None]:
    fields = sigv4.header_fields(req.headers["Authorization"])
    cred = sigv4.header_credential(fields["Credential"], req.config.region)
    secret = _secret(req, cred.access_key)
    raw_time = req.headers.get("x-amz-date") or req.headers.get("Date")
    when = None
    if raw_time:
        when = sigv4.parse_timestamp(raw_time) or _http_date(raw_time)
    if when is None:
        raise S3Error("AccessDenied", _NEEDS_DATE)
    sigv4.check_skew(when, raw_time or "", _now())
    timestamp = when.astimezone(timezone.utc).strftime(sigv4.TIMESTAMP)
    if cred.date != timestamp[:8]:
        raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential "
                      "date. Date is not the same as X-Amz-Date.")
    if not payload:
        raise S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    path, query = _raw_path_and_query(req)
    signed = sigv4.check_signature(
        secret=secret, cred=cred, timestamp=timestamp, method=req.http.method, paths=sigv4.canonical_paths(path),
        query=sigv4.canonical_query(query), headers=req.headers,
        signed=[h.strip() for h in fields["SignedHeaders"].lower().split(";") if h.strip()],
        payload=payload, provided=fields["Signature"])
    return cred.access_key, signed


def _verify_v4_query(req: S3Request, payload: str) -> tuple[str, Signed | None]:
    q = req.query
    if not all(q.get(p) for p in sigv4.QUERY_PARAMS):
        raise S3Error("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the "
                      "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                      "X-Amz-Expires parameters.")
    if q["X-Amz-Algorithm"] != sigv4.ALGORITHM:
        raise S3Error("AuthorizationQueryParametersError",
                      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"')
    cred = sigv4.query_credential(q["X-Amz-Credential"])
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
    signed_headers = [h.strip() for h in q["X-Amz-SignedHeaders"].lower().split(";") if h.strip()]
    unsigned = sorted({h.lower() for h in req.headers if h.lower().startswith("x-amz-")} - set(signed_headers)
                      - {"x-amz-content-sha256"})
    if unsigned:
        raise S3Error("AccessDenied", "There were headers present in the request which were not signed",
                      HeadersNotSigned=", ".join(unsigned))
    if "x-amz-content-sha256" not in signed_headers:
        payload = q.get("X-Amz-Content-Sha256", sigv4.UNSIGNED_PAYLOAD)
    path, query = _raw_path_and_query(req)
    signed = sigv4.check_signature(
        secret=secret, cred=cred, timestamp=q["X-Amz-Date"], method=req.http.method,
        paths=sigv4.canonical_paths(path), query=sigv4.canonical_query(query, skip="X-Amz-Signature"),
        headers=req.headers, signed=signed_headers, payload=payload, provided=q["X-Amz-Signature"])
    return cred.access_key, signed


def _v2_resource(req: S3Request) -> str:
    path, query = _raw_path_and_query(req)
    if host_bucket(req.http.host, req.config.domains) is not None and req.bucket is not None:
        path = f"/{req.bucket}{path}"
    return sigv2.canonical_resource(path, query)


def _verify_v2_header(req: S3Request, payload: str) -> tuple[str, Signed | None]:
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
    sts = sigv2.string_to_sign(req.http.method, sigv2.signed_headers(req.headers), date_line, _v2_resource(req))
    sigv2.check_signature(secret, access_key, sts, provided)
    return access_key, None


def _verify_v2_query(req: S3Request, payload: str) -> tuple[str, Signed | None]:
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
    sts = sigv2.string_to_sign(req.http.method, headers, q["Expires"], _v2_resource(req))
    sigv2.check_signature(secret, access_key, sts, q["Signature"])
    return access_key, None
