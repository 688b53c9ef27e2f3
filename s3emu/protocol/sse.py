"""Server-side encryption headers. SSE-S3 (AES256) and SSE-KMS (aws:kms) are
accepted, kept with the object and echoed. SSE-C keys are checked as S3 checks
them and only the key's MD5 is kept (never the key); the same key is then
needed to read the object, to copy from it and to upload each part of an
SSE-C multipart upload. The bytes themselves are stored as sent: s3emu is an
emulator and does not encrypt at rest."""
from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any, Mapping, TypedDict

from ..http.errors import S3Error
from ..storage import ObjectMeta, UploadMeta

SSE = "x-amz-server-side-encryption"
KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
CUSTOMER = "x-amz-server-side-encryption-customer-"
COPY_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"
SSE_VALUES = ("AES256", "aws:kms", "aws:kms:dsse")
NEEDS_KEY = ("The object was stored using a form of Server Side Encryption. The correct parameters must be "
             "provided to retrieve the object.")
PART_NEEDS_KEY = ("The multipart upload initiate requested encryption. Subsequent part requests must include the "
                  "appropriate encryption parameters.")


def _invalid(message: str, value: str | None = None) -> S3Error:
    # S3 names x-amz-server-side-encryption for every SSE-C argument error
    return S3Error("InvalidArgument", message, ArgumentName=SSE, ArgumentValue=value)


def customer_key_md5(headers: Mapping[str, str], prefix: str = CUSTOMER) -> str | None:
    """The base64 MD5 of a valid SSE-C key sent with `prefix` headers, None
    when none is sent."""
    algorithm, key = headers.get(prefix + "algorithm"), headers.get(prefix + "key")
    sent_md5 = headers.get(prefix + "key-MD5")
    if algorithm is None and key is None and sent_md5 is None:
        return None
    if algorithm is None:
        raise _invalid("Requests specifying Server Side Encryption with Customer provided keys must provide a valid "
                       "encryption algorithm.")
    if key is None:
        raise _invalid("Requests specifying Server Side Encryption with Customer provided keys must provide an "
                       "appropriate secret key.")
    if algorithm != "AES256":
        raise S3Error("InvalidEncryptionAlgorithmError", "The Encryption request you specified is not valid. "
                      "Supported value: AES256.", ArgumentName=SSE, ArgumentValue=algorithm)
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    computed = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if (sent_md5 or "").strip() != computed:  # S3 checks the MD5 before the key's length
        raise _invalid("The calculated MD5 hash of the key did not match the hash that was provided.")
    if len(raw) != 32:
        raise _invalid("The secret key was invalid for the specified algorithm.")
    return computed


def write_fields(headers: Mapping[str, str]) -> ObjectMeta:
    """Checks a write's encryption headers (PutObject, CopyObject target,
    CreateMultipartUpload); SSE-S3/KMS ride along in the stored headers, an
    SSE-C key is kept as its MD5."""
    sse = headers.get(SSE)
    if sse is not None and any(name.lower().startswith(CUSTOMER) for name in headers):
        # said before the SSE-C headers are judged (AWS: put-obj-sse-c-both-encryption)
        raise _invalid("Server Side Encryption with Customer provided key is incompatible with the encryption "
                       "method specified", sse)
    key_md5 = customer_key_md5(headers)
    if sse is not None and sse not in SSE_VALUES:
        raise _invalid("The encryption method specified is not supported", sse)
    if KMS_KEY in headers and not (sse or "").startswith("aws:kms"):
        raise S3Error("InvalidArgument", "Server Side Encryption with AWS KMS managed key requires HTTP header "
                                         f"{SSE} : aws:kms", ArgumentName=KMS_KEY, ArgumentValue=headers[KMS_KEY])
    return {"sse_c": key_md5} if key_md5 else {}


def check_read(headers: Mapping[str, str], meta: ObjectMeta, *, copy_source: bool = False) -> None:
    """An SSE-C object is read (or copied from) with its key only."""
    prefix = COPY_CUSTOMER if copy_source else CUSTOMER
    stored = meta.get("sse_c")
    if stored:
        sent_md5 = headers.get(prefix + "key-MD5")
        if sent_md5 is None and headers.get(prefix + "key") is None:
            raise S3Error("InvalidRequest", NEEDS_KEY)
        if sent_md5 is not None and sent_md5.strip() != stored:
            raise S3Error("AccessDenied", "Access Denied" if copy_source else
                          "Requests specifying Server Side Encryption with Customer provided keys must provide the "
                          "correct secret key.")
    sent = customer_key_md5(headers, prefix)
    if sent is not None and not stored:
        raise S3Error("InvalidRequest", "The encryption parameters are not applicable to this object.")


