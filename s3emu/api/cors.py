"""Bucket CORS configuration (Put, Get, Delete) and the browser's preflight
OPTIONS request, answered from the bucket's rules without authentication."""
from __future__ import annotations

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..protocol import cors
from ..storage import StorageError
from .common import configuration_body, delete_bucket_setting

MAX_BODY = 64 * 1024  # S3's limit on the document


def bucket_rules(req: S3Request) -> list[cors.Rule] | None:
    """The bucket's own rules, None when it has none (NoSuchBucket propagates)."""
    assert req.bucket is not None
    return req.store.get_bucket(req.bucket).config.get("cors") or None


def effective_rules(req: S3Request) -> list[cors.Rule]:
    """The rules a request is judged by: the bucket's, else the server-wide default if on."""
    rules = None
    if req.bucket is not None:
        try:
            rules = bucket_rules(req)
        except StorageError:
            rules = None  # no such bucket (or an invalid name): only the default can apply
    if rules is None:
        return [cors.DEFAULT_RULE] if req.config.cors_allow_all else []
    return rules


def add_headers(req: S3Request, response: web.StreamResponse) -> None:
    """CORS headers on the answer to an actual (non-preflight) request with an
    Origin, errors included, when a rule allows it. A request no rule allows is
    still served, only without them: the browser then withholds the answer."""
    origin = req.headers.get("Origin")
    if not origin or response.prepared:
        return
    method = req.headers.get("Access-Control-Request-Method") or req.http.method
    wanted = cors.requested_headers(req.headers)
    rule = cors.match(effective_rules(req), origin, method, wanted)
    if rule is not None:
        response.headers.update(cors.response_headers(rule, origin, wanted))


async def put_bucket_cors(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY)
    await req.store.call(req.store.set_bucket_config, req.bucket, "cors", cors.parse_configuration(body))
    return empty_response()


async def get_bucket_cors(req: S3Request) -> web.StreamResponse:
    rules = bucket_rules(req)
    if rules is None:
        raise S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", status=404,
                      BucketName=req.bucket)
    return xml_response("CORSConfiguration", cors.render_rules(rules))


async def delete_bucket_cors(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "cors")


def _forbidden(message: str, method: str, resource_type: str) -> S3Error:
    return S3Error("AccessForbidden", message, status=403, Method=method, ResourceType=resource_type)


def _preflight_rules(req: S3Request, method: str | None) -> list[cors.Rule]:
    """The rules a preflight is judged by; AccessForbidden, as S3 answers, when there are none."""
    rules, missing = None, "CORSResponse: Bucket not found"
    if req.bucket is not None:
        try:
            rules = bucket_rules(req)
            missing = "CORSResponse: CORS is not enabled for this bucket."
        except StorageError:
            pass  # no such bucket
    if rules is not None:
        return rules
    if req.config.cors_allow_all:
        return [cors.DEFAULT_RULE]
    raise _forbidden(missing, method or "OPTIONS", "BUCKET")


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
