"""`s3emu serve --workers N`: N server processes on one port.

The parent recovers the data directory once, then forks workers that each
listen on the same port with SO_REUSEPORT, so the kernel spreads connections
over them, and stays to supervise them: a worker that dies is logged and
replaced. They share the store safely: metadata through SQLite (WAL,
BEGIN IMMEDIATE for writers), data files by unique names, fault rules
through their own SQLite file (ops/faults.py).
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
from collections import deque
from dataclasses import replace
from typing import Callable

from .. import tls
from ..config import Config
from . import buckets, launch

log = logging.getLogger("s3emu")

MAX_RESTARTS = 5  # replacements allowed within RESTART_WINDOW seconds before the server gives up
RESTART_WINDOW = 60


def _reserve_port(host: str) -> socket.socket:
    """A bound, never-listening SO_REUSEPORT socket: fixes the port number for
    `--port 0` without taking any connections itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return sock


async def _worker(config: Config, ready_fd: int | None, metrics_dir: str) -> None:
    running = await launch.start(config, recover=False, reuse_port=True, metrics_dir=metrics_dir)
    launch.freeze_startup_objects()
    if ready_fd is not None:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
    try:
        await launch.until_signalled()
    finally:
        await running.stop()


def _fork_worker(config: Config, metrics_dir: str, ready_w: int | None = None, ready_r: int | None = None) -> int:
    """A worker process; it writes a byte to ready_w once it accepts connections."""
    pid = os.fork()
    if pid == 0:  # the worker
        if ready_r is not None:
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


def _how_it_ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by signal {-code} ({signal.Signals(-code).name})"
    return f"exited with status {code}"


class _Workers:
    """The worker processes: started, replaced when one dies, signalled to stop."""

    def __init__(self, config: Config, metrics_dir: str) -> None:
        self.config = config
        self.metrics_dir = metrics_dir
        self.pids: set[int] = set()
        self.stopping = False
        self.restarts: deque[float] = deque()

    def signal_all(self, signum: int) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def stop(self, signum: int = signal.SIGTERM, _frame: object = None) -> None:
        self.stopping = True
        self.signal_all(signum)

    def supervise(self) -> int:
        """Wait for the workers to end. One that ends while the server runs is
        logged and replaced, unless workers keep dying (more than MAX_RESTARTS
        within RESTART_WINDOW seconds): then the server stops with status 1."""
        status = 0
        while self.pids:
            try:
                pid, how = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid not in self.pids:
                continue
            self.pids.discard(pid)
            if self.stopping:
                continue
            log.error("worker %d %s", pid, _how_it_ended(how))
            now = time.monotonic()
            self.restarts.append(now)
            while self.restarts and self.restarts[0] < now - RESTART_WINDOW:
                self.restarts.popleft()
            if len(self.restarts) > MAX_RESTARTS:
                log.error("workers keep dying (%d in %d s): stopping", len(self.restarts), RESTART_WINDOW)
                self.stop()
                status = 1
                continue
            # nobody waits for it to be ready: until it listens, the kernel hands connections to the others
            replacement = _fork_worker(self.config, self.metrics_dir)
            self.pids.add(replacement)
            log.info("worker %d started in place of worker %d", replacement, pid)
        return status


def run(config: Config, workers: int, on_ready: Callable[[str, str | None], None], timeout: float = 30.0) -> int:
    """Run `workers` processes until SIGINT/SIGTERM, replacing any that dies;
    returns an exit status. ValueError where processes cannot share a port (Windows)."""
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
    reserved: list[socket.socket] = []
    if config.port == 0:
        reserved.append(_reserve_port(config.host))
        config = replace(config, port=reserved[-1].getsockname()[1])
    if config.website_port == 0:
        reserved.append(_reserve_port(config.host))
        config = replace(config, website_port=reserved[-1].getsockname()[1])
    ready_r, ready_w = os.pipe()
    # the workers' metrics, added up at each scrape: a new, empty directory for this run
    metrics_dir = tempfile.mkdtemp(prefix="s3emu-metrics-")
    group = _Workers(config, metrics_dir)
    group.pids.update(_fork_worker(config, metrics_dir, ready_w, ready_r) for _ in range(workers))
    os.close(ready_w)
    signal.signal(signal.SIGINT, group.stop)
    signal.signal(signal.SIGTERM, group.stop)
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
        scheme = tls.scheme(config.tls_cert)
        on_ready(f"{scheme}://{host}:{config.port}",
                 None if config.website_port is None else f"{scheme}://{host}:{config.website_port}")
    else:
        log.error("only %d of %d workers started", ready, workers)
        group.stop()
        status = 1
    status = group.supervise() or status
    for sock in reserved:
        sock.close()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    return status
