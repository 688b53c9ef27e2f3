"""`s3emu health`: asks a running server's /_s3emu/health, for container
health checks and scripts. The address comes from the same settings as
`s3emu serve` (flags, S3EMU_* variables, config file), so it needs none of
its own in a container."""
from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import urllib.request

from .. import config as config_mod
from ..config import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("health", help="check that a running server answers; exit 0 if it does, 1 if not")
    p.add_argument("--config", metavar="FILE", default=os.environ.get("S3EMU_CONFIG") or None,
                   help="TOML settings file the server uses (default: none; env S3EMU_CONFIG)")
    p.add_argument("--url", help="the server's endpoint (default: from its host, port and tls_cert settings)")
    p.add_argument("--host", help="the server's host, in place of the host setting (env S3EMU_HOST)")
    p.add_argument("--port", type=int, help="the server's port, in place of the port setting (env S3EMU_PORT)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer (default: 5)")


def run(args: argparse.Namespace) -> int:
    url = args.url
    if not url:
        try:
            config = config_mod.load(args.config, {"host": args.host, "port": args.port}, os.environ)
        except ConfigError as e:
            print(f"s3emu: {e.problems[0]}", file=sys.stderr)
            return 2
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(config.host, config.host)
        host = f"[{host}]" if ":" in host else host
        url = f"{'https' if config.tls_cert else 'http'}://{host}:{config.port}"
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # its own certificate, often self-signed
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_s3emu/health", timeout=args.timeout,
                                    context=context) as response:
            status = json.loads(response.read())
    except (OSError, ValueError) as e:
        print(f"s3emu: {url} does not answer: {e}", file=sys.stderr)
        return 1
    print(json.dumps(status))
    return 0 if status.get("status") == "ok" else 1
