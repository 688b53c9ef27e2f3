"""AWS Signature Version 4 for S3: the canonical request and string to sign,
derived signing keys, and the checks of the Authorization header and of
presigned (query-string) URLs."""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from ..http.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 604800  # a week, S3's limit on presigned URLs
TIMESTAMP = "%Y%m%dT%H%M%SZ"
QUERY_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
                "X-Amz-Expires")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_CREDENTIAL_FORMAT = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning for one secret and scope; cached, since it changes once a day."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(key: bytes, string_to_sign: str) -> str:
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def uri_encode(value: str, safe: str = "-_.~") -> str:
    return quote(value, safe=safe)


def canonical_query(raw_query: str, skip: str | None = None) -> str:
    """Parameters decoded the way the server reads them, re-encoded per SigV4
    and sorted by name, then value."""
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name == skip:
            continue
        pairs.append((uri_encode(name), uri_encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_headers(headers: Any, names: Iterable[str]) -> str:
    lines = []
    for name in names:
        values = headers.getall(name, [])
        lines.append(f"{name}:" + ",".join(" ".join(v.split()) for v in values) + "\n")
    return "".join(lines)


def canonical_request(method: str, path: str, query: str, headers: Any, signed: list[str], payload: str) -> str:
    return "\n".join([method, path, query, canonical_headers(headers, signed), ";".join(signed), payload])


def string_to_sign(timestamp: str, scope: str, creq: str) -> str:
    return "\n".join([ALGORITHM, timestamp, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()])


def hex_bytes(text: str) -> str:
    return text.encode("utf-8").hex(" ")


def server_time(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime | None:
    """20261121T123015Z, parsed by slicing: strptime is slow on every request."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not (value[:8] + value[9:15]).isdigit():
        return None
    try:
        return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]), int(value[11:13]),
                        int(value[13:15]), tzinfo=timezone.utc)
    except ValueError:
        return None


def is_sha256_hex(value: str) -> bool:
    return _HEX64.fullmatch(value) is not None


class Credential:
    """The Credential of a signature: <key>/<date>/<region>/<service>/aws4_request."""

    def __init__(self, raw: str) -> None:
        parts = raw.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
            raise ValueError(raw)
        self.access_key, self.date, self.region, self.service, _ = parts
        self.scope = "/".join(parts[1:])


class Signed:
    """What a verified SigV4 signature leaves for the body: the key and the
    signature that chunk signatures chain from."""

    def __init__(self, key: bytes, timestamp: str, scope: str, signature: str, canonical: str) -> None:
        self.key = key
        self.timestamp = timestamp
        self.scope = scope
        self.signature = signature
        self.canonical = canonical


def check_signature(*, secret: str, cred: Credential, timestamp: str, method: str, paths: list[str],
                    query: str, headers: Any, signed: list[str], payload: str, provided: str) -> Signed:
    """Recompute the signature over each candidate canonical path (the raw
    path first); SignatureDoesNotMatch, with what S3 signed, if none agrees."""
    key = signing_key(secret, cred.date, cred.region, cred.service)
    first: tuple[str, str] | None = None
    for path in paths:
        creq = canonical_request(method, path, query, headers, signed, payload)
        sts = string_to_sign(timestamp, cred.scope, creq)
        if hmac.compare_digest(sign(key, sts), provided.lower()):
            return Signed(key, timestamp, cred.scope, provided.lower(), creq)
        first = first or (sts, creq)
    assert first is not None
    sts, creq = first
    raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=cred.access_key, StringToSign=sts,
                  SignatureProvided=provided, StringToSignBytes=hex_bytes(sts), CanonicalRequest=creq,
                  CanonicalRequestBytes=hex_bytes(creq))


def canonical_paths(raw_path: str) -> list[str]:
    """The canonical URIs a signature may have been made over: the path decoded
    and encoded the SigV4 way (S3's own form, the one its SignatureDoesNotMatch
    shows: `/%2Fa` is `//a`), then the path as sent, for clients that sign the
    bytes they send."""
    encoded = uri_encode(unquote(raw_path), safe="/~")
    return [encoded] if encoded == raw_path else [encoded, raw_path]


def header_fields(header: str) -> dict[str, str]:
    """Credential, SignedHeaders and Signature of an AWS4-HMAC-SHA256 header."""
    fields: dict[str, str] = {}
    for part in header[len(ALGORITHM):].split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value.strip()
    if not all(k in fields for k in ("Credential", "SignedHeaders", "Signature")):
        raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization "
                      "header requires three components: Credential, SignedHeaders, and Signature.")
    return fields


def header_credential(raw: str, region: str) -> Credential:
    try:
        return Credential(raw)
    except ValueError:
        raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is "
                      f"mal-formed; expecting {_CREDENTIAL_FORMAT}.", Region=region) from None


_REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")  # us-east-1, us-gov-west-1, ap-southeast-7


def is_region_name(name: str) -> bool:
    """Shaped like an AWS region's name (aws-global, s3 or vpce are not)."""
    return _REGION_NAME.fullmatch(name) is not None


def check_scope(cred: Credential, region: str, *, region_known: bool, query: bool) -> None:
    """The credential scope must name a region this server answers for
    (`region_known`) and the s3 service: AuthorizationHeaderMalformed, or for
    a presigned URL AuthorizationQueryParametersError, expecting `region`
    (the server's own), as S3 answers."""
    if query:
        code, prefix = "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; "
    else:
        code, prefix = "AuthorizationHeaderMalformed", "The authorization header is malformed; "
    if not region_known:
        raise S3Error(code, f"{prefix}the region '{cred.region}' is wrong; expecting '{region}'", Region=region)
    if cred.service != "s3":
        raise S3Error(code, f'{prefix}incorrect service "{cred.service}". This endpoint belongs to "s3".')


def query_credential(raw: str) -> Credential:
    try:
        return Credential(raw)
    except ValueError:
        raise S3Error("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the "
                      f"Credential is mal-formed; expecting {_CREDENTIAL_FORMAT}.") from None


def query_expires(raw: str) -> int:
    try:
        expires = int(raw)
    except ValueError:
        raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number") from None
    if expires < 1:
        raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds); "
                      f"that is, the given X-Amz-Expires must be less than {MAX_EXPIRES} seconds")
    return expires


def check_skew(request_time: datetime, raw: str, now: datetime) -> None:
    if abs(now - request_time) > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed", RequestTime=raw, ServerTime=server_time(now),
                      MaxAllowedSkewMilliseconds=int(MAX_SKEW.total_seconds() * 1000))


