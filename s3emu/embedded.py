"""s3emu inside a Python process: `with s3emu.serve() as server: ...`. The
public home of the embedded server; it lives in s3emu.runtime.embedded."""
from .runtime.embedded import Credentials, Endpoint, Server, serve

__all__ = ["Credentials", "Endpoint", "Server", "serve"]
