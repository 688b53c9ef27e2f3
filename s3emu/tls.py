"""Optional HTTPS: the server's TLS context from a PEM certificate chain and key."""
from __future__ import annotations

import ssl


def server_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A TLS context for serving with `cert` and `key`, or None for plain HTTP.
    ValueError when only one is given or the files do not load."""
    if not cert and not key:
        return None
    if not (cert and key):
        raise ValueError("tls_cert and tls_key go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"cannot load the TLS certificate {cert} with key {key}: {e}") from None
    return context


def scheme(cert: str | None) -> str:
    """The URL scheme a server with this certificate (or none) answers on."""
    return "https" if cert else "http"
