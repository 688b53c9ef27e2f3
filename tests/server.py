"""Start and stop a real s3emu server process for tests: 127.0.0.1, a free
port, its own data directory; ended by its PID, never by name."""
from __future__ import annotations

import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

ACCESS_KEY = "s3emu"
SECRET_KEY = "s3emu-secret"
REGION = "us-east-1"
_READY = re.compile(r"s3emu ready on (http[^\s,]+)")


def clean_env() -> dict[str, str]:
    """This process's environment without s3emu's settings and the AWS
    credentials: a test server runs with exactly the settings its test gives."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("S3EMU_", "AWS_"))}


class ServerProcess:
    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None,
                 nofile: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.args = list(args)
        self.env = env
        self.nofile = nofile  # the process's file descriptor limit (RLIMIT_NOFILE), if given
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.output: list[str] = []
        self.port = 0

    def start(self, timeout: float = 20.0) -> "ServerProcess":
        port_args = ["--port", str(self.port)]
        cmd = [sys.executable, "-m", "s3emu", "serve", "--host", "127.0.0.1", *port_args,
               "--data-dir", str(self.data_dir), *self.args]
        nofile = self.nofile

        def limit() -> None:
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**clean_env(), **(self.env or {})}, preexec_fn=limit)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            m = _READY.search(line)
            if m:
                self.endpoint = m.group(1)
                self.port = int(self.endpoint.rsplit(":", 1)[1])  # a restart reuses the port
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError("s3emu did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        return proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> "ServerProcess":
        self.stop()
        return self.start()

    def client(self, **kwargs: Any) -> Any:
        return make_client(self.endpoint, **kwargs)


def make_client(endpoint: str, *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
                addressing_style: str = "path", **config: Any) -> Any:
    cfg = BotoConfig(s3={"addressing_style": addressing_style}, retries={"max_attempts": 1},
                     connect_timeout=10, read_timeout=60, **config)
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key, region_name=REGION, config=cfg)


def settled_blobs(data_dir: Path, timeout: float = 10.0) -> set[Path]:
    """The data files under data_dir/blobs once the server has unlinked what
    its committed writes dropped, which it does just after answering them:
    waits (bounded) for its list of such files, the garbage table, to empty."""
    deadline = time.monotonic() + timeout
    db = data_dir / "meta.sqlite3"
    while db.exists() and time.monotonic() < deadline:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
        try:
            if conn.execute("SELECT COUNT(*) FROM garbage").fetchone()[0] == 0:
                break
        except sqlite3.OperationalError:
            pass  # no table yet
        finally:
            conn.close()
        time.sleep(0.01)
    return {p for p in (data_dir / "blobs").rglob("*") if p.is_file()}
