"""The metadata database: one SQLite file in WAL mode.

Every change to what is visible (an object appearing, an upload completing) is
one transaction here, so it is atomic and survives a crash. Several server
processes may share the file; writers serialise with BEGIN IMMEDIATE, after
taking an flock on `<name>.lock` beside it: a writer of another process then
waits in the kernel and starts the moment the lock is let go, rather than in
SQLite's busy handler, which polls with sleeps of up to 100 ms.

The file records its format in `PRAGMA user_version`: a directory written by an
older s3emu is brought up to date when opened (UPGRADES), one written by a
newer s3emu is refused.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import StorageFull, UnsupportedDataDirectory
from .writer import giving_way_in_slices

log = logging.getLogger("s3emu.storage")
BUSY_TIMEOUT_MS = 30000  # how long a statement waits for another connection's lock
CHECKPOINT_FRAMES = 1000  # pages in the write-ahead log past which the writer copies it into the database
# the log file: a header, then a frame (a header and a page) per page written:
# https://www.sqlite.org/fileformat2.html#walformat
WAL_HEADER_BYTES, FRAME_HEADER_BYTES = 32, 24


def wal_bytes(page_size: int, frames: int = CHECKPOINT_FRAMES) -> int:
    """The size in bytes of a write-ahead log of `frames` pages of page_size bytes."""
    return WAL_HEADER_BYTES + frames * (FRAME_HEADER_BYTES + page_size)

# Format 1: the tables as first released (directories from before user_version was set hold 0).
SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name        TEXT PRIMARY KEY,
    created     REAL NOT NULL,
    region      TEXT NOT NULL,
    versioning  TEXT,               -- NULL (never enabled), 'Enabled', 'Suspended'
    object_lock INTEGER NOT NULL DEFAULT 0,
    config      TEXT NOT NULL DEFAULT '{}'  -- JSON: lifecycle, cors, ...
);

-- One row per object version. Unversioned buckets hold only version 'null'.
-- Keys are TEXT, compared by SQLite's BINARY collation: UTF-8 byte order, as S3 lists.
CREATE TABLE IF NOT EXISTS objects (
    id            INTEGER PRIMARY KEY,
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    version_id    TEXT NOT NULL,
    seq           INTEGER NOT NULL,     -- newer versions of a key have larger seq
    is_latest     INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,        -- unquoted
    last_modified REAL NOT NULL,
    parts_count   INTEGER,              -- set for multipart objects
    meta          TEXT NOT NULL         -- JSON: content headers, user metadata, checksums, ...
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_version ON objects(bucket, key, version_id);
CREATE INDEX IF NOT EXISTS objects_history ON objects(bucket, key, seq);
CREATE INDEX IF NOT EXISTS objects_current ON objects(bucket, key)
    WHERE is_latest = 1 AND delete_marker = 0;

-- The data files an object is made of, in order. A single PUT has one segment;
-- a completed multipart upload adopts its part files as segments.
CREATE TABLE IF NOT EXISTS segments (
    object_id   INTEGER NOT NULL,
    part_number INTEGER NOT NULL,
    start       INTEGER NOT NULL,       -- offset of this segment in the object
    size        INTEGER NOT NULL,
    file        TEXT NOT NULL,
    etag        TEXT NOT NULL,
    checksums   TEXT,
    PRIMARY KEY (object_id, part_number)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS uploads (
    upload_id   TEXT PRIMARY KEY,
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    initiated   REAL NOT NULL,
    state       TEXT NOT NULL,          -- 'open' or 'completed'
    meta        TEXT NOT NULL,          -- JSON: headers for the final object
    result      TEXT                    -- JSON, once completed: object id, etag, part list digest
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, upload_id);

CREATE TABLE IF NOT EXISTS parts (
    upload_id     TEXT NOT NULL,
    part_number   INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    file          TEXT NOT NULL,
    last_modified REAL NOT NULL,
    checksums     TEXT,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;

-- Data files whose rows are gone, to unlink after the transaction commits
-- (and again at start-up, should the process die in between).
CREATE TABLE IF NOT EXISTS garbage (file TEXT PRIMARY KEY) WITHOUT ROWID;
"""


# Format 3: read leases. A reader of an object version too large to open all
# its data files at once leases it (storage/reads.py): while the lease lives,
# the files of that version are held back from deletion even if it is dropped.
LEASES = """
CREATE TABLE IF NOT EXISTS read_leases (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    object_id INTEGER NOT NULL,
    until     REAL NOT NULL             -- a lease not renewed by then has lapsed (its reader is gone)
);
CREATE INDEX IF NOT EXISTS read_leases_by_object ON read_leases(object_id);

-- Data files of dropped versions that a lease holds back: garbage once none does.
CREATE TABLE IF NOT EXISTS held_garbage (
    file      TEXT PRIMARY KEY,
    object_id INTEGER NOT NULL
) WITHOUT ROWID;
"""

