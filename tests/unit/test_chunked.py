"""aws-chunked decoding on its own: framing in any split, chunk signatures
chained per the SigV4 streaming specification, trailer checksums."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import zlib
from typing import AsyncIterator

import pytest

from s3emu.auth.chunked import AwsChunkedDecoder, ChunkSigner
from s3emu.http.errors import S3Error

KEY = b"k" * 32
TIMESTAMP, SCOPE, SEED = "20261130T000000Z", "20261130/us-east-1/s3/aws4_request", "0" * 64
EMPTY = hashlib.sha256(b"").hexdigest()
DATA = bytes(range(256)) * 64  # 16 KiB: two chunks of 8 KiB and a short last one
CRC = base64.b64encode(zlib.crc32(DATA).to_bytes(4, "big")).decode()


async def _pieces(body: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i:i + size]


def _decode(decoder: AwsChunkedDecoder, body: bytes, piece: int = 7) -> bytes:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in decoder.decode(_pieces(body, piece))])
    return asyncio.run(collect())


def _unsigned(data: bytes, trailer: str = "") -> bytes:
    chunks = [data[i:i + 8192] for i in range(0, len(data), 8192)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return body + b"0\r\n" + trailer.encode() + b"\r\n"


def _signed(data: bytes) -> bytes:
    """Chunks signed as the specification says, each signature chained from the last."""
    previous, body = SEED, b""
    for chunk in [data[i:i + 8192] for i in range(0, len(data), 8192)] + [b""]:
        sts = (f"AWS4-HMAC-SHA256-PAYLOAD\n{TIMESTAMP}\n{SCOPE}\n{previous}\n{EMPTY}\n"
               f"{hashlib.sha256(chunk).hexdigest()}")
        previous = hmac.new(KEY, sts.encode(), hashlib.sha256).hexdigest()
        body += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(chunk), previous.encode(), chunk)
    return body


@pytest.mark.parametrize("piece", [1, 7, 8192, 1 << 20])
def test_unsigned_with_a_checked_trailer_in_any_split(piece: int) -> None:
    decoder = AwsChunkedDecoder(signer=None, trailer_names=["x-amz-checksum-crc32"], signed_trailer=False)
    assert _decode(decoder, _unsigned(DATA, f"x-amz-checksum-crc32:{CRC}\r\n"), piece) == DATA
    assert decoder.trailers == {"x-amz-checksum-crc32": CRC}


def test_a_wrong_trailer_checksum_is_bad_digest() -> None:
    wrong = base64.b64encode(b"\0\0\0\0").decode()
    decoder = AwsChunkedDecoder(signer=None, trailer_names=["x-amz-checksum-crc32"], signed_trailer=False)
    with pytest.raises(S3Error) as excinfo:
        _decode(decoder, _unsigned(DATA, f"x-amz-checksum-crc32:{wrong}\r\n"))
    assert excinfo.value.code == "BadDigest"


def test_signed_chunks_verify_and_a_changed_byte_does_not() -> None:
    signer = ChunkSigner(KEY, TIMESTAMP, SCOPE, SEED, "s3emu")
    assert _decode(AwsChunkedDecoder(signer=signer, trailer_names=[], signed_trailer=False), _signed(DATA)) == DATA
    tampered = bytearray(_signed(DATA))
    tampered[-200] ^= 1  # inside the last data chunk
    signer = ChunkSigner(KEY, TIMESTAMP, SCOPE, SEED, "s3emu")
    with pytest.raises(S3Error) as excinfo:
        _decode(AwsChunkedDecoder(signer=signer, trailer_names=[], signed_trailer=False), bytes(tampered))
    assert excinfo.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(("body", "code"), [
    (b"10\r\nshort", "IncompleteBody"),  # ends inside a chunk
    (b"zz\r\n", "IncompleteBody"),  # not a hex size
    (b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", "InvalidChunkSizeError"),  # a short chunk before the last
])
def test_malformed_bodies(body: bytes, code: str) -> None:
    with pytest.raises(S3Error) as excinfo:
        _decode(AwsChunkedDecoder(signer=None, trailer_names=[], signed_trailer=False), body)
    assert excinfo.value.code == code
