"""The seven multipart upload operations."""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..http.body import declared_length, payload, read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import child_texts, parse
from ..protocol import checksums, sse
from ..protocol.dates import iso8601
from ..protocol.headers import check_canned_acl, storage_class
from ..storage import CompletedPart, ObjectInfo, UploadInfo, UploadMeta
from ..storage.errors import NoSuchUpload
from ..storage.writer import Writer, giving_way, serving, sharing_the_gil
from .common import (
    abort_headers,
    copy_source_headers,
    expiration_headers,
    initiator_fields,
    listing_query,
    new_version_headers,
    new_version_meta,
    notify,
    open_copy_source,
    owner_of_objects,
    stored_owner,
    write_conditions,
)

MAX_COMPLETE_BODY = 4 * 1024 * 1024
LONG_PART_LIST = 64 * 1024  # bytes: a Complete listing some 700 parts or more


def _part_number(req: S3Request) -> int:
    raw = req.param("partNumber") or ""
    # ASCII digits only: int() would also take "１", " 1", "+1" and "1_0"
    number = int(raw) if raw.isascii() and raw.isdigit() else 0
    _check_part_number(req.config.max_parts, number, raw)
    return number


def _check_part_number(max_parts: int, number: int, raw: str) -> None:
    if not 1 <= number <= max_parts:
        raise S3Error("InvalidArgument", f"Part number must be an integer between 1 and {max_parts}, "
                                         "inclusive", ArgumentName="partNumber", ArgumentValue=raw)


def _upload_id(req: S3Request) -> str:
    return req.param("uploadId") or ""


