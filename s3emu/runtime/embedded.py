"""s3emu from Python: a server in a background thread, for tests and scripts.

    with s3emu.serve() as server:
        s3 = server.client()
        s3.create_bucket(Bucket="demo")
"""
from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from ..auth.sigv4 import sign_request
from ..config import Config, Credential, build

START_TIMEOUT = 30.0


class Credentials(NamedTuple):
    access_key: str
    secret_key: str


def _boto3() -> Any:
    """boto3, which s3emu installs only with its `pytest` extra."""
    try:
        import boto3
    except ImportError:
        raise ModuleNotFoundError("s3emu's boto3 clients (Server.client(), the pytest fixtures) need boto3: "
                                  "pip install 's3emu[pytest]'", name="boto3") from None
    return boto3


class Endpoint:
    """A running s3emu (or, for `client()` and `resource()`, any S3) at a URL:
    boto3 clients for it, and its admin endpoints."""

    def __init__(self, endpoint_url: str, *, region: str = "us-east-1",
                 credentials: Credentials = Credentials("s3emu", "s3emu-secret")) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.credentials = credentials
        self.data_dir: Path | None = None  # known only for a server started here
        self.faults_added = False

    def _boto_args(self, config: dict[str, Any]) -> dict[str, Any]:
        _boto3()
        from botocore.config import Config as BotoConfig
        config = {"s3": {"addressing_style": "path"}, **config}
        return {"endpoint_url": self.endpoint_url, "region_name": self.region,
                "aws_access_key_id": self.credentials.access_key,
                "aws_secret_access_key": self.credentials.secret_key, "config": BotoConfig(**config)}

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server. Keyword arguments are botocore
        Config settings, e.g. retries={"mode": "standard", "max_attempts": 5}."""
        return _boto3().client("s3", **self._boto_args(config))

    def resource(self, **config: Any) -> Any:
        """A boto3 S3 resource for this server (same arguments as client())."""
        return _boto3().resource("s3", **self._boto_args(config))

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        """A request to an admin endpoint, signed with this endpoint's credentials
        (a server checking signatures refuses unsigned changes)."""
        data = b"" if body is None else json.dumps(body).encode()
        url = f"{self.endpoint_url}/_s3emu/{path}"
        headers = sign_request(method, url, data, self.credentials.access_key, self.credentials.secret_key,
                               self.region, {"Content-Type": "application/json"})
        request = urllib.request.Request(url, data=data or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise ValueError(f"{method} /_s3emu/{path}: {e.code} {detail}") from None

    def reset(self, bucket: str | None = None) -> None:
        """Empties the server's store, or only `bucket`: buckets, objects,
        versions, uploads, locked objects included (POST /_s3emu/reset)."""
        self._admin("POST", "reset" + (f"?bucket={urllib.parse.quote(bucket)}" if bucket else ""), {})

    def health(self) -> dict[str, Any]:
        return dict(self._admin("GET", "health"))

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Adds a fault rule (see README, "Fault injection"), e.g.
        add_fault(operation="UploadPart", error="SlowDown", times=2). Returns
        the rule as stored, with its id."""
        self.faults_added = True
        return dict(self._admin("POST", "faults", rule)["faults"][0])

    def faults(self) -> list[dict[str, Any]]:
        """The rules in force, with how often each matched and fired."""
        return list(self._admin("GET", "faults")["faults"])

    def remove_fault(self, rule_id: int) -> None:
        self._admin("DELETE", f"faults/{rule_id}")

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")
        self.faults_added = False


class Server(Endpoint):
    """An s3emu server running in a background thread with its own event loop."""

    def __init__(self, config: Config, *, temporary: bool = False) -> None:
        cred = config.credentials[0] if config.credentials else Credential("s3emu", "s3emu-secret")
        super().__init__("", region=config.region, credentials=Credentials(cred.access_key, cred.secret_key))
        self.config = config
        self.data_dir = Path(config.data_dir)
        self._temporary = temporary
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.website_url: str | None = None

    def start(self) -> "Server":
        self._thread = threading.Thread(target=self._run, name="s3emu", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT):
            raise RuntimeError("s3emu did not start")
        if self._error is not None:
            self._thread.join()
            self._cleanup_dir()
            raise self._error
        return self

    def _run(self) -> None:
        from . import launch
        try:
            launch.run(self._main())
        except BaseException as e:  # reported to start() if it happens there
            if not self._started.is_set():
                self._error = e
                self._started.set()
            else:
                raise

    async def _main(self) -> None:
        from . import launch
        running = await launch.start(self.config, shutdown_timeout=5.0)
        try:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.endpoint_url = running.endpoint
            self.website_url = running.website_endpoint  # with config.website_port set
            self._started.set()
            await self._stop.wait()
        finally:
            await running.stop()

    def stop(self) -> None:
        """Stops the server (requests in flight finish first) and, if it made
        its own data directory, removes it."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop is not None and thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        thread.join(START_TIMEOUT)
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        if self._temporary and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _credential(value: Any) -> Credential:
    """A Credential from a Credential, an (access_key, secret_key) pair or a dict."""
    if isinstance(value, Credential):
        return value
    if isinstance(value, dict):
        return Credential(value["access_key"], value["secret_key"])
    access_key, secret_key = value
    return Credential(access_key, secret_key)


def serve(data_dir: str | Path | None = None, port: int = 0, **settings: Any) -> Server:
    """Starts a server on 127.0.0.1 (any free port by default) and returns it,
    running; use it as a context manager to stop it. `settings` are Config
    fields (min_part_size=..., auth=False, region=..., faults=[...]).
    data_dir=None uses a temporary directory, removed on exit. Durability is
    "fast" unless given: test data need not survive a power cut."""
    known = {f.name for f in fields(Config)}
    unknown = set(settings) - known
    if unknown:
        raise TypeError(f"unknown s3emu settings: {', '.join(sorted(unknown))}")
    temporary = data_dir is None
    if data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="s3emu-")
    settings.setdefault("durability", "fast")
    settings.setdefault("host", "127.0.0.1")
    if "credentials" in settings:
        settings["credentials"] = [_credential(c) for c in settings["credentials"]]
    try:
        from . import launch
        values = {**settings, "data_dir": str(data_dir), "port": port}
        config = launch.check(build(values, {name: f"s3emu.serve({name}=...)" for name in values}))
    except BaseException:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Server(config, temporary=temporary).start()
