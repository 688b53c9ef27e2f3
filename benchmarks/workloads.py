"""The workloads: each measures one server once and returns its figures
(ops/s, MiB/s, milliseconds, the server's CPU time per op or per GiB, peak RSS).
run.py runs them in rounds over every server, interleaved."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import statistics
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp

from .load import MiB, Client, bounded, complete, create_upload, multipart, percentile, timed_loop
from .procs import Server
from .sigv4 import Signer

SMALL_BODY = os.urandom(4096)
Figures = dict[str, Any]


@asynccontextmanager
async def client(srv: Server, limit: int = 16) -> AsyncIterator[Client]:
    """A client of srv with up to `limit` connections, signing with srv's keys."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                     timeout=aiohttp.ClientTimeout(total=600)) as sess:
        yield Client(srv.endpoint, Signer(*srv.keys) if srv.s3 else None, sess)


async def measured(srv: Server, fn: Callable[[], Awaitable[Figures]]) -> Figures:
    """fn()'s figures plus wall_s, cpu_s (the server's, all its processes) and peak_rss_mib."""
    cpu = srv.cpu_seconds()
    srv.start_sampling()
    t = time.perf_counter()
    out = await fn()
    out["wall_s"] = time.perf_counter() - t
    out["peak_rss_mib"] = srv.stop_sampling() / MiB
    out["cpu_s"] = srv.cpu_seconds() - cpu
    return out


async def ensure_bucket(srv: Server, bucket: str) -> None:
    if srv.s3:
        async with client(srv, 1) as c:
            try:
                await c.request("PUT", f"/{bucket}")
            except RuntimeError as e:
                if "BucketAlreadyOwnedByYou" not in str(e) and "BucketAlreadyExists" not in str(e):
                    raise


def _ops(lat: list[float], m: Figures) -> Figures:
    return {"ops": len(lat), "ops_s": len(lat) / m["wall_s"], "p50_ms": percentile(lat, 50) * 1e3,
            "p99_ms": percentile(lat, 99) * 1e3, "cpu_ms_per_op": m["cpu_s"] * 1e3 / max(1, len(lat)),
            "peak_rss_mib": m["peak_rss_mib"]}


async def _small(srv: Server, seconds: float, method: str, keys: int, **kw: Any) -> Figures:
    async with client(srv) as c:
        async def op(i: int) -> None:
            await c.request(method, f"/small/k{i % keys}", **kw)

        lat: list[float] = []

        async def run() -> Figures:
            lat.extend(await timed_loop(seconds, 16, op))
            return {}

        return _ops(lat, await measured(srv, run))


async def small_put(srv: Server, seconds: float, keys: int = 5000) -> Figures:
    """4 KiB PUTs from 16 connections for `seconds`, over `keys` keys (so later
    rounds overwrite): keys k0 to k{ops - 1} are written."""
    return await _small(srv, seconds, "PUT", keys, data=SMALL_BODY)


async def small_get(srv: Server, seconds: float, keys: int) -> Figures:
    """4 KiB GETs of keys small_put wrote, from 16 connections for `seconds`."""
    return await _small(srv, seconds, "GET", keys, keep_body=False)


