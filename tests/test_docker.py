"""The Dockerfile, checked without a container engine: its instructions,
its build context (what .dockerignore lets through, from a clean checkout)
building the package, and its ENTRYPOINT and HEALTHCHECK commands run as
the image would run them, with its ENV."""
from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from server import clean_env

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in (ln.strip() for ln in text.splitlines()):
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec form: {args}"
    return value


def image_env() -> dict[str, str]:
    env = {}
    for word, rest in instructions():
        if word == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return env


def context_files() -> list[str]:
    """The files a build from a clean checkout sends, after .dockerignore."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        verdict = False
        for pattern in patterns:
            negate, pattern = pattern.startswith("!"), pattern.lstrip("!")
            if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
                verdict = not negate
        return verdict

    return [f for f in tracked.stdout.split("\0") if f and (ROOT / f).is_file() and not ignored(f)]


def test_instructions() -> None:
    found = dict(instructions())  # the last of each kind
    assert found["FROM"].startswith("python:") and found["FROM"].endswith("-slim")
    assert found["USER"] not in ("root", "0")
    assert found["VOLUME"] == "/data" and found["EXPOSE"] == "9000"
    env = image_env()
    assert (env["S3EMU_HOST"], env["S3EMU_PORT"], env["S3EMU_DATA_DIR"]) == ("0.0.0.0", "9000", "/data")
    assert exec_form(found["ENTRYPOINT"]) == ["s3emu", "serve"]
    assert "CMD" in found["HEALTHCHECK"]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /src as its COPY instructions lay it out from the build context."""
    files = context_files()
    assert "pyproject.toml" in files and "s3emu/__init__.py" in files
    assert not [f for f in files if f.startswith(("tests/", ".venv/", "data/", "benchmarks/"))]
    ctx, src = tmp_path_factory.mktemp("context"), tmp_path_factory.mktemp("src")
    for f in files:
        (ctx / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, ctx / f)
    for word, rest in instructions():
        if word == "COPY":
            *sources, dest = shlex.split(rest)
            for source in sources:
                assert (ctx / source).exists(), f"COPY {source}: not in the build context"
                target = src / dest / (Path(source).name if dest.endswith("/") else "")
                if (ctx / source).is_dir():
                    shutil.copytree(ctx / source, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(ctx / source, target)
    return src


def test_context_builds_the_package(context: Path, tmp_path: Path) -> None:
    """The RUN step's `pip install .`, as a wheel built from the context alone."""
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                             "-w", str(tmp_path), str(context)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("s3emu-*.whl")
    listing = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(wheel)], capture_output=True, text=True,
                             check=True).stdout
    for member in ("s3emu/__main__.py", "s3emu/runtime/health.py", "s3emu/console/index.html"):
        assert member in listing


@pytest.fixture
def entrypoint_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with socket.socket() as s:  # a port for the server; the health check reads it from the environment
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bin_dir = str(Path(sys.executable).parent)
    yield {**clean_env(), **image_env(), "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           # loopback and a scratch directory stand in for the container's 0.0.0.0 and /data
           "S3EMU_HOST": "127.0.0.1", "S3EMU_PORT": str(port), "S3EMU_DATA_DIR": str(tmp_path / "data"),
           "S3EMU_DURABILITY": "fast", "S3EMU_BUCKETS": "from-env"}


def test_entrypoint_and_healthcheck(entrypoint_env: dict[str, str], tmp_path: Path) -> None:
    found = dict(instructions())
    health = exec_form(found["HEALTHCHECK"].split("CMD", 1)[1].strip())
    proc = subprocess.Popen(exec_form(found["ENTRYPOINT"]), env=entrypoint_env, cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == f"s3emu ready on http://127.0.0.1:{entrypoint_env['S3EMU_PORT']}\n", first
        check = subprocess.run(health, env=entrypoint_env, capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr
        assert json.loads(check.stdout)["status"] == "ok"
        assert (tmp_path / "data" / "meta.sqlite3").exists()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    check = subprocess.run(health, env=entrypoint_env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 1 and "does not answer" in check.stderr
