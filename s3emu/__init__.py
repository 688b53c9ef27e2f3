"""s3emu: a local S3-compatible object store."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

__all__ = ["__version__", "serve"]

if TYPE_CHECKING:
    from .embedded import Server


def serve(data_dir: Any = None, port: int = 0, **settings: Any) -> "Server":
    """Runs s3emu in a background thread: `with s3emu.serve() as server: ...`
    (see s3emu.embedded.serve). Imported on first use, so `import s3emu` stays cheap."""
    from .embedded import serve as _serve
    return _serve(data_dir, port, **settings)
