"""s3emu's own endpoints, under /_s3emu/ (never an S3 bucket: `_s3emu` is not
a valid bucket name): health, metrics, fault rules and reset. JSON in and out, no
signature needed."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..version import __version__
from ..http.request import S3Request
from . import console
from .faults import FAULTS
from .metrics import CONTENT_TYPE, METRICS

ADMIN_BUCKET = "_s3emu"
MAX_BODY = 1024 * 1024


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(value), status=status, content_type="application/json")


def problem(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status)


async def handle(req: S3Request) -> web.StreamResponse:
    method, path = req.http.method, req.key or ""
    if path == "health":
        if method not in ("GET", "HEAD"):
            return problem(405, "use GET")
        return json_response({"status": "ok", "version": __version__, "region": req.config.region})
    if path == "metrics":
        if method not in ("GET", "HEAD"):
            return problem(405, "use GET")
        body = await req.http.app[METRICS].render(req.store)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
    if path == "reset":
        return reset(req, method)
    if console.handles(path):
        return await console.handle(req, path)
    if path == "faults" or path.startswith("faults/"):
        return await faults(req, method, path.removeprefix("faults").strip("/"))
    return problem(404, f"no such endpoint: /{ADMIN_BUCKET}/{path}")


def reset(req: S3Request, method: str) -> web.Response:
    """POST empties the store (?bucket=NAME: only that bucket), locked
    objects included, in one transaction; fault rules stay."""
    if method != "POST":
        return problem(405, "use POST")
    bucket = req.query.get("bucket") or None
    return json_response({"reset": bucket or "all", "buckets_removed": req.store.reset(bucket)})


async def faults(req: S3Request, method: str, rule_id: str) -> web.Response:
    """GET lists the rules, POST adds one (a JSON object) or several (a
    list), DELETE removes them all, DELETE faults/<id> removes one."""
    rules = req.http.app[FAULTS]
    if rule_id:
        if method != "DELETE":
            return problem(405, "use DELETE")
        if not rule_id.isdigit() or not rules.remove(int(rule_id)):
            return problem(404, f"no fault rule {rule_id}")
        return json_response({"faults": rules.list()})
    if method == "GET":
        return json_response({"faults": rules.list()})
    if method == "DELETE":
        rules.clear()
        return json_response({"faults": []})
    if method != "POST":
        return problem(405, "use GET, POST or DELETE")
    raw = bytearray()
    while chunk := await req.http.content.readany():
        raw += chunk
        if len(raw) > MAX_BODY:
            return problem(413, "request too large")
    try:
        value = json.loads(raw)
        specs = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in specs):
            raise ValueError("a fault rule is a JSON object")
        added = [r.to_dict() for r in rules.add(specs)]
    except ValueError as e:  # bad JSON or a bad rule (JSONDecodeError is a ValueError)
        return problem(400, str(e))
    return json_response({"faults": added}, 201)
