"""The outbox: event messages waiting to be delivered, in the metadata
database so that every server process can add to it, one process drains it,
and nothing waiting is lost when the server stops or crashes.

Messages to one target leave in the order they were added (their id): a
target whose oldest message fails waits, with backoff, before anything
newer for it is tried. Leases elect the one process that delivers.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable

from .db import Database, transaction


@dataclass
class Message:
    id: int
    target: str
    message: dict[str, Any]
    attempts: int
    next_attempt: float


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, items: Iterable[tuple[str, dict[str, Any]]], due: float = 0.0) -> int:
        """Queue (target, message) pairs in one transaction, to leave no sooner
        than `due` (seconds since the epoch; now when 0); returns how many. A
        message not due yet holds up none of its target's others."""
        now = time.time()
        rows = [(target, json.dumps(message, separators=(",", ":")), now, due) for target, message in items]
        if rows:
            with transaction(self.db) as db:
                db.executemany("INSERT INTO outbox(target, message, created, due) VALUES (?,?,?,?)", rows)
        return len(rows)

    def heads(self, now: float | None = None) -> list[Message]:
        """The oldest due message of each target, unless it waits for a retry."""
        now = time.time() if now is None else now
        rows = self.db.execute(
            "SELECT o.* FROM outbox o JOIN (SELECT MIN(id) AS id FROM outbox WHERE due <= ? GROUP BY target) h "
            "ON o.id = h.id WHERE o.next_attempt <= ? ORDER BY o.id", (now, now)).fetchall()
        return [Message(r["id"], r["target"], json.loads(r["message"]), r["attempts"], r["next_attempt"])
                for r in rows]

    def delivered(self, message_id: int) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM outbox WHERE id=?", (message_id,))

    def failed(self, message_id: int, retry_at: float) -> None:
        """Count a failed attempt; the message is tried again at retry_at."""
        with transaction(self.db) as db:
            db.execute("UPDATE outbox SET attempts=attempts+1, next_attempt=? WHERE id=?", (retry_at, message_id))

    def pending(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold (or renew) the lease `name` for `seconds` unless another holder
        has it unexpired. True when `holder` holds it now. Writes only to take
        the lease or to renew it past half its time."""
        now = time.time()
        row = self.db.execute("SELECT holder, expires FROM job_leases WHERE name=?", (name,)).fetchone()
        if row is not None and row["expires"] > now:
            if row["holder"] != holder:
                return False
            if row["expires"] - now > seconds / 2:
                return True
        with transaction(self.db) as db:
            row = db.execute("SELECT holder, expires FROM job_leases WHERE name=?", (name,)).fetchone()
            if row is not None and row["holder"] != holder and row["expires"] > now:
                return False
            db.execute("INSERT OR REPLACE INTO job_leases(name, holder, expires) VALUES (?,?,?)",
                       (name, holder, now + seconds))
        return True

    def release_lease(self, name: str, holder: str) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM job_leases WHERE name=? AND holder=?", (name, holder))
