"""Admin subcommands that work on a data directory directly, also while a
server is running on it (SQLite's WAL lets several processes share it):

  s3emu uploads list  [--data-dir D] [--bucket B] [--prefix P] [--older-than DURATION]
  s3emu uploads abort [same filters]
  s3emu fsck [--data-dir D] [--repair] [--verify-digests] [--grace DURATION]
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

from .. import config as config_mod
from ..protocol.dates import iso8601
from ..storage import StorageError, Store
from ..storage.fsck import check
from . import launch

COMMANDS = ("uploads", "fsck")


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("uploads", help="list or abort multipart uploads in progress")
    p.add_argument("action", choices=["list", "abort"])
    _data_dir_args(p)
    p.add_argument("--bucket", help="only this bucket")
    p.add_argument("--prefix", default="", help="only keys starting with this")
    p.add_argument("--older-than", metavar="DURATION", default="0s",
                   help="only uploads initiated longer ago than this (30s, 15m, 2h, 7d)")
    p = sub.add_parser("fsck", help="check that metadata and data files agree; exit 1 if not")
    _data_dir_args(p)
    p.add_argument("--repair", action="store_true", help="remove data files nothing refers to")
    p.add_argument("--verify-digests", action="store_true", help="also read every data file and check its MD5")
    p.add_argument("--grace", metavar="DURATION", default="1h",
                   help="leave unreferenced files younger than this alone: writes may still be in flight "
                        "(default 1h; 0 when no server is running)")


def _data_dir_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="the server's data directory (default: from --config, else ./data)")
    p.add_argument("--config", help="TOML settings file to take data_dir from")


def run(args: argparse.Namespace) -> int:
    """`s3emu uploads` or `s3emu fsck`; 2, with one line on stderr, when the
    data directory cannot be opened or written (both need to write to it:
    SQLite keeps its WAL index beside the database, and uploads aborts)."""
    try:
        store = _open(args)
    except (ValueError, OSError) as e:
        print(f"s3emu: {e}", file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, StorageError) as e:
        return _unwritable(args, e)
    try:
        if args.command == "uploads":
            return _uploads(store, args)
        return _fsck(store, args)
    except ValueError as e:
        print(f"s3emu: {e}", file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, StorageError) as e:
        return _unwritable(args, e)
    finally:
        store.close()


def _unwritable(args: argparse.Namespace, e: Exception) -> int:
    where = args.data_dir or "the data directory"
    print(f"s3emu: {where} cannot be opened for writing ({e}); `s3emu {args.command}` needs write access "
          "to it, as the server does", file=sys.stderr)
    return 2


def _open(args: argparse.Namespace) -> Store:
    """The existing store (never a new one made by a typo), without start-up recovery."""
    config = config_mod.load(args.config, {"data_dir": args.data_dir}, os.environ)
    root = Path(config.data_dir)
    if not (root / "meta.sqlite3").is_file():
        raise ValueError(f"{root} is not an s3emu data directory (no meta.sqlite3)")
    return launch.open_store(config)


def _uploads(store: Store, args: argparse.Namespace) -> int:
    older_than = _duration("--older-than", args.older_than)
    uploads = store.uploads_older_than(time.time() - older_than, args.bucket, args.prefix)
    aborted = 0
    for u in uploads:
        line = f"{u.bucket}\t{u.key}\t{u.upload_id}\t{iso8601(u.initiated, millis=False)}"
        if args.action == "list":
            print(line)
            continue
        try:
            store.abort_multipart_upload(u.bucket, u.key, u.upload_id)
        except StorageError:
            continue  # completed or aborted meanwhile
        aborted += 1
        print(f"aborted\t{line}")
    if args.action == "list":
        print(f"{len(uploads)} upload(s) in progress", file=sys.stderr)
    else:
        print(f"{aborted} upload(s) aborted")
    return 0


def _fsck(store: Store, args: argparse.Namespace) -> int:
    report = check(store, verify_digests=args.verify_digests, repair=args.repair,
                   grace=_duration("--grace", args.grace))
    for problem in report.problems:
        print(problem)
    print(f"checked {report.objects} object(s), {report.parts} part(s), {report.files} data file(s)"
          + (f", {report.checked_bytes} bytes read" if args.verify_digests else "")
          + f"; {len(report.problems)} problem(s)"
          + (f", {report.repaired} removed" if args.repair else "")
          + (f"; {report.young} recent file(s) skipped (writes in flight?)" if report.young else "")
          + (f"; {report.pending} file(s) awaiting deletion" if report.pending else ""))
    return 0 if report.sound else 1


def _duration(flag: str, value: str) -> float:
    try:
        return config_mod.parse_duration(value)
    except ValueError as e:
        raise ValueError(f"{flag}: {e}, got {value!r}") from None
