"""RestoreObject: a temporary readable copy of an archived (GLACIER or
DEEP_ARCHIVE) version, ready after the server's `restore_seconds` and kept
for the request's Days (lifecycle days). 202 when a restore starts, 200 when
the version was already restored (its expiry moves), 409
RestoreAlreadyInProgress while one is under way."""
from __future__ import annotations

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response
from ..http.xml import child_text, children, local, parse
from ..protocol.dates import iso8601
from ..storage import ObjectInfo
from ..storage.archive import storage_class_of
from .common import configuration_body, notify

MAX_BODY = 64 * 1024
TIERS = ("Standard", "Bulk", "Expedited")
_ELEMENTS = {"Days", "GlacierJobParameters", "Type", "Tier", "Description", "SelectParameters", "OutputLocation"}


def parse_request(body: bytes) -> tuple[int, str]:
    """Days and tier of a RestoreRequest document. MalformedXML for a
    document S3's schema refuses or one without a positive Days;
    NotImplemented for SELECT restores (s3emu has no S3 Select)."""
    doc = parse(body, "RestoreRequest")
    names = [local(c) for c in doc if isinstance(c.tag, str)]
    if any(n not in _ELEMENTS for n in names) or len(set(names)) != len(names):
        raise S3Error("MalformedXML")
    if child_text(doc, "Type") is not None or children(doc, "SelectParameters") or children(doc, "OutputLocation"):
        raise S3Error("NotImplemented", "A header or query you provided implies functionality that is not "
                                        "implemented")
    job = children(doc, "GlacierJobParameters")
    tier = child_text(job[0], "Tier") if job else child_text(doc, "Tier")
    days = child_text(doc, "Days")
    if (tier or "Standard") not in TIERS or not (days or "").isdigit() or int(days or 0) < 1:
        raise S3Error("MalformedXML")
    return int(days or 0), tier or "Standard"


async def restore_object(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    days, tier = parse_request(body)
    info, restored = await req.store.call(req.store.restore_object, req.bucket, req.key, req.param("versionId"), days,
                                       tier, restore_seconds=req.config.restore_seconds,
                                       day_seconds=req.config.lifecycle_day_seconds)
    if not restored:
        await _notify_restore(req, info)
    return empty_response(200 if restored else 202)


async def _notify_restore(req: S3Request, info: ObjectInfo) -> None:
    """ObjectRestore:Post now, and ObjectRestore:Completed when the copy is
    ready, with the restore's expiry and the version's storage class."""
    assert req.bucket is not None and req.key is not None
    await notify(req, "ObjectRestore:Post", req.key, info)
    state = info.meta["restore"]
    await notify(req, "ObjectRestore:Completed", req.key, info, at=state["ready"], extra={"glacierEventData": {
        "restoreEventData": {"lifecycleRestorationExpiryTime": iso8601(state["expiry"]),
                             "lifecycleRestoreStorageClass": storage_class_of(info.meta)}}})
