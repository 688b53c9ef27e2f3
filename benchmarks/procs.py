"""Server processes under measurement: start, CPU seconds and peak RSS summed
over the process and its children (for multi-worker servers), stop by PID.
Every server speaks S3 (signed with its own keys) except the ceiling, which
takes plain PUTs and GETs."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(entry.name))
    return pids


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


ROOT = Path(__file__).resolve().parent.parent  # the checkout: `python -m s3emu` runs its s3emu


class Server:
    def __init__(self, name: str, cmd: list[str], ready: str, endpoint: str | None = None, *,
                 s3: bool = True, keys: tuple[str, str] = ("s3emu", "s3emu-secret"), cwd: Path = ROOT,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.cmd = cmd
        self.ready = re.compile(ready)
        self.endpoint = endpoint or ""
        self.s3 = s3  # False: the ceiling's plain PUT/GET
        self.keys = keys  # access key, secret key
        self.cwd = cwd
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: Path | None = None
        self._peak = 0
        self._sampling = False

    def start(self, timeout: float = 60.0) -> "Server":
        """Start the server and wait for its ready line. Its output goes to a
        file (removed by stop()), not a pipe: reading a pipe would take CPU from
        the load generator, and a full one would stall the server."""
        env = {**os.environ, **self.env} if self.env else None
        fd, name = tempfile.mkstemp(prefix=f"bench-{self.name.replace(' ', '-')}-", suffix=".log")
        os.close(fd)
        self.log = Path(name)
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.cwd, env=env)
        deadline = time.monotonic() + timeout
        with open(self.log, "rb") as lines:
            while time.monotonic() < deadline and self.proc.poll() is None:
                raw = lines.readline()
                if not raw.endswith(b"\n"):
                    lines.seek(-len(raw), os.SEEK_CUR)  # a line being written: read it whole later
                    time.sleep(0.05)
                    continue
                m = self.ready.search(raw.decode(errors="replace"))
                if m:
                    if m.groups():
                        self.endpoint += m.group(1)  # the address the server printed
                    time.sleep(0.3)  # let worker processes come up
                    return self
        self.stop(keep_log=True)
        raise RuntimeError(f"{self.name} did not start; its output: {self.log}")

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        return sum(_cpu(p) for p in _tree(self.proc.pid))

    def rss(self) -> int:
        proc = self.proc
        return 0 if proc is None else sum(_rss(p) for p in _tree(proc.pid))

    def start_sampling(self) -> None:
        """Track peak RSS from now until stop_sampling()."""
        self._peak = self.rss()
        self._sampling = True

        def sample() -> None:
            while self._sampling:
                self._peak = max(self._peak, self.rss())
                time.sleep(0.02)

        threading.Thread(target=sample, daemon=True).start()

    def stop_sampling(self) -> int:
        self._sampling = False
        return self._peak

    def stop(self, keep_log: bool = False) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.log is not None and not keep_log:
            self.log.unlink(missing_ok=True)


def s3emu(name: str, data_dir: Path, *extra: str, source: Path = ROOT) -> Server:
    """s3emu from the checkout at `source` (another commit's files for a baseline)."""
    cmd = [sys.executable, "-m", "s3emu", "serve", "--port", "0", "--data-dir", str(data_dir), *extra]
    return Server(name, cmd, r"s3emu ready on (http[^\s,]+)", cwd=source)


def ceiling(data_dir: Path) -> Server:
    cmd = [sys.executable, "-m", "benchmarks.ceiling", "--data-dir", str(data_dir)]
    return Server("ceiling", cmd, r"ceiling ready on (http\S+)", s3=False)


def moto(python: Path) -> Server:
    """moto's server (in memory; it checks no signatures). Parts of any size, as
    the s3emu servers here take, with its default in-memory buffer per key."""
    env = {"S3_UPLOAD_PART_MIN_SIZE": "1", "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(5 * (1 << 20) - 1024)}
    cmd = [str(python), "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    return Server("moto", cmd, r"Running on (http\S+)", env=env)


def s3rver(script: Path, data_dir: Path) -> Server:
    """s3rver (node, files on disk, SigV4 checked with its fixed key S3RVER)."""
    cmd = ["node", str(script), "-d", str(data_dir), "-a", "127.0.0.1", "-p", "0", "--silent"]
    return Server("s3rver", cmd, r"S3rver listening on ([\d.]+:\d+)", "http://", keys=("S3RVER", "S3RVER"),
                  env={"NODE_ENV": "production"})
