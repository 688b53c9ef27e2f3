"""Additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256): which one a
write names (an x-amz-checksum-<algorithm> header, or an aws-chunked trailer
named by x-amz-trailer), its value checked against what the store computed
while the body streamed, and the stored value returned on reads.

Stored in an object's meta as checksum_algorithm, checksum_type and
checksums[algorithm] (base64; a COMPOSITE value ends in -N). A trailer's value
is checked by the aws-chunked decoder as the body ends; the value kept is
always the one the store computed (storage.blobs), so there is one source."""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

from ..http.errors import S3Error
from ..storage import ChecksumFinisher, CompletedPart, ObjectInfo, ObjectMeta, Segment, UploadMeta
from ..storage.blobs import Blob
from ..storage.checksums import composite, full_object
from ..storage.digests import CHECKSUM_ALGORITHMS, CRC_ALGORITHMS, DIGEST_SIZES, new_hasher

ALGORITHMS = CHECKSUM_ALGORITHMS
DEFAULT_ALGORITHM = "CRC64NVME"  # what S3 keeps for writes that name none
TYPES = ("COMPOSITE", "FULL_OBJECT")
PREFIX = "x-amz-checksum-"
# the list S3's message gives (it leaves CRC64NVME out)
UNSUPPORTED = ("Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
               "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")  # AWS: create-mpu-wrong-checksum-algo


class Framing(Protocol):
    """What the body's framing tells about checksums: the trailer names a
    request announced, the trailer values once the body has been read, and
    whether the aws-chunked decoder should verify trailer checksums itself."""

    trailer_names: list[str]
    trailers: dict[str, str]
    verify_trailer_checksums: bool


Headers = Mapping[str, str]


def content_md5(headers: Headers) -> str | None:
    """The Content-MD5 header as hex, or InvalidDigest if it is not a base64 MD5."""
    raw = headers.get("Content-MD5")
    if raw is None:
        return None
    try:
        digest = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        echoed: dict[str, Any] = {"Content-MD5": raw}
        raise S3Error("InvalidDigest", **echoed)
    return digest.hex()


def header_name(algorithm: str) -> str:
    return PREFIX + algorithm.lower()


