"""The ceiling: a minimal aiohttp server that streams PUT bodies to files and
serves them back (sendfile, ranges), with no S3 logic at all. s3emu's figures
are reported as ratios to this."""
from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    root = Path(args.data_dir)
    root.mkdir(parents=True, exist_ok=True)

    async def announce(app: web.Application) -> None:
        print("ceiling ready", flush=True)

    app = make_app(root)
    app.on_startup.append(announce)
    try:  # the event loop s3emu runs on when it is installed
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = None
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
