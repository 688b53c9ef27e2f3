"""aws-chunked bodies: `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`
... a zero-size chunk, then optional trailer headers (x-amz-checksum-*, and
x-amz-trailer-signature when signed) and an empty line. Decoded as the bytes
arrive, in bounded memory; chunk and trailer signatures are verified as each
one ends, so a bad one fails the upload before anything is stored."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import AsyncIterator, Callable

from ..http.errors import S3Error
from ..storage.digests import DIGEST_SIZES, new_hasher
from .sigv4 import EMPTY_SHA256, hex_bytes, sign

MIN_CHUNK = 8192  # every chunk but the last
MAX_LINE = 4096  # a chunk header or trailer line
MAX_TRAILER = 16 * 1024
CHECKSUM_PREFIX = "x-amz-checksum-"


class ChunkSigner:
    """The chain of chunk signatures that starts at the request's seed signature."""

    def __init__(self, key: bytes, timestamp: str, scope: str, seed: str, access_key: str) -> None:
        self.key = key
        self.prefix = f"\n{timestamp}\n{scope}\n"
        self.previous = seed
        self.access_key = access_key

    def check_chunk(self, chunk_sha256: str, provided: str) -> None:
        sts = f"AWS4-HMAC-SHA256-PAYLOAD{self.prefix}{self.previous}\n{EMPTY_SHA256}\n{chunk_sha256}"
        self._check(sts, provided)

    def check_trailer(self, trailer: bytes, provided: str) -> None:
        sts = f"AWS4-HMAC-SHA256-TRAILER{self.prefix}{self.previous}\n{hashlib.sha256(trailer).hexdigest()}"
        self._check(sts, provided)

    def _check(self, sts: str, provided: str) -> None:
        expected = sign(self.key, sts)
        if not hmac.compare_digest(expected, provided.lower()):
            raise S3Error("SignatureDoesNotMatch", AWSAccessKeyId=self.access_key, StringToSign=sts,
                          SignatureProvided=provided, StringToSignBytes=hex_bytes(sts))
        self.previous = expected


def _malformed() -> S3Error:
    return S3Error("IncompleteBody", "The request body is not a well-formed aws-chunked stream")


def _truncated() -> S3Error:
    return S3Error("IncompleteBody")


class _Reader:
    """Lines and byte runs out of an async stream of arbitrary pieces."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source.__aiter__()
        self._buf = b""

    async def _more(self) -> bool:
        try:
            piece = await self._source.__anext__()
        except StopAsyncIteration:
            return False
        self._buf += piece
        return True

    async def at_end(self) -> bool:
        return not self._buf and not await self._more()

    async def line(self) -> bytes:
        """The next line without its CRLF."""
        while True:
            end = self._buf.find(b"\r\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 2:]
                return line
            if len(self._buf) > MAX_LINE:
                raise _malformed()
            if not await self._more():
                raise _truncated()

    async def run(self, size: int) -> AsyncIterator[bytes]:
        """Exactly `size` bytes, in the pieces they arrive in."""
        while size:
            if not self._buf and not await self._more():
                raise _truncated()
            piece, self._buf = self._buf[:size], self._buf[size:]
            size -= len(piece)
            yield piece


def _chunk_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_text, _, ext = line.partition(b";")
    try:
        size = int(size_text.strip(), 16)
    except ValueError:
        raise _malformed() from None
    signature = ""
    if ext:
        name, _, value = ext.partition(b"=")
        if name.strip() == b"chunk-signature":
            signature = value.strip().decode("ascii", "replace")
    if size < 0 or (signed and not signature):
        raise _malformed()
    return size, signature


class AwsChunkedDecoder:
    """Decodes one aws-chunked body. `trailers` holds the trailer headers once
    they have arrived; with `verify_checksums`, an x-amz-checksum-* trailer is
    checked against the decoded bytes (BadDigest)."""

    def __init__(self, *, signer: ChunkSigner | None, trailer_names: list[str], signed_trailer: bool,
                 verify_checksums: bool = True, on_trailers: Callable[[dict[str, str]], None] | None = None
                 ) -> None:
        self.signer = signer
        self.signed_trailer = signed_trailer
        self.trailer_names = trailer_names
        self.verify_checksums = verify_checksums
        self.on_trailers = on_trailers
        self.trailers: dict[str, str] = {}
        # hash the body only to verify: a caller that checks the trailer itself turns this off
        self.hashers = {name: new_hasher(name[len(CHECKSUM_PREFIX):]) for name in trailer_names
                        if name[len(CHECKSUM_PREFIX):].upper() in DIGEST_SIZES} if verify_checksums else {}

    async def decode(self, raw: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        reader = _Reader(raw)
        number = 0
        short: int | None = None  # size of a chunk under the minimum, allowed only last
        while True:
            size, signature = _chunk_header(await reader.line(), self.signer is not None)
            number += 1
            if short is not None and size:
                raise S3Error("InvalidChunkSizeError", Chunk=number - 1, BadChunkSize=short)
            if size < MIN_CHUNK:
                short = size
            digest = hashlib.sha256() if self.signer else None
            async for piece in reader.run(size):
                if digest is not None:
                    digest.update(piece)
                for hasher in self.hashers.values():
                    hasher.update(piece)
                yield piece
            if self.signer is not None and digest is not None:
                self.signer.check_chunk(digest.hexdigest(), signature)
            if size == 0:
                break
            if await reader.line() != b"":
                raise _malformed()
        await self._read_trailer(reader)
        if not await reader.at_end():
            raise _malformed()

    async def _read_trailer(self, reader: _Reader) -> None:
        """Trailer lines up to the empty line that ends the body (clients
        that stop right after the last trailer line are forgiven)."""
        canonical = b""
        signature = None
        while not await reader.at_end():
            line = await reader.line()
            if line == b"":
                break
            name, sep, value = line.decode("utf-8", "replace").partition(":")
            name, value = name.strip().lower(), value.strip()
            if not sep or len(canonical) > MAX_TRAILER:
                raise S3Error("MalformedTrailerError")
            if name == "x-amz-trailer-signature":
                signature = value
                continue
            if self.trailer_names and name not in self.trailer_names:
                raise S3Error("MalformedTrailerError")
            self.trailers[name] = value
            canonical += f"{name}:{value}\n".encode()
        missing = [n for n in self.trailer_names if n not in self.trailers]
        if missing:
            raise S3Error("MalformedTrailerError")
        if self.signed_trailer and self.signer is not None:
            if signature is None:
                raise S3Error("MalformedTrailerError")
            self.signer.check_trailer(canonical, signature)
        self._check_checksums()
        if self.on_trailers is not None:
            self.on_trailers(self.trailers)

    def _check_checksums(self) -> None:
        for name in self.trailer_names:
            algorithm = name[len(CHECKSUM_PREFIX):]
            if algorithm.upper() not in DIGEST_SIZES:
                continue
            try:
                raw = base64.b64decode(self.trailers[name], validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != DIGEST_SIZES[algorithm.upper()]:
                raise S3Error("InvalidRequest", f"Value for {name} trailing header is invalid.")
            hasher = self.hashers.get(name)
            if hasher is not None and raw != hasher.digest():
                raise S3Error("BadDigest", f"The {algorithm.upper()} you specified did not match the calculated "
                              "checksum.")
