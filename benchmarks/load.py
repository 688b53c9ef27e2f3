"""The load generator: asyncio + aiohttp, requests signed with a cached key,
bodies sent from one preallocated buffer, responses discarded as they arrive."""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from .sigv4 import Signer

MiB = 1 << 20
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


@dataclass
class Result:
    status: int
    headers: Any
    body: bytes = b""
    received: int = 0


@dataclass
class Client:
    endpoint: str
    signer: Signer | None
    session: aiohttp.ClientSession
    host: str = field(init=False)

    def __post_init__(self) -> None:
        self.host = urlsplit(self.endpoint).netloc

    async def request(self, method: str, path: str, query: dict[str, str] | None = None, data: Any = None,
                      headers: dict[str, str] | None = None, keep_body: bool = True) -> Result:
        path = quote(path, safe="/-_.~")
        hdrs = dict(headers or {})
        if self.signer is not None:
            hdrs = self.signer.sign(method, self.host, path, query, hdrs)
        url = self.endpoint + path
        if query:
            url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" if v else quote(k)
                                  for k, v in query.items())
        async with self.session.request(method, url, data=data, headers=hdrs, skip_auto_headers=("Content-Type",)
                                        ) as resp:
            if keep_body:
                body = await resp.read()
                result = Result(resp.status, resp.headers, body, len(body))
            else:
                n = 0
                async for chunk in resp.content.iter_any():
                    n += len(chunk)
                result = Result(resp.status, resp.headers, received=n)
        if result.status >= 300:
            raise RuntimeError(f"{method} {path} {query}: {result.status} {result.body[:300]!r}")
        return result


async def bounded(n: int, jobs: list[Any]) -> list[Any]:
    """Run coroutines with at most n in flight."""
    sem = asyncio.Semaphore(n)

    async def run(job: Any) -> Any:
        async with sem:
            return await job

    return await asyncio.gather(*(run(j) for j in jobs))


async def create_upload(c: Client, path: str) -> str:
    r = await c.request("POST", path, {"uploads": ""})
    m = _UPLOAD_ID.search(r.body)
    assert m, r.body
    return m.group(1).decode()


async def complete(c: Client, path: str, upload_id: str, etags: list[str]) -> float:
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i}</PartNumber><ETag>{e}</ETag></Part>" for i, e in enumerate(etags, 1)
    ) + "</CompleteMultipartUpload>"
    t = time.perf_counter()
    await c.request("POST", path, {"uploadId": upload_id}, data=xml.encode())
    return time.perf_counter() - t


async def multipart(c: Client, path: str, size: int, part_size: int, inflight: int, s3: bool,
                    buf: bytes) -> dict[str, float]:
    """Upload `size` bytes in parts; for the ceiling (s3=False) plain PUTs of the same sizes."""
    count = (size + part_size - 1) // part_size
    upload_id = await create_upload(c, path) if s3 else ""

    async def part(n: int) -> str:
        length = min(part_size, size - (n - 1) * part_size)
        data = memoryview(buf)[:length]
        if s3:
            r = await c.request("PUT", path, {"partNumber": str(n), "uploadId": upload_id}, data=data)
        else:
            r = await c.request("PUT", f"{path}.part{n}", data=data)
        return r.headers["ETag"]

    t = time.perf_counter()
    etags = await bounded(inflight, [part(n) for n in range(1, count + 1)])
    part_seconds = time.perf_counter() - t
    complete_seconds = await complete(c, path, upload_id, etags) if s3 else 0.0
    return {"part_seconds": part_seconds, "complete_seconds": complete_seconds, "parts": count}


async def timed_loop(duration: float, workers: int, op: Any, max_ops: int = 1_000_000) -> list[float]:
    """Run op(i) from `workers` tasks until `duration` seconds or max_ops; latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    counter = iter(range(max_ops))

    async def worker() -> None:
        for i in counter:
            if time.perf_counter() >= deadline:
                return
            t = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return latencies


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]
