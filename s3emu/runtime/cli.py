"""The `s3emu` command."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..config import Config, Credential
from ..ops import accesslog
from . import admin_cli, launch, workers

log = logging.getLogger("s3emu")


def _serve_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {"host": args.host, "port": args.port, "data_dir": args.data_dir,
                                 "region": args.region, "min_part_size": args.min_part_size,
                                 "max_part_size": args.max_part_size, "max_parts": args.max_parts,
                                 "durability": args.durability, "log_format": args.log_format}
    if args.no_access_log:
        overrides["access_log"] = False
    if args.no_auth:
        overrides["auth"] = False
    overrides.update(tls_cert=args.tls_cert, tls_key=args.tls_key, domains=args.domain)
    if args.cors_allow_all:
        overrides["cors_allow_all"] = True
    if args.no_console:
        overrides["console"] = False
    if args.legacy_permissions:
        overrides["legacy_permissions"] = True
    if args.access_key or args.secret_key:
        if not (args.access_key and args.secret_key):
            raise SystemExit("--access-key and --secret-key go together")
        overrides["credentials"] = [Credential(args.access_key, args.secret_key)]
    return overrides


def write_ready_file(path: str, endpoint: str) -> None:
    """The endpoint URL, written atomically: a reader sees the whole file or none."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(endpoint + "\n")
    os.replace(tmp, target)


def announce(config: Config, endpoint: str, ready_file: str | None) -> None:
    log.info("s3emu ready on %s, data in %s", endpoint, Path(config.data_dir).resolve())
    print(f"s3emu ready on {endpoint}", flush=True)
    if config.console:
        print(f"console: {endpoint}/_s3emu/console/", flush=True)
    if ready_file:
        write_ready_file(ready_file, endpoint)


async def serve(config: Config, ready_file: str | None = None) -> None:
    """Run the server until SIGINT/SIGTERM, then finish in-flight requests and stop."""
    running = await launch.start(config)
    announce(config, running.endpoint, ready_file)
    try:
        await launch.until_signalled()
    finally:
        log.info("s3emu shutting down")
        if ready_file:
            Path(ready_file).unlink(missing_ok=True)  # noqa: ASYNC240 (one unlink at shutdown)
        await running.stop()


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
    p.add_argument("--ready-file", metavar="PATH",
                   help="once requests are accepted, write the endpoint URL to PATH (atomically)")
    p.add_argument("--log-format", choices=["text", "json"], help="access log lines: text (default) or JSON")
    p.add_argument("--no-access-log", action="store_true", help="no access log lines on stderr")
    p.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain)")
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    p.add_argument("--domain", action="append", metavar="DOMAIN",
                   help="bucket.DOMAIN addresses a bucket (virtual-hosted style); repeatable, "
                        "replaces the configured list (default: localhost)")
    p.add_argument("--cors-allow-all", action="store_true",
                   help="buckets without a CORS configuration accept any origin (local development)")
    p.add_argument("--no-console", action="store_true", help="no web console at /_s3emu/console/")
    p.add_argument("--legacy-permissions", action="store_true",
                   help="new buckets as before April 2023: ACLs enabled, no public access block")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run N server processes on one port (SO_REUSEPORT)")
    admin_cli.add_parsers(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if args.command in admin_cli.COMMANDS:
        return admin_cli.run(args)
    if args.command == "serve":
        try:
            config = launch.check(config_mod.load(args.config, _serve_overrides(args)))
        except (ValueError, OSError) as e:
            print(f"s3emu: {e}", file=sys.stderr)
            return 2
        accesslog.configure_stderr()
        if args.workers > 1:
            status = workers.run(config, args.workers, lambda url: announce(config, url, args.ready_file))
            if args.ready_file:
                Path(args.ready_file).unlink(missing_ok=True)
            return status
        launch.run(serve(config, args.ready_file))
    return 0
