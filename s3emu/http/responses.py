"""Response builders: S3 XML documents and object bodies sent with sendfile."""
from __future__ import annotations

import asyncio
import os
from typing import Any, Mapping

from aiohttp import web

from ..storage import Span, close_spans
from .xml import Fields, render

SENDFILE_FALLBACK_CHUNK = 1 << 20


def xml_response(root: str, fields: Fields, *, status: int = 200, headers: Mapping[str, str] | None = None,
                 text: str | None = None) -> web.Response:
    return web.Response(body=render(root, fields, text=text), status=status, headers=headers,
                        content_type="application/xml")


def empty_response(status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    resp = web.Response(status=status, headers=headers)
    return resp


class SpansResponse(web.StreamResponse):
    """Sends byte ranges of already-open data files with sendfile(2): no
    object bytes pass through Python. Closes the files when done."""

    def __init__(self, spans: list[Span], *, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self._spans = spans
        self.content_length = sum(s.length for s in spans)

    async def prepare(self, request: web.BaseRequest) -> Any:
        try:
            writer = await super().prepare(request)
            if request.method != "HEAD":
                for span in self._spans:
                    await self._send(request, span)
            await super().write_eof()
            return writer
        finally:
            close_spans(self._spans)

    async def _send(self, request: web.BaseRequest, span: Span) -> None:
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
