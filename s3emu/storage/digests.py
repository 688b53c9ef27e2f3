"""Digests the store computes while a body streams past: MD5 for ETags and the
checksum algorithms S3 supports (CRCs from awscrt, which is AWS's own and fast)."""
from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Callable, Iterable, Protocol

from awscrt import checksums as crt

CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
# bytes in each algorithm's raw digest
DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


Bytes = bytes | bytearray | memoryview


class Hasher(Protocol):
    """hashlib's interface, which the CRCs share."""

    def update(self, data: Bytes, /) -> None:
        """Hash more data."""

    def digest(self) -> bytes:
        """The raw digest of everything hashed so far (big-endian for CRCs)."""


class Crc:
    """A running CRC with hashlib's update/digest interface."""

    __slots__ = ("_fn", "_bytes", "value")

    def __init__(self, fn: Callable[[Bytes, int], int], size: int) -> None:
        self._fn = fn
        self._bytes = size
        self.value = 0

    def update(self, data: Bytes, /) -> None:
        """Fold data into the running CRC."""
        self.value = self._fn(data, self.value)

    def digest(self) -> bytes:
        """The CRC as big-endian bytes, as S3's checksum headers encode it."""
        return self.value.to_bytes(self._bytes, "big")


_CRCS: dict[str, tuple[Callable[[Bytes, int], int], int]] = {
    "CRC32": (zlib.crc32, DIGEST_SIZES["CRC32"]),
    "CRC32C": (crt.crc32c, DIGEST_SIZES["CRC32C"]),
    "CRC64NVME": (crt.crc64nvme, DIGEST_SIZES["CRC64NVME"]),
}
_COMBINE = {
    "CRC32": crt.combine_crc32,
    "CRC32C": crt.combine_crc32c,
    "CRC64NVME": crt.combine_crc64nvme,
}


def new_hasher(algorithm: str) -> Hasher:
    """A fresh hasher for an S3 checksum algorithm name (or MD5/SHA256 for
    internal use)."""
    algorithm = algorithm.upper()
    if algorithm in _CRCS:
        return Crc(*_CRCS[algorithm])
    if algorithm in ("SHA1", "SHA256", "MD5"):
        return hashlib.new(algorithm.lower())
    raise ValueError(f"unknown checksum algorithm {algorithm}")


def b64(raw: bytes) -> str:
    """Raw digest bytes as S3 writes checksums: base64."""
    return base64.b64encode(raw).decode()


def crc_combine(algorithm: str, pieces: Iterable[tuple[bytes, int]]) -> bytes:
    """The CRC of pieces end to end from each piece's (CRC, length): full-object
    multipart checksums without re-reading any data. ValueError without pieces."""
    combine = _COMBINE[algorithm]
    crc: int | None = None
    for raw, length in pieces:  # as ints throughout: a Complete may combine 10,000
        value = int.from_bytes(raw, "big")
        crc = value if crc is None else int(combine(crc, value, length))
    if crc is None:
        raise ValueError("no pieces")
    return crc.to_bytes(DIGEST_SIZES[algorithm], "big")
