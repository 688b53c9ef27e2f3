"""Settings, in layers: built-in defaults, a TOML file, the environment
(S3EMU_<SETTING>), then command-line flags; each overrides the ones before.
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and AWS_REGION (or
AWS_DEFAULT_REGION), when set, replace the built-in default credentials and
region, so the server and its clients read the same variables.

Every value is checked by type and range (pydantic), strings included:
`auth = "false"` turns auth off, sizes take units (`5MiB`), durations
(`15m`, `7d`). Each problem is reported on its own line, naming where the
value came from (file, variable or flag), the setting and what is expected.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional

from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

MiB = 1024 * 1024
GiB = 1024 * MiB
ENV_PREFIX = "S3EMU_"
# variables that are not settings but options of the command itself
COMMAND_ENV = {"S3EMU_CONFIG": "--config", "S3EMU_READY_FILE": "--ready-file", "S3EMU_DEBUG": "--debug"}

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgtp]i?b?|b)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "t": 1000 ** 4, "p": 1000 ** 5,
               "ki": 1024, "mi": MiB, "gi": GiB, "ti": 1024 * GiB, "pi": 1024 ** 5}
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(value: Any) -> Any:
    """Bytes from a number or a string like 1024, 5MiB, 5 MB (SI, 10^6), 1.5GiB.
    ValueError for anything else."""
    if isinstance(value, str):
        m = _SIZE.fullmatch(value)
        if not m:
            raise ValueError("expected a size: bytes, or a number with a unit like 5MiB, 64KiB, 1GB")
        unit = (m.group(2) or "").lower().removesuffix("b")
        return int(float(m.group(1)) * _SIZE_UNITS[unit])
    return value


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like 30s, 15m, 2h, 7d, 1w (or a bare
    number of seconds). ValueError for anything else, negative included."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        unit = _DURATION_UNITS.get(text[-1:], None)
        try:
            seconds = float(text[:-1] if unit else text) * (unit or 1)
        except ValueError:
            raise ValueError("expected a duration: seconds, or a number with a unit like 30s, 15m, 2h, 7d") from None
    if not seconds >= 0 or math.isinf(seconds):
        raise ValueError("expected a duration of zero or more seconds")
    return seconds


Size = Annotated[int, BeforeValidator(parse_size), Field(ge=0)]
Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
Port = Annotated[int, Field(ge=0, le=65535)]
NonEmpty = Annotated[str, Field(min_length=1)]
STRICT_KEYS = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently ignored


def setting(default: Any, help: str, *, flag: bool = True, factory: Any = None) -> Any:
    """A Config field with its documentation: `help` feeds --help and the
    README's settings table; `flag=False` for settings with no flag of their own."""
    meta = {"help": help, "flag": flag}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Credential:
    __pydantic_config__ = STRICT_KEYS
    access_key: NonEmpty
    secret_key: NonEmpty


