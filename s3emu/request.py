"""One S3 request as the handlers see it: who it addresses and with what."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from multidict import MultiDictProxy

from storage import Store
from storage.ids import unique_hex

from .config import Config
from .errors import S3Error

MAX_KEY_BYTES = 1024


@dataclass
class S3Request:
    http: web.Request
    store: Store
    config: Config
    bucket: str | None
    key: str | None
    query: MultiDictProxy[str]
    request_id: str = field(default_factory=lambda: unique_hex(8).upper())
    operation: str = ""
    access_key: str | None = None
    auth: Any = None  # what auth learned (signing details for chunked bodies)

    @property
    def headers(self) -> Any:
        return self.http.headers

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "/"
        return f"/{self.bucket}" + (f"/{self.key}" if self.key is not None else "")

    def param(self, name: str) -> str | None:
        return self.query.get(name)

    def int_param(self, name: str, default: int, *, lo: int, hi: int | None = None,
                  clamp: bool = True) -> int:
        """An integer query parameter; out of [lo, hi] is InvalidArgument, or
        clamped to hi where S3 clamps (max-keys and friends)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer range",
                          ArgumentName=name, ArgumentValue=raw) from None
        if value < lo:
            raise S3Error("InvalidArgument", f"Argument {name} must be an integer between {lo} and "
                          f"{hi if hi is not None else 2147483647}", ArgumentName=name, ArgumentValue=raw)
        if hi is not None and value > hi:
            if clamp:
                return hi
            raise S3Error("InvalidArgument", f"Argument {name} must be an integer between {lo} and {hi}",
                          ArgumentName=name, ArgumentValue=raw)
        return value


def split_path(raw_path: str, host_bucket: str | None) -> tuple[str | None, str | None]:
    """Bucket and key from the raw (still percent-encoded) path. Keys keep
    every slash, dot and empty segment: they are names, never paths."""
    path = raw_path.split("?", 1)[0]
    try:
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
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", Size=len(key.encode()),
                      MaxSizeAllowed=MAX_KEY_BYTES)
