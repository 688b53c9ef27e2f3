"""Where a workload's server time goes: s3emu under py-spy (pip install py-spy)
while one benchmark workload runs, then the functions and modules holding
the most samples, by self time and by inclusive time.

    python -m benchmarks.profile put-small [--seconds 10] [-- SERVER ARGS...]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable

from . import procs, workloads as w
from .load import MiB, bounded

WORKLOADS = ("put-small", "get-small", "mpu")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(file: str) -> str:
    for marker in ("site-packages/", "/s3emu/", "/lib/python3."):
        if marker in file:
            tail = file.split(marker, 1)[1]
            return ("s3emu/" + tail) if marker == "/s3emu/" else tail.split("/", 1)[-1] if "python3." in marker \
                else tail
    return file


def _area(file: str) -> str:
    """A coarse owner of a frame: an s3emu package, a library, or the standard library."""
    short = _short(file)
    if short.startswith("s3emu/"):
        parts = short.split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else short
    return short.split("/", 1)[0]


def summarize(raw: Path, top: int) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = []
        for f in stack.split(";"):
            m = _FRAME.match(f)
            if m:
                frames.append((f"{m['func']} ({_short(m['file'])})", m["file"]))
        if not frames:
            continue
        self_time[frames[-1][0]] += n
        areas[_area(frames[-1][1])] += n
        for name in {name for name, _ in frames}:
            inclusive[name] += n

    def table(title: str, counts: Counter[str]) -> list[str]:
        return [f"\n{title} (% of {total} samples)"] + [f"{100 * c / total:6.1f}%  {name}"
                                                       for name, c in counts.most_common(top)]

    return "\n".join(table("self time by area", areas) + table("self time", self_time)
                     + table("inclusive time", inclusive))


async def drive(srv: procs.Server, workload: str, seconds: float, record: Callable[[], None]) -> None:
    """Prepare, call record(), then run the workload for `seconds`."""
    await w.ensure_bucket(srv, "small")
    await w.ensure_bucket(srv, "bench")
    if workload == "get-small":
        async with w.client(srv) as c:
            await bounded(16, [c.request("PUT", f"/small/k{i}", data=w.SMALL_BODY) for i in range(500)])
    record()
    if workload == "put-small":
        print(await w.small_put(srv, seconds))
    elif workload == "get-small":
        print(await w.small_get(srv, seconds, 500))
    else:
        buf = os.urandom(8 * MiB)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            print(await w.large(srv, 256 * MiB, buf))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=WORKLOADS)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=500, help="samples per second")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--native", action="store_true", help="include C frames (slower sampling)")
    parser.add_argument("--gil", action="store_true", help="only samples of the thread holding the GIL")
    parser.add_argument("--out", type=Path, help="keep py-spy's raw stacks here")
    parser.add_argument("--source", type=Path, default=procs.ROOT, help="the checkout whose s3emu to run")
    parser.add_argument("server_args", nargs="*", help="extra s3emu serve arguments (after --)")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(os.sys.executable).parent / "py-spy")
    work = Path(tempfile.mkdtemp(prefix="s3emu-profile-"))
    raw = args.out or work / "stacks.txt"
    srv = procs.s3emu("s3emu", work / "data", *(args.server_args or ["--durability", "fast"]),
                      source=args.source).start()
    try:
        assert srv.proc is not None
        cmd = [spy, "record", "--pid", str(srv.proc.pid), "--rate", str(args.rate), "--format", "raw",
               "--output", str(raw), "--subprocesses", "--nonblocking"] + (["--native"] if args.native else []) \
            + (["--gil"] if args.gil else [])
        recorders: list[subprocess.Popen[str]] = []

        def record() -> None:
            recorders.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))
            time.sleep(0.5)

        asyncio.run(drive(srv, args.workload, args.seconds, record))
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(60)
    finally:
        srv.stop()
    print(summarize(raw, args.top))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
