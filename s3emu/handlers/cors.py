"""Bucket CORS configuration (Put, Get, Delete) and the browser's preflight
OPTIONS request, answered from the bucket's rules without authentication."""
from __future__ import annotations


from aiohttp import web

from storage import StorageError

from .. import checksums, cors
from ..body import read_small
from ..errors import S3Error
from ..request import S3Request
from ..responses import empty_response, xml_response
from . import operation

MAX_BODY = 64 * 1024  # S3's limit on the document


@operation("PutBucketCors")
async def put_bucket_cors(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)
    body = await read_small(req, MAX_BODY)
    checksums.check_document(req, body)
    req.store.set_bucket_config(req.bucket, "cors", cors.parse_configuration(body))
    return empty_response()


@operation("GetBucketCors")
async def get_bucket_cors(req: S3Request) -> web.StreamResponse:
    rules = cors.bucket_rules(req)
    if rules is None:
        raise S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", status=404,
                      BucketName=req.bucket)
    return xml_response("CORSConfiguration", cors.render_rules(rules))


@operation("DeleteBucketCors")
async def delete_bucket_cors(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.set_bucket_config(req.bucket, "cors", None)
    return empty_response(204)


def _forbidden(message: str, method: str, resource_type: str) -> S3Error:
    return S3Error("AccessForbidden", message, status=403, Method=method, ResourceType=resource_type)


def _preflight_rules(req: S3Request, method: str | None) -> list[cors.Rule]:
    """The rules a preflight is judged by; AccessForbidden, as S3 answers, when there are none."""
    rules, missing = None, "CORSResponse: Bucket not found"
    if req.bucket is not None:
        try:
            rules = cors.bucket_rules(req)
            missing = "CORSResponse: CORS is not enabled for this bucket."
        except StorageError:
            pass  # no such bucket
    if rules is not None:
        return rules
    if req.config.cors_allow_all:
        return [cors.DEFAULT_RULE]
    raise _forbidden(missing, method or "OPTIONS", "BUCKET")


@operation("PreflightRequest")
async def preflight(req: S3Request) -> web.StreamResponse:
    """OPTIONS: may the browser send its actual request (origin, method, headers)?"""
    origin = req.headers.get("Origin")
    if not origin:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    method = req.headers.get("Access-Control-Request-Method")
    rules = _preflight_rules(req, method)
    if method is None or method not in cors.METHODS:
        raise S3Error("BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}")
    wanted = cors.requested_headers(req.headers)
    rule = cors.match(rules, origin, method, wanted)
    if rule is None:
        raise _forbidden(cors.NOT_ALLOWED, method, "OBJECT" if req.key is not None else "BUCKET")
    return empty_response(200, cors.response_headers(rule, origin, wanted))
