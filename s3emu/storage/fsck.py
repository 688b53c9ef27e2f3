"""Consistency check of a data directory: metadata against data files.

Safe on a live directory. Files are listed before the metadata is read, so a
write committing meanwhile is never taken for an orphan; a file found missing
is looked up again, so one deleted meanwhile is never reported; and files
younger than `grace` seconds (writes still in flight) are left alone.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from .blobs import IN_DATABASE
from .store import Store

READ_CHUNK = 1 << 20
_BLOB_NAME = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Problem:
    """One disagreement between the metadata and the data files."""

    kind: str  # missing, short, long, digest, orphan, tmp, stray, layout
    what: str  # the data file, or the object/part it belongs to
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:8} {self.what}: {self.detail}"


@dataclass
class Report:
    """What check() found: counts, problems, and what it left alone or repaired."""

    objects: int = 0
    parts: int = 0
    files: int = 0
    checked_bytes: int = 0
    problems: list[Problem] = field(default_factory=list)
    young: int = 0  # unreferenced files within the grace period: writes in flight
    pending: int = 0  # files whose rows are gone, awaiting deletion
    repaired: int = 0

    @property
    def unrepaired(self) -> list[Problem]:
        """The problems a repair did not (or could not) fix."""
        fixable = {"orphan", "tmp"}
        return [p for p in self.problems if p.kind not in fixable] if self.repaired else self.problems

    @property
    def sound(self) -> bool:
        """Whether nothing is left wrong."""
        return not self.unrepaired


@dataclass
class _Ref:
    file: str
    size: int
    md5: str  # hex, recorded when the file was written
    owner: str  # "bucket/key (version v) part n" or "upload u part n"


def check(store: Store, *, verify_digests: bool = False, repair: bool = False, grace: float = 3600.0,
          now: float | None = None) -> Report:
    """Check every object's and part's data files (existence, size, and with
    verify_digests their MD5), and look for files nothing refers to. With
    repair, unreferenced files older than `grace` are removed."""
    now = time.time() if now is None else now
    report = Report()
    on_disk = _list_files(store)  # before the metadata: see the module docstring
    tmp_files = list(store.blobs.tmp.iterdir())
    refs, layout = _references(store, report, verify_digests)
    report.problems += layout
    report.files = len(on_disk)
    for ref in refs:
        problem = _check_file(store, ref, verify_digests, report)
        if problem is not None and _still_referenced(store, ref.file):
            report.problems.append(problem)
    referenced = {r.file for r in refs}
    garbage = {r[0] for r in store.db.execute("SELECT file FROM garbage UNION SELECT file FROM held_garbage")}
    report.pending = len(garbage)  # to be unlinked (some once the readers holding them are done)
    orphans = []
    for name, path in on_disk.items():
        if name in referenced or name in garbage or _still_referenced(store, name) or not os.path.exists(path):
            continue
        if _age(path, now) < grace:
            report.young += 1
            continue
        if not _BLOB_NAME.match(name) or path.parent.name != name[:2]:
            report.problems.append(Problem("stray", str(path.relative_to(store.root)), "not a data file s3emu made"))
            continue
        orphans.append(path)
        report.problems.append(Problem("orphan", name, f"{_size(path)} bytes that no object or part refers to"))
    stale_tmp = [p for p in tmp_files if _age(p, now) >= grace and os.path.exists(p)]
    report.young += len(tmp_files) - len(stale_tmp)
    for p in stale_tmp:
        report.problems.append(Problem("tmp", str(p.relative_to(store.root)), "an abandoned partial write"))
    if repair and (orphans or stale_tmp):
        for path in orphans + stale_tmp:
            # a last look: never remove what a commit has just claimed
            if path in orphans and _still_referenced(store, path.name):
                continue
            _unlink(path)
            report.repaired += 1
    return report


def _list_files(store: Store) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for sub in store.blobs.blobs.iterdir():
        if sub.is_dir():
            for f in sub.iterdir():
                found[f.name] = f
        else:
            found[sub.name] = sub
    return found


def _check_in_database(data: bytes | None, size: int, md5: str, owner: str, verify_digests: bool,
                       report: Report) -> Problem | None:
    """A segment whose bytes are in the database (no data file): as _check_file."""
    if data is None:
        return Problem("missing", owner, "its bytes are not in the database")
    if len(data) != size:
        kind = "short" if len(data) < size else "long"
        return Problem(kind, owner, f"{len(data)} bytes in the database, {size} recorded")
    if verify_digests:
        report.checked_bytes += size
        actual = hashlib.md5(data).hexdigest()
        if actual != md5:
            return Problem("digest", owner, f"its bytes in the database have MD5 {actual}, {md5} recorded")
    return None


def _references(store: Store, report: Report, verify_digests: bool) -> tuple[list[_Ref], list[Problem]]:
    """Every data file the metadata names, read in one snapshot, and any
    object whose segments do not add up to it or whose bytes in the
    database are wrong."""
    refs: list[_Ref] = []
    problems: list[Problem] = []
    db = store.db
    db.execute("BEGIN")
    try:
        objects = db.execute("SELECT id, bucket, key, version_id, size FROM objects WHERE delete_marker=0").fetchall()
        report.objects = len(objects)
        for obj in objects:
            name = f"{obj['bucket']}/{obj['key']}" + (f" (version {obj['version_id']})"
                                                      if obj["version_id"] != "null" else "")
            start = 0
            for seg in db.execute("SELECT s.part_number, s.start, s.size, s.file, s.etag, d.data FROM segments s"
                                  " LEFT JOIN inline_data d ON s.file='' AND d.object_id=s.object_id"
                                  " WHERE s.object_id=? ORDER BY s.part_number", (obj["id"],)):
                if seg["start"] != start:
                    problems.append(Problem("layout", name, f"segment {seg['part_number']} starts at "
                                                            f"{seg['start']}, expected {start}"))
                start = seg["start"] + seg["size"]
                owner = f"{name} segment {seg['part_number']}"
                if seg["file"] == IN_DATABASE:
                    problem = _check_in_database(seg["data"], seg["size"], seg["etag"], owner, verify_digests, report)
                    problems += [problem] if problem is not None else []
                else:
                    refs.append(_Ref(seg["file"], seg["size"], seg["etag"], owner))
            if start != obj["size"]:
                problems.append(Problem("layout", name, f"segments hold {start} bytes, the object {obj['size']}"))
        parts = db.execute("SELECT p.upload_id, p.part_number, p.size, p.etag, p.file, u.bucket, u.key"
                           " FROM parts p LEFT JOIN uploads u ON u.upload_id=p.upload_id AND u.state='open'"
                           ).fetchall()
        report.parts = len(parts)
        for p in parts:
            owner = f"upload {p['upload_id']} of {p['bucket']}/{p['key']} part {p['part_number']}"
            if p["bucket"] is None:
                problems.append(Problem("layout", f"upload {p['upload_id']} part {p['part_number']}",
                                        "a part of no upload in progress"))
            refs.append(_Ref(p["file"], p["size"], p["etag"], owner))
    finally:
        db.execute("COMMIT")
    return refs, problems


def _check_file(store: Store, ref: _Ref, verify_digests: bool, report: Report) -> Problem | None:
    try:
        path = store.blobs.path(ref.file)
        size = os.stat(path).st_size
    except (ValueError, FileNotFoundError):
        return Problem("missing", ref.owner, f"data file {ref.file} is missing")
    if size != ref.size:
        kind = "short" if size < ref.size else "long"
        return Problem(kind, ref.owner, f"data file {ref.file} holds {size} bytes, {ref.size} recorded")
    if verify_digests:
        report.checked_bytes += size
        try:
            actual = _md5(path)
        except FileNotFoundError:
            return Problem("missing", ref.owner, f"data file {ref.file} is missing")
        if actual != ref.md5:
            return Problem("digest", ref.owner, f"data file {ref.file} has MD5 {actual}, {ref.md5} recorded")
    return None


def _still_referenced(store: Store, file: str) -> bool:
    db = store.db
    return bool(db.execute("SELECT 1 FROM segments WHERE file=? UNION ALL SELECT 1 FROM parts WHERE file=?",
                           (file, file)).fetchone())


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in _chunks(f):
            h.update(chunk)
    return h.hexdigest()


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    while chunk := f.read(READ_CHUNK):
        yield chunk


def _age(path: Path, now: float) -> float:
    try:
        return now - os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0  # gone meanwhile: nothing to report


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
