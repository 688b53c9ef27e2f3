"""Prometheus metrics, in the text exposition format: request counts, bytes
and latency by S3 operation, and what the store holds."""
from __future__ import annotations

import bisect
from collections import defaultdict

from aiohttp import web

from ..storage import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Latency histogram bucket bounds, seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, value)] += 1
        self.sum += value


class Metrics:
    """Counters fed by the access logger after each response is sent."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.bytes_in: dict[str, int] = defaultdict(int)
        self.bytes_out: dict[str, int] = defaultdict(int)
        self.latency: dict[str, Histogram] = defaultdict(Histogram)

    def observe(self, operation: str, status: int, bytes_in: int, bytes_out: int, seconds: float) -> None:
        self.requests[(operation, status)] += 1
        self.bytes_in[operation] += bytes_in
        self.bytes_out[operation] += bytes_out
        self.latency[operation].observe(seconds)

    def render(self, store: Store) -> str:
        usage = store.usage()
        out: list[str] = []
        _family(out, "s3emu_requests_total", "counter", "S3 requests by operation and HTTP status.",
                [(f'operation="{_esc(op)}",status="{st}"', n) for (op, st), n in sorted(self.requests.items())])
        _family(out, "s3emu_received_bytes_total", "counter", "Request bytes received, by operation.",
                [(f'operation="{_esc(op)}"', n) for op, n in sorted(self.bytes_in.items())])
        _family(out, "s3emu_sent_bytes_total", "counter", "Response body bytes sent, by operation.",
                [(f'operation="{_esc(op)}"', n) for op, n in sorted(self.bytes_out.items())])
        out += ["# HELP s3emu_request_duration_seconds Time to answer a request, by operation.",
                "# TYPE s3emu_request_duration_seconds histogram"]
        for op, hist in sorted(self.latency.items()):
            label, total = f'operation="{_esc(op)}"', 0
            for bound, count in zip((*BUCKETS, "+Inf"), hist.counts):
                total += count
                out.append(f's3emu_request_duration_seconds_bucket{{{label},le="{bound}"}} {total}')
            out.append(f"s3emu_request_duration_seconds_sum{{{label}}} {hist.sum:.6f}")
            out.append(f"s3emu_request_duration_seconds_count{{{label}}} {total}")
        _family(out, "s3emu_uploads_in_progress", "gauge", "Multipart uploads created and not yet completed "
                "or aborted.", [("", usage["uploads"])])
        _family(out, "s3emu_stored_objects", "gauge", "Objects stored (every version).", [("", usage["objects"])])
        _family(out, "s3emu_stored_bytes", "gauge", "Bytes of object data stored (every version).",
                [("", usage["bytes"])])
        return "\n".join(out) + "\n"


METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)


def _family(out: list[str], name: str, kind: str, help_text: str, samples: list[tuple[str, int]]) -> None:
    out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    out += [f"{name}{{{labels}}} {value}" if labels else f"{name} {value}" for labels, value in samples]


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
