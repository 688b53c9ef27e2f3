"""Prometheus metrics (prometheus_client): request counts, bytes and latency
by S3 operation; what the store holds; s3emu_build_info; the standard
process metrics.

With --workers every worker counts into its own files in one directory per
server run (prometheus_client's multiprocess mode) and a scrape, answered
by any worker, adds them all up; process metrics then add up the server's
processes. What the store holds is read in a thread, on a connection of its
own, so a scrape never holds up the event loop.
"""
from __future__ import annotations

import asyncio
import os
import platform
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector

from ..version import __version__
from ..storage import Store

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Latency histogram bucket bounds, seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PID_FILE = re.compile(r"[a-z_]+_(\d+)\.db")


class Metrics:
    """The request counters (fed by the access logger after each response)
    and the scrape. `multiprocess_dir`: this process is one of several
    workers that count into that directory (empty at the server's start)."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.registry = CollectorRegistry()
        own: CollectorRegistry | None = self.registry
        if multiprocess_dir:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiprocess_dir
            # this worker's values, in files of its own
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
            MultiProcessCollector(self.registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
            own = None  # counted through the files, not twice
        self.requests = Counter("s3emu_requests", "S3 requests by operation and HTTP status.",
                                ["operation", "status"], registry=own)
        self.bytes_in = Counter("s3emu_received_bytes", "Request bytes received, by operation.", ["operation"],
                                registry=own)
        self.bytes_out = Counter("s3emu_sent_bytes", "Response body bytes sent, by operation.", ["operation"],
                                 registry=own)
        self.latency = Histogram("s3emu_request_duration_seconds", "Time to answer a request, by operation.",
                                 ["operation"], buckets=BUCKETS, registry=own)
        # the labelled children by (operation, status): labels() takes a lock and builds a key each time
        self._children: dict[tuple[str, int], tuple[Counter, Counter, Counter, Histogram]] = {}
        self.store = StoreUsage()
        for collector in (self.store, BuildInfo(), ServerProcesses(multiprocess_dir)):
            self.registry.register(collector)

    def observe(self, operation: str, status: int, bytes_in: int, bytes_out: int, seconds: float) -> None:
        children = self._children.get((operation, status))
        if children is None:
            children = self._children[(operation, status)] = (
                self.requests.labels(operation, str(status)), self.bytes_in.labels(operation),
                self.bytes_out.labels(operation), self.latency.labels(operation))
        requests, received, sent, latency = children
        requests.inc()
        received.inc(bytes_in)
        sent.inc(bytes_out)
        latency.observe(seconds)

    async def render(self, store: Store) -> bytes:
        """The text exposition of every metric."""
        self.store.usage = await asyncio.to_thread(store.usage)
        return generate_latest(self.registry)


class StoreUsage:
    """Gauges of what the store holds, as last read by Metrics.render."""

    def __init__(self) -> None:
        self.usage: dict[str, int] = {}

    def collect(self) -> Iterator[Metric]:
        for name, key, help_text in (
                ("s3emu_uploads_in_progress", "uploads", "Multipart uploads created and not yet completed or "
                                                         "aborted."),
                ("s3emu_stored_objects", "objects", "Objects stored (every version)."),
                ("s3emu_stored_bytes", "bytes", "Bytes of object data stored (every version).")):
            if key in self.usage:
                yield GaugeMetricFamily(name, help_text, value=self.usage[key])


class BuildInfo:
    """s3emu_build_info{version, python, platform} 1."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("s3emu_build_info", "The running s3emu's version, Python and platform.",
                                 labels=["version", "python", "platform"])
        info.add_metric([__version__, platform.python_version(), platform.system().lower()], 1)
        yield info


class ServerProcesses:
    """The standard process_* metrics: of this process, or with workers, of
    the whole server (summed over the parent and every live worker; the
    start time is the parent's)."""

    def __init__(self, multiprocess_dir: str | None) -> None:
        self.multiprocess_dir = multiprocess_dir

    def pids(self) -> list[int]:
        if not self.multiprocess_dir:
            return [os.getpid()]
        workers = {int(m.group(1)) for m in map(_PID_FILE.fullmatch, os.listdir(self.multiprocess_dir)) if m}
        return [os.getppid(), *sorted(p for p in workers | {os.getpid()} if _alive(p))]

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            for family in ProcessCollector(pid=_constant(pid), registry=None).collect():
                if family.name not in families:
                    families[family.name] = family
                    continue
                merged = families[family.name].samples[0]
                value = family.samples[0].value
                if family.name == "process_start_time_seconds":
                    continue  # the first is the parent's: when the server started
                combined = max(merged.value, value) if family.name == "process_max_fds" else merged.value + value
                families[family.name].samples[0] = merged._replace(value=combined)
        return families.values()


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
