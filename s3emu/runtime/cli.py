"""The `s3emu` command."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal, Optional, get_args, get_origin, get_type_hints

from ..version import __version__
from .. import config as config_mod
from ..config import Config, ConfigError
from . import admin_cli, health, launch, logs, workers

log = logging.getLogger("s3emu")


def _help(f: Any) -> str:
    default = config_mod.default_of(f)
    shown = "unset" if default is None else str(default).lower() if isinstance(default, bool) else default
    return f"{f.metadata['help']} (default: {shown}; env {config_mod.env_name(f.name)})"


def add_serve_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`s3emu serve`: one flag per setting, generated from Config, defaults shown."""
    p = sub.add_parser("serve", help="run the S3 server",
                       description="Run the S3 server. Each setting comes from its flag, else its S3EMU_* "
                                   "environment variable, else the config file, else its default.")
    p.add_argument("--config", metavar="FILE", default=os.environ.get("S3EMU_CONFIG") or None,
                   help="TOML settings file, see config.example.toml (default: none; env S3EMU_CONFIG)")
    hints = get_type_hints(Config, include_extras=True)
    for f in fields(Config):
        if not f.metadata.get("flag", True):
            continue
        kind = hints[f.name]
        if kind is bool:
            p.add_argument(config_mod.flag_name(f.name), dest=f.name, action=argparse.BooleanOptionalAction,
                           default=None, help=_help(f))
            continue
        choices = list(get_args(kind)) if get_origin(kind) is Literal else None
        metavar = None if choices else _metavar(kind) or ("N" if "int" in str(kind) else f.name.split("_")[-1].upper())
        p.add_argument(config_mod.flag_name(f.name), dest=f.name, metavar=metavar, default=None,
                       choices=choices, help=_help(f))
    p.add_argument("--domain", action="append", dest="domains", metavar="DOMAIN",
                   help="bucket.DOMAIN addresses a bucket (virtual-hosted style); repeatable, replaces the "
                        "configured list (default: localhost; env S3EMU_DOMAINS, comma-separated)")
    p.add_argument("--website-domain", action="append", dest="website_domains", metavar="DOMAIN",
                   help="bucket.DOMAIN reaches the website endpoint (on either port); repeatable, replaces the "
                        "configured list (default: s3-website.localhost; env S3EMU_WEBSITE_DOMAINS, comma-separated)")
    p.add_argument("--access-key", help="the access key clients sign with; with --secret-key, replaces the "
                                        "configured credentials (default: s3emu, or AWS_ACCESS_KEY_ID if set; "
                                        "env S3EMU_ACCESS_KEY)")
    p.add_argument("--secret-key", help="its secret key (default: s3emu-secret, or AWS_SECRET_ACCESS_KEY if "
                                        "set; env S3EMU_SECRET_KEY)")
    p.add_argument("--ready-file", metavar="PATH", default=os.environ.get("S3EMU_READY_FILE") or None,
                   help="once requests are accepted, write the endpoint URL to PATH, atomically; removed at "
                        "shutdown (default: none; env S3EMU_READY_FILE)")
    _debug_flag(p)


def _metavar(kind: Any) -> str | None:
    if kind is config_mod.Size:
        return "SIZE"
    if kind in (config_mod.Seconds, Optional[config_mod.Duration]):
        return "DURATION"
    return None


def _debug_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", default=_env_true("S3EMU_DEBUG"),
                   help="show the traceback of a failure to start, and debug log lines (default: off; env S3EMU_DEBUG)")