# Format 4: event notifications waiting for delivery, and job leases that elect one
# process for a background job.
OUTBOX = """
CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order; never reused
    target       TEXT NOT NULL,         -- where it goes: a URL or a file path
    message      TEXT NOT NULL,         -- JSON: the event message
    created      REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    due          REAL NOT NULL DEFAULT 0  -- not before then (an event of the future: a restore's completion)
);
CREATE INDEX IF NOT EXISTS outbox_by_target ON outbox(target, id);

CREATE TABLE IF NOT EXISTS job_leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
"""

# Format 5: (1) a generation that every change to the buckets table replaces (triggers,
# so no writer can forget it): a process keeps the rows it has read and asks only the
# generation whether they still hold (Buckets.get, asked twice or more per request).
# It is random, not counted up: a rolled-back change must not leave a value behind
# that a later change could take again. (2) Small objects' bytes in the database: a
# segment whose file is '' (blobs.IN_DATABASE) has them in inline_data, which goes
# with the segment's row whichever statement deletes it.
FORMAT_5 = """
CREATE TABLE IF NOT EXISTS generations (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO generations(name, value) VALUES ('buckets', 0);
CREATE TRIGGER IF NOT EXISTS buckets_inserted AFTER INSERT ON buckets
BEGIN UPDATE generations SET value = random() WHERE name = 'buckets'; END;
CREATE TRIGGER IF NOT EXISTS buckets_updated AFTER UPDATE ON buckets
BEGIN UPDATE generations SET value = random() WHERE name = 'buckets'; END;
CREATE TRIGGER IF NOT EXISTS buckets_deleted AFTER DELETE ON buckets
BEGIN UPDATE generations SET value = random() WHERE name = 'buckets'; END;

CREATE TABLE IF NOT EXISTS inline_data (
    object_id INTEGER PRIMARY KEY,      -- the version whose one segment this is
    data      BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS inline_segment_deleted AFTER DELETE ON segments WHEN old.file = ''
BEGIN DELETE FROM inline_data WHERE object_id = old.object_id; END;
"""

# UPGRADES[n] takes a format n database to format n + 1. Format 0 is format 1
# without its version recorded (or an empty file): the CREATE IF NOT EXISTS
# statements of SCHEMA make it whole.
UPGRADES: dict[int, str] = {
    0: SCHEMA,
    # Format 2: buckets name their owner's canonical id; NULL (buckets made
    # before) stands for the default account.
    1: "ALTER TABLE buckets ADD COLUMN owner TEXT;",
    2: LEASES,
    3: OUTBOX,
    4: FORMAT_5,
}
VERSION = len(UPGRADES)


