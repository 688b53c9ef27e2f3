"""Response builders: S3 XML documents and object bodies sent with sendfile."""
from __future__ import annotations

import asyncio
import os
from typing import Any, Mapping

from aiohttp import web

from ..storage import OpenRange, Span
from .xml import Fields, render

SENDFILE_FALLBACK_CHUNK = 1 << 20
# a span this small is read and written at once: cheaper than sendfile's set-up, and than a thread
# hop where the loop has no sendfile (uvloop); the read waits on the disk no longer than sendfile would
INLINE_BYTES = 64 * 1024


def xml_response(root: str, fields: Fields, *, status: int = 200, headers: Mapping[str, str] | None = None,
                 text: str | None = None) -> web.Response:
    return web.Response(body=render(root, fields, text=text), status=status, headers=headers,
                        content_type="application/xml")


def empty_response(status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    resp = web.Response(status=status, headers=headers)
    return resp


async def object_response(body: OpenRange, *, status: int, headers: Mapping[str, str]) -> web.StreamResponse:
    """The response sending an open range of an object: a small one is read
    now and sent with the headers in one write; others stream (SpansResponse)."""
    if body.length > INLINE_BYTES or body.needs_lease:
        return SpansResponse(body, status=status, headers=headers)
    try:
        return web.Response(status=status, headers=headers, body=body.read_now())
    finally:
        await body.close()


class SpansResponse(web.StreamResponse):
    """Sends an open range of an object (storage.OpenRange): large pieces with
    sendfile(2), so their bytes never pass through Python, small ones read
    together. Closes the range when done, or on error."""

    def __init__(self, body: OpenRange, *, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self._range = body
        self.content_length = body.length

    async def prepare(self, request: web.BaseRequest) -> Any:
        try:
            writer = await super().prepare(request)
            if request.method != "HEAD":
                while (item := await self._range.next(spans=True)) is not None:
                    if isinstance(item, Span):
                        await self._send(request, item)
                    else:
                        await self.write(item)
            await super().write_eof()
            return writer
        finally:
            await self._range.close()

    async def _send(self, request: web.BaseRequest, span: Span) -> None:
        if span.length <= INLINE_BYTES:
            data = os.pread(span.fd, span.length, span.offset)
            if len(data) < span.length:
                raise ConnectionResetError("data file shorter than recorded")
            await self.write(data)
            return
        loop = asyncio.get_running_loop()
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        with os.fdopen(os.dup(span.fd), "rb", buffering=0) as f:
            try:
                await loop.sendfile(transport, f, span.offset, span.length)
                return
            except NotImplementedError:
                pass
            pos, end = span.offset, span.offset + span.length
            while pos < end:
                chunk = await loop.run_in_executor(None, os.pread, span.fd,
                                                   min(SENDFILE_FALLBACK_CHUNK, end - pos), pos)
                if not chunk:
                    raise ConnectionResetError("data file shorter than recorded")
                await self.write(chunk)
                pos += len(chunk)
