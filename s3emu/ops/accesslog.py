"""The access log: one record per request, once its response has been sent,
carrying the request's fields (who, what, the S3 error code, bytes, time);
rendered as a text line or JSON by the handler's formatter. It also feeds
the request metrics."""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..http.request import S3Request
from ..protocol.dates import iso8601
from .admin import ADMIN_BUCKET
from .metrics import METRICS
from .recent import RECENT
from .serverlog import LOG_DELIVERY

log = logging.getLogger("s3emu.access")
# where dispatch leaves the S3Request on the aiohttp request
S3_REQUEST = web.RequestKey("s3emu.request", S3Request)
_V4_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


class AccessLogger(AbstractAccessLogger):
    """Handed to aiohttp's AppRunner, which calls it after each response is
    sent (or the client has gone away)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        try:
            self._log(request, response, time_taken)
        except Exception:
            # the response has been sent: a record that fails (a full disk, say) must not make
            # aiohttp close the connection the client is about to reuse
            log.exception("request record failed")
        finally:
            # the S3Request refers to the request: without the way back, reference counting
            # frees both now, not the cycle collector later (whose pauses hold every thread)
            request.pop(S3_REQUEST, None)

    def _log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        req = request.get(S3_REQUEST)
        if req is None or req.bucket == ADMIN_BUCKET:
            return  # health checks and metric scrapes stay out of the log and the counts
        app = request.app  # type: ignore[attr-defined]
        entry = {
            "request_id": req.request_id,
            "client": request.remote,
            "access_key": req.access_key or claimed_access_key(request),
            "operation": str(req.operation) if req.operation else "-",
            "bucket": req.bucket,
            "key": req.key,
            "part_number": _part_number(request),
            "status": response.status,
            "error": req.error_code if response.status >= 400 else None,
            "bytes_in": request.content.total_bytes,
            "bytes_out": 0 if request.method == "HEAD" else response.content_length or 0,
            "duration_ms": round(time_taken * 1000, 3),
            "aws_chunked": bool(getattr(req.auth, "aws_chunked", False)),
        }
        app[METRICS].observe(entry["operation"], entry["status"], entry["bytes_in"], entry["bytes_out"],
                             time_taken)
        now = time.time()
        stamp = iso8601(now, exact=True)
        recent = app.get(RECENT)
        if recent is not None:
            recent.add({**entry, "time": stamp})
        if req.config.access_log and self.logger.isEnabledFor(logging.INFO):
            self._emit(entry, stamp)
        delivery = app.get(LOG_DELIVERY)
        if delivery is not None:  # the bucket's own server access log, if it has one
            delivery.observe(req, request, response, time_taken)


    def _emit(self, entry: dict[str, Any], stamp: str) -> None:
        """The access line, its fields as the record's attributes (the JSON
        format writes them). The record is made here rather than by
        Logger.info, which looks for its caller in the stack: a third of
        the cost, on every request, for a source line nobody prints."""
        record = logging.LogRecord(self.logger.name, logging.INFO, __file__, 0, text_line(entry, stamp), None, None)
        record.__dict__.update(entry)
        record.summary = _summary(entry)
        self.logger.handle(record)


def claimed_access_key(request: web.BaseRequest) -> str | None:
    """The access key a request names (SigV4 or SigV2, header or query), even
    when its signature was refused: the log says who tried."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("AWS4-"):
        m = _V4_CREDENTIAL.search(authorization)
        return m.group(1) if m else None
    if authorization.startswith("AWS "):
        return authorization[4:].split(":", 1)[0].strip() or None
    credential = request.query.get("X-Amz-Credential")
    if credential:
        return credential.split("/", 1)[0] or None
    return request.query.get("AWSAccessKeyId") or None


def _part_number(request: web.BaseRequest) -> int | None:
    raw = request.query.get("partNumber", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _summary(entry: dict[str, Any]) -> str:
    return f"{entry['operation']} {entry['status']}" + (f" {entry['error']}" if entry["error"] else "")


def text_line(entry: dict[str, Any], stamp: str) -> str:
    """The text access line: time (`stamp`, ISO 8601), request id, client
    address, access key, operation, bucket, key, [part=N], status [S3 error
    code], bytes in and out, duration, [aws-chunked]."""
    part = f"part={entry['part_number']} " if entry.get("part_number") is not None else ""
    status = f"{entry['status']} {entry['error']}" if entry.get("error") else str(entry["status"])
    return (f"{stamp} {entry['request_id']} {entry['client'] or '-'} {entry['access_key'] or '-'} "
            f"{entry['operation']} {_text(entry['bucket'])} {_text(entry['key'])} {part}{status} "
            f"in={entry['bytes_in']} out={entry['bytes_out']} {entry['duration_ms']:.1f}ms"
            + (" aws-chunked" if entry.get("aws_chunked") else ""))


def _text(value: str | None) -> str:
    """A bucket or key for the text format: `-` if absent, JSON-quoted if it
    holds spaces, quotes or control characters (keys may hold anything)."""
    if value is None:
        return "-"
    if value == "" or value == "-" or any(c in value for c in ' "\\') or not value.isprintable():
        return json.dumps(value)
    return value
