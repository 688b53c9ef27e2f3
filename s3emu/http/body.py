"""Request bodies: streamed in chunks, never read whole (except small XML
documents, read up to a limit)."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

from aiohttp import web

from .errors import S3Error
from .request import S3Request

CHUNK = 256 * 1024


def declared_length(req: S3Request) -> int:
    """The payload's length: x-amz-decoded-content-length for aws-chunked
    bodies, else Content-Length. MissingContentLength when neither is given
    (an aws-chunked body's Content-Length counts its framing, so it needs the
    decoded length). A plain body sent HTTP-chunked, of unknown length, is
    501 NotImplemented naming Transfer-Encoding, as on S3."""
    aws_chunked = getattr(req.auth, "aws_chunked", False)
    names = ["x-amz-decoded-content-length"]
    if not aws_chunked:
        names.append("Content-Length")
    for name in names:
        raw = req.headers.get(name)
        if raw is not None:
            try:
                value = int(raw)
            except ValueError:
                raise S3Error("InvalidArgument", f"Invalid {name}", ArgumentName=name,
                              ArgumentValue=raw) from None
            if value < 0:
                raise S3Error("InvalidArgument", f"Invalid {name}", ArgumentName=name, ArgumentValue=raw)
            return value
    if not aws_chunked and "chunked" in req.headers.get("Transfer-Encoding", "").lower():
        # S3 takes no HTTP-chunked body of unknown length (aws-chunked ones give their decoded length)
        raise S3Error("NotImplemented", Header="Transfer-Encoding")
    raise S3Error("MissingContentLength")


async def _raw_chunks(http: web.Request, idle_timeout: float) -> AsyncIterator[bytes]:
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await http.content.readany()
        except TimeoutError:
            # a client that stopped sending: answer, then close the connection (after aiohttp's
            # brief lingering read) rather than keep it alive
            http.protocol.close()
            raise S3Error("RequestTimeout", "Your socket connection to the server was not read from or written "
                          "to within the timeout period. Idle connections will be closed.", status=400) from None
        if not chunk:
            return
        yield chunk


def payload(req: S3Request) -> AsyncIterator[bytes]:
    """The object bytes of a request, decoded from whatever framing the client used."""
    decoder: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = getattr(req.auth, "body_decoder", None)
    if decoder is not None:
        return decoder(_raw_chunks(req.http, req.config.request_idle_timeout))
    return _raw_chunks(req.http, req.config.request_idle_timeout)


async def read_small(req: S3Request, limit: int) -> bytes:
    """A small request document (XML), refused past `limit` bytes."""
    buf = bytearray()
    async for chunk in payload(req):
        buf += chunk
        if len(buf) > limit:
            raise S3Error("MaxMessageLengthExceeded", MaxMessageLengthBytes=limit)
    return bytes(buf)

