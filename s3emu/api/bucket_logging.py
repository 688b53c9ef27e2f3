"""Server access logging configuration: Put/GetBucketLogging. The logs
themselves are written by ops.serverlog."""
from __future__ import annotations

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response
from ..protocol import bucket_logging
from ..storage import StorageError
from .common import configuration_body

MAX_BODY = 64 * 1024


async def put_bucket_logging(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY)
    source = req.store.get_bucket(req.bucket)
    config = bucket_logging.parse_status(body)
    if config is not None:
        try:
            target = req.store.get_bucket(config["TargetBucket"])
        except StorageError:
            raise S3Error("InvalidTargetBucketForLogging", TargetBucket=config["TargetBucket"]) from None
        if target.region != source.region:
            raise bucket_logging.region_error(source.region, target.region)
    await req.store.call(req.store.set_bucket_config, req.bucket, "logging", config)
    return empty_response()


async def get_bucket_logging(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    config = req.store.get_bucket(req.bucket).config.get("logging")
    return web.Response(body=bucket_logging.render_status(config), content_type="application/xml")