@dataclass
class BucketSpec:
    """A bucket created at start-up (`[[buckets]]` or S3EMU_BUCKETS), if missing;
    its settings are applied every start."""
    __pydantic_config__ = STRICT_KEYS
    name: str
    region: Optional[str] = None  # default: the server's region
    versioning: Optional[Literal["Enabled", "Suspended"]] = None
    object_lock: bool = False
    cors: Optional[list[dict[str, Any]]] = None  # S3's CORSRules (PutBucketCors's JSON shape)
    lifecycle: Optional[list[dict[str, Any]]] = None  # S3's lifecycle Rules
    policy: Any = None  # accepted, not applied yet (bucket policies are not implemented)
    notification: Any = None  # accepted, not applied yet (notifications are not implemented)
    seed: Optional[str] = None  # a local directory: each file becomes an object, if its key is absent


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

    __pydantic_config__ = STRICT_KEYS
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
    __pydantic_config__ = STRICT_KEYS
    host: str = setting("127.0.0.1", "address to listen on")
    port: Port = setting(9000, "port to listen on (0 picks a free one)")
    data_dir: str = setting("./data", "directory for metadata and object data (created if missing)")
    region: str = setting("us-east-1", "region reported by GetBucketLocation and used for new buckets")
    auth: bool = setting(True, "check request signatures (false accepts any signature or none)")
    credentials: list[Credential] = setting(
        None, "accepted access keys (config file: [[credentials]] tables; env: S3EMU_ACCESS_KEY and "
              "S3EMU_SECRET_KEY; flags: --access-key and --secret-key)", flag=False,
        factory=lambda: [Credential("s3emu", "s3emu-secret")])
    min_part_size: Size = setting(5 * MiB, "smallest multipart part but the last (bytes, or 5MiB, 64KiB)")
    max_part_size: Size = setting(5 * GiB, "largest multipart part")
    max_parts: Annotated[int, Field(ge=1, le=10000)] = setting(10000, "highest part number (1..10000)")
    max_object_size: Size = setting(5 * 1024 * GiB, "largest object")
    durability: Literal["fsync", "fast"] = setting(
        "fsync", "fsync: writes survive power loss; fast: no fsync (throwaway data)")
    workers: Annotated[int, Field(ge=1)] = setting(
        1, "server processes sharing the port (SO_REUSEPORT; Linux and macOS)")
    domains: list[str] = setting(
        None, "bucket.DOMAIN addresses a bucket (virtual-hosted style); flag repeatable, env comma-separated",
        flag=False, factory=lambda: ["localhost"])
    tls_cert: Optional[str] = setting(None, "serve HTTPS with this PEM certificate (chain)")
    tls_key: Optional[str] = setting(None, "the PEM private key of tls_cert")
    cors_allow_all: bool = setting(
        False, "buckets without CORS rules answer any origin (local development; S3 has no such default)")
    lifecycle_day_seconds: Seconds = setting(86400.0, "length of a lifecycle \"day\" (shorten in tests)")
    reaper_interval: Seconds = setting(60.0, "how often lifecycle rules and upload_expiry are enforced")
    upload_expiry: Optional[Duration] = setting(None, "abort any multipart upload older than this (off unless set)")
    restore_seconds: Duration = setting(
        2.0, "how long a RestoreObject of a GLACIER / DEEP_ARCHIVE object takes (hours on S3)")
    request_idle_timeout: Seconds = setting(60.0, "a request body idle this long is answered RequestTimeout")
    request_min_rate: Annotated[float, Field(gt=0)] = setting(
        1024.0, "a request body arriving slower than this on average (bytes per second) once "
                "request_idle_timeout has passed is answered RequestTimeout")
    request_header_timeout: Seconds = setting(
        60.0, "a connection whose request headers are not all in this long after it opened (or after its "
              "previous response) is closed")
    access_log: bool = setting(True, "one line per request on stderr")
    log_format: Literal["text", "json"] = setting("text", "stderr lines as text, or JSON (every line)")
    faults: list[dict[str, Any]] = setting(
        None, "fault injection rules (config file: [[faults]] tables; env: a JSON list)", flag=False,
        factory=list)
    buckets: list[BucketSpec] = setting(
        None, "buckets created at start-up (config file: [[buckets]] tables; env: names, comma-separated, "
              "or a JSON list of tables)", flag=False, factory=list)
    console: bool = setting(True, "the web console at /_s3emu/console/ (and the recent-requests record it reads)")
    accounts: list[Account] = setting(
        None, "accounts besides the default one (which holds `credentials`), each with its own keys (config file: "
              "[[accounts]] tables; env: a JSON list)", flag=False, factory=list)
    legacy_permissions: bool = setting(
        False, "new buckets as S3 made them before April 2023: ACLs enabled (ObjectWriter), no public access block")
    website_port: Optional[Port] = setting(
        None, "also serve website-configured buckets on this port, as S3's website endpoints (0 picks a free one)")
    website_domains: list[str] = setting(
        None, "bucket.DOMAIN reaches the website endpoint on either port; flag repeatable, env comma-separated",
        flag=False, factory=lambda: ["s3-website.localhost"])
    notification_targets: dict[str, str] = setting(
        None, "event notification destinations: ARN -> http(s) webhook URL or file path (config file: a "
              "[notification_targets] table; env: a JSON object)", flag=False, factory=dict)
    notification_max_backoff: Seconds = setting(60.0, "longest wait between retries of a failed event delivery")
    logging_flush_interval: Seconds = setting(60.0, "how often bucket server access logs are written to their targets")

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
        """Checks the settings as they are (for a Config built in code); ConfigError."""
        return build({f.name: getattr(self, f.name) for f in fields(self)}, {})

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



class ConfigError(ValueError):
    """Settings that cannot be used: one readable line per problem in `problems`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def default_of(f: Any) -> Any:
    return f.default_factory() if f.default is MISSING else f.default


def load(path: str | Path | None = None, flags: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Config:
    """The settings from `path` (TOML, optional), `environ` (S3EMU_* and the
    AWS_* defaults; none when None) and `flags` (setting name -> value, None
    meaning not given), in that order of precedence, lowest first. ConfigError."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    if environ is not None:
        _aws_defaults(environ, values, origins)
    if path is not None:
        _from_file(Path(path), values, origins, problems)
    if environ is not None:
        _from_env(environ, values, origins, problems)
    for name, value in (flags or {}).items():
        if value is not None:
            values[name], origins[name] = value, "flag " + flag_name(name)
    if problems:
        raise ConfigError(problems)
    return build(values, origins)


def build(values: Mapping[str, Any], origins: Mapping[str, str]) -> Config:
    """A checked Config from setting values; `origins` names where each came
    from, for messages ({"port": "S3EMU_PORT"}; default: the name). ConfigError."""
    problems = []
    for name in sorted(set(values) - set(_known())):
        hint = difflib.get_close_matches(name, _known(), n=1)
        problems.append(f"{_where(origins, name)}: not a setting s3emu knows"
                        + (f" (did you mean {hint[0]}?)" if hint else ""))
    given = {k: v for k, v in values.items() if k in _known()}
    try:
        config = _adapter().validate_python(given)
    except ValidationError as e:
        problems += [_describe(err, origins) for err in e.errors()]
        raise ConfigError(problems) from None
    problems += [f"{_where(origins, *names)}: {message}" for names, message in _consistency(config)]
    if problems:
        raise ConfigError(problems)
    config.domains = [d.strip(". ").lower() for d in config.domains if d.strip(". ")]
    config.website_domains = [d.strip(". ").lower() for d in config.website_domains if d.strip(". ")]
    return config


def unknown_env(environ: Mapping[str, str]) -> list[str]:
    """S3EMU_* variables that name no setting: a warning each (a typo would otherwise go unnoticed)."""
    known = {env_name(n) for n in _known()} | set(COMMAND_ENV) | {"S3EMU_ACCESS_KEY", "S3EMU_SECRET_KEY"}
    out = []
    for var in sorted(v for v in environ if v.startswith(ENV_PREFIX) and v not in known):
        hint = difflib.get_close_matches(var, sorted(known), n=1)
        out.append(f"{var} is not an s3emu setting; ignored" + (f" (did you mean {hint[0]}?)" if hint else ""))
    return out


_ADAPTER: TypeAdapter[Config] | None = None


def _adapter() -> TypeAdapter[Config]:
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = TypeAdapter(Config)
    return _ADAPTER


def _known() -> list[str]:
    return [f.name for f in fields(Config)]


def _consistency(c: Config) -> list[tuple[tuple[str, ...], str]]:
    """Problems no single setting shows: (settings involved, message)."""
    out: list[tuple[tuple[str, ...], str]] = []
    if c.max_part_size < c.min_part_size:
        out.append((("max_part_size", "min_part_size"),
                    f"max_part_size ({c.max_part_size}) must be at least min_part_size ({c.min_part_size})"))
    if c.auth and not c.credentials:
        out.append((("auth", "credentials"), "auth is on but no credentials are configured"))
    if bool(c.tls_cert) != bool(c.tls_key):
        out.append((("tls_cert", "tls_key"), "tls_cert and tls_key go together: give both or neither"))
    try:
        c._check_accounts()
    except ValueError as e:
        out.append((("accounts",), str(e)))
    names = [b.name for b in c.buckets]
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append((("buckets",), f"bucket {name!r} is listed twice"))
    return out


def _where(origins: Mapping[str, str], *names: str) -> str:
    """Where settings came from, for a message: "config.toml: port", "S3EMU_PORT", "flag --port"."""
    return " and ".join(origins.get(name, name) for name in names)


def _describe(err: Mapping[str, Any], origins: Mapping[str, str]) -> str:
    """One pydantic error as a line: where, which key, what is expected, what was given."""
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal[")))]
    top = str(loc[0]) if loc else ""
    sub = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
    where = _where(origins, top) + sub
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        return f"{where}: not a setting s3emu knows here"
    if err["type"] == "missing":
        return f"{where}: missing (required)"
    message = message.removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    return f"{where}: {message}, got {err['input']!r}"


def _from_file(path: Path, values: dict[str, Any], origins: dict[str, str], problems: list[str]) -> None:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        problems.append(f"{path}: cannot read the config file: {e.strerror or e}")
        return
    except tomllib.TOMLDecodeError as e:
        problems.append(f"{path}: not valid TOML: {e}")
        return
    for name, value in data.items():
        values[name], origins[name] = value, f"{path}: {name}"


def _aws_defaults(environ: Mapping[str, str], values: dict[str, Any], origins: dict[str, str]) -> None:
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        values["credentials"] = [{"access_key": key, "secret_key": secret}]
        origins["credentials"] = "AWS_ACCESS_KEY_ID"
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):  # AWS_REGION wins, as in the SDKs
        if environ.get(var):
            values["region"], origins["region"] = environ[var], var


def _from_env(environ: Mapping[str, str], values: dict[str, Any], origins: dict[str, str],
              problems: list[str]) -> None:
    for f in fields(Config):
        var = env_name(f.name)
        raw = environ.get(var, "").strip()
        if not raw:
            continue
        try:
            values[f.name] = _env_value(f.name, raw)
        except ValueError as e:
            problems.append(f"{var}: {e}")
            continue
        origins[f.name] = var
    key, secret = environ.get("S3EMU_ACCESS_KEY"), environ.get("S3EMU_SECRET_KEY")
    if key or secret:
        if not (key and secret):
            problems.append("S3EMU_ACCESS_KEY and S3EMU_SECRET_KEY go together: set both or neither")
        else:
            values["credentials"] = [{"access_key": key, "secret_key": secret}]
            origins["credentials"] = "S3EMU_ACCESS_KEY"


def _env_value(name: str, raw: str) -> Any:
    """A variable's text as the setting's value: lists comma-separated, tables as JSON."""
    if name in ("domains", "website_domains"):
        return [d.strip() for d in raw.split(",")]
    if name == "notification_targets":
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise ValueError(f"not valid JSON: {e}") from None
        return value
    if name in ("faults", "buckets", "accounts"):
        if raw.startswith(("[", "{")):
            try:
                value = json.loads(raw)
            except ValueError as e:
                raise ValueError(f"not valid JSON: {e}") from None
            return value if isinstance(value, list) else [value]
        if name == "buckets":
            return [{"name": n.strip()} for n in raw.split(",") if n.strip()]
        raise ValueError(f"expected a JSON list of {name} tables")
    return raw


