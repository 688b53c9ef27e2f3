"""The peers measured beside s3emu, installed at bench time from the package
registries into benchmarks/.peers/ (ignored by git, reused by later runs):
moto's server (PyPI, `moto[server]`) in a virtualenv of its own, and s3rver
(npm). A peer that cannot be installed is skipped with the reason printed.
LocalStack needs a Docker engine, which this machine does not have."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PEERS = Path(__file__).parent / ".peers"
MOTO = "moto[server]>=5,<6"
S3RVER = "s3rver@3.7.1"


def _run(cmd: list[str], what: str) -> bool:
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"# {what} not installed: {e}", flush=True)
        return False
    if done.returncode != 0:
        print(f"# {what} not installed: {done.stdout.strip().splitlines()[-1:]}", flush=True)
    return done.returncode == 0


def moto_python() -> Path | None:
    """The python of a virtualenv holding moto's server, made if missing."""
    venv = PEERS / "moto-venv"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"# installing {MOTO} into {venv}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        if not (_run([sys.executable, "-m", "venv", str(venv)], "moto")
                and _run([str(python), "-m", "pip", "install", "--quiet", MOTO], "moto")):
            return None
        (venv / ".installed").touch()
    return python


def s3rver_script() -> Path | None:
    """s3rver's command-line script, installed with npm if missing."""
    prefix = PEERS / "node"
    script = prefix / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            print("# s3rver not installed: no node/npm on PATH", flush=True)
            return None
        print(f"# installing {S3RVER} into {prefix}", flush=True)
        prefix.mkdir(parents=True, exist_ok=True)
        if not _run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent", S3RVER],
                    "s3rver"):
            return None
    return script if script.exists() else None