def _env_true(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags (None: not given)."""
    flags = {f.name: getattr(args, f.name, None) for f in fields(Config)}
    if args.access_key or args.secret_key:
        if not (args.access_key and args.secret_key):
            raise ConfigError(["flag --access-key and --secret-key go together: give both or neither"])
        flags["credentials"] = [{"access_key": args.access_key, "secret_key": args.secret_key}]
    return flags


def write_ready_file(path: str, endpoint: str) -> None:
    """The endpoint URL, written atomically: a reader sees the whole file or none."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(endpoint + "\n")
    os.replace(tmp, target)


def remove_ready_file(path: str | None) -> None:
    """At shutdown: a stale file never says "ready"."""
    if path:
        Path(path).unlink(missing_ok=True)


def banner(config: Config, endpoint: str) -> str:
    """What a person needs to start using the server; never the secret key."""
    access_key = config.credentials[0].access_key if config.credentials else "-"
    auth = "signatures checked" if config.auth else "auth off: any signature or none is accepted"
    workers_note = f", {config.workers} worker processes" if config.workers > 1 else ""
    return (f"s3emu ready on {endpoint}\n"
            f"  region {config.region}, access key {access_key} ({auth}){workers_note}\n"
            f"  data in {Path(config.data_dir).resolve()}\n"
            + (f"  console: {endpoint}/_s3emu/console/\n" if config.console else "") +
            f"  try: AWS_ACCESS_KEY_ID={access_key} AWS_SECRET_ACCESS_KEY=<its secret key> "
            f"aws --endpoint-url {endpoint} --region {config.region} s3 ls")


def announce(config: Config, endpoint: str, ready_file: str | None, website: str | None = None) -> None:
    """The ready banner, printed once (by the parent alone with --workers), then the ready file;
    the website endpoint's URL first when config.website_port is set."""
    if website:
        print(f"s3emu website endpoint on {website}", flush=True)
    print(banner(config, endpoint), flush=True)
    log.debug("s3emu ready on %s", endpoint)
    if ready_file:
        write_ready_file(ready_file, endpoint)


async def serve(config: Config, ready_file: str | None = None) -> None:
    """Run the server until SIGINT/SIGTERM, then finish in-flight requests and stop."""
    running = await launch.start(config)
    launch.freeze_startup_objects()
    announce(config, running.endpoint, ready_file, running.website_endpoint)
    try:
        await launch.until_signalled()
    finally:
        log.info("s3emu shutting down")
        remove_ready_file(ready_file)
        await running.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="s3emu", description="A local S3-compatible object store")
    parser.add_argument("--version", action="version", version=f"s3emu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    admin_cli.add_parsers(sub)
    health.add_parser(sub)
    args = parser.parse_args(argv)
    logs.configure("text", debug=getattr(args, "debug", False))
    if args.command in admin_cli.COMMANDS:
        return admin_cli.run(args)
    if args.command == "health":
        return health.run(args)
    return run_serve(args)


def run_serve(args: argparse.Namespace) -> int:
    """`s3emu serve`: 0 after a clean stop; 2, with one line on stderr, when it cannot start."""
    try:
        config = config_mod.load(args.config, _flags(args), os.environ)
    except ConfigError as e:
        # the format asked for, if it can be told: the settings did not load
        wanted = args.log_format or os.environ.get("S3EMU_LOG_FORMAT", "").strip().lower()
        return refuse(e.problems, json_lines=wanted == "json")
    logs.configure(config.log_format, debug=args.debug)
    for warning in config_mod.unknown_env(os.environ):
        log.warning(warning)
    try:
        launch.check(config)
        if config.workers > 1:
            status = workers.run(config, config.workers,
                                 lambda url, site: announce(config, url, args.ready_file, site))
            remove_ready_file(args.ready_file)
            return status
        launch.run(serve(config, args.ready_file))
    except KeyboardInterrupt:
        return 0
    except Exception as e:
        message = launch.explain(e, config)
        if message is None or args.debug:
            log.error("s3emu could not start", exc_info=True)
        return 1 if message is None else refuse([message], json_lines=config.log_format == "json")
    return 0


def refuse(problems: list[str], *, json_lines: bool) -> int:
    """Why the server cannot start, one line each (JSON log records with
    --log-format json), and exit status 2."""
    if json_lines:
        logs.configure("json")
        for problem in problems:
            log.error(problem)
    else:
        for problem in problems:
            print(f"s3emu: {problem}", file=sys.stderr)
    return 2
