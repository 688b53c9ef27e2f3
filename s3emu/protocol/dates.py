"""Dates as S3 writes and reads them: HTTP dates in headers, ISO 8601 in XML
documents and logs. Timestamps are seconds since the epoch, UTC."""
from __future__ import annotations

import datetime as dt
import email.utils
import functools
import math
import zoneinfo

# the dates S3's formats can write (four-digit years): a time outside them is
# written as the nearest one, so a far-off lifecycle or restore date never
# fails a request that only reports it
_FIRST = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
_LAST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def _utc(second: int) -> dt.datetime:
    """`second` (epoch seconds) as an aware UTC datetime, clamped to years 1..9999."""
    if second <= _FIRST.timestamp():
        return _FIRST
    if second >= _LAST.timestamp():
        return _LAST
    return dt.datetime.fromtimestamp(second, dt.timezone.utc)


def http_date(ts: float) -> str:
    """An HTTP date to the second (RFC 7231): Wed, 12 Oct 2009 17:50:00 GMT."""
    return _http_date(int(ts))


# every response and log line formats a time: the few seconds in use are formatted once each
@functools.lru_cache(maxsize=1024)
def _http_date(second: int) -> str:
    return email.utils.format_datetime(_utc(second), usegmt=True)


@functools.lru_cache(maxsize=1024)
def _iso_second(second: int) -> str:
    when = _utc(second)
    return f"{when.year:04d}-{when:%m-%dT%H:%M:%S}"  # %Y does not pad years before 1000


def parse_http_date(value: str | None) -> float | None:
    """An HTTP date as a timestamp; None when absent or not a date."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def iso8601(ts: float, *, millis: bool = True, exact: bool = False) -> str:
    """ISO 8601 in UTC as S3 writes it: 2009-10-12T17:50:30.000Z, whole seconds
    (AWS: test_s3_timestamp_precision); `exact` keeps the milliseconds (logs),
    without `millis` 2009-10-12T17:50:30Z."""
    text = _iso_second(math.floor(ts))
    return f"{text}.{int(ts * 1000) % 1000 if exact else 0:03d}Z" if millis else f"{text}Z"


def parse_iso8601(text: str) -> dt.datetime:
    """An ISO 8601 date or date-time (Z, an offset, or none for UTC; fractions
    optional) as an aware datetime in UTC. ValueError when it is not one."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def java_date(ts: float) -> str:
    """A date as S3's Java services print one in some error fields: Java's
    Date.toString() in US Pacific time, `Tue Dec 31 16:00:00 PST 2019` (AWS:
    PutObjectRetention's ArgumentValue, test_s3_object_retention_exc). UTC where
    the system has no time zone data."""
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo("America/Los_Angeles")
    except zoneinfo.ZoneInfoNotFoundError:
        zone = dt.timezone.utc
    return dt.datetime.fromtimestamp(ts, zone).strftime("%a %b %d %H:%M:%S %Z %Y")
