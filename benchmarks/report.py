"""The Markdown of a run: figures by server, ratios measured in the same run,
GET latency under heavy requests, the issue's targets, and s3emu's own
scaling and listing figures."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Callable

from .procs import ROOT

Medians = dict[tuple[str, str], dict[str, Any]]
PEERS = ("s3rver", "moto", "ceiling", "baseline")
NAMES = {"ceiling": "bare aiohttp", "baseline": "baseline", "baseline fsync": "baseline, fsync"}

# (label, workload, figure); figures in the first table
FIGURES = [
    ("small PUT ops/s", "put-small", "ops_s"),
    ("small PUT server CPU ms/op", "put-small", "cpu_ms_per_op"),
    ("small PUT p50 / p99 ms", "put-small", ("p50_ms", "p99_ms")),
    ("small GET ops/s", "get-small", "ops_s"),
    ("small GET server CPU ms/op", "get-small", "cpu_ms_per_op"),
    ("small GET p50 / p99 ms", "get-small", ("p50_ms", "p99_ms")),
    ("multipart parts MiB/s", "mpu", "mib_s"),
    ("multipart server CPU s/GiB", "mpu", "cpu_s_per_gib"),
    ("multipart peak RSS MiB", "mpu", "peak_rss_mib"),
    ("Complete of the multipart upload ms", "mpu", "complete_ms"),
    ("GET whole object MiB/s", "mpu", "get_mib_s"),
    ("GET 8 MiB ranges MiB/s", "mpu", "ranged_mib_s"),
    ("Complete of 64 parts over an existing key, p50 / p99 ms", "complete-over-key", ("p50_ms", "p99_ms")),
]
RATIOS = [
    ("small PUT ops/s", "put-small", "ops_s"),
    ("small GET ops/s", "get-small", "ops_s"),
    ("multipart parts MiB/s", "mpu", "mib_s"),
    ("GET whole object MiB/s", "mpu", "get_mib_s"),
    ("GET 8 MiB ranges MiB/s", "mpu", "ranged_mib_s"),
]


@dataclass
class Context:
    args: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    seconds: float
    commit: str


def commit() -> str:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def event_loop() -> str:
    """The event loop s3emu and the bare server run on: uvloop's when installed."""
    try:
        import uvloop
    except ImportError:
        return "on asyncio's own event loop (uvloop is not installed)"
    return f"on uvloop {uvloop.__version__}"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def _cell(m: Medians, workload: str, server: str, figure: str | tuple[str, ...]) -> str:
    r = m.get((workload, server))
    if r is None:
        return "-"
    names = figure if isinstance(figure, tuple) else (figure,)
    return " / ".join(_num(r[n]) for n in names if n in r) or "-"


def _ratio(m: Medians, workload: str, figure: str, a: str, b: str) -> float | None:
    ra, rb = m.get((workload, a)), m.get((workload, b))
    if not ra or not rb or not rb.get(figure):
        return None
    return float(ra[figure]) / float(rb[figure])


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def figures_table(m: Medians, servers: list[str]) -> list[str]:
    head = "| figure | " + " | ".join(NAMES.get(s, s) for s in servers) + " |"
    lines = [head, "|---" * (len(servers) + 1) + "|"]
    for label, workload, figure in FIGURES:
        lines.append(f"| {label} | " + " | ".join(_cell(m, workload, s, figure) for s in servers) + " |")
    return lines


