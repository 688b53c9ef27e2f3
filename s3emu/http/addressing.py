"""Which bucket and key a request addresses: path style (`/bucket/key`) or
virtual-hosted style (`bucket.<domain>/key`). Keys are names, never paths."""
from __future__ import annotations

from typing import Final, Sequence
from urllib.parse import unquote

from .errors import S3Error

__all__ = ["MAX_KEY_BYTES", "check_key", "host_bucket", "split_path"]

MAX_KEY_BYTES: Final = 1024


def host_bucket(host: str | None, domains: Sequence[str]) -> str | None:
    """The bucket of a virtual-hosted-style request (`bucket.<domain>[:port]`),
    or None when the Host names no bucket under one of `domains`."""
    name = (host or "").rsplit(":", 1)[0].lower()
    for domain in domains:
        if name.endswith("." + domain):
            return name[: -len(domain) - 1]
    return None


def split_path(raw_path: str, host_bucket: str | None) -> tuple[str | None, str | None]:
    """Bucket and key from the raw (still percent-encoded) path. Keys keep
    every slash, dot and empty segment. InvalidURI when a part of the path,
    or a query parameter's name or value, is not UTF-8 once decoded (aiohttp
    would hand such a parameter over with U+FFFD in place of its bytes)."""
    path, _, query = raw_path.partition("?")
    try:
        for item in query.split("&"):
            for part in item.split("=", 1):
                unquote(part, errors="strict")
        if host_bucket is not None:
            key = unquote(path[1:], errors="strict") if len(path) > 1 else None
            return host_bucket, key
        if path in ("", "/"):
            return None, None
        bucket, sep, rest = path[1:].partition("/")
        key = unquote(rest, errors="strict") if sep and rest else None
        return unquote(bucket, errors="strict"), key
    except UnicodeDecodeError:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI.", status=400) from None


def check_key(key: str) -> None:
    """KeyTooLongError for a key over 1024 UTF-8 bytes (S3's limit)."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", Size=size, MaxSizeAllowed=MAX_KEY_BYTES)
