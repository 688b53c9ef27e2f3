"""The web console: its static files under /_s3emu/console/, and the admin
endpoints it reads that S3 has no call for: /_s3emu/config (the settings in
effect, secrets hidden), /_s3emu/requests (the last requests answered) and
/_s3emu/usage (per-bucket counts and sizes, disk usage of the data directory).

Those endpoints answer only signed requests when auth is on, as S3 calls do:
they name keys, paths and what clients asked for."""
from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from dataclasses import asdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from ..auth.verify import authenticate
from ..http.errors import S3Error
from ..http.request import S3Request
from .recent import RECENT

PREFIX = "console"
ENDPOINTS = ("config", "requests", "usage")
HIDDEN = "(hidden)"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
         ".json": "application/json"}
# Everything the console loads comes from this server; nothing inline, nothing framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def handles(path: str) -> bool:
    """Whether `path` (after /_s3emu/) is one of the console's."""
    return path == PREFIX or path.startswith(PREFIX + "/") or path in ENDPOINTS


async def handle(req: S3Request, path: str) -> web.StreamResponse:
    """Answers /_s3emu/<path> for a path `handles` accepted: 404 for all of
    them when the console is turned off."""
    if not req.config.console:
        return web.json_response({"error": "the console is turned off (console = false)"}, status=404)
    if req.http.method not in ("GET", "HEAD"):
        return web.json_response({"error": "use GET"}, status=405, headers={"Allow": "GET, HEAD"})
    if path == PREFIX:  # relative links in the page need the trailing slash
        return web.Response(status=308, headers={"Location": f"/_s3emu/{PREFIX}/"})
    if path.startswith(PREFIX + "/"):
        return static(req, path.removeprefix(PREFIX + "/") or "index.html")
    await require_signature(req)
    if path == "config":
        return web.json_response(public_config(req.config))
    if path == "requests":
        limit = req.int_param("limit", 100, lo=1, hi=1000)
        return web.json_response({"requests": await asyncio.to_thread(req.http.app[RECENT].read, limit)})
    return web.json_response(await asyncio.to_thread(usage, req))


async def require_signature(req: S3Request) -> None:
    """With auth on, a valid signature by a configured key (S3's errors otherwise)."""
    if req.config.auth:
        req.auth = await authenticate(req)
        if req.auth.access_key is None:
            raise S3Error("AccessDenied", "Access Denied")


@cache
def files() -> dict[str, tuple[bytes, str, str]]:
    """The console's files: name -> (content, content type, ETag), read once."""
    found: dict[str, tuple[bytes, str, str]] = {}

    def walk(node: Any, prefix: str) -> None:
        for item in node.iterdir():
            name = prefix + item.name
            if item.is_dir():
                walk(item, name + "/")
            elif Path(item.name).suffix in TYPES:
                body = item.read_bytes()
                found[name] = (body, TYPES[Path(item.name).suffix], f'"{hashlib.sha256(body).hexdigest()[:32]}"')

    walk(resources.files("s3emu") / "console", "")
    return found


def static(req: S3Request, name: str) -> web.StreamResponse:
    """One console file. No-cache with an ETag: browsers revalidate and get
    304 until the package is upgraded (the names carry no version)."""
    found = files().get(name)
    if found is None:
        return web.json_response({"error": f"no console file {name}"}, status=404)
    body, content_type, etag = found
    headers = {"Content-Type": content_type, "ETag": etag, "Cache-Control": "no-cache", **SECURITY_HEADERS}
    if etag in [t.strip() for t in req.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers)


def public_config(config: Any) -> dict[str, Any]:
    """The settings in effect, with every secret replaced by "(hidden)"."""
    return dict(_hide(asdict(config)))


def _hide(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _hide(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v, name) for v in value]
    if value is not None and any(word in name.lower() for word in ("secret", "password", "token")):
        return HIDDEN
    return value


def usage(req: S3Request) -> dict[str, Any]:
    """Per-bucket counts and sizes, and what the data directory takes on disk
    (blocking: walks the data files)."""
    root = Path(req.config.data_dir)
    disk = shutil.disk_usage(root)
    return {"buckets": req.store.bucket_usage(),
            "data_dir": str(root.resolve()),
            "disk": {"total": disk.total, "used": disk.used, "free": disk.free},
            "parts": {name: _tree_size(root / name) for name in ("blobs", "tmp", "requests")}
            | {"metadata": _files_size(root.glob("meta.sqlite3*"))}}


def _tree_size(top: Path) -> dict[str, int]:
    files = size = 0
    for directory, _, names in os.walk(top):
        for name in names:
            try:
                size += os.stat(os.path.join(directory, name)).st_size
                files += 1
            except FileNotFoundError:
                continue  # removed while we counted
    return {"files": files, "bytes": size}


def _files_size(paths: Any) -> dict[str, int]:
    sizes = [p.stat().st_size for p in paths if p.is_file()]
    return {"files": len(sizes), "bytes": sum(sizes)}
