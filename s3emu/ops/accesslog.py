"""The access log: one line per request, once its response has been sent,
as text or JSON lines. It also feeds the request metrics."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..protocol.dates import iso8601
from .admin import ADMIN_BUCKET
from .metrics import METRICS
from .recent import RECENT

log = logging.getLogger("s3emu.access")
S3_REQUEST = "s3emu.request"  # where dispatch leaves the S3Request on the aiohttp request


class AccessLogger(AbstractAccessLogger):
    """Handed to aiohttp's AppRunner, which calls it after each response is
    sent (or the client has gone away)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        req = request.get(S3_REQUEST)
        if req is None or req.bucket == ADMIN_BUCKET:
            return  # health checks and metric scrapes stay out of the log and the counts
        app = request.app  # type: ignore[attr-defined]
        entry = {
            "time": iso8601(time.time(), exact=True),
            "request_id": req.request_id,
            "operation": req.operation or "-",
            "bucket": req.bucket,
            "key": req.key,
            "status": response.status,
            "bytes_in": request.content.total_bytes,
            "bytes_out": 0 if request.method == "HEAD" else response.content_length or 0,
            "duration_ms": round(time_taken * 1000, 3),
        }
        app[METRICS].observe(entry["operation"], entry["status"], entry["bytes_in"], entry["bytes_out"],
                             time_taken)
        recent = app.get(RECENT)
        if recent is not None:
            recent.add({**entry, "error": req.error_code})
        if req.config.access_log:
            self.logger.info(format_entry(entry, req.config.log_format))


def format_entry(entry: dict[str, Any], log_format: str) -> str:
    if log_format == "json":
        return json.dumps(entry, separators=(",", ":"))
    return (f"{entry['time']} {entry['request_id']} {entry['operation']} {_text(entry['bucket'])} "
            f"{_text(entry['key'])} {entry['status']} in={entry['bytes_in']} out={entry['bytes_out']} "
            f"{entry['duration_ms']:.1f}ms")


def _text(value: str | None) -> str:
    """A bucket or key for the text format: `-` if absent, JSON-quoted if it
    holds spaces, quotes or control characters (keys may hold anything)."""
    if value is None:
        return "-"
    if value == "" or value == "-" or any(c in value for c in ' "\\') or not value.isprintable():
        return json.dumps(value)
    return value





def configure_stderr() -> None:
    """Send access log lines, bare, to stderr (the command line's default)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
