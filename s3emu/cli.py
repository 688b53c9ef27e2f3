"""The `s3emu` command (entry point `s3emu.cli:main`); it lives in s3emu.runtime.cli."""
from .runtime.cli import main

__all__ = ["main"]
