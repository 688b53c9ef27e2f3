"""The composition root: the aiohttp application and the one request path
every S3 request takes: address -> route -> authenticate -> faults -> the
operation's function, with every failure answered as S3's <Error> document."""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web
from aiohttp.client_exceptions import ClientPayloadError

from .api import OPERATIONS, website
from .api.cors import add_headers as add_cors_headers
from .auth.access import authorize
from .api.settings import request_charged
from .auth.verify import authenticate
from .config import Config
from .http.addressing import check_key, host_bucket, split_path
from .http.body import awaits_continue, expect_handler
from .http.errors import S3Error
from .http.headers import check_header_encoding
from .http.operations import Operation
from .http.request import S3Request
from .http.router import resolve
from .http.xml import render_error
from .ops import admin, recent
from .ops.accesslog import S3_REQUEST
from .ops.faults import FAULTS, FaultSet, inject
from .ops.metrics import METRICS, Metrics
from .ops.notifications import deliverer_context
from .ops.serverlog import delivery_context
from .ops.reaper import reaper_context
from .storage import StorageError, Store

__all__ = ["CONFIG", "STORE", "dispatch", "make_app", "make_website_app", "website_dispatch"]

log = logging.getLogger("s3emu")

STORE: web.AppKey[Store] = web.AppKey("store", Store)
CONFIG: web.AppKey[Config] = web.AppKey("config", Config)


