"""The README, tried literally: its shell and Python blocks run in order,
as written, against a server started as `make run` starts it (on a free
port instead of 9000, with the data directory `data` beside them). Blocks
that install, start a second server or need a container engine say so in
a `<!-- readme-test: skip (why) -->` comment; other tests cover those."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, NamedTuple

import pytest

from server import ServerProcess, clean_env

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)
SKIP = re.compile(r"<!-- readme-test: skip \((.+?)\) -->\s*$")


class Block(NamedTuple):
    line: int
    lang: str
    code: str
    skip: str | None


def blocks() -> list[Block]:
    text = (ROOT / "README.md").read_text()
    out = []
    for m in FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = SKIP.search(before)
        out.append(Block(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), skip and skip.group(1)))
    return out


def test_every_skip_says_why_and_few_are_skipped() -> None:
    runnable = [b for b in blocks() if b.lang in ("sh", "python")]
    skipped = [b for b in runnable if b.skip]
    assert len(runnable) >= 12 and len(skipped) <= 5, [b.line for b in skipped]
    assert all(len(b.skip or "") > 10 for b in skipped)
    assert not [b.line for b in blocks() if b.lang == ""], "give every block a language (text for output)"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ServerProcess]]:
    """A directory holding what a fresh clone's commands use, and the server `make run` starts there."""
    work = tmp_path_factory.mktemp("readme")
    for name in ("README.md", "config.example.toml"):
        shutil.copy(ROOT / name, work / name)
    srv = ServerProcess(work / "data", "--config", str(ROOT / "config.example.toml"), "--durability", "fast")
    srv.start()
    yield work, srv
    srv.stop()


def run_block(block: Block, work: Path, srv: ServerProcess) -> subprocess.CompletedProcess[str]:
    address = srv.endpoint.split("//", 1)[1]
    code = block.code.replace("127.0.0.1:9000", address).replace("localhost:9000", address)
    env = {**clean_env(), "HOME": str(work), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if block.lang == "sh":
        cmd = ["bash", "-euo", "pipefail", "-c", code]
    elif "def test_" in code:  # a pytest example: run it as pytest would, with the plugin's own server
        (work / f"test_readme_{block.line}.py").write_text(code)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"test_readme_{block.line}.py"]
    else:
        cmd = [sys.executable, "-c", code]
    return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)


def test_readme_blocks_run_in_order(workdir: tuple[Path, ServerProcess]) -> None:
    work, srv = workdir
    ran = 0
    for block in blocks():
        if block.lang not in ("sh", "python") or block.skip:
            continue
        result = run_block(block, work, srv)
        assert result.returncode == 0, f"README.md line {block.line}:\n{block.code}\n{result.stdout}\n{result.stderr}"
        ran += 1
    assert ran >= 10
    # what the blocks did is there: the reset emptied the store, the multipart example filled it again
    s3 = srv.client()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="demo")["Contents"]] == ["big.bin", "local.bin"]
    assert s3.head_object(Bucket="demo", Key="local.bin")["ContentLength"] == 20 * 1024 * 1024