def check_expiry(signed_at: datetime, expires: int, now: datetime) -> None:
    if signed_at - now > MAX_SKEW:
        raise S3Error("AccessDenied", "Request is not valid yet")
    if now > signed_at + timedelta(seconds=expires):
        details: dict[str, Any] = {"X-Amz-Expires": expires, "ServerTime": server_time(now),
                                   "Expires": server_time(signed_at + timedelta(seconds=expires))}
        raise S3Error("AccessDenied", "Request has expired", **details)


def sign_request(method: str, url: str, body: bytes, access_key: str, secret: str, region: str,
                 headers: dict[str, str] | None = None, now: datetime | None = None) -> dict[str, str]:
    """The client's side: headers for a request signed with SigV4 over its
    body (Host, X-Amz-Date, x-amz-content-sha256, Authorization added to
    `headers`), as s3emu's own admin client sends it."""
    parts = urlsplit(url)
    when = (now or datetime.now(timezone.utc)).strftime(TIMESTAMP)
    payload = hashlib.sha256(body).hexdigest()
    out = {**(headers or {}), "Host": parts.netloc, "X-Amz-Date": when, "x-amz-content-sha256": payload}
    lower = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
    names = sorted(lower)
    scope = f"{when[:8]}/{region}/s3/aws4_request"
    creq = "\n".join([method, parts.path or "/", canonical_query(parts.query),
                      "".join(f"{n}:{lower[n]}\n" for n in names), ";".join(names), payload])
    signature = sign(signing_key(secret, when[:8], region, "s3"), string_to_sign(when, scope, creq))
    out["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
                            f"Signature={signature}")
    return out