def check_part(headers: Mapping[str, str], upload_meta: UploadMeta) -> None:
    """UploadPart / UploadPartCopy of an SSE-C upload repeat its key; others send none."""
    stored = upload_meta.get("sse_c")
    sent = customer_key_md5(headers)
    if bool(stored) != bool(sent):
        raise S3Error("InvalidRequest", PART_NEEDS_KEY)
    if stored and sent != stored:
        raise S3Error("InvalidRequest", "The provided encryption parameters did not match the ones used "
                                        "originally.")


def without_encryption(meta: ObjectMeta) -> ObjectMeta:
    """A copied object's meta without the source's encryption: the copy's own
    request says how it is encrypted."""
    kept = ObjectMeta(**meta)
    kept.pop("sse_c", None)
    kept["headers"] = {k: v for k, v in meta.get("headers", {}).items() if k not in (SSE, KMS_KEY, BUCKET_KEY)}
    return kept


class DefaultRule(TypedDict, total=False):
    """A bucket's default encryption (PutBucketEncryption), as kept in its config."""

    algorithm: str  # AES256, aws:kms or aws:kms:dsse
    kms_key: str  # KMSMasterKeyID as given; absent: the AWS managed key
    bucket_key: bool  # BucketKeyEnabled
    blocked: list[str]  # BlockedEncryptionTypes (kept and returned only)


SSE_S3: DefaultRule = {"algorithm": "AES256", "bucket_key": False}
ACCOUNT = "000000000000"  # the account KMS key ARNs name: s3emu has one


def bucket_rule(config: Mapping[str, Any]) -> DefaultRule:
    """A bucket's default encryption: its own, else SSE-S3 as on every S3 bucket since 2023."""
    rule: DefaultRule = config.get("encryption") or SSE_S3
    return rule


def kms_key_arn(key_id: str | None, region: str) -> str:
    """The KMS key an object records, as S3 reports it: an ARN as given; a
    key id or alias as an ARN of the account in the bucket's region; none
    named, the AWS managed key aws/s3 (one per account and region)."""
    if not key_id:
        key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aws/s3/{ACCOUNT}/{region}"))
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:aws:kms:{region}:{ACCOUNT}:{'' if key_id.startswith('alias/') else 'key/'}{key_id}"


def effective(headers: Mapping[str, str], rule: DefaultRule, region: str) -> dict[str, str]:
    """The SSE-S3/KMS headers a new object records and reports: the write's
    own x-amz-server-side-encryption, else the bucket's default rule; a KMS
    key as its ARN (the AWS managed key when the write names none), and the
    bucket-key setting the write sends, else the bucket's. Nothing for SSE-C
    writes, which keep the key's MD5 (write_fields)."""
    if customer_key_md5(headers) is not None:
        return {}
    asked = headers.get(SSE)
    algorithm = asked or rule["algorithm"]
    out = {SSE: algorithm}
    if algorithm.startswith("aws:kms"):
        out[KMS_KEY] = kms_key_arn(headers.get(KMS_KEY) if asked else rule.get("kms_key"), region)
        bucket_key = headers.get(BUCKET_KEY)
        if (bucket_key.lower() == "true") if bucket_key is not None else rule.get("bucket_key"):
            out[BUCKET_KEY] = "true"
    return out


def with_encryption(headers: Mapping[str, str], encryption: Mapping[str, str]) -> dict[str, str]:
    """Stored headers with these SSE headers in place of any they held."""
    return {**{k: v for k, v in headers.items() if k not in (SSE, KMS_KEY, BUCKET_KEY)}, **encryption}


def response_headers(meta: ObjectMeta, *, customer: bool = True) -> dict[str, str]:
    """What a write's (or read's) response says of the encryption: SSE-KMS
    as stored, SSE-S3 (AES256) for every other object that is not SSE-C (S3
    encrypts every new object since January 2023 and says so on PutObject,
    GET, HEAD, CopyObject and the multipart calls; s3emu stores the bytes as
    sent); the SSE-C algorithm and key MD5 unless `customer` is off
    (CompleteMultipartUpload never echoes them)."""
    stored = meta.get("headers", {})
    out = {name: stored[name] for name in (SSE, KMS_KEY, BUCKET_KEY) if name in stored}
    if meta.get("sse_c"):
        if customer:
            out[CUSTOMER + "algorithm"] = "AES256"
            out[CUSTOMER + "key-MD5"] = meta["sse_c"]
    else:
        out.setdefault(SSE, "AES256")
    return out
