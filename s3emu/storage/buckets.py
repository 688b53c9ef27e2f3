"""The buckets table: names, regions, versioning state and configuration."""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from .db import Database, transaction
from .errors import BucketAlreadyExists, BucketAlreadyOwnedByYou, NoSuchBucket
from .meta import BucketConfig
from .models import BucketInfo


class Buckets:
    """The buckets table; every other table asks it whether a bucket exists."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # rows as read at one generation of the table (db.FORMAT_5): replaced whole, never
        # changed in place, so a thread holding an older one cannot mix it with a newer one
        self._cache: tuple[int, dict[str, BucketInfo]] = (-1, {})

    def create(self, name: str, region: str, object_lock: bool = False, owner: str | None = None,
               config: BucketConfig | None = None) -> BucketInfo:
        """A new bucket (versioning enabled with Object Lock) owned by
        `owner` with its first `config`; BucketAlreadyExists (another owner's)
        or BucketAlreadyOwnedByYou if it exists."""
        with transaction(self.db) as db:
            row = db.execute("SELECT owner FROM buckets WHERE name=?", (name,)).fetchone()
            if row is not None:
                if row["owner"] != owner:
                    raise BucketAlreadyExists(BucketName=name)
                raise BucketAlreadyOwnedByYou(BucketName=name)
            versioning = "Enabled" if object_lock else None
            db.execute("INSERT INTO buckets(name, created, region, versioning, object_lock, config, owner) "
                       "VALUES (?,?,?,?,?,?,?)", (name, time.time(), region, versioning, int(object_lock),
                                                  json.dumps(config or {}), owner))
        return self.get(name)

    def get(self, name: str) -> BucketInfo:
        """The bucket called `name`, or NoSuchBucket. Shared with other
        callers: treat it as read-only. One small query when the table has
        not changed since the row was last read (by any thread or process)."""
        generation = self.db.execute("SELECT value FROM generations WHERE name='buckets'").fetchone()[0]
        cache = self._cache
        if cache[0] != generation:
            cache = self._cache = (generation, {})
        info = cache[1].get(name)
        if info is None:
            # read after the generation: a row at least as new as the one it names
            row = self.db.execute("SELECT * FROM buckets WHERE name=?", (name,)).fetchone()
            if row is None:
                raise NoSuchBucket(BucketName=name)
            info = cache[1][name] = BucketInfo.from_row(row)
        return info

    def all(self) -> list[BucketInfo]:
        """Every bucket, by name."""
        return [BucketInfo.from_row(r) for r in self.db.execute("SELECT * FROM buckets ORDER BY name")]

    def drop(self, name: str) -> None:
        """Inside a transaction: forget the bucket's row."""
        self.db.execute("DELETE FROM buckets WHERE name=?", (name,))

    def put_config(self, name: str, item: str, value: object) -> None:
        """Store (or with None, remove) one sub-resource of the bucket's config."""
        self.update_config(name, {item: value})

    def update_config(self, name: str, changes: Mapping[str, Any]) -> None:
        """Store (or with None, remove) several sub-resources of the bucket's config at once."""
        with transaction(self.db):
            config: dict[str, Any] = dict(self.get(name).config)
            for item, value in changes.items():
                if value is None:
                    config.pop(item, None)
                else:
                    config[item] = value
            self._write(name, config)

    def put_config_entry(self, name: str, item: str, entry_id: str, value: Any, limit: int | None = None) -> bool:
        """Store one entry of a sub-resource kept by id (inventory, metrics...),
        or with None remove it. False, changing nothing, when there is no
        such entry to remove, or when adding one would pass `limit`."""
        with transaction(self.db):
            config: dict[str, Any] = dict(self.get(name).config)
            entries = dict(config.get(item) or {})
            if value is None:
                if entries.pop(entry_id, None) is None:
                    return False
            elif entry_id not in entries and limit is not None and len(entries) >= limit:
                return False
            else:
                entries[entry_id] = value
            config[item] = entries
            if not entries:
                del config[item]
            self._write(name, config)
        return True

    def _write(self, name: str, config: dict[str, Any]) -> None:
        self.db.execute("UPDATE buckets SET config=? WHERE name=?", (json.dumps(config), name))

    def put_versioning(self, name: str, status: str, mfa_delete: str | None = None) -> None:
        """Set the versioning state, "Enabled" or "Suspended", and with
        mfa_delete the MFA delete state in the same commit."""
        with transaction(self.db):
            info = self.get(name)
            self.db.execute("UPDATE buckets SET versioning=? WHERE name=?", (status, name))
            if mfa_delete is not None:
                self._write(name, {**info.config, "mfa_delete": mfa_delete})

    def put_object_lock(self, name: str, config: BucketConfig) -> None:
        """Inside a transaction: turn Object Lock on with this config."""
        self.db.execute("UPDATE buckets SET object_lock=1, config=? WHERE name=?", (json.dumps(config), name))
