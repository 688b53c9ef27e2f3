"""Settings: defaults, then a TOML file, then command-line flags."""
from __future__ import annotations

import hashlib
import re
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


# The account the `credentials` keys (and every bucket written before accounts
# existed) belong to. Its canonical id is the one s3emu always reported as Owner.
DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_CANONICAL_ID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
DEFAULT_DISPLAY_NAME = "s3emu"


def canonical_id_of(account_id: str) -> str:
    """The canonical user id (64 hex) of an account configured without one:
    derived from its account id, so it is the same on every start."""
    return hashlib.sha256(f"s3emu canonical user {account_id}".encode()).hexdigest()


@dataclass
class Account:
    """A configured account (`[[accounts]]`): who owns buckets and objects and
    whom ACLs and policies name."""

    name: str
    account_id: str
    canonical_id: str = ""  # 64 hex; derived from account_id when empty
    display_name: str = ""  # the name when empty
    email: str | None = None
    keys: list[Credential] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.canonical_id = (self.canonical_id or canonical_id_of(self.account_id)).lower()
        self.display_name = self.display_name or self.name

    def check(self) -> None:
        if not re.fullmatch(r"\d{12}", self.account_id):
            raise ValueError(f"account {self.name!r}: account_id must be 12 digits, not {self.account_id!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", self.canonical_id):
            raise ValueError(f"account {self.name!r}: canonical_id must be 64 hex digits")


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
    # accounts besides the default one (which holds `credentials`), each with its own keys
    accounts: list[Account] = field(default_factory=list)
    # new buckets as S3 made them before April 2023: ACLs enabled (ObjectWriter), no public access block
    legacy_permissions: bool = False

    def default_account(self) -> Account:
        """The account the `credentials` keys belong to."""
        return Account("default", DEFAULT_ACCOUNT_ID, DEFAULT_CANONICAL_ID, DEFAULT_DISPLAY_NAME,
                       keys=self.credentials)

    def all_accounts(self) -> list[Account]:
        """The default account first, then the configured ones."""
        return [self.default_account(), *self.accounts]

    def secret_for(self, access_key: str) -> str | None:
        for account in self.all_accounts():
            for c in account.keys:
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
        self._check_accounts()
        return self

    def _check_accounts(self) -> None:
        seen: dict[tuple[str, str], str] = {}
        for account in self.all_accounts():
            account.check()
            for kind, value in (("name", account.name), ("account_id", account.account_id),
                                ("canonical_id", account.canonical_id), ("email", account.email),
                                *(("access key", k.access_key) for k in account.keys)):
                if value is None:
                    continue
                if (kind, value) in seen and seen[(kind, value)] != account.name:
                    raise ValueError(f"accounts {seen[(kind, value)]!r} and {account.name!r} share the {kind} "
                                     f"{value!r}")
                seen[(kind, value)] = account.name


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
    if "accounts" in values:
        values["accounts"] = [a if isinstance(a, Account) else _account(a) for a in values["accounts"]]
    if "credentials" in values:
        values["credentials"] = [c if isinstance(c, Credential) else Credential(c["access_key"], c["secret_key"])
                                 for c in values["credentials"]]
    return Config(**values).validate()


def _account(table: dict[str, Any]) -> Account:
    """An `[[accounts]]` table: name, account_id, optional canonical_id,
    display_name, email, and `[[accounts.keys]]` access_key/secret_key pairs."""
    known = {"name", "account_id", "canonical_id", "display_name", "email", "keys"}
    unknown = set(table) - known
    if unknown or "name" not in table or "account_id" not in table:
        raise ValueError(f"an [[accounts]] entry needs name and account_id and takes only {', '.join(sorted(known))}")
    keys = [Credential(k["access_key"], k["secret_key"]) for k in table.get("keys", [])]
    return Account(str(table["name"]), str(table["account_id"]), str(table.get("canonical_id", "")),
                   str(table.get("display_name", "")), table.get("email"), keys)


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
