"""Object operations: put, get, head, delete, copy."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..auth.access import is_anonymous, may_delete
from ..http.addressing import check_key
from ..http.body import declared_length, payload, read_small
from ..http.errors import S3Error
from ..http.headers import check_override
from ..http.request import S3Request
from ..http.responses import empty_response, object_response, xml_response
from ..http.xml import child_text, children, parse
from ..protocol import checksums, sse, tagging
from ..protocol.dates import iso8601
from ..protocol.headers import (
    RESPONSE_OVERRIDES,
    check_canned_acl,
    check_read_conditions,
    object_headers,
    object_meta,
    parse_etags,
    parse_range,
    requested_storage_class,
)
from ..storage import Deleted, ObjectInfo, ObjectMeta, OpenRange, Segment, WriteCondition, object_tags
from ..storage.errors import InvalidVersionId
from .common import (
    bypass_governance,
    check_readable,
    consistent_read,
    copy_source_headers,
    encrypt,
    expiration_headers,
    new_version_headers,
    new_version_meta,
    notify,
    open_copy_source,
    version_headers,
    write_conditions,
    write_lock,
    write_ownership,
)

MAX_DELETE_KEYS = 1000
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"  # the ETag S3 gives a delete marker in event messages






async def put_object(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    check_canned_acl(req.headers)
    meta = new_version_meta(req, put=True)
    size = declared_length(req)
    if size > req.config.max_object_size:
        raise S3Error("EntityTooLarge", ProposedSize=size, MaxSizeAllowed=req.config.max_object_size)
    md5 = checksums.content_md5(req.headers)
    asked = checksums.requested(req.headers, req.auth)
    algorithm = asked.algorithm or checksums.DEFAULT_ALGORITHM  # S3 keeps a CRC64NVME when none is named
    meta.update(checksums.object_fields(algorithm))
    condition = write_conditions(req)
    verify = checksums.write_verifier(req.auth, md5, asked)
    info = await req.store.put_object(req.bucket, req.key, payload(req), meta=meta, size=size,
                                      algorithms=[algorithm], verify=verify, condition=condition)
    await notify(req, "ObjectCreated:Put", req.key, info)
    return empty_response(headers={"ETag": f'"{info.etag}"', **new_version_headers(info),
                                   **checksums.object_headers(info), **sse.response_headers(info.meta),
                                   **expiration_headers(req, info)})


def _read_target(req: S3Request) -> ObjectInfo:
    assert req.bucket is not None and req.key is not None
    return req.store.get_object(req.bucket, req.key, req.param("versionId"))


def _part_range(req: S3Request, info: ObjectInfo) -> tuple[tuple[int, int] | None, Segment | None]:
    """The byte range of ?partNumber=N: one stored part of a multipart object
    (and that part); part 1 of any other object is the whole of it."""
    number = req.int_param("partNumber", 0, lo=1, hi=10000, clamp=False)
    if not number:
        return None, None
    count = info.parts_count or 1
    if number > count:
        raise S3Error("InvalidPartNumber", PartNumberRequested=number, ActualPartCount=count)
    if info.parts_count is None:
        return ((0, info.size - 1) if info.size else None), None
    seg = req.store.segments(info.id, offset=number - 1, limit=1)[0]
    return (seg.start, seg.start + seg.size - 1), seg


async def get_object(req: S3Request) -> web.StreamResponse:
    return await _read(req, head=False)


async def head_object(req: S3Request) -> web.StreamResponse:
    return await _read(req, head=True)


async def _read(req: S3Request, head: bool) -> web.StreamResponse:
    """GET or HEAD: the version, its headers and its bytes read in one snapshot (consistent_read)."""
    if is_anonymous(req) and any(req.param(param) is not None for param in RESPONSE_OVERRIDES):
        # they would let anyone serve a public object as, say, text/html (AWS GetObject docs)
        raise S3Error("InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests.")
    def look() -> tuple[web.StreamResponse | tuple[int, dict[str, str]], OpenRange | None]:
        info = _read_target(req)
        sse.check_read(req.headers, info.meta)
        if not head:  # AWS: get-object-invalid-state (HEAD still answers)
            check_readable(info)
        with_checksum = checksums.check_mode(req.headers)
        check_read_conditions(req.headers, info)
        headers = {**object_headers(info), **sse.response_headers(info.meta), **expiration_headers(req, info)}
        part_range, part = _part_range(req, info)
        if part_range is not None and req.headers.get("Range"):
            raise S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
        byte_range = part_range or parse_range(req.headers.get("Range"), info.size)
        if part_range is not None and info.parts_count:
            headers["x-amz-mp-parts-count"] = str(info.parts_count)
        for param, header in RESPONSE_OVERRIDES.items():
            value = req.param(param)
            if value is not None:
                headers[header] = check_override(param, value)
        if with_checksum:
            headers.update(checksums.read_headers(info, part, byte_range))
        status = 200
        first, last = 0, info.size - 1
        if byte_range is not None:
            first, last = byte_range
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
        if head or info.size == 0:
            resp = web.StreamResponse(status=status, headers=headers)
            resp.content_length = last - first + 1 if info.size else 0
            return resp, None
        return (status, headers), req.store.open_range(info, first, last)

    answer, opened = await consistent_read(req, look)
    if opened is None:
        assert isinstance(answer, web.StreamResponse)
        return answer
    assert isinstance(answer, tuple)
    status, headers = answer
    return await object_response(opened, status=status, headers=headers)


# conditions of directory buckets: a general purpose bucket answers them 501
# (AWS recordings delete-obj-if-match-last-modified, -size, -all)
_DIRECTORY_DELETE_CONDITIONS = ("x-amz-if-match-last-modified-time", "x-amz-if-match-size")


def delete_condition(req: S3Request) -> WriteCondition:
    """DeleteObject's If-Match: ETags, one of which the current version must
    have, or `*` (it must exist); 412 PreconditionFailed otherwise (AWS
    recording delete-obj-if-match; AWS docs, "How to perform conditional deletes")."""
    for header in _DIRECTORY_DELETE_CONDITIONS:
        if header in req.headers:
            raise S3Error("NotImplemented", Header=header)
    return _etag_condition(req.headers.get("If-Match"))


async def delete_object(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    deleted = await req.store.call(req.store.delete_object, req.bucket, req.key, req.param("versionId"),
                                   bypass_governance=bypass_governance(req), condition=delete_condition(req))
    await notify_deleted(req, req.key, deleted)
    headers = {}
    if deleted.delete_marker:
        headers["x-amz-delete-marker"] = "true"
    if deleted.version_id is not None:
        headers["x-amz-version-id"] = deleted.version_id
    return empty_response(204, headers)


async def delete_objects(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    allowed = may_delete(req, req.store.get_bucket(req.bucket))
    body = await read_small(req, 2 * 1024 * 1024)
    checksums.check_document(req.headers, req.auth, body)
    doc = parse(body, "Delete")
    quiet = (child_text(doc, "Quiet") or "").lower() == "true"
    objects = children(doc, "Object")
    if not objects or len(objects) > MAX_DELETE_KEYS:
        raise S3Error("MalformedXML")
    # keys are taken verbatim (they may begin or end with spaces); all checked before any is deleted
    keys = [verbatim_text(obj, "Key") for obj in objects]
    if None in keys:
        raise S3Error("MalformedXML")
    # an ETag makes that key's delete conditional, as If-Match does DeleteObject's
    entries: list[tuple[str, str | None, WriteCondition]] = [
        (key, child_text(obj, "VersionId"), _etag_condition(child_text(obj, "ETag")))
        for obj, key in zip(objects, keys) if key is not None]
    refused: dict[int, S3Error] = {}
    for i, (key, version_id, _) in enumerate(entries):
        try:
            check_key(key)
            if not allowed(key, version_id):
                raise S3Error("AccessDenied", "Access Denied")
        except S3Error as bad:
            refused[i] = bad
    # every key in one call on the writer thread (one transaction): the loop serves others meanwhile
    outcomes = iter(await req.store.call(req.store.delete_objects, req.bucket,
                                         [e for i, e in enumerate(entries) if i not in refused],
                                         bypass_governance=bypass_governance(req)))
    results: list[tuple[str, Any]] = []
    for i, (key, version_id, _) in enumerate(entries):
        outcome = refused.get(i) or next(outcomes)
        if not isinstance(outcome, Deleted):  # one key's failure is reported in its own Error entry
            err = outcome if isinstance(outcome, S3Error) else S3Error.from_storage(outcome)
            if isinstance(outcome, InvalidVersionId):  # S3 says so of a malformed id here (AWS recording)
                err = S3Error("NoSuchVersion")
            results.append(("Error", [("Key", key), ("VersionId", version_id), ("Code", err.code),
                                      ("Message", err.message)]))
            continue
        await notify_deleted(req, key, outcome)
        if not quiet:
            results.append(("Deleted", [
                ("Key", key), ("VersionId", version_id),
                ("DeleteMarker", True if outcome.delete_marker else None),
                ("DeleteMarkerVersionId", outcome.version_id if outcome.delete_marker else None)]))
    return xml_response("DeleteResult", results)


async def notify_deleted(req: S3Request, key: str, deleted: Deleted) -> None:
    """ObjectRemoved:DeleteMarkerCreated or ObjectRemoved:Delete, as the delete did."""
    if deleted.delete_marker:
        await notify(req, "ObjectRemoved:DeleteMarkerCreated", key, version_id=deleted.version_id, etag=EMPTY_MD5)
    else:
        await notify(req, "ObjectRemoved:Delete", key, version_id=deleted.version_id)


def _etag_condition(etag: str | None) -> WriteCondition:
    return WriteCondition(None if etag is None else parse_etags(etag))


def verbatim_text(elem: Any, name: str) -> str | None:
    """The text of a child element exactly as sent (child_text strips it)."""
    found = children(elem, name)
    return (found[0].text or "") if found else None






def _copied_tags(req: S3Request, source: ObjectInfo) -> dict[str, str]:
    """The copy's tags: the source's (x-amz-tagging-directive COPY, the
    default) or those of x-amz-tagging (REPLACE), whatever the metadata directive."""
    directive = req.headers.get("x-amz-tagging-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown tagging directive.", ArgumentName="x-amz-tagging-directive",
                      ArgumentValue=directive)
    return object_tags(source.meta) if directive == "COPY" else \
        tagging.parse_header(req.headers.get("x-amz-tagging") or "")


async def copy_object(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    check_canned_acl(req.headers)
    source, opened = await open_copy_source(req)
    try:
        meta, algorithm = _copy_meta(req, source)
        info = await req.store.put_object(req.bucket, req.key, req.store.read_range(opened), meta=meta,
                                          size=source.size, algorithms=[algorithm],
                                          condition=write_conditions(req))  # on the destination, as PutObject
    finally:
        await opened.close()
    await notify(req, "ObjectCreated:Copy", req.key, info)
    headers = {**version_headers(info), **copy_source_headers(req, source), **sse.response_headers(info.meta),
               **expiration_headers(req, info)}
    found = checksums.stored(info.meta)
    return xml_response("CopyObjectResult", [("ETag", f'"{info.etag}"'),
                                             ("LastModified", iso8601(info.last_modified)),
                                             *(checksums.fields(found[0], found[1], found[2]) if found else [])],
                        headers=headers)


def _copy_meta(req: S3Request, source: ObjectInfo) -> tuple[ObjectMeta, str]:
    """The copy's meta and checksum algorithm, as the request's headers ask."""
    assert req.bucket is not None and req.key is not None
    directive = req.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.", ArgumentName="x-amz-metadata-directive",
                      ArgumentValue=directive)
    if directive == "REPLACE":
        meta = object_meta(req.headers)
    else:
        meta = sse.without_encryption(source.meta)
        meta.pop("checksums", None)
        meta.pop("lock", None)
        # the copy's class is its own: STANDARD unless named (AWS: object-attrs-after-copy)
        meta["storage_class"] = requested_storage_class(req.headers)
    meta.pop("tags", None)
    meta.pop("tagging", None)
    tags = _copied_tags(req, source)
    if tags:
        meta["tags"] = tags
    meta.update(write_lock(req))  # the copy's own Object Lock settings, never the source's
    meta = {k: v for k, v in meta.items() if k not in ("owner", "acl")}  # type: ignore[assignment]
    meta.update(write_ownership(req))  # the copy belongs to its writer, with the ACL it asks for
    meta.update(sse.write_fields(req.headers))  # and its own encryption: asked for, else the bucket's
    encrypt(req, meta)
    same = (source.bucket, source.key) == (req.bucket, req.key)
    # S3 lets a bucket with its own encryption configuration copy an object onto itself unchanged
    changes = directive == "REPLACE" or any(h in req.headers for h in (
        "x-amz-storage-class", "x-amz-website-redirect-location", "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-customer-algorithm"))
    # the current version copied onto itself unchanged, versioned bucket or not (AWS: copy-object-in-place-no-change
    # in test_s3_copy_object_in_place_versioned); an older version may be copied over it; a bucket with its own
    # encryption configuration may copy an object onto itself unchanged (AWS: test_copy_in_place_with_bucket_encryption)
    changes = changes or "encryption" in req.store.get_bucket(req.bucket).config
    if same and not changes and source.is_latest:
        raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                                        "itself without changing the object's metadata, storage class, website "
                                        "redirect location or encryption attributes.")
    # the copy's checksum is computed afresh over the whole object: the asked-for algorithm, else the source's
    algorithm = (req.headers.get("x-amz-checksum-algorithm") or source.meta.get("checksum_algorithm")
                 or checksums.DEFAULT_ALGORITHM).upper()
    if algorithm not in checksums.ALGORITHMS:
        raise S3Error("InvalidRequest", checksums.UNSUPPORTED)
    meta.update(checksums.object_fields(algorithm))
    return meta, algorithm
