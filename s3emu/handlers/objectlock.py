"""Object Lock: the bucket's configuration, and each version's retention and
legal hold (set by the calls here or by x-amz-object-lock-* headers on writes)."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from aiohttp import web
from lxml import etree

from storage.versions import NO_LOCK_CONFIG

from ..body import read_small
from ..errors import S3Error
from ..request import S3Request
from ..responses import empty_response, xml_response
from ..xml import child_text, iso8601, local, parse
from . import operation

MODES = ("GOVERNANCE", "COMPLIANCE")
MAX_CONFIG_BODY = 64 * 1024
CHECKSUM_HEADERS = ("Content-MD5", "x-amz-sdk-checksum-algorithm", "x-amz-trailer")


def bypass_governance(req: S3Request) -> bool:
    return req.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"


def _date(text: str) -> float:
    """An ISO 8601 timestamp (2030-01-01T00:00:00Z, fractions optional) as epoch seconds."""
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def write_lock(req: S3Request, *, put: bool = False) -> dict[str, Any]:
    """The x-amz-object-lock-* headers of a write, checked as S3 checks them,
    as meta for the new version: {"lock": {...}} or {}."""
    assert req.bucket is not None
    mode = req.headers.get("x-amz-object-lock-mode")
    until = req.headers.get("x-amz-object-lock-retain-until-date")
    hold = req.headers.get("x-amz-object-lock-legal-hold")
    if mode is None and until is None and hold is None:
        return {}
    if not req.store.get_bucket(req.bucket).object_lock:
        raise S3Error("InvalidRequest", NO_LOCK_CONFIG)
    if (mode is None) != (until is None):
        raise S3Error("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must "
                                         "both be supplied")
    lock: dict[str, Any] = {}
    if mode is not None and until is not None:
        if mode not in MODES:
            raise S3Error("InvalidArgument", "Unknown wormMode directive.", ArgumentName="x-amz-object-lock-mode",
                          ArgumentValue=mode)
        try:
            lock.update(mode=mode, until=_date(until))
        except ValueError:
            raise S3Error("InvalidArgument", "The retain until date must be provided in ISO 8601 format",
                          ArgumentName="x-amz-object-lock-retain-until-date", ArgumentValue=until) from None
        if lock["until"] <= time.time():
            raise S3Error("InvalidArgument", "The retain until date must be in the future!",
                          ArgumentName="x-amz-object-lock-retain-until-date", ArgumentValue=until)
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise S3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'",
                          ArgumentName="x-amz-object-lock-legal-hold", ArgumentValue=hold)
        lock["legal_hold"] = hold
    if put and not _has_checksum(req):
        raise S3Error("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                                        "requests with Object Lock parameters")
    return {"lock": lock}


def _has_checksum(req: S3Request) -> bool:
    return any(h in req.headers for h in CHECKSUM_HEADERS) \
        or any(h.lower().startswith("x-amz-checksum-") for h in req.headers)


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


async def _document(req: S3Request, root: str) -> etree._Element:
    body = await read_small(req, MAX_CONFIG_BODY)
    if not body:
        raise S3Error("MissingRequestBodyError")
    return parse(body, root)


# -- the bucket's configuration -----------------------------------------------

def _default_rule(rule: etree._Element) -> dict[str, Any]:
    retention = _elements(rule).get("DefaultRetention")
    if retention is None:
        raise S3Error("MalformedXML")
    fields = _elements(retention)
    mode, days, years = _text(fields, "Mode"), _text(fields, "Days"), _text(fields, "Years")
    if mode not in MODES or (days is None) == (years is None):
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
    return {"mode": mode, unit: period}


@operation("PutObjectLockConfiguration")
async def put_object_lock_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)
    doc = _elements(await _document(req, "ObjectLockConfiguration"))
    enabled = doc.get("ObjectLockEnabled")
    if enabled is None or enabled.text != "Enabled":
        raise S3Error("MalformedXML")
    rule = _default_rule(doc["Rule"]) if "Rule" in doc else {}
    req.store.set_object_lock_config(req.bucket, rule)
    return empty_response()


@operation("GetObjectLockConfiguration")
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


@operation("PutObjectRetention")
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
                          ArgumentName="RetainUntilDate", ArgumentValue=raw_until)
    req.store.set_retention(req.bucket, req.key, req.param("versionId"), mode, until,
                            bypass_governance=bypass_governance(req))
    return empty_response()


@operation("GetObjectRetention")
async def get_object_retention(req: S3Request) -> web.StreamResponse:
    lock = _lock_state(req)
    if not lock.get("mode"):
        raise S3Error("NoSuchObjectLockConfiguration")
    return xml_response("Retention", [("Mode", lock["mode"]), ("RetainUntilDate", iso8601(lock["until"]))])


@operation("PutObjectLegalHold")
async def put_object_legal_hold(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    status = child_text(await _document(req, "LegalHold"), "Status")
    if status not in ("ON", "OFF"):
        raise S3Error("MalformedXML")
    req.store.set_legal_hold(req.bucket, req.key, req.param("versionId"), status)
    return empty_response()


@operation("GetObjectLegalHold")
async def get_object_legal_hold(req: S3Request) -> web.StreamResponse:
    lock = _lock_state(req)
    if not lock.get("legal_hold"):
        raise S3Error("NoSuchObjectLockConfiguration")
    return xml_response("LegalHold", [("Status", lock["legal_hold"])])