async def large(srv: Server, size: int, buf: bytes, path: str = "/bench/large") -> Figures:
    """A multipart upload of `size` bytes in 8 MiB parts, 8 at a time (the
    ceiling: plain PUTs of the same sizes), then the object read whole and in
    8 MiB ranges, 8 at a time."""
    gib = size / (1 << 30)
    async with client(srv) as c:
        m = await measured(srv, lambda: multipart(c, path, size, 8 * MiB, 8, srv.s3, buf))
        out = {"mib_s": size / MiB / m["part_seconds"], "cpu_s_per_gib": m["cpu_s"] / gib,
               "complete_ms": m["complete_seconds"] * 1e3, "peak_rss_mib": m["peak_rss_mib"]}
        count = (size + 8 * MiB - 1) // (8 * MiB)
        paths = [path] if srv.s3 else [f"{path}.part{n}" for n in range(1, count + 1)]

        async def whole() -> Figures:
            for p in paths:
                await c.request("GET", p, keep_body=False)
            return {}

        m = await measured(srv, whole)
        out.update(get_mib_s=size / MiB / m["wall_s"], get_cpu_s_per_gib=m["cpu_s"] / gib)

        async def ranged() -> Figures:
            jobs = []
            for n in range(count):
                if srv.s3:
                    rng = f"bytes={n * 8 * MiB}-{min(size, (n + 1) * 8 * MiB) - 1}"
                    jobs.append(c.request("GET", path, headers={"Range": rng}, keep_body=False))
                else:
                    jobs.append(c.request("GET", paths[n], headers={"Range": "bytes=0-"}, keep_body=False))
            await bounded(8, jobs)
            return {}

        m = await measured(srv, ranged)
        out.update(ranged_mib_s=size / MiB / m["wall_s"])
        return out


async def upload_parts(c: Client, path: str, parts: int, part: bytes, inflight: int = 8) -> tuple[str, list[str]]:
    """A new upload to path with `parts` parts of `part`: its id and the ETags."""
    upload_id = await create_upload(c, path)
    done = await bounded(inflight, [c.request("PUT", path, {"partNumber": str(n), "uploadId": upload_id},
                                              data=part) for n in range(1, parts + 1)])
    return upload_id, [r.headers["ETag"] for r in done]


async def complete_over_key(srv: Server, part: bytes, parts: int = 64) -> float:
    """Seconds one CompleteMultipartUpload of `parts` parts takes, writing over
    the object the previous one made at the same key."""
    async with client(srv) as c:
        upload_id, etags = await upload_parts(c, "/bench/replaced", parts, part)
        return await complete(c, "/bench/replaced", upload_id, etags)


async def _probe(c: Client, path: str, stop: asyncio.Event, samples: list[tuple[float, float]]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await c.request("GET", path, keep_body=False)
        samples.append((t, time.perf_counter()))


async def get_latency_during(srv: Server, prepare: Callable[[Client], Awaitable[Any]],
                             action: Callable[[Client, Any], Awaitable[Any]], unloaded_s: float = 1.5,
                             conns: int = 8) -> tuple[list[float], list[float], float]:
    """Small GETs from `conns` connections, first alone for unloaded_s, then
    while action() runs: (latencies of GETs before it, of GETs in flight while
    it ran, its seconds). prepare() runs first, unmeasured."""
    async with client(srv, conns + 2) as c:
        await c.request("PUT", "/small/probe", data=SMALL_BODY)
        state = await prepare(c)
        stop = asyncio.Event()
        samples: list[tuple[float, float]] = []
        probes = [asyncio.create_task(_probe(c, "/small/probe", stop, samples)) for _ in range(conns)]
        try:
            await asyncio.sleep(0.3)  # connections open, loop warm
            t_warm = time.perf_counter()
            await asyncio.sleep(unloaded_s)
            t0 = time.perf_counter()
            await action(c, state)
            t1 = time.perf_counter()
            await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*probes)
    unloaded = [end - start for start, end in samples if start >= t_warm and end < t0]
    loaded = [end - start for start, end in samples if start < t1 and end > t0]
    return unloaded, loaded, t1 - t0


async def during_complete(srv: Server, parts: int) -> tuple[list[float], list[float], float]:
    """GET latency unloaded and while a Complete of `parts` 1-byte parts runs
    (over the object the previous call made at the same key)."""
    async def prepare(c: Client) -> tuple[str, list[str]]:
        return await upload_parts(c, "/bench/many-parts", parts, b"x", inflight=16)

    async def action(c: Client, state: tuple[str, list[str]]) -> None:
        await complete(c, "/bench/many-parts", *state)

    return await get_latency_during(srv, prepare, action)


