"""Buckets created at start-up from the settings (`[[buckets]]` tables or
S3EMU_BUCKETS), idempotently: a bucket that exists is kept with what it
holds, and the settings given are applied to it again. CORS and lifecycle
rules are S3's own (PutBucketCors / PutBucketLifecycleConfiguration in
their JSON shape, as the AWS CLI takes them) and are checked by the same
code that checks those requests. Seed files are uploaded under their path
in the directory, where that key does not exist yet."""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from lxml import etree

from ..api.buckets import check_bucket_name
from ..api.lifecycle import parse_lifecycle
from ..config import BucketSpec, Config
from ..http.errors import S3Error
from ..protocol import checksums, cors
from ..protocol.headers import object_meta
from ..storage import Store
from ..storage.errors import DeleteMarkerHit, NoSuchBucket, NoSuchKey

log = logging.getLogger("s3emu")
# list members whose XML element is named in the singular
_XML_NAMES = {"CORSRules": "CORSRule", "AllowedOrigins": "AllowedOrigin", "AllowedMethods": "AllowedMethod",
              "AllowedHeaders": "AllowedHeader", "ExposeHeaders": "ExposeHeader", "Rules": "Rule",
              "Transitions": "Transition", "NoncurrentVersionTransitions": "NoncurrentVersionTransition",
              "Tags": "Tag"}
NOT_YET = ("policy", "notification")
CHUNK = 1024 * 1024


async def create(store: Store, config: Config) -> None:
    """Create and configure config.buckets. ValueError naming the bucket and
    the setting when one cannot be applied."""
    for i, spec in enumerate(config.buckets):
        where = f"buckets[{i}] ({spec.name})"
        try:
            await _apply(store, config, spec)
        except S3Error as e:
            raise ValueError(f"{where}: {e.code}: {e.message}") from None
        except _Problem as e:
            raise ValueError(f"{where}: {e}") from None


class _Problem(Exception):
    pass


async def _apply(store: Store, config: Config, spec: BucketSpec) -> None:
    check_bucket_name(spec.name)
    try:
        bucket = store.get_bucket(spec.name)
    except NoSuchBucket:
        bucket = store.create_bucket(spec.name, spec.region or config.region, object_lock=spec.object_lock)
        log.info("bucket %s created", spec.name)
    if spec.object_lock and not bucket.object_lock:
        store.put_bucket_versioning(spec.name, "Enabled")
        store.put_object_lock_configuration(spec.name, {})
    if spec.versioning:
        if spec.versioning != "Enabled" and (spec.object_lock or bucket.object_lock):
            raise _Problem("versioning: a bucket with Object Lock cannot have versioning Suspended")
        store.put_bucket_versioning(spec.name, spec.versioning)
    if spec.cors is not None:
        store.set_bucket_config(spec.name, "cors", cors.parse_configuration(_xml("CORSConfiguration", spec.cors)))
    if spec.lifecycle is not None:
        store.set_bucket_config(spec.name, "lifecycle", parse_lifecycle(_xml("LifecycleConfiguration",
                                                                             spec.lifecycle)))
    for name in NOT_YET:
        if getattr(spec, name) is not None:
            log.warning("bucket %s: %s is not supported by s3emu yet; the setting is accepted and not applied",
                        spec.name, name)
    if spec.seed:
        await _seed(store, spec.name, Path(spec.seed))


def _xml(root: str, rules: list[dict[str, Any]]) -> bytes:
    """S3's XML document from the JSON shape of its rules (the AWS CLI's)."""
    top = etree.Element(root)
    member = "CORSRule" if root == "CORSConfiguration" else "Rule"
    for rule in rules:
        _fill(etree.SubElement(top, member), rule)
    return etree.tostring(top)


def _fill(elem: etree._Element, value: Any) -> None:
    if not isinstance(value, dict):
        raise _Problem(f"expected a table of S3's element names, got {value!r}")
    for name, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            child = etree.SubElement(elem, _XML_NAMES.get(str(name), str(name)))
            if isinstance(one, dict):
                _fill(child, one)
            else:
                child.text = str(one).lower() if isinstance(one, bool) else str(one)


async def _seed(store: Store, bucket: str, root: Path) -> None:
    """Each file under root becomes the object at its relative path (with
    "/"), unless that key exists: a restart leaves changed objects alone."""
    added = 0
    for key, path, size in _seed_files(root):
        try:
            store.get_object(bucket, key)
            continue
        except DeleteMarkerHit:
            continue  # deleted since: it stays deleted
        except NoSuchKey:
            pass
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        meta = {**object_meta({"Content-Type": content_type}),
                **checksums.object_fields(checksums.DEFAULT_ALGORITHM)}
        await store.put_object(bucket, key, _read(path), meta=meta, size=size,  # type: ignore[arg-type]
                               algorithms=[checksums.DEFAULT_ALGORITHM])
        added += 1
    log.info("bucket %s: %d seed file(s) uploaded from %s", bucket, added, root)


def _seed_files(root: Path) -> list[tuple[str, Path, int]]:
    """(key, path, size) of every file under root, in key order."""
    if not root.is_dir():
        raise _Problem(f"seed: {root} is not a directory")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return [(p.relative_to(root).as_posix(), p, p.stat().st_size) for p in files]


async def _read(path: Path) -> AsyncIterator[bytes]:
    for chunk in _chunks(path):  # small local files, read at start-up before any request
        yield chunk


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk
