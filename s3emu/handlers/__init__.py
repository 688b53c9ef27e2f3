"""One function per S3 operation, registered by its S3 name."""
from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from ..request import S3Request

Handler = Callable[[S3Request], Awaitable[web.StreamResponse]]
HANDLERS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn
    return register


def load_all() -> dict[str, Handler]:
    from . import (attributes, buckets, cors, lifecycle, listing, multipart, objectlock, objects,  # noqa: F401
                   versioning)  # (they register themselves)
    return HANDLERS