def decode(algorithm: str, value: str) -> bytes | None:
    """The raw digest of a base64 checksum value, None if it is not one."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == DIGEST_SIZES[algorithm.upper()] else None


@dataclass
class Requested:
    """The checksum a write names: its algorithm and, when sent as a header,
    its value (a trailer's value arrives after the body; the decoder checks it)."""

    algorithm: str | None = None
    value: str | None = None


def requested(headers: Headers, framing: Framing | None) -> Requested:
    """What a PutObject / UploadPart asks for, refused the way S3 refuses it."""
    in_headers = [a for a in ALGORITHMS if header_name(a) in headers]
    trailers = framing.trailer_names if framing is not None else []
    in_trailer = [a for a in ALGORITHMS if header_name(a) in trailers]
    if len(in_headers) + len(in_trailer) > 1:
        message = "Expecting a single x-amz-checksum- header"
        raise S3Error("InvalidRequest", message if in_trailer else message + ". Multiple checksum Types are not "
                                                                              "allowed.")
    asked = Requested()
    if in_headers:
        asked = Requested(in_headers[0], headers[header_name(in_headers[0])].strip())
        if decode(asked.algorithm, asked.value) is None:  # type: ignore[arg-type]
            raise S3Error("InvalidRequest", f"Value for {header_name(in_headers[0])} header is invalid.")
    elif in_trailer:
        asked = Requested(in_trailer[0])
    sdk = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk is not None:
        sdk = sdk.strip().upper()
        if sdk not in ALGORITHMS or (asked.algorithm and asked.algorithm != sdk):
            raise S3Error("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
        asked.algorithm = sdk
    return asked


def write_verifier(framing: Framing | None, expected_md5: str | None, asked: Requested, *,
                   part: bool = False) -> Callable[[Blob], None]:
    """Refuses written bytes whose MD5 is not the Content-MD5 sent, or whose
    checksum is not the x-amz-checksum-* header or trailer sent. The store
    computes that checksum anyway, so the aws-chunked decoder is told not to
    hash the body a second time: make this before calling payload(req).
    BadDigest gives the calculated MD5 in base64 and the expected one in hex,
    or for a `part` (UploadPart) in base64 (AWS: md5-error-bad-digest,
    upload-part-md5-bad-digest)."""
    auth = framing
    trailers: dict[str, str] = {}
    if auth is not None:
        auth.verify_trailer_checksums = False
        trailers = auth.trailers  # filled in when the trailer arrives, before verify runs

    def verify(blob: Blob) -> None:
        if expected_md5 is not None and blob.md5 != expected_md5:
            expected = base64.b64encode(bytes.fromhex(expected_md5)).decode() if part else expected_md5
            raise S3Error("BadDigest", ExpectedDigest=expected,
                          CalculatedDigest=base64.b64encode(bytes.fromhex(blob.md5)).decode())
        algorithm = asked.algorithm
        if algorithm is None:
            return
        value = asked.value if asked.value is not None else trailers.get(header_name(algorithm))
        if value is not None and decode(algorithm, value) != blob.digests[algorithm]:
            raise S3Error("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")
    return verify


def check_document(headers: Headers, framing: Framing | None, body: bytes, *, required: bool = True) -> None:
    """A small request document (DeleteObjects, PutBucketCors, lifecycle...)
    must carry Content-MD5 or a checksum, as S3 requires on these calls,
    and match it; with required off, only one that is sent is checked."""
    expected_md5 = content_md5(headers)
    asked = requested(headers, framing)
    if expected_md5 is None and asked.algorithm is None and required:
        raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5")
    digests = {}
    if asked.algorithm is not None:
        hasher = new_hasher(asked.algorithm)
        hasher.update(body)
        digests[asked.algorithm] = hasher.digest()
    write_verifier(framing, expected_md5, asked)(Blob("", len(body), hashlib.md5(body).hexdigest(), digests))


def object_fields(algorithm: str) -> ObjectMeta:
    """What a single-part write keeps: the value itself comes from the store."""
    return {"checksum_algorithm": algorithm, "checksum_type": "FULL_OBJECT"}


# -- out: headers and XML fields -----------------------------------------------------------------------------------

def stored(meta: ObjectMeta) -> tuple[str, str, str] | None:
    """(algorithm, base64 value, type) an object or upload keeps, if any."""
    algorithm = meta.get("checksum_algorithm")
    value = (meta.get("checksums") or {}).get(algorithm) if algorithm else None
    if not algorithm or value is None:
        return None
    return algorithm, value, meta.get("checksum_type") or "FULL_OBJECT"


def headers(algorithm: str, value: str, checksum_type: str | None = None) -> dict[str, str]:
    out = {header_name(algorithm): value}
    if checksum_type:
        out["x-amz-checksum-type"] = checksum_type
    return out


def fields(algorithm: str, value: str, checksum_type: str | None = None) -> list[tuple[str, str]]:
    """The same as XML elements: ChecksumCRC32, ..., ChecksumType."""
    out = [("Checksum" + algorithm, value)]
    if checksum_type:
        out.append(("ChecksumType", checksum_type))
    return out


def object_headers(info: ObjectInfo) -> dict[str, str]:
    found = stored(info.meta)
    return headers(*found) if found else {}


def object_fields_xml(info: ObjectInfo) -> list[tuple[str, str]]:
    found = stored(info.meta)
    return fields(*found) if found else []


def check_mode(headers: Headers) -> bool:
    """x-amz-checksum-mode: ENABLED asks GET/HEAD for the checksum."""
    mode = headers.get("x-amz-checksum-mode")
    if mode is None:
        return False
    if mode.strip().upper() != "ENABLED":
        raise S3Error("InvalidRequest", "Value for x-amz-checksum-mode header is invalid.")
    return True


def read_headers(info: ObjectInfo, part: Segment | None, byte_range: tuple[int, int] | None) -> dict[str, str]:
    """The checksum a GET/HEAD returns: the part's for ?partNumber of a
    COMPOSITE object, otherwise the object's, and only when the whole object is sent."""
    found = stored(info.meta)
    if found is None:
        return {}
    algorithm, _, checksum_type = found
    if part is not None and info.parts_count and checksum_type == "COMPOSITE":
        value = part.checksums.get(algorithm)
        return headers(algorithm, value, checksum_type) if value else {}
    # a FULL_OBJECT checksum only with the whole object: a part that is all of it (AWS: get-object-part in
    # test_get_object_part_checksum[FULL_OBJECT]), not one of several (get-object-part-checksum)
    if byte_range is not None and byte_range != (0, info.size - 1):
        return {}
    return headers(*found)


# -- multipart -----------------------------------------------------------------------------------------------------

def upload_fields(headers: Headers) -> UploadMeta:
    """CreateMultipartUpload's x-amz-checksum-algorithm and -type, checked;
    an upload that names none gets S3's CRC64NVME full-object checksum at Complete."""
    algorithm = (headers.get("x-amz-checksum-algorithm") or "").strip().upper()
    checksum_type = (headers.get("x-amz-checksum-type") or "").strip().upper()
    if algorithm and algorithm not in ALGORITHMS:
        raise S3Error("InvalidRequest", UNSUPPORTED)
    if checksum_type and not algorithm:
        raise S3Error("InvalidRequest", "The x-amz-checksum-type header can only be used with the "
                                        "x-amz-checksum-algorithm header.")
    if checksum_type and checksum_type not in TYPES:
        raise S3Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    if not algorithm:
        return {}
    checksum_type = checksum_type or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    if checksum_type == "COMPOSITE" and algorithm not in ("CRC32", "CRC32C", "SHA1", "SHA256"):
        raise S3Error("InvalidRequest", f"The COMPOSITE checksum type cannot be used with the {algorithm.lower()} "
                                        "checksum algorithm.")
    if checksum_type == "FULL_OBJECT" and algorithm not in CRC_ALGORITHMS:
        raise S3Error("InvalidRequest", f"The FULL_OBJECT checksum type cannot be used with the "
                                        f"{algorithm.lower()} checksum algorithm.")
    return {"checksum_algorithm": algorithm, "checksum_type": checksum_type}


def upload_headers(meta: UploadMeta) -> dict[str, str]:
    """x-amz-checksum-algorithm / -type of an upload that named them."""
    algorithm, checksum_type = meta.get("checksum_algorithm"), meta.get("checksum_type")
    if not algorithm or not checksum_type:
        return {}
    return {"x-amz-checksum-algorithm": algorithm, "x-amz-checksum-type": checksum_type}


def upload_xml(meta: UploadMeta) -> list[tuple[str, str]]:
    algorithm, checksum_type = meta.get("checksum_algorithm"), meta.get("checksum_type")
    if not algorithm or not checksum_type:
        return []
    return [("ChecksumAlgorithm", algorithm), ("ChecksumType", checksum_type)]


def part_algorithms(upload_meta: UploadMeta, asked: Requested | None) -> list[str]:
    """The checksums a part's bytes get: the upload's algorithm, which the
    part must name too; for an upload without one, what the part names plus
    CRC64NVME (S3's default full-object checksum is combined from it)."""
    expected = upload_meta.get("checksum_algorithm")
    actual = asked.algorithm if asked else None
    if expected:
        if asked is not None and actual != expected:
            raise S3Error("InvalidRequest", f"Checksum Type mismatch occurred, expected checksum Type: "
                                            f"{expected.lower()}, actual checksum Type: "
                                            f"{(actual or 'null').lower()}")
        return [expected]
    return list(dict.fromkeys([a for a in (actual, DEFAULT_ALGORITHM) if a]))


def part_algorithm(upload_meta: UploadMeta, asked: Requested | None) -> str | None:
    """The algorithm whose value a part's response (and ListParts) shows."""
    return upload_meta.get("checksum_algorithm") or (asked.algorithm if asked else None)


# a CompleteMultipartUpload Part's child element for each algorithm
_PART_ELEMENTS = tuple(("Checksum" + a, a) for a in ALGORITHMS)


def completed_part_checksums(texts: Mapping[str, str]) -> dict[str, str]:
    """A CompleteMultipartUpload Part's Checksum<ALGO> elements, from the
    Part's child texts by local name: each a valid base64 digest, at most one."""
    found = {a: texts[name] for name, a in _PART_ELEMENTS if name in texts}
    if found and (len(found) > 1 or any(decode(a, v) is None for a, v in found.items())):
        raise S3Error("InvalidArgument", "Invalid Base64 or multiple checksums present in request",
                      ArgumentName="Checksum", ArgumentValue="".join(f"{a}:{v};" for a, v in found.items()))
    return found


def complete_finisher(headers: Headers, upload_id: str, parts: list[CompletedPart]
                      ) -> ChecksumFinisher:
    """What CompleteMultipartUpload checks and keeps, given the upload's meta
    and the listed parts' stored segments (called inside its transaction)."""
    in_headers = [a for a in ALGORITHMS if header_name(a) in headers]
    if len(in_headers) > 1:
        raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are "
                                        "not allowed.")
    whole = (in_headers[0], headers[header_name(in_headers[0])].strip()) if in_headers else None
    asked_type = (headers.get("x-amz-checksum-type") or "").strip().upper() or None

    def finish(upload_meta: UploadMeta, segments: list[Segment]) -> ObjectMeta:
        algorithm = upload_meta.get("checksum_algorithm")
        checksum_type = upload_meta.get("checksum_type")
        if asked_type is not None and asked_type != checksum_type:
            raise S3Error("InvalidRequest", f"The upload was created using the {checksum_type or 'null'} checksum "
                                            "mode. The complete request must use the same checksum mode.")
        stored = Segment.all_checksums(segments)
        _check_parts(upload_id, algorithm, checksum_type, parts, stored)
        if algorithm is None and upload_meta.get("sse_c"):
            # an SSE-C upload that named no algorithm gets no default checksum (AWS: test_multipart_upload_sse_c)
            return {"checksum_algorithm": None, "checksum_type": None}
        algorithm = algorithm or DEFAULT_ALGORITHM
        checksum_type = checksum_type or "FULL_OBJECT"
        values = [c.get(algorithm) for c in stored]
        if any(v is None for v in values):
            # a part stored before checksums were kept: no checksum rather than a wrong one
            return {"checksum_algorithm": None, "checksum_type": None}
        if checksum_type == "COMPOSITE":
            value = composite(algorithm, values)  # type: ignore[arg-type]
        else:
            value = full_object(algorithm, [(v, s.size) for v, s in zip(values, segments)])  # type: ignore[misc]
        if whole is not None and upload_meta.get("checksum_algorithm"):
            if checksum_type == "FULL_OBJECT" and (asked_type is None or whole != (algorithm, value)):
                # a FULL_OBJECT value counts only with its type named; anything else does not match
                # (AWS: complete-part-only-checksum-algo, complete-part-bad-checksum-algo)
                raise S3Error("BadDigest", f"The {algorithm.lower()} you specified did not match the calculated "
                                           "checksum.")
            _check_whole(algorithm, value, whole)
        return {"checksum_algorithm": algorithm, "checksum_type": checksum_type, "checksums": {algorithm: value}}
    return finish


def _check_parts(upload_id: str, algorithm: str | None, checksum_type: str | None, parts: list[CompletedPart],
                 stored: list[dict[str, str]]) -> None:
    """The listed parts' checksums against their stored ones (`stored`, in the same order)."""
    for part, part_stored in zip(parts, stored):
        sent = part.checksums
        if sent:  # a part listed without any needs no look at its stored ones (a Complete may list 10,000)
            _check_sent(upload_id, algorithm, part, part_stored)
        if algorithm and checksum_type == "COMPOSITE" and algorithm not in sent:
            raise S3Error("InvalidRequest", f"The upload was created using a {algorithm.lower()} checksum. The "
                                            "complete request must include the checksum for each part. It was "
                                            f"missing for part {part.part_number} in the request.")


def _check_sent(upload_id: str, algorithm: str | None, part: CompletedPart, stored: dict[str, str]) -> None:
    """The checksums a Complete lists for a part against the part's stored ones."""
    other = next((a for a in part.checksums if a != algorithm), None)
    if algorithm and other:
        # a part checksum of another algorithm than the upload's (AWS: complete-part-with-checksum);
        # a wrong one of its own algorithm is InvalidPart (complete-multipart-wrong-parts-checksum)
        raise S3Error("BadDigest", f"The {other.lower()} you specified for part {part.part_number} did not "
                                   "match what we received.")
    if any(a != algorithm or v != stored.get(a) for a, v in part.checksums.items()):
        raise S3Error("InvalidPart", UploadId=upload_id, PartNumber=part.part_number,
                      ETag=part.etag.strip().strip('"'))


def _check_whole(algorithm: str, value: str, whole: tuple[str, str]) -> None:
    """The optional whole-object checksum header of a Complete (a COMPOSITE
    one with or without its -N)."""
    sent_algorithm, sent = whole
    if sent_algorithm != algorithm:
        raise S3Error("InvalidRequest", f"Checksum Type mismatch occurred, expected checksum Type: "
                                        f"{algorithm.lower()}, actual checksum Type: {sent_algorithm.lower()}")
    digest, dash, count = sent.partition("-")
    if decode(algorithm, digest) is None or (dash and not count.isdigit()):
        raise S3Error("InvalidRequest", f"Value for {header_name(algorithm)} header is invalid.")
    if (sent if dash else digest) != (value if dash else value.partition("-")[0]):
        raise S3Error("BadDigest", f"The {algorithm.lower()} you specified did not match the calculated checksum.")
