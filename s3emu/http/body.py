"""Request bodies: streamed in chunks, never read whole (except small XML
documents, read up to a limit)."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

from aiohttp import web

from .errors import S3Error
from .request import S3Request

CHUNK = 256 * 1024


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """aiohttp's hook for `Expect:`, which runs before the handler. S3 judges
    the request (authentication, the bucket, the headers) before it invites
    the body, so `100 Continue` is sent later, by `invite_body`; an
    expectation other than 100-continue is 417."""
    if request.headers.get("Expect", "").lower() != "100-continue":
        return web.Response(status=417, text="Expectation Failed")
    return None


def _expects_continue(req: S3Request) -> bool:
    http = req.http
    return not req.continued and http.version >= (1, 1) \
        and http.headers.get("Expect", "").lower() == "100-continue"


async def invite_body(req: S3Request) -> None:
    """Send `100 Continue` if the client waits for it: called when the body is
    first read, once the request has passed every check made before it."""
    if _expects_continue(req):
        req.continued = True
        await req.http.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        req.http.writer.output_size = 0  # as aiohttp does: the response proper has not begun


def awaits_continue(req: S3Request) -> bool:
    """Whether the client still holds back a body it asked to send: answered
    with a final status, the connection is then closed rather than read on."""
    return _expects_continue(req) and not req.http.content.is_eof()


def declared_length(req: S3Request) -> int:
    """The payload's length: x-amz-decoded-content-length for aws-chunked
    bodies, else Content-Length. MissingContentLength when neither is given
    (an aws-chunked body's Content-Length counts its framing, so it needs the
    decoded length). A plain body sent HTTP-chunked, of unknown length, is
    501 NotImplemented naming Transfer-Encoding, as on S3."""
    aws_chunked = getattr(req.auth, "aws_chunked", False)
    names = ["x-amz-decoded-content-length"] if aws_chunked else ["Content-Length"]
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


def _request_timeout() -> S3Error:
    return S3Error("RequestTimeout", "Your socket connection to the server was not read from or written to within "
                   "the timeout period. Idle connections will be closed.", status=400)


async def _raw_chunks(req: S3Request) -> AsyncIterator[bytes]:
    """The body as it arrives. A body that stalls for request_idle_timeout, or
    whose bytes arrive slower on average than request_min_rate once that much
    time has passed, is RequestTimeout: a slow client cannot hold a connection
    (and a half-written temporary file) for long."""
    await invite_body(req)
    http, config = req.http, req.config
    loop = asyncio.get_running_loop()
    # the body may take the idle timeout, plus as long as its bytes take at the minimum rate
    deadline = loop.time() + config.request_idle_timeout
    while True:
        # bytes already arrived need no timer (a small body comes with its headers)
        chunk = http.content.read_nowait()
        wait = min(config.request_idle_timeout, deadline - loop.time())
        if wait <= 0 or not (chunk or http.content.at_eof()):
            try:
                if wait <= 0:
                    raise TimeoutError
                async with asyncio.timeout(wait):
                    chunk = await http.content.readany()
            except TimeoutError:
                # answer, then close the connection (after aiohttp's brief lingering read) rather
                # than keep it alive
                http.protocol.close()
                raise _request_timeout() from None
        if not chunk:
            return
        deadline += len(chunk) / config.request_min_rate
        yield chunk


def payload(req: S3Request) -> AsyncIterator[bytes]:
    """The object bytes of a request, decoded from whatever framing the client used."""
    decoder: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = getattr(req.auth, "body_decoder", None)
    if decoder is not None:
        return decoder(_raw_chunks(req))
    return _raw_chunks(req)


async def read_small(req: S3Request, limit: int) -> bytes:
    """A small request document (XML), refused past `limit` bytes."""
    buf = bytearray()
    async for chunk in payload(req):
        buf += chunk
        if len(buf) > limit:
            raise S3Error("MaxMessageLengthExceeded", MaxMessageLengthBytes=limit)
    return bytes(buf)

