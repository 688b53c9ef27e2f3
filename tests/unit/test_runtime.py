"""Runtime helpers that need no server: the event loop choice and the message
naming the extra when boto3 is missing."""
from __future__ import annotations

import asyncio
import importlib.util
import sys

import pytest

from s3emu.embedded import Endpoint
from s3emu.runtime import launch


async def _loop_class() -> type:
    return type(asyncio.get_running_loop())


def test_the_loop_is_uvloops_exactly_when_uvloop_is_installed() -> None:
    name = launch.run(_loop_class()).__module__
    assert name.startswith("uvloop") == (importlib.util.find_spec("uvloop") is not None)


def test_boto3_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    with pytest.raises(ModuleNotFoundError, match=r"pip install 's3emu\[pytest\]'"):
        Endpoint("http://127.0.0.1:1").client()
