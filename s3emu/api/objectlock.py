"""Object Lock: the bucket's configuration, and each version's retention and
legal hold (set by the calls here or by x-amz-object-lock-* headers on writes)."""
from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from lxml import etree

from ..http.body import read_small
from ..http.errors import NO_LOCK_CONFIG, S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_text, local, parse
from ..protocol.dates import iso8601, java_date
from ..storage import LockRule
from .common import MODES, _date, bypass_governance

MAX_CONFIG_BODY = 64 * 1024










def _elements(doc: etree._Element) -> dict[str, etree._Element]:
    """Child elements by local name; an element given twice is MalformedXML."""
    out: dict[str, etree._Element] = {}
    for child in doc:
        name = local(child)
        if name in out:
            raise S3Error("MalformedXML")
        out[name] = child
    return out


def _text(doc: dict[str, etree._Element], name: str) -> str | None:
    elem = doc.get(name)
    return None if elem is None else (elem.text or "").strip()


async def _document(req: S3Request, root: str, empty: str = "MissingRequestBodyError") -> etree._Element:
    """The request's XML document; `empty` is the error for no body at all."""
    body = await read_small(req, MAX_CONFIG_BODY)
    if not body:
        raise S3Error(empty)
    return parse(body, root)


# -- the bucket's configuration -----------------------------------------------

def _default_rule(rule: etree._Element) -> LockRule:
    retention = _elements(rule).get("DefaultRetention")
    if retention is None:
        raise S3Error("MalformedXML")
    fields = _elements(retention)
    mode, days, years = _text(fields, "Mode"), _text(fields, "Days"), _text(fields, "Years")
    if mode is None or mode not in MODES or (days is None) == (years is None):
        raise S3Error("MalformedXML")
    unit, raw = ("days", days) if days is not None else ("years", years)
    try:
        period = int(raw or "")
    except ValueError:
        raise S3Error("MalformedXML") from None
    if period <= 0:
        raise S3Error("InvalidArgument", "Default retention period must be a positive integer value.",
                      ArgumentName=unit.capitalize(), ArgumentValue=period)
    if period > (36500 if unit == "days" else 100):
        raise S3Error("InvalidArgument", "Default retention period is too large.",
                      ArgumentName=unit.capitalize(), ArgumentValue=period)
    return {"mode": mode, "days": period} if unit == "days" else {"mode": mode, "years": period}


async def put_object_lock_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)
    doc = _elements(await _document(req, "ObjectLockConfiguration"))
    enabled = doc.get("ObjectLockEnabled")
    if enabled is None or enabled.text != "Enabled":
        raise S3Error("MalformedXML")
    rule: LockRule = _default_rule(doc["Rule"]) if "Rule" in doc else {}
    await req.store.call(req.store.put_object_lock_configuration, req.bucket, rule)
    return empty_response()


async def get_object_lock_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    if not b.object_lock:
        raise S3Error("ObjectLockConfigurationNotFoundError", BucketName=req.bucket)
    rule = b.config.get("object_lock") or {}
    fields: list[tuple[str, Any]] = [("ObjectLockEnabled", "Enabled")]
    if rule.get("mode"):
        period = ("Days", rule["days"]) if "days" in rule else ("Years", rule["years"])
        fields.append(("Rule", [("DefaultRetention", [("Mode", rule["mode"]), period])]))
    return xml_response("ObjectLockConfiguration", fields)


# -- a version's retention and legal hold ---------------------------------------

def _lock_state(req: S3Request) -> dict[str, Any]:
    """The lock state of the version a retention / legal-hold GET addresses."""
    assert req.bucket is not None and req.key is not None
    if not req.store.get_bucket(req.bucket).object_lock:
        raise S3Error("InvalidRequest", NO_LOCK_CONFIG)
    info = req.store.get_object(req.bucket, req.key, req.param("versionId"))
    return dict(info.meta.get("lock") or {})


async def put_object_retention(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    doc = _elements(await _document(req, "Retention"))
    mode = _text(doc, "Mode")
    raw_until = _text(doc, "RetainUntilDate")
    if (mode is None) != (raw_until is None) or (mode is not None and mode not in MODES):
        raise S3Error("MalformedXML")
    until = None
    if raw_until is not None:
        try:
            until = _date(raw_until)
        except ValueError:
            raise S3Error("MalformedXML") from None
        if until <= time.time():
            raise S3Error("InvalidArgument", "The retain until date must be in the future!",
                          ArgumentName="RetainUntilDate", ArgumentValue=java_date(until))
    await req.store.call(req.store.put_object_retention, req.bucket, req.key, req.param("versionId"), mode,
                         until, bypass_governance=bypass_governance(req))
    return empty_response()


async def get_object_retention(req: S3Request) -> web.StreamResponse:
    lock = _lock_state(req)
    if not lock.get("mode"):
        raise S3Error("NoSuchObjectLockConfiguration")
    return xml_response("Retention", [("Mode", lock["mode"]), ("RetainUntilDate", iso8601(lock["until"]))])


async def put_object_legal_hold(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    # an empty PutObjectLegalHold is MalformedXML, even in a bucket without Object Lock (AWS:
    # put-object-retention-empty in test_put_object_legal_hold_exc)
    status = child_text(await _document(req, "LegalHold", empty="MalformedXML"), "Status")
    if status not in ("ON", "OFF"):
        raise S3Error("MalformedXML")
    await req.store.call(req.store.put_object_legal_hold, req.bucket, req.key, req.param("versionId"), status)
    return empty_response()


async def get_object_legal_hold(req: S3Request) -> web.StreamResponse:
    lock = _lock_state(req)
    if not lock.get("legal_hold"):
        raise S3Error("NoSuchObjectLockConfiguration")
    return xml_response("LegalHold", [("Status", lock["legal_hold"])])
