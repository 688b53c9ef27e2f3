"""Header values as bytes on the wire: what S3 refuses before reading them
as text (request headers that are not UTF-8, response overrides that cannot
go on the wire)."""
from __future__ import annotations

from typing import Mapping

from .errors import S3Error

_LATIN1 = "Header value cannot be represented using ISO-8859-1."


def check_header_encoding(headers: Mapping[str, str]) -> None:
    """InvalidArgument for a request header value whose bytes are not UTF-8
    (aiohttp hands them over as surrogate escapes, which nothing may store;
    it refuses names that are not tokens itself)."""
    for name, value in headers.items():
        if value.isascii():
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "surrogateescape").decode("latin-1")
            raise S3Error("InvalidArgument", "Header value is not valid UTF-8.", ArgumentName=name,
                          ArgumentValue=raw) from None


def check_override(param: str, value: str) -> str:
    """A response-* query parameter's value, usable as a response header:
    InvalidArgument (as S3 answers) for characters outside ISO-8859-1 and for
    control characters such as CR and LF, which would split the header."""
    if any(ord(c) > 0xFF for c in value):
        raise S3Error("InvalidArgument", _LATIN1, ArgumentName=param, ArgumentValue=value)
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in value):
        raise S3Error("InvalidArgument", "Header value contains control characters.", ArgumentName=param,
                      ArgumentValue=value)
    return value
