"""Starting and stopping the server on an event loop: shared by the command
line, the worker processes and the Python API."""
from __future__ import annotations

import asyncio
import errno
import gc
import os
import signal
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Coroutine, TypeVar

from aiohttp import web

from .. import tls
from ..app import make_app, make_website_app
from ..config import Config
from ..ops import accesslog
from ..ops import faults
from ..storage import StorageError, Store, UnsupportedDataDirectory
from . import buckets


T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main), on uvloop's event loop when uvloop is installed
    (the `fast` extra)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def freeze_startup_objects() -> None:
    """Leave what starting made (modules, the application, the store) out of
    the cycle collector's passes from now on: a full pass holds every thread
    for as long as it takes, and tens of thousands fewer objects to visit
    shorten it several-fold. For a process that only serves (not s3emu.serve
    inside someone else's program, whose objects this would pin)."""
    gc.collect()
    gc.freeze()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory if it is installed, else None (asyncio's own loop)."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM (the handlers stay installed, so a second
    signal does not interrupt the shutdown that follows)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows' loops: a plain handler hands over to the loop
            signal.signal(sig, lambda _signum, _frame: loop.call_soon_threadsafe(stop.set))
    await stop.wait()


def open_store(config: Config) -> Store:
    """The store of config.data_dir, as durable as config.durability says."""
    return Store(config.data_dir, durable=config.durability == "fsync")


@dataclass
class Running:
    runner: web.AppRunner
    store: Store
    endpoint: str
    website: web.AppRunner | None = None
    website_endpoint: str | None = None  # the website port's URL, when config.website_port is set

    async def stop(self) -> None:
        """Finishes requests in flight, then closes the store."""
        try:
            if self.website is not None:
                await self.website.cleanup()
            await self.runner.cleanup()
        finally:
            self.store.close()


def check(config: Config) -> Config:
    """What only the server's parts can judge in a configuration: its fault
    rules, TLS files and data directory. ValueError with a readable message."""
    faults.validate_all(config.faults)
    tls.server_context(config.tls_cert, config.tls_key)
    check_data_dir(Path(config.data_dir))
    return config


def check_data_dir(root: Path) -> None:
    """The data directory exists or can be made, and can be written. ValueError."""
    where = f"data directory {root}"
    if root.exists() and not root.is_dir():
        raise ValueError(f"{where} is not a directory: choose another with --data-dir or S3EMU_DATA_DIR")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"{where} cannot be created or written ({e.strerror or e}): fix its permissions, or choose "
                         "another with --data-dir or S3EMU_DATA_DIR") from None


def explain(exc: BaseException, config: Config) -> str | None:
    """One line saying why the server could not start and what to do, for
    the failures a person can fix; None for anything else (a bug: show the traceback)."""
    if isinstance(exc, ValueError):
        return str(exc)  # settings, TLS files, fault rules, the data directory
    if isinstance(exc, UnsupportedDataDirectory):
        return f"data directory {exc}"
    if isinstance(exc, StorageError):
        return f"data directory {config.data_dir}: {exc}"
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"data directory {config.data_dir} cannot be opened ({exc}): is it an s3emu data directory "
                "on a local disk?")
    if isinstance(exc, OSError):
        address = f"{config.host}:{config.port}"
        if exc.errno == errno.EADDRINUSE:
            return (f"port {config.port} on {config.host} is in use: stop what listens there, or choose "
                    "another port with --port or S3EMU_PORT (0 picks a free one)")
        if exc.errno == errno.EACCES and exc.filename is None:
            return f"not allowed to listen on {address}: use a port above 1023, or another --host"
        if exc.errno in (errno.EADDRNOTAVAIL, getattr(errno, "EAI_NONAME", -1)) or isinstance(exc, socket.gaierror):
            return f"cannot listen on {address}: {config.host} is not an address of this machine"
        return f"cannot start: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return None


def reset_faults(config: Config) -> None:
    """A starting server's fault rules: the configured ones, whatever an earlier run left."""
    rules = faults.FaultSet.of(config.data_dir)
    try:
        rules.reset(config.faults)
    finally:
        rules.close()


async def start(config: Config, *, shutdown_timeout: float = 10.0, recover: bool = True,
                reuse_port: bool = False, metrics_dir: str | None = None) -> Running:
    """Opens the store (recovering from any crash and creating the configured
    buckets, unless a parent process already did), then listens. Returns
    once the server accepts requests."""
    ssl_context = tls.server_context(config.tls_cert, config.tls_key)
    store = open_store(config)
    try:
        if recover:
            store.recover()
            reset_faults(config)
            await buckets.create(store, config)
        runner = await _listen(make_app(config, store, metrics_dir), config, config.port, ssl_context,
                               reuse_port, shutdown_timeout)
    except BaseException:
        store.close()
        raise
    running = Running(runner, store, _url(config, runner))
    if config.website_port is not None:
        try:
            running.website = await _listen(make_website_app(config, store), config, config.website_port,
                                            ssl_context, reuse_port, shutdown_timeout)
        except BaseException:
            await running.stop()
            raise
        running.website_endpoint = _url(config, running.website)
    return running


async def _listen(app: web.Application, config: Config, port: int, ssl_context: Any, reuse_port: bool,
                  shutdown_timeout: float) -> web.AppRunner:
    """A runner serving `app` on config.host:port, with the access log."""
    # aiohttp closes a connection whose request headers are not all in within keepalive_timeout
    # of its opening or of its previous response, and discards a body nobody read (a refused
    # upload's) for at most lingering_time before closing
    runner = web.AppRunner(app, access_log=accesslog.log, access_log_class=accesslog.AccessLogger,
                           shutdown_timeout=shutdown_timeout, keepalive_timeout=config.request_header_timeout,
                           lingering_time=min(10.0, config.request_idle_timeout))
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, port, reuse_port=reuse_port or None, ssl_context=ssl_context).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _url(config: Config, runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"{tls.scheme(config.tls_cert)}://{host}:{port}"
