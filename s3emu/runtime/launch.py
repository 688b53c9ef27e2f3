"""Starting and stopping the server on the running event loop: shared by the
command line and the Python API."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .. import tls
from ..app import make_app
from ..config import Config
from ..ops import accesslog
from ..ops.faults import FaultSet
from ..storage import Store


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
    store = Store(config.data_dir, durable=config.durability == "fsync")
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
