"""`make bench`: s3emu against the ceiling server (and moto if installed).

Each workload prints one JSON line; the run ends with a Markdown table in
benchmarks/results/latest.md. Ratios are to the ceiling measured in the same
run: on a shared machine, ratios hold where absolute numbers do not.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp

from . import procs
from .load import MiB, Client, bounded, complete, create_upload, multipart, percentile, timed_loop
from .sigv4 import Signer

RESULTS = Path(__file__).parent / "results"
ACCESS, SECRET = "s3emu", "s3emu-secret"
rows: list[dict[str, Any]] = []


def emit(workload: str, server: str, **metrics: Any) -> None:
    row = {"workload": workload, "server": server, **{k: round(v, 4) if isinstance(v, float) else v
                                                      for k, v in metrics.items()}}
    rows.append(row)
    print(json.dumps(row), flush=True)


async def measured(srv: procs.Server, fn: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    cpu = srv.cpu_seconds()
    srv.start_sampling()
    t = time.perf_counter()
    out = await fn()
    out["wall_s"] = time.perf_counter() - t
    out["peak_rss_mib"] = srv.stop_sampling() / MiB
    out["cpu_s"] = srv.cpu_seconds() - cpu
    return out


def session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=600))


def client_for(srv: procs.Server, sess: aiohttp.ClientSession, signed: bool) -> Client:
    return Client(srv.endpoint, Signer(ACCESS, SECRET) if signed else None, sess)


async def large(srv: procs.Server, s3: bool, size: int, label: str = "") -> None:
    buf = os.urandom(8 * MiB)
    async with session(16) as sess:
        c = client_for(srv, sess, s3)
        if s3:
            await c.request("PUT", "/bench")
        m = await measured(srv, lambda: multipart(c, "/bench/large", size, 8 * MiB, 8, s3, buf))
        gib = size / (1 << 30)
        emit("mpu" + label, srv.name, mib_s=size / MiB / m["part_seconds"], complete_ms=m["complete_seconds"] * 1e3,
             cpu_s_per_gib=m["cpu_s"] / gib, peak_rss_mib=m["peak_rss_mib"], size_mib=size // MiB)
        if label:
            return
        count = (size + 8 * MiB - 1) // (8 * MiB)
        paths = ["/bench/large"] if s3 else [f"/bench/large.part{n}" for n in range(1, count + 1)]

        async def whole() -> dict[str, Any]:
            for p in paths:
                await c.request("GET", p, keep_body=False)
            return {}

        m = await measured(srv, whole)
        emit("get-large", srv.name, mib_s=size / MiB / m["wall_s"], cpu_s_per_gib=m["cpu_s"] / gib,
             peak_rss_mib=m["peak_rss_mib"])

        async def ranged() -> dict[str, Any]:
            jobs = []
            for n in range(count):
                if s3:
                    rng = f"bytes={n * 8 * MiB}-{min(size, (n + 1) * 8 * MiB) - 1}"
                    jobs.append(c.request("GET", "/bench/large", headers={"Range": rng}, keep_body=False))
                else:
                    jobs.append(c.request("GET", paths[n], headers={"Range": "bytes=0-"}, keep_body=False))
            await bounded(8, jobs)
            return {}

        m = await measured(srv, ranged)
        emit("get-large-ranged", srv.name, mib_s=size / MiB / m["wall_s"], cpu_s_per_gib=m["cpu_s"] / gib,
             peak_rss_mib=m["peak_rss_mib"])


async def small(srv: procs.Server, s3: bool, seconds: float, label: str = "") -> None:
    body = os.urandom(4096)
    async with session(16) as sess:
        c = client_for(srv, sess, s3)
        if s3:
            await c.request("PUT", "/small")
        written = 0

        async def put(i: int) -> None:
            nonlocal written
            await c.request("PUT", f"/small/k{i % 5000}", data=body)
            written = max(written, i + 1)

        async def get(i: int) -> None:
            await c.request("GET", f"/small/k{i % min(written, 5000)}", keep_body=False)

        for name, op in (("put-small", put), ("get-small", get)):
            lat: list[float] = []

            async def run(op: Any = op) -> dict[str, Any]:
                lat.extend(await timed_loop(seconds, 16, op))
                return {}

            m = await measured(srv, run)
            emit(name + label, srv.name, ops_s=len(lat) / m["wall_s"], p50_ms=percentile(lat, 50) * 1e3,
                 p99_ms=percentile(lat, 99) * 1e3, cpu_ms_per_op=m["cpu_s"] * 1e3 / max(1, len(lat)),
                 peak_rss_mib=m["peak_rss_mib"])


async def complete_scaling(srv: procs.Server, counts: list[int]) -> None:
    """Complete latency by number of parts and by part size: the median of
    several uploads, since one millisecond-scale sample is mostly noise."""
    async with session(16) as sess:
        c = client_for(srv, sess, True)
        await c.request("PUT", "/scaling")

        async def tiny_parts(n: int, rep: int) -> float:
            path = f"/scaling/p{n}-{rep}"
            upload_id = await create_upload(c, path)
            etags = await bounded(16, [c.request("PUT", path, {"partNumber": str(i), "uploadId": upload_id},
                                                 data=b"x") for i in range(1, n + 1)])
            return await complete(c, path, upload_id, [r.headers["ETag"] for r in etags])

        for n in counts:
            reps = 3 if n < 10000 else 1
            times = [await tiny_parts(n, rep) for rep in range(reps)]
            emit("complete-scaling", srv.name, parts=n, part_size="1 B", complete_ms=statistics.median(times) * 1e3,
                 samples=reps)
        for part_size in (64 * 1024, 32 * MiB):
            buf = os.urandom(part_size)
            times = [(await multipart(c, f"/scaling/s{part_size}-{rep}", 10 * part_size, part_size, 4, True, buf)
                      )["complete_seconds"] for rep in range(5)]
            emit("complete-scaling", srv.name, parts=10, part_size=f"{part_size // 1024} KiB",
                 complete_ms=statistics.median(times) * 1e3, samples=5)


async def listing(srv: procs.Server, keys: int) -> None:
    async with session(32) as sess:
        c = client_for(srv, sess, True)
        await c.request("PUT", "/listing")
        await bounded(16, [create_upload(c, f"/listing/upload/{i:04d}") for i in range(1000)])
        t = time.perf_counter()
        query = {"uploads": "", "max-uploads": "100"}
        for _ in range(10):
            r = await c.request("GET", "/listing", query)
            key = r.body.split(b"<NextKeyMarker>")[1].split(b"<")[0].decode()
            upload = r.body.split(b"<NextUploadIdMarker>")[1].split(b"<")[0].decode()
            query = {"uploads": "", "max-uploads": "100", "key-marker": key, "upload-id-marker": upload}
        emit("list", srv.name, what="ListMultipartUploads 1000 uploads, 10 pages of 100",
             total_ms=(time.perf_counter() - t) * 1e3)
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
            emit("list", srv.name, what=f"ListObjectsV2 {what} ({keys} keys)",
                 page_ms=statistics.median(times) * 1e3, samples=7)


def table() -> str:
    lines = ["| workload | server | figures |", "|---|---|---|"]
    for r in rows:
        figures = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("workload", "server"))
        lines.append(f"| {r['workload']} | {r['server']} | {figures} |")
    ratios = ["", "| ratio to ceiling (same run) | s3emu / ceiling |", "|---|---|"]
    by = {(r["workload"], r["server"]): r for r in rows}
    for (workload, server), r in by.items():
        base = by.get((workload, "ceiling"))
        if server != "s3emu" or base is None:
            continue
        metric = "mib_s" if "mib_s" in r else "ops_s"
        ratios.append(f"| {workload} {metric} | {r[metric] / base[metric]:.2f}x |")
    for name in ("put-small", "get-small"):
        one, two = by.get((name, "s3emu")), by.get((name + " (2 workers)", "s3emu"))
        if one and two:
            ratios.append(f"| {name} ops_s, 2 workers / 1 worker | {two['ops_s'] / one['ops_s']:.2f}x |")
    return "\n".join(lines + ratios) + "\n"


async def main_async(args: argparse.Namespace, work: Path) -> None:
    size = args.size_mib * MiB
    extra = ["--durability", "fast"] + (["--workers", str(args.workers)] if args.workers > 1 else [])
    s3 = procs.s3emu(work / "s3emu", *extra).start()
    ceil = procs.ceiling(work / "ceiling").start()
    try:
        await large(s3, True, size)
        await large(ceil, False, size)
        await small(s3, True, args.small_seconds)
        await small(ceil, False, args.small_seconds)
    finally:
        ceil.stop()
        s3.stop()
    two = procs.s3emu(work / "s3emu-workers", "--durability", "fast", "--workers", "2").start()
    try:
        await small(two, True, args.small_seconds, label=" (2 workers)")
    finally:
        two.stop()
    if args.large_mib:
        big = procs.s3emu(work / "s3emu-large", "--durability", "fast").start()
        try:
            await large(big, True, args.large_mib * MiB, label=f" ({args.large_mib} MiB)")
        finally:
            big.stop()
            shutil.rmtree(work / "s3emu-large", ignore_errors=True)
    fsync = procs.s3emu(work / "s3emu-fsync", "--durability", "fsync").start()
    try:
        await large(fsync, True, min(size, 128 * MiB), label=" (fsync)")
        await small(fsync, True, args.small_seconds, label=" (fsync)")
    finally:
        fsync.stop()
    scaling = procs.s3emu(work / "s3emu-scaling", "--durability", "fast", "--min-part-size", "1").start()
    try:
        await complete_scaling(scaling, args.parts)
        await listing(scaling, args.list_keys)
    finally:
        scaling.stop()
    moto = procs.moto(work / "moto") if args.moto else None
    if moto is not None:
        moto.start()
        try:
            await small(moto, True, args.small_seconds)
        finally:
            moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=512, help="mpu/get-large object size")
    parser.add_argument("--small-seconds", type=float, default=5.0)
    parser.add_argument("--list-keys", type=int, default=100_000)
    parser.add_argument("--parts", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000, 10000])
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the main s3emu server")
    parser.add_argument("--large-mib", type=int, default=2048,
                        help="also upload an object this big (0: skip) to show peak RSS stays flat")
    parser.add_argument("--no-moto", dest="moto", action="store_false",
                        help="skip moto's server even if it is installed (pip install 'moto[server]')")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.size_mib, args.small_seconds, args.list_keys, args.parts = 64, 1.0, 2000, [10, 100]
        args.large_mib = 0
    work = Path(tempfile.mkdtemp(prefix="s3emu-bench-"))
    try:
        asyncio.run(main_async(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    md = table()
    (RESULTS / "latest.md").write_text(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
