"""Bucket records."""
from __future__ import annotations

import json
import time
from typing import Any

from .base import StoreBase
from .db import transaction
from .errors import BucketAlreadyOwnedByYou, BucketNotEmpty, NoSuchBucket
from .models import BucketInfo


class BucketOps(StoreBase):
    def create_bucket(self, name: str, region: str, object_lock: bool = False) -> BucketInfo:
        with transaction(self.db) as db:
            if db.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone():
                raise BucketAlreadyOwnedByYou(
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    BucketName=name)
            versioning = "Enabled" if object_lock else None
            db.execute("INSERT INTO buckets(name, created, region, versioning, object_lock) VALUES (?,?,?,?,?)",
                       (name, time.time(), region, versioning, int(object_lock)))
        return self.get_bucket(name)

    def get_bucket(self, name: str) -> BucketInfo:
        row = self.db.execute("SELECT * FROM buckets WHERE name=?", (name,)).fetchone()
        if row is None:
            raise NoSuchBucket("The specified bucket does not exist", BucketName=name)
        return BucketInfo.from_row(row)

    def list_buckets(self) -> list[BucketInfo]:
        return [BucketInfo.from_row(r) for r in self.db.execute("SELECT * FROM buckets ORDER BY name")]

    def delete_bucket(self, name: str) -> None:
        """Like S3: refused while any object version remains; uploads still in
        progress are aborted with the bucket."""
        with transaction(self.db) as db:
            self.get_bucket(name)
            if db.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)).fetchone():
                raise BucketNotEmpty("The bucket you tried to delete is not empty", BucketName=name)
            ids = [r[0] for r in db.execute("SELECT upload_id FROM uploads WHERE bucket=?", (name,))]
            for upload_id in ids:
                self._drop_parts(upload_id)
            db.execute("DELETE FROM uploads WHERE bucket=?", (name,))
            db.execute("DELETE FROM buckets WHERE name=?", (name,))
        self._collect_garbage()

    def set_bucket_config(self, name: str, item: str, value: Any) -> None:
        """Store (or with None, remove) one bucket sub-resource: lifecycle, cors, ..."""
        with transaction(self.db):
            config = self.get_bucket(name).config
            if value is None:
                config.pop(item, None)
            else:
                config[item] = value
            self.db.execute("UPDATE buckets SET config=? WHERE name=?", (json.dumps(config), name))

    def set_versioning(self, name: str, status: str) -> None:
        with transaction(self.db):
            self.get_bucket(name)
            self.db.execute("UPDATE buckets SET versioning=? WHERE name=?", (status, name))
