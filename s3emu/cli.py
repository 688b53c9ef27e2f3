"""The `s3emu` command."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from aiohttp import web

from storage import Store

from . import config as config_mod
from .app import make_app
from .config import Config, Credential

log = logging.getLogger("s3emu")


def _serve_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"host": args.host, "port": args.port, "data_dir": args.data_dir,
                                 "region": args.region, "min_part_size": args.min_part_size,
                                 "max_part_size": args.max_part_size, "max_parts": args.max_parts,
                                 "durability": args.durability}
    if args.no_auth:
        overrides["auth"] = False
    if args.access_key or args.secret_key:
        if not (args.access_key and args.secret_key):
            raise SystemExit("--access-key and --secret-key go together")
        overrides["credentials"] = [Credential(args.access_key, args.secret_key)]
    return overrides


async def serve(config: Config, ready: Any = None) -> None:
    """Run the server until SIGINT/SIGTERM, then finish in-flight requests and stop."""
    store = Store(config.data_dir, durable=config.durability == "fsync")
    store.recover()
    runner = web.AppRunner(make_app(config, store), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    endpoint = f"http://{host}:{port}"
    log.info("s3emu ready on %s, data in %s", endpoint, store.root.resolve())
    print(f"s3emu ready on {endpoint}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("s3emu shutting down")
        await runner.cleanup()
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="s3emu", description="A local S3-compatible object store")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the S3 server")
    p.add_argument("--config", help="TOML settings file (see config.example.toml)")
    p.add_argument("--host")
    p.add_argument("--port", type=int, help="port to listen on (0 picks a free one)")
    p.add_argument("--data-dir")
    p.add_argument("--region")
    p.add_argument("--access-key")
    p.add_argument("--secret-key")
    p.add_argument("--no-auth", action="store_true", help="accept requests with any or no signature")
    p.add_argument("--min-part-size", type=int, help="smallest non-last multipart part, bytes")
    p.add_argument("--max-part-size", type=int, help="largest part, bytes")
    p.add_argument("--max-parts", type=int, help="highest part number (1..10000)")
    p.add_argument("--durability", choices=["fsync", "fast"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if args.command == "serve":
        try:
            config = config_mod.load(args.config, _serve_overrides(args))
        except (ValueError, OSError) as e:
            print(f"s3emu: {e}", file=sys.stderr)
            return 2
        asyncio.run(serve(config))
    return 0
