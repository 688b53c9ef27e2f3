"""User metadata values as S3 encodes them: RFC 2047 encoded-words are
decoded when written and non-ASCII values encoded when returned, plain ASCII
as is (AWS User Guide, "Working with object metadata"; the recorded pairs of
LocalStack's AWS-validated test_user_metadata_rfc2047_encoded)."""
from __future__ import annotations

import base64
import binascii
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header

# Bytes S3's Q encoding writes as themselves: printable ASCII but "=", "?" and "_" (space is "_").
_Q_PLAIN = frozenset(range(0x21, 0x7F)) - {ord("="), ord("?"), ord("_")} | {ord("\t")}


def decode(value: str) -> str:
    """A written value with its encoded-words (=?charset?Q|B?...?=) decoded;
    a value that is not well-formed is kept as sent (S3 accepts it too)."""
    if "=?" not in value:
        return value
    try:
        parts = decode_header(value)
    except (HeaderParseError, binascii.Error, ValueError):
        return value
    text = []
    for part, charset in parts:
        if isinstance(part, str):
            text.append(part)
            continue
        try:
            # decode_header gives the text between encoded-words back as raw-unicode-escape bytes
            text.append(part.decode(charset or "raw-unicode-escape", errors="replace"))
        except LookupError:  # a charset Python does not know
            return value
    return "".join(text)


def encode(value: str) -> str:
    """A stored value as S3 returns it: printable ASCII as is; otherwise one
    UTF-8 encoded-word, B (base64) when it holds control or replacement
    characters, else Q."""
    if all(c == "\t" or " " <= c <= "~" for c in value):
        return value
    data = value.encode("utf-8", "surrogatepass")
    if "\ufffd" in value or any(unicodedata.category(c).startswith("C") for c in value):
        return f"=?UTF-8?B?{base64.b64encode(data).decode()}?="
    q = "".join(chr(b) if b in _Q_PLAIN else "_" if b == 0x20 else f"={b:02X}" for b in data)
    return f"=?UTF-8?Q?{q}?="
