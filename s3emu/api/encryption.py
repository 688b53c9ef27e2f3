"""Bucket default encryption: Put/Get/DeleteBucketEncryption. Every bucket
encrypts new objects with SSE-S3 (AES256) unless told otherwise, as S3 does
since January 2023: GetBucketEncryption answers that default when nothing
was set, and DeleteBucketEncryption returns to it. The rule applies to each
new object that asks for no encryption of its own (protocol/sse.py); s3emu
records and reports it but stores the bytes as sent."""
from __future__ import annotations

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import parse
from ..protocol import sse
from ..protocol.documents import Field, Schema, find, find_all, malformed, read
from .common import configuration_body, delete_bucket_setting

MAX_BODY = 64 * 1024
CONFIGURATION: Schema = (
    Field("Rule", (
        Field("ApplyServerSideEncryptionByDefault", (Field("SSEAlgorithm", required=True, values=sse.SSE_VALUES),
                                                     Field("KMSMasterKeyID")), required=True),
        Field("BucketKeyEnabled", "bool"),
        Field("BlockedEncryptionTypes", (Field("EncryptionType", repeat=True, values=("NONE", "SSE-C")),)),
    ), repeat=True),
)


def parse_configuration(body: bytes) -> sse.DefaultRule:
    """A ServerSideEncryptionConfiguration: exactly one rule (MalformedXML
    otherwise), a KMS key only with an aws:kms algorithm."""
    rules = find_all(read(parse(body, "ServerSideEncryptionConfiguration"), CONFIGURATION), "Rule")
    if len(rules) != 1:
        raise malformed()
    rule = rules[0]
    algorithm = find(rule, "ApplyServerSideEncryptionByDefault", "SSEAlgorithm")
    key = find(rule, "ApplyServerSideEncryptionByDefault", "KMSMasterKeyID")
    if key is not None and not algorithm.startswith("aws:kms"):
        raise S3Error("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                                         "aws:kms or aws:kms:dsse", ArgumentName="ApplyServerSideEncryptionByDefault")
    out: sse.DefaultRule = {"algorithm": algorithm, "bucket_key": find(rule, "BucketKeyEnabled") == "true"}
    if key:
        out["kms_key"] = key
    blocked = find_all(find(rule, "BlockedEncryptionTypes") or [], "EncryptionType")
    if blocked:
        out["blocked"] = blocked
    return out


async def put_bucket_encryption(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    await req.store.call(req.store.set_bucket_config, req.bucket, "encryption", parse_configuration(body))
    return empty_response()


async def get_bucket_encryption(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    rule = sse.bucket_rule(req.store.get_bucket(req.bucket).config)
    by_default = [("SSEAlgorithm", rule["algorithm"]), ("KMSMasterKeyID", rule.get("kms_key"))]
    blocked = [("EncryptionType", t) for t in rule.get("blocked", [])]
    return xml_response("ServerSideEncryptionConfiguration", [("Rule", [
        ("ApplyServerSideEncryptionByDefault", by_default), ("BucketKeyEnabled", rule.get("bucket_key", False)),
        ("BlockedEncryptionTypes", blocked or None)])])


async def delete_bucket_encryption(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "encryption")