def connect(path: Path, durable: bool) -> sqlite3.Connection:
    """Open (creating or upgrading) the metadata database at `path`.

    Raises UnsupportedDataDirectory when a newer s3emu wrote it, StorageFull
    when an upgrade cannot be written."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        conn.row_factory = sqlite3.Row
        # before any table exists (a new file): pages freed by deletes can be given back to the disk
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL syncs the WAL on every commit: an acknowledged write survives power loss.
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys=OFF")
        # a deleted row's pages are freed, not overwritten with zeros first (some builds' default):
        # deleting a small object must not write its size again to the log, on a full disk least of all
        conn.execute("PRAGMA secure_delete=FAST")
        # a savepoint's undo pages (every staged write has one) in memory, not a temporary file
        # opened, written page by page and deleted again per transaction
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # when SQLite starts the log over, its file is cut back to CHECKPOINT_FRAMES pages: past
        # that size, it holds more (Database.checkpoint_when_due), and one large write's growth
        # does not stay on the disk
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA journal_size_limit={wal_bytes(page_size)}")
        _upgrade(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


class Database:
    """The metadata database as each thread sees it: one connection per thread,
    opened on first use, since a SQLite connection must not serve two threads
    at once. In the server the event loop's thread reads, and writes run on
    the store's writer thread (Store.call), each with its own connection; a
    command-line tool uses one thread and so one connection.

    It offers what the tables use of a connection (execute, executemany,
    in_transaction), so `transaction(db)` works on it as on a connection."""

    def __init__(self, path: Path, durable: bool) -> None:
        self.path = path
        self.durable = durable
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[sqlite3.Connection] = []
        self._lock_fds: list[int] = []
        self.connection()  # opened (and upgraded) now, so a bad directory fails at once
        self._wal_path = Path(f"{path}-wal")
        # the log file's size when SQLite cuts it back (connect): past it, the log is due a checkpoint
        self._wal_limit = self.execute("PRAGMA journal_size_limit").fetchone()[0]

    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self.durable)
            self._local.conn = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def checkpoint_when_due(self) -> bool:
        """Copy the write-ahead log into the database file (a PASSIVE
        checkpoint: readers are not waited for) once it holds more than
        CHECKPOINT_FRAMES pages, as SQLite does inside the commit that fills
        it; whether it ran. The writer thread calls it after each job's answer
        has gone: from the first call on, this thread's commits no longer
        checkpoint (wal_autocheckpoint=0), so no request waits for the copy
        and its two syncs (~10 ms here, `fast` durability too). The log's fill
        is its file's size (one stat, no file of SQLite's opened, whose
        closing would drop SQLite's locks): connect() has the file cut back to
        CHECKPOINT_FRAMES pages whenever SQLite starts the log over. The copy
        runs under the writers' lock, as it did inside a commit: another
        process's writes wait for it to end rather than append to the log
        meanwhile, and the log can then start over instead of growing. Never
        raises: a checkpoint that fails (a full disk) is logged once and tried
        again after the next job. Source: https://www.sqlite.org/wal.html#ckpt"""
        conn = self.connection()
        if not getattr(self._local, "own_checkpoints", False):
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._local.own_checkpoints = True
        try:
            size = os.stat(self._wal_path).st_size
        except OSError:
            return False  # no log yet
        if size <= self._wal_limit or conn.in_transaction:
            return False
        try:
            with self.write_lock():
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as e:
            if not getattr(self._local, "checkpoint_failed", False):  # once, not after every job
                log.warning("write-ahead log not copied into the database yet: %s", e)
            self._local.checkpoint_failed = True
            return False
        self._local.checkpoint_failed = False
        return True

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold the writers' lock (blocking): this thread's own open file, so
        threads and processes alike exclude each other; reopened after a fork,
        whose child must not share its parent's lock."""
        held: tuple[int, int] | None = getattr(self._local, "lock", None)
        if held is None or held[0] != os.getpid():
            held = self._open_lock()
        if held is None:  # a read-only directory, say: SQLite's own lock still serialises writers
            yield
            return
        fcntl.flock(held[1], fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held[1], fcntl.LOCK_UN)

    def _open_lock(self) -> tuple[int, int] | None:
        """This thread's (pid, file descriptor) of the lock file; None if it cannot be opened."""
        try:
            held = (os.getpid(), os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644))
        except OSError:
            return None
        self._local.lock = held
        with self._lock:
            self._lock_fds.append(held[1])
        return held

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        return self.connection().executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self.connection().in_transaction

    def close(self) -> None:
        """Close every thread's connection; the Database is unusable afterwards."""
        with self._lock:
            conns, self._open = self._open, []
            fds, self._lock_fds = self._lock_fds, []
        for conn in conns:
            conn.close()
        for fd in fds:
            os.close(fd)


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    if _version(conn) == VERSION:
        return  # the common case: nothing to write
    with transaction(conn):  # processes opening the directory together upgrade it once
        found = _version(conn)
        _upgrade_tables(conn, path, found)
    if found < 5 and conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0:
        _vacuum(conn, path)


def _upgrade_tables(conn: sqlite3.Connection, path: Path, found: int) -> None:
    """Inside the upgrade's transaction: bring the tables from format `found` to VERSION."""
    if found > VERSION:
        raise UnsupportedDataDirectory(path.parent, found, VERSION)
    for version in range(found, VERSION):
        for statement in _statements(UPGRADES[version]):
            try:
                conn.execute(statement)
            except sqlite3.OperationalError as e:
                if "duplicate column" not in str(e):  # a format-0 file may already have it
                    raise
    conn.execute(f"PRAGMA user_version={VERSION}")


def _vacuum(conn: sqlite3.Connection, path: Path) -> None:
    """Rewrite a database made before format 5 with incremental auto-vacuum, so that pages
    freed by deletes (small objects' bytes, since format 5) can be given back to the disk
    (release_free_pages). Once, at the upgrade; if it cannot be done now (no room for the
    copy, another process reading), the directory works as before, keeping its free pages."""
    try:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    except sqlite3.OperationalError as e:
        log.warning("%s keeps the pages deletes free (VACUUM: %s)", path, e)


