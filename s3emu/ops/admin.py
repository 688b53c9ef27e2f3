"""s3emu's own endpoints, under /_s3emu/ (never an S3 bucket: `_s3emu` is not
a valid bucket name): health, metrics, fault rules and reset. JSON in and out.

Reading (GET, HEAD) needs no signature. Every other request passes one gate,
whatever the endpoint, before the endpoint sees it (`gate`):
  - it must not come from a web page of another site: an `Origin` header
    other than this server's is refused, and a POST must say
    `Content-Type: application/json` (a cross-site form or "simple" request
    cannot, without a CORS preflight, which is never granted here);
  - its body is read (at most MAX_BODY bytes);
  - with auth on, it must be signed with a configured key, SigV4 in the
    Authorization header over that very body (x-amz-content-sha256 may be
    left out, as curl leaves it out), e.g.
        curl --aws-sigv4 "aws:amz:us-east-1:s3" --user KEY:SECRET \
             -H 'Content-Type: application/json' -d '{"error": "SlowDown"}' \
             http://127.0.0.1:9000/_s3emu/faults
A new endpoint is one entry in ENDPOINTS: it gets the request already gated.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web

from ..auth.verify import authenticate_signed_document
from ..http.body import read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..version import __version__
from . import console
from .faults import FAULTS
from .metrics import CONTENT_TYPE, METRICS

ADMIN_BUCKET = "_s3emu"
MAX_BODY = 1024 * 1024
READ_METHODS = ("GET", "HEAD")


class Problem(Exception):
    """An admin request refused: HTTP status and a message for the JSON answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class AdminRequest:
    """A request to one endpoint: `path` is what follows its name
    (`faults/3` -> "3"); `body` was read and checked by the gate."""

    s3: S3Request
    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON (NaN and Infinity refused), or Problem 400."""
        def refuse(name: str) -> Any:
            raise ValueError(f"{name} is not a JSON number")
        try:
            return json.loads(self.body, parse_constant=refuse)
        except ValueError as e:  # JSONDecodeError is a ValueError
            raise Problem(400, str(e)) from None


Endpoint = Callable[[AdminRequest], Awaitable[web.StreamResponse]]


def json_response(value: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(value), status=status, content_type="application/json")


def problem(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status)


async def handle(req: S3Request) -> web.StreamResponse:
    """Answers a request under /_s3emu/: the gate first (unless it only reads), then the endpoint."""
    method = req.http.method
    name, _, rest = (req.key or "").partition("/")
    try:
        body = b"" if method in READ_METHODS else await gate(req)
        endpoint = ENDPOINTS.get(name)
        if endpoint is None:
            raise Problem(404, f"no such endpoint: /{ADMIN_BUCKET}/{req.key or ''}")
        return await endpoint(AdminRequest(req, method, rest, body))
    except Problem as p:
        return problem(p.status, p.message)


def _same_origin(origin: str, http: web.Request) -> bool:
    return origin.lower() == f"{http.scheme}://{http.host}".lower()


async def gate(req: S3Request) -> bytes:
    """What every state-changing admin request must pass (see the module
    docstring); returns its body. Problem 403/413/415 or the S3 error's status."""
    http = req.http
    origin = http.headers.get("Origin")
    if origin is not None and not _same_origin(origin, http):
        raise Problem(403, f"requests from other sites ({origin}) may not change s3emu")
    if (http.method == "POST" or http.body_exists) and http.content_type != "application/json":
        raise Problem(415, "send the request as Content-Type: application/json")
    if http.content_length is not None and http.content_length > MAX_BODY:
        raise Problem(413, "request too large")
    if req.config.auth and "Authorization" not in http.headers:
        raise Problem(403, "changes under /_s3emu/ must be signed (SigV4) with a configured key")
    try:
        body = await read_small(req, MAX_BODY)
        if req.config.auth:
            req.auth = authenticate_signed_document(req, body)
    except S3Error as e:
        raise Problem(413 if e.code == "MaxMessageLengthExceeded" else e.status, f"{e.code}: {e.message}") from None
    return body


async def health(ar: AdminRequest) -> web.StreamResponse:
    if ar.method not in READ_METHODS:
        raise Problem(405, "use GET")
    config = ar.s3.config
    return json_response({"status": "ok", "version": __version__, "region": config.region})


async def metrics(ar: AdminRequest) -> web.StreamResponse:
    if ar.method not in READ_METHODS:
        raise Problem(405, "use GET")
    body = await ar.s3.http.app[METRICS].render(ar.s3.store)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def reset(ar: AdminRequest) -> web.StreamResponse:
    """POST empties the store (?bucket=NAME: only that bucket), locked
    objects included, in one transaction; fault rules stay."""
    if ar.method != "POST":
        raise Problem(405, "use POST")
    bucket = ar.s3.query.get("bucket") or None
    store = ar.s3.store
    return json_response({"reset": bucket or "all", "buckets_removed": await store.call(store.reset, bucket)})


async def faults(ar: AdminRequest) -> web.StreamResponse:
    """GET lists the rules, POST adds one (a JSON object) or several (a
    list), DELETE removes them all, DELETE faults/<id> removes one."""
    rules = ar.s3.http.app[FAULTS]
    if ar.path:
        if ar.method != "DELETE":
            raise Problem(405, "use DELETE")
        if not ar.path.isdigit() or not rules.remove(int(ar.path)):
            raise Problem(404, f"no fault rule {ar.path}")
        return json_response({"faults": rules.list()})
    if ar.method in READ_METHODS:
        return json_response({"faults": rules.list()})
    if ar.method == "DELETE":
        rules.clear()
        return json_response({"faults": []})
    if ar.method != "POST":
        raise Problem(405, "use GET, POST or DELETE")
    try:
        added = [r.to_dict() for r in rules.add(ar.json())]
    except ValueError as e:  # a bad rule
        raise Problem(400, str(e)) from None
    return json_response({"faults": added}, 201)


async def console_page(ar: AdminRequest) -> web.StreamResponse:
    """The web console's files and the endpoints it reads (ops/console.py)."""
    return await console.handle(ar.s3, ar.s3.key or "")


ENDPOINTS: dict[str, Endpoint] = {"health": health, "metrics": metrics, "faults": faults, "reset": reset,
                                  **{name: console_page for name in (console.PREFIX, *console.ENDPOINTS)}}
