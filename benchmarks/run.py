"""`make bench`: s3emu beside its peers and the bare aiohttp ceiling, in one run.

Every server is started first; each workload then runs in rounds, every round
over every server in turn (the order rotating), and the median of the rounds
is reported. On a shared machine, ratios measured this way hold where
absolute numbers do not. Each measurement prints a JSON line; the run ends
with Markdown tables (figures, ratios, stalls, targets) in
benchmarks/results/latest.md.

Peers: moto's server and s3rver, installed into benchmarks/.peers/ from the
package registries on first use (--no-peers skips them). --baseline REV also
measures s3emu as of git revision REV ("today's s3emu") in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import peers, procs, report, workloads as w
from .load import MiB, percentile

RESULTS = Path(__file__).parent / "results"
# every s3emu here takes parts of any size, so the Complete workloads can use small parts
S3EMU_ARGS = ("--min-part-size", "1")


class Run:
    """The servers of one run and every figure measured on them."""

    def __init__(self) -> None:
        self.servers: list[procs.Server] = []
        self.figures: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)  # s3emu-only tables

    def record(self, workload: str, srv: procs.Server, figures: dict[str, Any]) -> None:
        self.figures[(workload, srv.name)].append(figures)
        line = {"workload": workload, "server": srv.name,
                **{k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}}
        print(json.dumps(line), flush=True)

    def medians(self) -> dict[tuple[str, str], dict[str, Any]]:
        out = {}
        for key, runs in self.figures.items():
            out[key] = {k: statistics.median(r[k] for r in runs) if isinstance(runs[0][k], (int, float))
                        else runs[0][k] for k in runs[0]}
            out[key]["rounds"] = len(runs)
        return out

    def rotated(self, rnd: int, names: set[str] | None = None) -> list[procs.Server]:
        chosen = [s for s in self.servers if names is None or s.name in names]
        k = rnd % max(1, len(chosen))
        return chosen[k:] + chosen[:k]


def baseline_source(rev: str, work: Path) -> Path | None:
    """The s3emu package as of git revision rev, unpacked under work (None,
    with the reason printed, outside a git checkout or for an unknown rev)."""
    dest = work / "baseline-src"
    dest.mkdir()
    try:
        archive = subprocess.run(["git", "archive", rev, "s3emu"], cwd=procs.ROOT, check=True,
                                 stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"# baseline {rev} not measured: {e}", flush=True)
        return None
    return dest


def make_servers(args: argparse.Namespace, work: Path) -> list[procs.Server]:
    servers = [procs.s3emu("s3emu", work / "s3emu", "--durability", "fast", *S3EMU_ARGS),
               procs.s3emu("s3emu 2 workers", work / "s3emu-w2", "--durability", "fast", "--workers", "2",
                           *S3EMU_ARGS),
               procs.s3emu("s3emu fsync", work / "s3emu-fsync", "--durability", "fsync", *S3EMU_ARGS)]
    src = baseline_source(args.baseline, work) if args.baseline else None
    if src is not None:
        servers += [procs.s3emu("baseline", work / "base", "--durability", "fast", *S3EMU_ARGS, source=src),
                    procs.s3emu("baseline fsync", work / "base-fsync", "--durability", "fsync", *S3EMU_ARGS,
                                source=src)]
    if args.peers:
        script = peers.s3rver_script()
        if script is not None:
            servers.append(procs.s3rver(script, work / "s3rver"))
        python = peers.moto_python()
        if python is not None:
            servers.append(procs.moto(python))
        print("# LocalStack is not measured: it needs a Docker engine", flush=True)
    servers.append(procs.ceiling(work / "ceiling"))
    return servers


async def small(run: Run, args: argparse.Namespace) -> None:
    written: dict[str, int] = defaultdict(int)
    for rnd in range(args.rounds):
        for srv in run.rotated(rnd):
            put = await w.small_put(srv, args.small_seconds)
            written[srv.name] = max(written[srv.name], put["ops"])
            run.record("put-small", srv, put)
            run.record("get-small", srv, await w.small_get(srv, args.small_seconds, min(5000, written[srv.name])))


async def large(run: Run, args: argparse.Namespace) -> None:
    buf = os.urandom(8 * MiB)
    for rnd in range(args.large_rounds):
        for srv in run.rotated(rnd):
            run.record("mpu", srv, await w.large(srv, args.size_mib * MiB, buf))


async def complete_over_key(run: Run, args: argparse.Namespace) -> None:
    part = os.urandom(args.replace_part_kib * 1024)
    times: dict[str, list[float]] = defaultdict(list)
    s3 = {s.name for s in run.servers if s.s3}
    for rep in range(args.replace_reps):
        for srv in run.rotated(rep, s3):
            times[srv.name].append(await w.complete_over_key(srv, part))
    for srv in run.servers:
        if srv.name in times:
            lat = times[srv.name]
            run.record("complete-over-key", srv, {"p50_ms": percentile(lat, 50) * 1e3,
                                                  "p99_ms": percentile(lat, 99) * 1e3, "samples": len(lat)})


async def stalls(run: Run, args: argparse.Namespace) -> None:
    names = {"s3emu", "baseline"}
    for what, reps, fn, n in (("Complete", args.stall_reps, w.during_complete, args.stall_parts),
                              ("DeleteObjects", args.stall_reps + 1, w.during_delete_objects, args.stall_keys)):
        pooled: dict[str, tuple[list[float], list[float], list[float]]] = defaultdict(lambda: ([], [], []))
        for rep in range(reps):
            for srv in run.rotated(rep, names):
                unloaded, loaded, seconds = await fn(srv, n)
                pooled[srv.name][0].extend(unloaded)
                pooled[srv.name][1].extend(loaded)
                pooled[srv.name][2].append(seconds)
        for srv in run.servers:
            if srv.name in pooled:
                unloaded, loaded, seconds = pooled[srv.name]
                label = f"{n:,}-part Complete" if what == "Complete" else f"{n:,}-key DeleteObjects"
                run.record(f"get-during-{what}", srv, {
                    "during": label, "unloaded_p99_ms": percentile(unloaded, 99) * 1e3,
                    "loaded_p50_ms": percentile(loaded, 50) * 1e3, "loaded_p99_ms": percentile(loaded, 99) * 1e3,
                    "loaded_gets": len(loaded), "action_ms": statistics.median(seconds) * 1e3})


async def s3emu_only(run: Run, args: argparse.Namespace, work: Path) -> None:
    """Figures of s3emu alone: flat memory for a big object, Complete by part
    count and size, listing by bucket size (each on a fresh server)."""
    if args.large_mib:
        big = procs.s3emu("s3emu", work / "s3emu-large", "--durability", "fast").start()
        try:
            await w.ensure_bucket(big, "bench")
            figures = await w.large(big, args.large_mib * MiB, os.urandom(8 * MiB))
            run.rows["large"].append({"size_mib": args.large_mib, **figures})
        finally:
            big.stop()
            shutil.rmtree(work / "s3emu-large", ignore_errors=True)
    srv = procs.s3emu("s3emu", work / "s3emu-scaling", "--durability", "fast", *S3EMU_ARGS).start()
    try:
        await w.ensure_bucket(srv, "scaling")
        run.rows["complete-scaling"] += await w.complete_scaling(srv, args.parts)
        run.rows["list"] += await w.listing(srv, args.list_keys)
    finally:
        srv.stop()
    for name, rows in run.rows.items():
        for r in rows:
            print(json.dumps({"workload": name, "server": "s3emu", **r}), flush=True)


async def main_async(args: argparse.Namespace, work: Path) -> Run:
    run = Run()
    run.servers = make_servers(args, work)
    try:
        for srv in run.servers:
            srv.start()
            for bucket in ("small", "bench"):
                await w.ensure_bucket(srv, bucket)
        for phase in (small, large, complete_over_key, stalls):
            t = time.perf_counter()
            await phase(run, args)
            print(f"# {phase.__name__}: {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        for srv in run.servers:
            srv.stop()
    await s3emu_only(run, args, work)
    return run


def _loop_factory() -> Any:
    """uvloop's loop for the load generator when it is installed: it then leaves more of the
    machine to the servers."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the small-request workloads")
    parser.add_argument("--small-seconds", type=float, default=3.0, help="seconds of each small-request run")
    parser.add_argument("--size-mib", type=int, default=512, help="multipart upload and large GET object size")
    parser.add_argument("--large-rounds", type=int, default=2)
    parser.add_argument("--replace-reps", type=int, default=30, help="64-part Completes over one key, per server")
    parser.add_argument("--replace-part-kib", type=int, default=256)
    parser.add_argument("--stall-parts", type=int, default=10_000, help="parts of the Complete that GETs race")
    parser.add_argument("--stall-keys", type=int, default=1000, help="keys of the DeleteObjects that GETs race")
    parser.add_argument("--stall-reps", type=int, default=2)
    parser.add_argument("--list-keys", type=int, default=100_000)
    parser.add_argument("--parts", type=lambda s: [int(x) for x in s.split(",")], default=[10, 100, 1000, 10000])
    parser.add_argument("--large-mib", type=int, default=2048,
                        help="also upload an object this big to s3emu (0: skip) to show peak RSS stays flat")
    parser.add_argument("--baseline", metavar="REV", help="also measure s3emu as of this git revision")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="skip moto and s3rver")
    parser.add_argument("--quick", action="store_true", help="small sizes and one round: a one-minute smoke run")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.small_seconds, args.size_mib, args.large_rounds = 1, 1.0, 64, 1
        args.replace_reps, args.replace_part_kib, args.stall_parts, args.stall_keys = 6, 16, 1000, 200
        args.stall_reps, args.list_keys, args.parts, args.large_mib = 1, 2000, [10, 100], 0
    load_before = os.getloadavg()
    started = time.time()
    work = Path(tempfile.mkdtemp(prefix="s3emu-bench-"))
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            run = runner.run(main_async(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    context = report.Context(args=vars(args), load_before=load_before, load_after=os.getloadavg(),
                             seconds=time.time() - started, commit=report.commit())
    md = report.render(run.medians(), run.rows, [s.name for s in run.servers], context)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(md)
    print()
    print(md)


if __name__ == "__main__":
    main()