def _statements(script: str) -> list[str]:
    """A script's statements one by one (executescript would commit the transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


@contextmanager
def snapshot(conn: Any) -> Iterator[Any]:
    """A read transaction: every read inside sees the database as of its first
    one, whatever other threads and processes commit meanwhile (WAL). It takes
    no lock that a writer waits for. Same rules as `transaction`."""
    if conn.in_transaction:
        raise RuntimeError("a transaction is already open on this connection: transactions do not nest")
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """A write transaction (on a connection or a Database) that takes the
    write lock up front, so a read-check-write sequence inside it cannot
    interleave with another writer.

    The rules that keep this safe:
    - never `await` between BEGIN and COMMIT: the block runs to its end on one
      thread, so no other request's statements land inside it;
    - one connection per thread (Database), made after any fork; in the server
      every write runs on the store's writer thread, so the event loop never
      waits for the write lock, a commit's fsync or another process;
    - no nesting: BEGIN inside a transaction is refused (RuntimeError), so a
      helper that needs one must be called inside its caller's.

    Raises StorageFull (nothing was committed) when SQLite reports a full disk
    or a read-only file; other SQLite errors propagate after the rollback."""
    if conn.in_transaction:
        raise RuntimeError("a transaction is already open on this connection: transactions do not nest")
    with conn.write_lock() if isinstance(conn, Database) else nullcontext():
        yield from _write_transaction(conn)


def _write_transaction(conn: Any) -> Iterator[Any]:
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as e:
        raise _storage_error(e) from e


def _storage_error(e: sqlite3.OperationalError) -> Exception:
    """StorageFull for a full disk or a read-only file, else the error itself."""
    message = str(e).lower()
    if "disk is full" in message:
        return StorageFull()
    if "readonly" in message or "read-only" in message:
        return StorageFull(writable=False)
    return e


def commit_together(db: Database, stages: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    """Run each stage in one write transaction, each inside a savepoint: a
    stage that raises is rolled back alone and the others commit together.
    Returns (True, what it returned) or (False, its error) for each stage, in
    order; if the commit itself fails, every stage that had succeeded gets
    that error (none of them happened)."""
    outcomes: list[tuple[bool, Any]] = []
    try:
        with transaction(db):
            for stage in stages:
                db.execute("SAVEPOINT staged")
                try:
                    outcomes.append((True, stage()))
                except Exception as e:
                    if not db.in_transaction:  # SQLite gave up the whole transaction (disk full...)
                        raise
                    db.execute("ROLLBACK TO staged")
                    mapped = _storage_error(e) if isinstance(e, sqlite3.OperationalError) else e
                    outcomes.append((False, mapped))
                db.execute("RELEASE staged")
    except Exception as e:
        failed = [(False, e)] * (len(stages) - len(outcomes))
        return [(False, e) if ok else (ok, value) for ok, value in outcomes] + failed
    return outcomes


# Rows a bulk read or insert (a Complete's 10,000 parts) moves in one statement, as one JSON text:
# a step per row hands the GIL to the event loop and waits to take it back, each time, which made
# such a Complete take seconds while GETs ran; one statement for all holds the GIL for tens of ms.
ROWS_PER_STATEMENT = 500


def json_chunks(rows: Sequence[Any]) -> Iterator[str]:
    """`rows` as JSON arrays of up to ROWS_PER_STATEMENT items each, for one
    statement apiece (json_each(?) in SQL)."""
    for chunk in giving_way_in_slices(rows, ROWS_PER_STATEMENT):
        yield json.dumps(chunk)


FREE_PAGES_KEPT = 256  # pages (1 MiB) deletes may leave free for new rows before they go back to the disk
# Below this much free space on its disk, the database gives freed pages back; above it, they stay
# in the file for new rows, as in any database: shortening the file and emptying the log after
# every large delete would make concurrent reads wait on the log's reset.
RELEASE_BELOW_FREE_BYTES = 256 * 1024 * 1024


def release_free_pages(db: Database) -> bool:
    """Give the disk back the pages deleted rows left free (small objects'
    bytes are kept in the database), once more than FREE_PAGES_KEPT and
    the disk has less than RELEASE_BELOW_FREE_BYTES free: the file is
    shortened and the write-ahead log emptied, as deleting a data file
    frees its space. The log is emptied only if no reader is in it (no
    waiting). Whether pages were released; raises StorageFull."""
    # the disk first: one system call, where the free list is a statement on the writer's
    # connection, and this runs after every batch of writes
    disk = os.statvfs(db.path.parent)
    if disk.f_bavail * disk.f_frsize >= RELEASE_BELOW_FREE_BYTES:
        return False  # room enough: SQLite reuses the pages for new rows
    if db.execute("PRAGMA freelist_count").fetchone()[0] <= FREE_PAGES_KEPT:
        return False
    if db.in_transaction:
        raise RuntimeError("release_free_pages runs outside any transaction")
    with db.write_lock():
        conn = db.connection()
        try:
            # the log copied first (the writer's commits leave that for later): the vacuum's pages
            # then go to the log's start again instead of growing it, on a disk with no room for that
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            conn.executescript("PRAGMA incremental_vacuum;")  # to its end: execute() frees one page
            conn.execute("PRAGMA busy_timeout=0")
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.OperationalError as e:
            raise _storage_error(e) from e
    return True