async def during_delete_objects(srv: Server, keys: int) -> tuple[list[float], list[float], float]:
    """GET latency unloaded and while one DeleteObjects of `keys` keys (4 KiB each) runs."""
    names = [f"doomed/{i:05d}" for i in range(keys)]

    async def prepare(c: Client) -> None:
        await bounded(16, [c.request("PUT", f"/bench/{n}", data=SMALL_BODY) for n in names])

    async def action(c: Client, _state: None) -> None:
        xml = ("<Delete><Quiet>true</Quiet>" + "".join(f"<Object><Key>{n}</Key></Object>" for n in names)
               + "</Delete>").encode()
        md5 = base64.b64encode(hashlib.md5(xml).digest()).decode()
        await c.request("POST", "/bench", {"delete": ""}, data=xml, headers={"Content-MD5": md5})

    return await get_latency_during(srv, prepare, action)


async def complete_scaling(srv: Server, counts: list[int]) -> list[Figures]:
    """Complete latency by number of parts and by part size: the median of
    several uploads, since one millisecond-scale sample is mostly noise."""
    rows = []
    async with client(srv) as c:
        for n in counts:
            reps = 3 if n < 10000 else 1
            times = []
            for rep in range(reps):
                upload_id, etags = await upload_parts(c, f"/scaling/p{n}-{rep}", n, b"x", inflight=16)
                times.append(await complete(c, f"/scaling/p{n}-{rep}", upload_id, etags))
            rows.append({"parts": n, "part_size": "1 B", "complete_ms": statistics.median(times) * 1e3,
                         "samples": reps})
        for part_size in (64 * 1024, 32 * MiB):
            buf = os.urandom(part_size)
            times = [(await multipart(c, f"/scaling/s{part_size}-{rep}", 10 * part_size, part_size, 4, True, buf)
                      )["complete_seconds"] for rep in range(5)]
            rows.append({"parts": 10, "part_size": f"{part_size // 1024} KiB",
                         "complete_ms": statistics.median(times) * 1e3, "samples": 5})
    return rows


async def listing(srv: Server, keys: int) -> list[Figures]:
    """Paging through 1000 uploads, and ListObjectsV2 pages of a bucket of `keys` keys."""
    rows: list[Figures] = []
    async with client(srv, 32) as c:
        await c.request("PUT", "/listing")
        await bounded(16, [create_upload(c, f"/listing/upload/{i:04d}") for i in range(1000)])
        t = time.perf_counter()
        query = {"uploads": "", "max-uploads": "100"}
        for _ in range(10):
            r = await c.request("GET", "/listing", query)
            key = r.body.split(b"<NextKeyMarker>")[1].split(b"<")[0].decode()
            upload = r.body.split(b"<NextUploadIdMarker>")[1].split(b"<")[0].decode()
            query = {"uploads": "", "max-uploads": "100", "key-marker": key, "upload-id-marker": upload}
        rows.append({"what": "ListMultipartUploads 1000 uploads, 10 pages of 100",
                     "total_ms": (time.perf_counter() - t) * 1e3})
        for start in range(0, keys, 5000):
            await bounded(32, [c.request("PUT", f"/listing/k/{i:07d}", data=b"")
                               for i in range(start, min(keys, start + 5000))])
        cases = {"first page": {}, f"page at key {int(keys * 0.9)}": {"start-after": f"k/{int(keys * 0.9):07d}"},
                 "prefix page": {"prefix": f"k/{keys // 2:07d}"[:-3]}}
        for what, extra in cases.items():
            times = []
            for _ in range(7):
                t = time.perf_counter()
                await c.request("GET", "/listing", {"list-type": "2", "max-keys": "1000", **extra})
                times.append(time.perf_counter() - t)
            rows.append({"what": f"ListObjectsV2 {what} ({keys} keys)", "page_ms": statistics.median(times) * 1e3,
                         "samples": 7})
    return rows
