"""`s3emu serve --workers N`: N server processes on one port.

The parent recovers the data directory once, then forks workers that each
listen on the same port with SO_REUSEPORT, so the kernel spreads connections
over them. They share the store safely: metadata through SQLite (WAL,
BEGIN IMMEDIATE for writers), data files by unique names.
"""
from __future__ import annotations

import logging
import os
import select
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import replace
from typing import Callable

from .. import tls
from ..config import Config
from . import buckets, launch

log = logging.getLogger("s3emu")


def _reserve_port(host: str) -> socket.socket:
    """A bound, never-listening SO_REUSEPORT socket: fixes the port number for
    `--port 0` without taking any connections itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return sock


async def _worker(config: Config, ready_fd: int, metrics_dir: str) -> None:
    running = await launch.start(config, recover=False, reuse_port=True, metrics_dir=metrics_dir)
    os.write(ready_fd, b"r")
    os.close(ready_fd)
    try:
        await launch.until_signalled()
    finally:
        await running.stop()


def _fork_worker(config: Config, ready_w: int, ready_r: int, metrics_dir: str) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(ready_r)
        code = 0
        try:
            launch.run(_worker(config, ready_w, metrics_dir))
        except BaseException:
            log.exception("worker %d failed", os.getpid())
            code = 1
        os._exit(code)
    return pid


def _check_port_free(host: str, port: int) -> None:
    """OSError EADDRINUSE if anything listens on the port: the workers' own
    SO_REUSEPORT bind would otherwise share it with another s3emu."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, port))


def run(config: Config, workers: int, on_ready: Callable[[str], None], timeout: float = 30.0) -> int:
    """Run `workers` processes until SIGINT/SIGTERM; returns an exit status.
    ValueError where processes cannot share a port (Windows)."""
    if not hasattr(os, "fork") or not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("--workers needs fork() and SO_REUSEPORT (Linux, macOS); use one worker here")
    if config.port != 0:
        _check_port_free(config.host, config.port)
    store = launch.open_store(config)
    try:
        store.recover()
        launch.run(buckets.create(store, config))
    finally:
        store.close()
    launch.reset_faults(config)
    reserved = None
    if config.port == 0:
        reserved = _reserve_port(config.host)
        config = replace(config, port=reserved.getsockname()[1])
    ready_r, ready_w = os.pipe()
    # the workers' metrics, added up at each scrape: a new, empty directory for this run
    metrics_dir = tempfile.mkdtemp(prefix="s3emu-metrics-")
    pids = [_fork_worker(config, ready_w, ready_r, metrics_dir) for _ in range(workers)]
    os.close(ready_w)
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    ready, deadline = 0, time.monotonic() + timeout
    while ready < workers and time.monotonic() < deadline:
        readable, _, _ = select.select([ready_r], [], [], 0.2)
        if readable:
            got = os.read(ready_r, workers)
            if not got:
                break
            ready += len(got)
    os.close(ready_r)
    host = f"[{config.host}]" if ":" in config.host else config.host
    status = 0
    if ready == workers:
        on_ready(f"{tls.scheme(config.tls_cert)}://{host}:{config.port}")
    else:
        log.error("only %d of %d workers started", ready, workers)
        forward(signal.SIGTERM, None)
        status = 1
    for pid in pids:
        while True:
            try:
                _, code = os.waitpid(pid, 0)
                break
            except ChildProcessError:
                code = 0
                break
            except InterruptedError:
                continue
        if code and not stopping:
            log.error("worker %d exited with status %d", pid, code)
            forward(signal.SIGTERM, None)
            status = 1
    if reserved is not None:
        reserved.close()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    return status