async def create_multipart_upload(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    check_canned_acl(req.headers)
    meta: UploadMeta = {**new_version_meta(req), **checksums.upload_fields(req.headers)}
    initiator = stored_owner(req)
    if initiator is not None:
        meta["initiator"] = initiator
    upload = await req.store.call(req.store.create_multipart_upload, req.bucket, req.key, meta)
    return xml_response("InitiateMultipartUploadResult", [
        ("Bucket", req.bucket), ("Key", req.key), ("UploadId", upload.upload_id)],
        headers={**abort_headers(req, upload), **checksums.upload_headers(meta), **sse.response_headers(meta)})


async def upload_part(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    number = _part_number(req)
    size = declared_length(req)
    if size > req.config.max_part_size:
        raise S3Error("EntityTooLarge", ProposedSize=size, MaxSizeAllowed=req.config.max_part_size)
    md5 = checksums.content_md5(req.headers)
    upload = req.store.get_upload(req.bucket, req.key, _upload_id(req))
    sse.check_part(req.headers, upload.meta)
    asked = checksums.requested(req.headers, req.auth)
    verify = checksums.write_verifier(req.auth, md5, asked, part=True)
    part = await req.store.upload_part(req.bucket, req.key, upload.upload_id, number, payload(req), size=size,
                                       max_size=req.config.max_part_size,
                                       algorithms=checksums.part_algorithms(upload.meta, asked), verify=verify)
    return empty_response(headers={"ETag": f'"{part.etag}"', **_part_checksum(upload, part.checksums, asked),
                                   **sse.response_headers(upload.meta)})


def _part_checksum(upload: UploadInfo, stored: dict[str, str], asked: checksums.Requested | None) -> dict[str, str]:
    """x-amz-checksum-<algorithm> of a part: the upload's algorithm, or the one the part named."""
    algorithm = checksums.part_algorithm(upload.meta, asked)
    return checksums.headers(algorithm, stored[algorithm]) if algorithm and algorithm in stored else {}


async def upload_part_copy(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    number = _part_number(req)
    upload = req.store.get_upload(req.bucket, req.key, _upload_id(req))
    sse.check_part(req.headers, upload.meta)
    raw_range = req.headers.get("x-amz-copy-source-range")

    def byte_range(source: ObjectInfo) -> tuple[int, int]:
        first, last = (0, source.size - 1) if raw_range is None else _copy_range(raw_range, source.size)
        if last - first + 1 > req.config.max_part_size:
            raise S3Error("EntityTooLarge", ProposedSize=last - first + 1, MaxSizeAllowed=req.config.max_part_size)
        return first, last

    source, opened = await open_copy_source(req, byte_range)
    try:
        part = await req.store.upload_part(req.bucket, req.key, _upload_id(req), number,
                                           req.store.read_range(opened), size=opened.length,
                                           algorithms=checksums.part_algorithms(upload.meta, None))
    finally:
        await opened.close()
    headers = {**copy_source_headers(req, source), **sse.response_headers(upload.meta)}
    checksum = [(f"Checksum{name[len(checksums.PREFIX):].upper()}", value)
                for name, value in _part_checksum(upload, part.checksums, None).items()]
    return xml_response("CopyPartResult", [("ETag", f'"{part.etag}"'),
                                           ("LastModified", iso8601(part.last_modified)), *checksum],
                        headers=headers)


def _copy_range(raw: str, size: int) -> tuple[int, int]:
    """x-amz-copy-source-range: only the full `bytes=first-last` form."""
    spec = raw.strip()
    if not spec.startswith("bytes="):
        raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last "
                                         "where first and last are the zero-based offsets of the first and last "
                                         "bytes to copy", ArgumentName="x-amz-copy-source-range", ArgumentValue=raw)
    first_s, _, last_s = spec[len("bytes="):].partition("-")
    if not (first_s.isdigit() and last_s.isdigit()) or int(last_s) < int(first_s):
        raise S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last "
                                         "where first and last are the zero-based offsets of the first and last "
                                         "bytes to copy", ArgumentName="x-amz-copy-source-range", ArgumentValue=raw)
    first, last = int(first_s), int(last_s)
    if first >= size:  # AWS recording upload-part-copy-range-exc-100-200
        raise S3Error("InvalidRequest", "The specified copy range is invalid for the source object size")
    if last >= size:
        raise S3Error("InvalidArgument", f"Range specified is not valid for source object of size: {size}",
                      ArgumentName="x-amz-copy-source-range", ArgumentValue=raw)
    return first, last


def _parse_parts(body: bytes, max_parts: int, writer: Writer | None = None) -> list[CompletedPart]:
    """The Part list of a CompleteMultipartUpload body, each number within
    1..max_parts; raises S3Error (InvalidRequest for an empty body,
    MalformedXML, then InvalidArgument for a number out of range). Off the
    event loop's thread, `writer` is whose server's requests it gives way to."""
    if writer is not None:
        with serving(writer):
            return _parse_parts(body, max_parts)
    if not body.strip():
        raise S3Error("InvalidRequest", "You must specify at least one part")
    doc = parse(body, "CompleteMultipartUpload")
    parts = []
    for elem in giving_way(doc.iterchildren("{*}Part")):  # one element made at a time, not 10,000 at once
        texts = child_texts(elem)  # each Part's children looked at once: a Complete may list 10,000
        number, etag = texts.get("PartNumber"), texts.get("ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML")
        try:
            part_number = int(number)
        except ValueError:
            raise S3Error("MalformedXML") from None
        parts.append(CompletedPart(part_number, etag, checksums.completed_part_checksums(texts)))
    if not parts:
        raise S3Error("MalformedXML")
    for part in giving_way(parts):  # once all are parsed: a malformed Part anywhere is MalformedXML first
        _check_part_number(max_parts, part.part_number, str(part.part_number))
    return parts


async def complete_multipart_upload(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    body = await read_small(req, MAX_COMPLETE_BODY)
    if not body.strip():
        # S3 names an unknown upload before the missing part list (AWS: complete-exc, complete-exc-no-parts)
        req.store.get_upload(req.bucket, req.key, _upload_id(req))
    # up to 10,000 parts: parsed and checked in a worker thread, so other requests go on meanwhile
    with sharing_the_gil(len(body) >= LONG_PART_LIST):
        parts = await asyncio.to_thread(_parse_parts, body, req.config.max_parts, req.store.writer)
    condition = write_conditions(req)
    expected_size = None
    raw_size = req.headers.get("x-amz-mp-object-size")
    if raw_size is not None:
        if not raw_size.isdigit():
            raise S3Error("InvalidRequest", "The x-amz-mp-object-size header value is not a valid number")
        expected_size = int(raw_size)
    finish = checksums.complete_finisher(req.headers, _upload_id(req), parts)
    info = await req.store.call(req.store.complete_multipart_upload, req.bucket, req.key, _upload_id(req), parts,
                                min_part_size=req.config.min_part_size, expected_size=expected_size,
                                condition=condition, checksum=finish)
    await notify(req, "ObjectCreated:CompleteMultipartUpload", req.key, info)
    location = f"{req.http.scheme}://{req.http.host}/{req.bucket}/{quote(req.key, safe='/')}"
    return xml_response("CompleteMultipartUploadResult", [
        ("Location", location), ("Bucket", req.bucket), ("Key", req.key), ("ETag", f'"{info.etag}"'),
        *checksums.object_fields_xml(info)],
        headers={**new_version_headers(info), **sse.response_headers(info.meta, customer=False),
                 **expiration_headers(req, info)})


async def abort_multipart_upload(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    await req.store.call(req.store.abort_multipart_upload, req.bucket, req.key, _upload_id(req))
    return empty_response(204)


def _upload_fields(req: S3Request, u: UploadInfo, enc: Any, owner: Any) -> list[tuple[str, Any]]:
    return [("Key", enc(u.key)), ("UploadId", u.upload_id), ("Initiator", initiator_fields(req, u.meta)),
            ("Owner", owner(u.meta)), ("StorageClass", storage_class(u.meta)), ("Initiated", iso8601(u.initiated)),
            *checksums.upload_xml(u.meta)]


async def list_multipart_uploads(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    q = listing_query(req)
    enc = q.enc
    key_marker = req.param("key-marker") or ""
    # an upload-id-marker counts (and is echoed) only with a key-marker, and must be an upload of that key
    upload_id_marker = (req.param("upload-id-marker") or "") if key_marker else ""
    if upload_id_marker:
        try:
            req.store.get_upload(req.bucket, key_marker, upload_id_marker)
        except NoSuchUpload:
            raise S3Error("InvalidArgument", "Invalid uploadId marker", ArgumentName="upload-id-marker",
                          ArgumentValue=upload_id_marker) from None
    max_uploads = req.int_param("max-uploads", 1000, lo=0, hi=1000)
    page = req.store.list_multipart_uploads(req.bucket, prefix=q.prefix, delimiter=q.delimiter, key_marker=key_marker,
                                            upload_id_marker=upload_id_marker or None, max_uploads=max_uploads)
    # the Next* markers name the page's last upload, truncated or not, and are "" for a page without one even
    # when it ends with a common prefix (AWS: list-multiparts-all, list-multiparts-start)
    next_key, next_id = (page.entries[-1].key, page.entries[-1].upload_id) if page.entries else (None, None)
    owner = owner_of_objects(req)
    return xml_response("ListMultipartUploadsResult", [
        ("Bucket", req.bucket),
        ("KeyMarker", enc(key_marker)),
        ("UploadIdMarker", upload_id_marker),
        ("NextKeyMarker", enc(next_key or "")),
        ("NextUploadIdMarker", next_id or ""),
        ("Delimiter", q.delimiter_field),
        ("Prefix", enc(q.prefix) if req.param("prefix") is not None else None),
        ("MaxUploads", max_uploads),
        ("IsTruncated", page.is_truncated),
        ("EncodingType", req.param("encoding-type")),
        *[("Upload", _upload_fields(req, u, enc, owner)) for u in page.entries],
        *q.common_prefixes(page),
    ])


async def list_parts(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    marker = req.int_param("part-number-marker", 0, lo=0)
    max_parts = req.int_param("max-parts", 1000, lo=0, hi=1000)
    upload, parts, truncated = req.store.list_parts(req.bucket, req.key, _upload_id(req), marker=marker,
                                                    max_parts=max_parts)
    return xml_response("ListPartsResult", [
        ("Bucket", req.bucket), ("Key", req.key), ("UploadId", upload.upload_id),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", parts[-1].part_number if parts else 0),
        ("MaxParts", max_parts), ("IsTruncated", truncated),
        *[("Part", [("PartNumber", p.part_number), ("LastModified", iso8601(p.last_modified)),
                    ("ETag", f'"{p.etag}"'), ("Size", p.size), *_listed_checksum(upload, p.checksums)])
          for p in parts],
        ("Initiator", initiator_fields(req, upload.meta)), ("Owner", owner_of_objects(req)(upload.meta)),
        ("StorageClass", storage_class(upload.meta)),
        *checksums.upload_xml(upload.meta),
    ], headers=abort_headers(req, upload))


def _listed_checksum(upload: UploadInfo, stored: dict[str, str]) -> list[tuple[str, str]]:
    """A ListParts Part's Checksum<ALGO>: for uploads that named an algorithm."""
    algorithm = upload.meta.get("checksum_algorithm")
    return checksums.fields(algorithm, stored[algorithm]) if algorithm and algorithm in stored else []
