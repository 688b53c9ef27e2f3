"""Whole-object checksums of multipart objects from the stored part checksums
alone, never re-reading data: COMPOSITE hashes the concatenated raw part
digests (and says how many parts), FULL_OBJECT folds the part CRCs together
by part length."""
from __future__ import annotations

import base64
from typing import Sequence

from .digests import CRC_ALGORITHMS, b64, crc_combine, new_hasher
from .writer import giving_way


def composite(algorithm: str, part_values: Sequence[str]) -> str:
    """base64(H(raw digest of part 1 + ... + part N)) followed by -N."""
    hasher = new_hasher(algorithm)
    for value in giving_way(part_values):
        hasher.update(base64.b64decode(value))
    return f"{b64(hasher.digest())}-{len(part_values)}"


def full_object(algorithm: str, parts: Sequence[tuple[str, int]]) -> str:
    """The CRC of the parts end to end, from each part's (base64 CRC, size)."""
    if algorithm not in CRC_ALGORITHMS:
        raise ValueError(f"{algorithm} cannot be combined")
    return b64(crc_combine(algorithm, ((base64.b64decode(value), size) for value, size in giving_way(parts))))
