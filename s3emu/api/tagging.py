"""Object tags (Put/Get/DeleteObjectTagging, by version) and bucket tags
(Put/Get/DeleteBucketTagging). Tags written with an object come in
x-amz-tagging (objects.py, multipart.py); lifecycle rules filter on them."""
from __future__ import annotations

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..protocol import tagging
from ..storage import ObjectInfo, object_tags
from ..storage.errors import DeleteMarkerHit, NoSuchKey
from .common import configuration_body, delete_bucket_setting, notify, version_headers

MAX_BODY = 64 * 1024


async def _on_version(req: S3Request, tags: tagging.Tags | None = None) -> ObjectInfo:
    """The addressed version (re-tagged when tags is given). Its tags are
    the version's own: S3 answers 405 for a delete marker, current or not."""
    assert req.bucket is not None and req.key is not None
    try:
        if tags is None:
            return req.store.get_object(req.bucket, req.key, req.param("versionId"))
        return await req.store.call(req.store.put_object_tagging, req.bucket, req.key, req.param("versionId"), tags)
    except DeleteMarkerHit as hit:
        raise S3Error("MethodNotAllowed", Method=req.http.method, ResourceType="DeleteMarker",
                      headers={"x-amz-delete-marker": "true", "x-amz-version-id": hit.marker_version_id}) from None


async def put_object_tagging(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    info = await _on_version(req, tagging.parse_document(body, bucket=False))
    await notify(req, "ObjectTagging:Put", info.key, info)
    return empty_response(headers=version_headers(info))


async def get_object_tagging(req: S3Request) -> web.StreamResponse:
    try:
        info = await _on_version(req)
    except NoSuchKey:
        # S3 names the key with its bucket here
        raise S3Error("NoSuchKey", Key=f"{req.bucket}/{req.key}") from None
    return xml_response("Tagging", tagging.tag_set(object_tags(info.meta)), headers=version_headers(info))


async def delete_object_tagging(req: S3Request) -> web.StreamResponse:
    info = await _on_version(req, {})
    await notify(req, "ObjectTagging:Delete", info.key, info)
    return empty_response(204, headers=version_headers(info))


async def put_bucket_tagging(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    tags = tagging.parse_document(body, bucket=True)
    await req.store.call(req.store.set_bucket_config, req.bucket, "tags", tags or None)  # an empty TagSet removes them
    return empty_response(204)


async def get_bucket_tagging(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    tags = req.store.get_bucket(req.bucket).config.get("tags")
    if not tags:
        raise S3Error("NoSuchTagSet", BucketName=req.bucket)
    return xml_response("Tagging", tagging.tag_set(tags))


async def delete_bucket_tagging(req: S3Request) -> web.StreamResponse:
    return await delete_bucket_setting(req, "tags")
