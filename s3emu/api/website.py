"""Static website hosting: Put/Get/DeleteBucketWebsite, and the website
endpoint that serves configured buckets to anonymous browsers as S3's
`bucket.s3-website-<region>.amazonaws.com` endpoints do (GET and HEAD only,
index and error documents, redirects, HTML error pages)."""
from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from ..access.principals import ANONYMOUS
from ..auth.access import bucket_access, may
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, object_response, xml_response
from ..protocol import website
from ..protocol.headers import check_read_conditions, object_headers, parse_range
from ..storage import ObjectInfo, StorageError
from .common import configuration_body, consistent_read, delete_bucket_setting

MAX_BODY = 128 * 1024
REDIRECT_HEADER = "x-amz-website-redirect-location"


# -- the configuration ------------------------------------------------------------------------------

async def put_bucket_website(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY)
    await req.store.call(req.store.set_bucket_config, req.bucket, "website", website.parse_configuration(body))
    return empty_response()


async def get_bucket_website(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    config = req.store.get_bucket(req.bucket).config.get("website")
    if config is None:
        raise S3Error("NoSuchWebsiteConfiguration", BucketName=req.bucket)
    return xml_response("WebsiteConfiguration", website.render_configuration(config))


async def delete_bucket_website(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "website")


# -- the website endpoint --------------------------------------------------------------------------

def anonymous_may(req: S3Request, operation: str, key: str | None) -> bool:
    """Whether an anonymous visitor may `operation` ("GetObject" on key,
    "ListObjects" on the bucket): website requests are judged as S3 judges
    anonymous REST requests, by the bucket's policy, ACLs and public access
    block. With auth off, everything is allowed."""
    assert req.bucket is not None
    if not req.config.auth:
        return True
    bucket = req.store.get_bucket(req.bucket)
    return may(req, operation, bucket, bucket_access(req, bucket), key, None, principal=ANONYMOUS)


class _Redirect(Exception):
    def __init__(self, status: int, location: str) -> None:
        self.status, self.location = status, location


async def serve(req: S3Request) -> web.StreamResponse:
    """Answer one website request: req.bucket is the bucket the Host names,
    req.key the decoded path without its leading slash (None for `/`)."""
    try:
        return await _serve(req)
    except _Redirect as r:
        return empty_response(r.status, {"Location": r.location})
    except S3Error as err:
        return error_response(req, err)


async def _serve(req: S3Request) -> web.StreamResponse:
    method = req.http.method
    if method not in ("GET", "HEAD"):
        raise S3Error("MethodNotAllowed", Method=method, ResourceType="OBJECT")
    assert req.bucket is not None
    config = _website(req)
    if "RedirectAllRequestsTo" in config:
        raise _Redirect(301, website.redirect_all_location(config, req.http.raw_path, req.http.scheme))
    key = req.key or ""
    _route(req, config, key, None)
    try:
        return await _document(req, _lookup(req, config, key), 200)
    except S3Error as err:
        if err.status not in (403, 404):
            raise
        _route(req, config, key, err.status)
        if "ErrorDocument" not in config:
            raise
        return await _error_document(req, config["ErrorDocument"], err)


def _website(req: S3Request) -> website.Website:
    assert req.bucket is not None
    try:
        bucket = req.store.get_bucket(req.bucket)
    except StorageError as err:
        raise S3Error.from_storage(err) from None
    config = bucket.config.get("website")
    if config is None:
        raise S3Error("NoSuchWebsiteConfiguration", BucketName=req.bucket)
    return config


def _route(req: S3Request, config: website.Website, key: str, error_status: int | None) -> None:
    rule = website.matching_rule(config, key, error_status)
    if rule is not None:
        raise _Redirect(*website.rule_redirect(rule, key, req.http.scheme, req.http.host))


def _get(req: S3Request, key: str) -> ObjectInfo:
    """The key's current version, if an anonymous visitor may read it:
    AccessDenied (403) otherwise, or NoSuchKey (404) when it is missing and
    the visitor may list the bucket (others learn no more than 403)."""
    assert req.bucket is not None
    try:
        info = req.store.get_object(req.bucket, key)
    except StorageError:
        if anonymous_may(req, "ListObjects", None):
            raise S3Error("NoSuchKey", Key=key) from None
        raise S3Error("AccessDenied") from None
    if not anonymous_may(req, "GetObject", key):
        raise S3Error("AccessDenied")
    return info


def _lookup(req: S3Request, config: website.Website, key: str) -> ObjectInfo:
    """The object a path names: `/` and `folder/` name their index document;
    `folder` without its slash is sent to `folder/` when that has one."""
    index = config["IndexDocument"]
    if key == "" or key.endswith("/"):
        return _get(req, key + index)
    try:
        return _get(req, key)
    except S3Error as err:
        if err.code == "NoSuchKey":
            try:
                _get(req, f"{key}/{index}")
            except S3Error:
                raise err from None
            raise _Redirect(302, f"/{req.http.raw_path.lstrip('/').split('?', 1)[0]}/") from None
        raise


async def _document(req: S3Request, info: ObjectInfo, status: int) -> web.StreamResponse:
    """An object as a web page (or its redirect, when it has one)."""
    location = info.meta.get("headers", {}).get(REDIRECT_HEADER)
    if location:
        raise _Redirect(301, location)
    headers = object_headers(info)
    headers.pop(REDIRECT_HEADER, None)
    first, last = 0, info.size - 1
    if status == 200:
        check_read_conditions(req.headers, info)
        byte_range = parse_range(req.headers.get("Range"), info.size)
        if byte_range is not None:
            (first, last), status = byte_range, 206
            headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    if req.http.method == "HEAD" or info.size == 0:
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = last - first + 1 if info.size else 0
        return resp
    # opened in a snapshot and held, as GetObject does: a many-part page is leased while it is sent
    _, opened = await consistent_read(req, lambda: (None, req.store.open_range(info, first, last)))
    assert opened is not None
    return await object_response(opened, status=status, headers=headers)


async def _error_document(req: S3Request, key: str, err: S3Error) -> web.StreamResponse:
    """The bucket's error document, sent with the status of `err`; when it
    cannot be read, S3's page for `err` says why."""
    try:
        info = _get(req, key)
    except S3Error as doc_err:
        raise _WithDocumentError(err, doc_err) from None
    return await _document(req, info, err.status)


class _WithDocumentError(S3Error):
    def __init__(self, err: S3Error, document_error: S3Error) -> None:
        super().__init__(err.code, err.message, status=err.status, headers=err.headers, **err.fields)
        self.document_error = document_error


def error_response(req: S3Request, err: S3Error) -> web.StreamResponse:
    """S3's HTML error page for `err` (no body for HEAD and 304)."""
    if err.status == 304 or req.http.method == "HEAD":
        return web.Response(status=err.status, headers=err.headers)
    body = website.error_page(err, req.request_id, req.host_id, getattr(err, "document_error", None))
    return web.Response(status=err.status, body=body, headers=err.headers, content_type="text/html",
                        charset="utf-8")


def website_key(raw_path: str) -> str | None:
    """The key a website path names (decoded; None for `/`). InvalidURI
    when it is not UTF-8 once decoded, as on the S3 endpoint."""
    path = raw_path.split("?", 1)[0]
    try:
        return unquote(path[1:], errors="strict") if len(path) > 1 else None
    except UnicodeDecodeError:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI.") from None
