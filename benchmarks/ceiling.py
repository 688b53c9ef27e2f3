"""The ceiling: a minimal aiohttp server that streams PUT bodies to files and
serves them back (sendfile, ranges), with no S3 logic at all. s3emu's figures
are reported as ratios to this."""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

from aiohttp import web

CHUNK = 1 << 20


def make_app(root: Path) -> web.Application:
    def path_of(request: web.Request) -> Path:
        return root / hashlib.sha1(request.path.encode()).hexdigest()

    async def put(request: web.Request) -> web.Response:
        tmp = root / (hashlib.sha1(os.urandom(8)).hexdigest() + ".tmp")
        md5 = hashlib.md5()
        with open(tmp, "wb") as f:
            buf = bytearray()
            async for chunk in request.content.iter_any():
                buf += chunk
                if len(buf) >= CHUNK:
                    md5.update(buf)
                    f.write(buf)
                    buf.clear()
            md5.update(buf)
            f.write(buf)
        os.replace(tmp, path_of(request))
        return web.Response(headers={"ETag": f'"{md5.hexdigest()}"'})

    async def get(request: web.Request) -> web.StreamResponse:
        p = path_of(request)
        if not p.exists():
            raise web.HTTPNotFound()
        return web.FileResponse(p)

    app = web.Application()
    app.router.add_put("/{tail:.*}", put)
    app.router.add_get("/{tail:.*}", get)
    return app


async def serve(root: Path, port: int) -> None:
    runner = web.AppRunner(make_app(root), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    # the port bound, not one picked beforehand that another process may have taken meanwhile
    print(f"ceiling ready on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    try:  # the event loop s3emu runs on when it is installed
        import uvloop
        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(root, args.port))


if __name__ == "__main__":
    main()