def counted(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
            ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The handler, counting the requests in hand on the store's writer: a
    long job (a Complete of thousands of parts) gives way to them."""
    @functools.wraps(handler)
    async def handle(request: web.Request) -> web.StreamResponse:
        writer = request.app[STORE].writer
        if writer.loop is None:  # a long job may run before any write has told the writer its loop
            writer.loop = asyncio.get_running_loop()
        writer.requests += 1
        try:
            return await handler(request)
        finally:
            writer.requests -= 1
    return handle


@counted
async def dispatch(request: web.Request) -> web.StreamResponse:
    """Answers one HTTP request: an admin endpoint or an S3 operation."""
    config = request.app[CONFIG]
    req = S3Request(request, request.app[STORE], config, None, None, request.query)
    request[S3_REQUEST] = req  # for the access log
    site_bucket = host_bucket(request.host, config.website_domains)
    if site_bucket is not None:
        return await _website(req, site_bucket)
    try:
        check_header_encoding(request.headers)
        req.bucket, req.key = split_path(request.raw_path, host_bucket(request.host, config.domains))
        if req.bucket == admin.ADMIN_BUCKET:
            return await admin.handle(req)
        route = resolve(request.method, req.bucket, req.key, request.query, request.headers)
        req.operation = route if isinstance(route, Operation) else None
        if req.operation is not Operation.PreflightRequest:  # browsers send preflights unsigned
            req.auth = await authenticate(req)
        authorize(req)
        if isinstance(route, S3Error):  # an unknown route is answered only to whom may know
            raise route
        if req.key is not None:
            check_key(req.key)
        await inject(req, request.app[FAULTS])  # injected failures strike before anything is stored
        handler = OPERATIONS.get(route)
        if handler is None:
            if req.bucket is not None:
                req.store.get_bucket(req.bucket)  # S3 would say NoSuchBucket before anything else
            raise S3Error("NotImplemented", f"{route} is not implemented by s3emu")
        response = await handler(req)
    except S3Error as err:
        response = error_response(req, err)
    except StorageError as err:
        s3_error = S3Error.from_storage(err, request.method)
        if s3_error.status >= 500:
            log.error("%s %s: %s", req.operation, req.resource, err)
        response = error_response(req, s3_error)
    except (ClientPayloadError, ConnectionResetError) as err:
        # the client went away mid-body: nothing was stored; answer if it still listens
        response = error_response(req, S3Error("IncompleteBody", str(err) or None))
    except Exception:
        log.exception("internal error in %s %s", req.operation or request.method, request.path)
        response = error_response(req, S3Error("InternalError"))
    if request.method != "OPTIONS":
        add_cors_headers(req, response)
        request_charged(req, response)
    if awaits_continue(req):
        response.force_close()  # refused before its body was invited: never read it
    stamp(response, req)
    return response


@counted
async def website_dispatch(request: web.Request) -> web.StreamResponse:
    """Answers one request to the website port: the Host names the bucket
    (bucket.<website or S3 domain>, or the whole host name as with a CNAME);
    an IP address or bare `localhost` takes it from the path's first segment."""
    config = request.app[CONFIG]
    req = S3Request(request, request.app[STORE], config, None, None, request.query)
    request[S3_REQUEST] = req
    bucket = host_bucket(request.host, [*config.website_domains, *config.domains])
    if bucket is None:
        name = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
        if name and name != "localhost" and not _is_ip(name):
            bucket = name
    if bucket is None:
        try:
            bucket, key = split_path(request.raw_path, None)
        except S3Error:
            bucket = None
        if bucket is None:
            return await _website(req, "")
        req.bucket, req.key = bucket, key
        return await _website(req, bucket, keep_key=True)
    return await _website(req, bucket)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def _website(req: S3Request, bucket: str, keep_key: bool = False) -> web.StreamResponse:
    """A website request: bad bytes in its headers or path are S3's 400, as
    on the S3 endpoint, and any other failure an InternalError page, logged."""
    req.website, req.bucket = True, bucket
    try:
        check_header_encoding(req.http.headers)
        if not keep_key:
            req.key = website.website_key(req.http.raw_path)
        response = await website.serve(req)
    except S3Error as err:
        response = website.error_response(req, err)
    except Exception:
        log.exception("internal error in a website request for %s", req.http.path)
        response = website.error_response(req, S3Error("InternalError"))
    stamp(response, req)
    return response


def stamp(response: web.StreamResponse, req: S3Request) -> None:
    """The headers S3 puts on every answer: both ids differ per request."""
    response.headers["x-amz-request-id"] = req.request_id
    response.headers["x-amz-id-2"] = req.host_id
    response.headers.setdefault("Server", "s3emu")


def error_response(req: S3Request, err: S3Error) -> web.StreamResponse:
    """S3's <Error> document for `err` (no body for HEAD and 304)."""
    req.error_code = err.code
    headers: dict[str, Any] = dict(err.headers)
    if req.http.method == "HEAD" or err.status == 304:
        # HEAD answers carry no body: the status says it all
        return web.Response(status=err.status, headers=headers)
    body = render_error(err, req.request_id, req.host_id)
    return web.Response(status=err.status, body=body, headers=headers, content_type="application/xml")


async def _close_faults(app: web.Application) -> None:
    app[FAULTS].close()


def make_app(config: Config, store: Store, metrics_dir: str | None = None) -> web.Application:
    """The application serving `store` with `config`: one route for every path.
    `metrics_dir`: this is one of several workers counting metrics there."""
    # Content-Encoding describes the object: bodies are stored as sent, never decompressed
    app = web.Application(client_max_size=1024 ** 2, handler_args={"auto_decompress": False})
    app[CONFIG] = config
    app[STORE] = store
    app[FAULTS] = FaultSet.of(config.data_dir)  # shared by every worker on this data directory
    app[METRICS] = Metrics(metrics_dir)
    # every path, even keys holding newlines; `100 Continue` waits until the handler reads the body
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatch, expect_handler=expect_handler)
    app.cleanup_ctx.append(reaper_context(CONFIG, STORE))  # lifecycle rules and upload expiry
    if config.console:
        recent.install(app, config.data_dir)  # the console's "last requests"
    app.cleanup_ctx.append(deliverer_context(CONFIG, STORE))  # event notifications
    app.cleanup_ctx.append(delivery_context(CONFIG, STORE))  # bucket logging
    app.on_cleanup.append(_close_faults)
    return app


def make_website_app(config: Config, store: Store) -> web.Application:
    """The website endpoint's application (config.website_port): anonymous page views only."""
    app = web.Application(client_max_size=1024 ** 2, handler_args={"auto_decompress": False})
    app[CONFIG] = config
    app[STORE] = store
    app[METRICS] = Metrics()
    app.router.add_route("*", r"/{tail:[\s\S]*}", website_dispatch)
    app.cleanup_ctx.append(delivery_context(CONFIG, STORE))  # bucket logging
    return app