def ratios_table(m: Medians, servers: list[str]) -> list[str]:
    others = [s for s in ("s3rver", "moto", "ceiling", "baseline") if s in servers]
    cols = [f"s3emu / {NAMES.get(s, s)}" for s in others] + ["s3emu 2 workers / 1"]
    if "baseline fsync" in servers:
        cols.append("s3emu fsync / baseline fsync")
    lines = ["| figure (higher is better for s3emu) | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, workload, figure in RATIOS:
        cells = [_ratio(m, workload, figure, "s3emu", s) for s in others]
        cells.append(_ratio(m, workload, figure, "s3emu 2 workers", "s3emu"))
        if "baseline fsync" in servers:
            cells.append(_ratio(m, workload, figure, "s3emu fsync", "baseline fsync"))
        lines.append(f"| {label} | " + " | ".join(_fmt_ratio(c) for c in cells) + " |")
    cpu = [("small PUT server CPU per op", "put-small", "cpu_ms_per_op"),
           ("small GET server CPU per op", "get-small", "cpu_ms_per_op"),
           ("multipart server CPU per GiB", "mpu", "cpu_s_per_gib")]
    for label, workload, figure in cpu:  # lower is better: the peer's over s3emu's
        cells = [_ratio(m, workload, figure, s, "s3emu") for s in others]
        cells.append(_ratio(m, workload, figure, "s3emu", "s3emu 2 workers"))
        if "baseline fsync" in servers:
            cells.append(_ratio(m, workload, figure, "baseline fsync", "s3emu fsync"))
        lines.append(f"| {label} (theirs / ours) | " + " | ".join(_fmt_ratio(c) for c in cells) + " |")
    return lines


def stalls_table(m: Medians) -> list[str]:
    lines = ["| server | while | GET p99 unloaded ms | GET p50 / p99 during ms | p99 during / unloaded "
             "| GETs during | heavy request ms |", "|---|---|---|---|---|---|---|"]
    for (workload, server), r in m.items():
        if not workload.startswith("get-during"):
            continue
        ratio = r["loaded_p99_ms"] / r["unloaded_p99_ms"] if r["unloaded_p99_ms"] else 0
        lines.append(f"| {server} | {r['during']} | {_num(r['unloaded_p99_ms'])} | {_num(r['loaded_p50_ms'])} / "
                     f"{_num(r['loaded_p99_ms'])} | {ratio:.2f}x | {r['loaded_gets']:.0f} | {_num(r['action_ms'])} |")
    return lines


def _stall_ratios(m: Medians) -> dict[str, float]:
    return {r["during"]: r["loaded_p99_ms"] / r["unloaded_p99_ms"] for (wl, s), r in m.items()
            if wl.startswith("get-during") and s == "s3emu" and r["unloaded_p99_ms"]}


def targets_table(m: Medians) -> list[str]:
    def fig(workload: str, figure: str, server: str = "s3emu") -> float | None:
        r = m.get((workload, server))
        return None if r is None else float(r[figure])

    rows: list[tuple[str, float | None, Callable[[float], bool], str]] = [
        ("small PUT server CPU <= 0.8 ms/op", fig("put-small", "cpu_ms_per_op"), lambda v: v <= 0.8, "ms"),
        ("small PUT ops/s >= 1.3x s3rver's", _ratio(m, "put-small", "ops_s", "s3emu", "s3rver"),
         lambda v: v >= 1.3, "x"),
        ("small PUT ops/s >= 1.3x the baseline's", _ratio(m, "put-small", "ops_s", "s3emu", "baseline"),
         lambda v: v >= 1.3, "x"),
        ("small PUT ops/s with fsync >= the baseline's",
         _ratio(m, "put-small", "ops_s", "s3emu fsync", "baseline fsync"), lambda v: v >= 1.0, "x"),
        ("small GET server CPU <= 0.5 ms/op", fig("get-small", "cpu_ms_per_op"), lambda v: v <= 0.5, "ms"),
        ("multipart server CPU <= 3.5 s/GiB", fig("mpu", "cpu_s_per_gib"), lambda v: v <= 3.5, "s"),
        ("multipart MiB/s >= 0.7x the bare server's", _ratio(m, "mpu", "mib_s", "s3emu", "ceiling"),
         lambda v: v >= 0.7, "x"),
    ]
    over = m.get(("complete-over-key", "s3emu"))
    rows.append(("Complete over an existing key: p99 <= 2x p50",
                 over["p99_ms"] / over["p50_ms"] if over else None, lambda v: v <= 2.0, "x"))
    for during, ratio in _stall_ratios(m).items():
        rows.append((f"GET p99 during a {during} <= 2x unloaded", ratio, lambda v: v <= 2.0, "x"))
    for label, workload, figure in RATIOS[:3] + [("Complete over a key (p50)", "complete-over-key", "p50_ms")]:
        ratio = _ratio(m, workload, figure, "s3emu 2 workers", "s3emu")
        if figure == "p50_ms" and ratio:
            ratio = 1 / ratio  # time: lower is better
        rows.append((f"2 workers / 1 on {label} >= 1.0x", ratio, lambda v: v >= 1.0, "x"))
    lines = ["| target | measured | holds |", "|---|---|---|"]
    for label, value, ok, unit in rows:
        if value is None:
            lines.append(f"| {label} | not measured | - |")
        else:
            shown = f"{value:.2f}x" if unit == "x" else f"{_num(value)} {unit}"
            lines.append(f"| {label} | {shown} | {'yes' if ok(value) else '**no**'} |")
    return lines


def s3emu_tables(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for r in rows.get("large", []):
        lines += ["", f"A {r['size_mib']} MiB multipart upload to s3emu: {_num(r['mib_s'])} MiB/s, "
                  f"{_num(r['cpu_s_per_gib'])} s of server CPU per GiB, peak RSS {_num(r['peak_rss_mib'])} MiB, "
                  f"Complete {_num(r['complete_ms'])} ms."]
    if rows.get("complete-scaling"):
        lines += ["", "| Complete, s3emu | parts | part size | ms (median) |", "|---|---|---|---|"]
        lines += [f"| | {r['parts']:,} | {r['part_size']} | {_num(r['complete_ms'])} |"
                  for r in rows["complete-scaling"]]
    if rows.get("list"):
        lines += ["", "| listing, s3emu | ms |", "|---|---|"]
        lines += [f"| {r['what']} | {_num(r.get('page_ms', r.get('total_ms', 0)))} |" for r in rows["list"]]
    return lines


def render(m: Medians, rows: dict[str, list[dict[str, Any]]], servers: list[str], ctx: Context) -> str:
    load = "/".join(f"{x:.1f}" for x in ctx.load_before), "/".join(f"{x:.1f}" for x in ctx.load_after)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    baseline = f", baseline = s3emu at {ctx.args['baseline']}" if ctx.args.get("baseline") else ""
    out = [f"`make bench` at {ctx.commit}{baseline}, {when}, {os.cpu_count()} cores, "
           f"load average (1/5/15 min) {load[0]} before and {load[1]} after, {ctx.seconds / 60:.1f} min"
           + (" (--quick)" if ctx.args.get("quick") else "") + ".",
           "Medians of interleaved rounds; s3emu with SigV4 checked and `fast` durability unless marked fsync, "
           f"{event_loop()}; "
           f"small requests are 4 KiB from 16 connections; the multipart upload is {ctx.args['size_mib']} MiB "
           "in 8 MiB parts, 8 at a time.", ""]
    out += figures_table(m, servers) + [""] + ratios_table(m, servers) + [""]
    out += ["GET latency (4 KiB, 8 connections) alone and while one heavy request runs:", ""]
    out += stalls_table(m) + [""] + targets_table(m) + s3emu_tables(rows)
    return "\n".join(out) + "\n"
