"""One S3 request as the handlers see it: who it addresses and with what."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy, MultiMapping

from ..config import Config
from ..storage import BucketInfo, Store
from ..storage.ids import unique_b64, unique_hex
from .errors import S3Error
from .operations import Operation

# an integer as S3 parses one (Java's Integer.parseInt): digits, an optional sign, 32 bits
_INTEGER = re.compile(r"[+-]?\d{1,10}")
_INT32 = range(-2**31, 2**31)


@dataclass
class S3Request:
    http: web.Request
    store: Store
    config: Config
    bucket: str | None
    key: str | None
    query: MultiMapping[str]
    request_id: str = field(default_factory=lambda: unique_hex(8).upper())
    host_id: str = field(default_factory=lambda: unique_b64(56))  # x-amz-id-2, as long as S3's
    operation: Operation | None = None
    auth: Any = None  # the auth.verify.RequestAuth that authenticate() returned
    principal: Any = None  # the access.principals.Principal making the request (set by authorize())
    error_code: str | None = None  # the S3 error code it was answered with, if any
    # the headers in force when they differ from those sent (a presigned URL's signed
    # query parameters that stand for headers, see auth.verify)
    header_override: CIMultiDictProxy[str] | None = None
    continued: bool = False  # `100 Continue` was sent (http.body.invite_body)
    website: bool = False  # a request to the website endpoint (anonymous page views)
    _bucket_info: BucketInfo | None = field(default=None, repr=False)

    def bucket_info(self) -> BucketInfo:
        """The addressed bucket as this request first read it (NoSuchBucket):
        the several checks of an object operation (access, encryption,
        ownership, lock, lifecycle headers) read its row once."""
        if self._bucket_info is None:
            assert self.bucket is not None
            self._bucket_info = self.store.get_bucket(self.bucket)
        return self._bucket_info

    @property
    def read_bucket_info(self) -> BucketInfo | None:
        """The addressed bucket's row, if this request has read it already."""
        return self._bucket_info

    @property
    def access_key(self) -> str | None:
        return getattr(self.auth, "access_key", None)

    @property
    def headers(self) -> Any:
        return self.header_override if self.header_override is not None else self.http.headers

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
        # Python's int() would also take "1_0" or " 12"
        if not _INTEGER.fullmatch(raw) or int(raw) not in _INT32:
            raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer range",
                          ArgumentName=name, ArgumentValue=raw)
        value = int(raw)
        if value < lo:
            raise S3Error("InvalidArgument", f"Argument {name} must be an integer between {lo} and "
                          f"{hi if hi is not None else 2147483647}", ArgumentName=name, ArgumentValue=raw)
        if hi is not None and value > hi:
            if clamp:
                return hi
            raise S3Error("InvalidArgument", f"Argument {name} must be an integer between {lo} and {hi}",
                          ArgumentName=name, ArgumentValue=raw)
        return value

