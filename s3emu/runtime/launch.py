"""Starting and stopping the server on an event loop: shared by the command
line, the worker processes and the Python API."""
from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, TypeVar

from aiohttp import web

from .. import tls
from ..app import make_app
from ..config import Config
from ..ops import accesslog
from ..ops.faults import FaultSet
from ..storage import Store


T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main), on uvloop's event loop when uvloop is installed
    (the `fast` extra)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


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
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def open_store(config: Config) -> Store:
    """The store of config.data_dir, as durable as config.durability says."""
    return Store(config.data_dir, durable=config.durability == "fsync")


@dataclass
class Running:
    runner: web.AppRunner
    store: Store
    endpoint: str

    async def stop(self) -> None:
        """Finishes requests in flight, then closes the store."""
        try:
            await self.runner.cleanup()
        finally:
            self.store.close()


def check(config: Config) -> Config:
    """What only the server's parts can judge in a configuration: its fault
    rules and TLS files. ValueError with a readable message."""
    FaultSet(config.faults)
    tls.server_context(config.tls_cert, config.tls_key)
    return config


async def start(config: Config, *, shutdown_timeout: float = 10.0, recover: bool = True,
                reuse_port: bool = False) -> Running:
    """Opens the store (recovering from any crash, unless a parent process
    already did), then listens. Returns once the server accepts requests."""
    ssl_context = tls.server_context(config.tls_cert, config.tls_key)
    store = open_store(config)
    try:
        if recover:
            store.recover()
        runner = web.AppRunner(make_app(config, store), access_log=accesslog.log,
                               access_log_class=accesslog.AccessLogger, shutdown_timeout=shutdown_timeout)
        await runner.setup()
        try:
            await web.TCPSite(runner, config.host, config.port, reuse_port=reuse_port or None,
                              ssl_context=ssl_context).start()
        except BaseException:
            await runner.cleanup()
            raise
    except BaseException:
        store.close()
        raise
    host, port = runner.addresses[0][:2]
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return Running(runner, store, f"{tls.scheme(config.tls_cert)}://{host}:{port}")
