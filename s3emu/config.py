"""Settings: defaults, then a TOML file, then command-line flags."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass
class Credential:
    access_key: str
    secret_key: str


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 9000
    data_dir: str = "./data"
    region: str = "us-east-1"
    auth: bool = True
    credentials: list[Credential] = field(
        default_factory=lambda: [Credential("s3emu", "s3emu-secret")])
    min_part_size: int = 5 * MiB
    max_part_size: int = 5 * GiB
    max_parts: int = 10000
    max_object_size: int = 5 * 1024 * GiB
    durability: str = "fsync"  # "fsync" or "fast"
    domains: list[str] = field(default_factory=lambda: ["localhost"])
    # HTTPS: a PEM certificate chain and its private key (both or neither)
    tls_cert: str | None = None
    tls_key: str | None = None
    # buckets without a CORS configuration answer browsers from any origin
    # (S3 has no such default; for local development)
    cors_allow_all: bool = False
    # lifecycle and abandoned uploads: the length of a lifecycle "day", how
    # often the reaper sweeps, and a server-wide age limit for open uploads
    lifecycle_day_seconds: float = 86400.0
    reaper_interval: float = 60.0
    upload_expiry: float | str | None = None  # seconds or a duration like "7d"; None: never
    # a request body that sends nothing for this long is answered RequestTimeout and closed
    request_idle_timeout: float = 60.0
    access_log: bool = True
    log_format: str = "text"  # access log lines: "text" or "json"
    faults: list[dict[str, Any]] = field(default_factory=list)  # fault injection rules (see faults.py)
    console: bool = True  # the web console at /_s3emu/console/ (and the recent-requests record it reads)

    def secret_for(self, access_key: str) -> str | None:
        for c in self.credentials:
            if c.access_key == access_key:
                return c.secret_key
        return None

    def validate(self) -> "Config":
        if self.durability not in ("fsync", "fast"):
            raise ValueError(f"durability must be 'fsync' or 'fast', not {self.durability!r}")
        if not 1 <= self.max_parts <= 10000:
            raise ValueError("max_parts must be between 1 and 10000")
        if self.min_part_size < 0 or self.max_part_size < self.min_part_size:
            raise ValueError("part size limits are inconsistent")
        if self.auth and not self.credentials:
            raise ValueError("auth is on but no credentials are configured")
        if self.upload_expiry is not None:
            self.upload_expiry = parse_duration(self.upload_expiry)
        for name in ("lifecycle_day_seconds", "reaper_interval", "request_idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format must be 'text' or 'json', not {self.log_format!r}")
        self.domains = [d.strip(". ").lower() for d in self.domains if d.strip(". ")]
        return self


def load(path: str | Path | None, overrides: dict[str, Any] | None = None) -> Config:
    values: dict[str, Any] = {}
    if path is not None:
        with open(path, "rb") as f:
            values = tomllib.load(f)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    known = {f.name for f in fields(Config)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "credentials" in values:
        values["credentials"] = [c if isinstance(c, Credential) else Credential(c["access_key"], c["secret_key"])
                                 for c in values["credentials"]]
    return Config(**values).validate()


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: float | int | str) -> float:
    """Seconds from a number or a string like 30s, 15m, 2h, 7d (or a bare number of seconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        unit = _UNITS.get(text[-1:], None)
        try:
            seconds = float(text[:-1] if unit else text) * (unit or 1)
        except ValueError:
            raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 15m, 2h, 7d)") from None
    if not seconds >= 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    return seconds
