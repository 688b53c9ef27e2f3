"""Settings: flags > S3EMU_* environment > config file > defaults (AWS_* as
default credentials), checked by type and range with one message per
problem; failures to start are one line and exit status 2."""
from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import requests

from s3emu import __version__
from s3emu.config import Config, ConfigError, env_name, load
from server import ServerProcess, clean_env


def s3emu_cmd(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "s3emu", *args], capture_output=True, text=True,
                          timeout=timeout, env={**clean_env(), **(env or {})})


def problems(path: Path | None = None, flags: dict[str, Any] | None = None,
             env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(path, flags, env or {})
    return e.value.problems


def test_precedence_flags_env_file_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text('port = 9100\nregion = "eu-west-1"\nmin_part_size = 1024\ndata_dir = "file-dir"\n')
    env = {"S3EMU_PORT": "9200", "S3EMU_REGION": "eu-north-1"}
    config = load(cfg, {"port": "9300", "region": None}, env)
    assert (config.port, config.region, config.min_part_size, config.data_dir, config.host) == \
        (9300, "eu-north-1", 1024, "file-dir", "127.0.0.1")
    assert load(cfg, {}, env).port == 9200
    assert load(cfg, {}, {}).port == 9100
    assert load(None, {}, {}).port == 9000


def test_aws_variables_are_the_default_credentials_and_region(tmp_path: Path) -> None:
    aws = {"AWS_ACCESS_KEY_ID": "AKIDCLIENT", "AWS_SECRET_ACCESS_KEY": "client-secret", "AWS_REGION": "ap-south-1"}
    config = load(None, {}, aws)
    assert [(c.access_key, c.secret_key) for c in config.credentials] == [("AKIDCLIENT", "client-secret")]
    assert config.region == "ap-south-1"
    assert load(None, {}, {"AWS_DEFAULT_REGION": "sa-east-1"}).region == "sa-east-1"
    # anything s3emu's own says wins
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text('[[credentials]]\naccess_key = "filekey"\nsecret_key = "filesecret"\n')
    assert load(cfg, {}, aws).credentials[0].access_key == "filekey"
    own = {**aws, "S3EMU_ACCESS_KEY": "envkey", "S3EMU_SECRET_KEY": "envsecret", "S3EMU_REGION": "us-west-2"}
    config = load(None, {}, own)
    assert (config.credentials[0].access_key, config.region) == ("envkey", "us-west-2")


@pytest.mark.parametrize("value, expected", [("false", False), ("False", False), ("0", False), ("no", False),
                                             ("off", False), ("true", True), ("1", True), ("on", True)])
def test_booleans_as_strings(tmp_path: Path, value: str, expected: bool) -> None:
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text(f'auth = "{value}"\n')
    assert load(cfg, {}, {}).auth is expected
    assert load(None, {}, {"S3EMU_AUTH": value}).auth is expected


def test_sizes_durations_and_lists() -> None:
    env = {"S3EMU_MIN_PART_SIZE": "64KiB", "S3EMU_MAX_PART_SIZE": "1.5GiB", "S3EMU_MAX_OBJECT_SIZE": "5MB",
           "S3EMU_UPLOAD_EXPIRY": "7d", "S3EMU_REAPER_INTERVAL": "15m", "S3EMU_DOMAINS": "localhost, s3.test",
           "S3EMU_BUCKETS": "alpha,beta", "S3EMU_FAULTS": '{"operation": "PutObject", "error": "SlowDown"}'}
    config = load(None, {}, env)
    assert (config.min_part_size, config.max_part_size, config.max_object_size) == (65536, 3 * 2 ** 29, 5_000_000)
    assert (config.upload_expiry, config.reaper_interval) == (7 * 86400, 900)
    assert config.domains == ["localhost", "s3.test"]
    assert [b.name for b in config.buckets] == ["alpha", "beta"]
    assert config.faults == [{"operation": "PutObject", "error": "SlowDown"}]


def test_one_message_per_problem_naming_file_key_and_expectation(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('prot = 9000\nport = 70000\nworkers = 0\nmin_part_size = "5 parsecs"\n'
                   'upload_expiry = "soon"\ndurability = "sometimes"\n[[credentials]]\naccess_key = "a"\n')
    assert problems(cfg) == [
        f"{cfg}: prot: not a setting s3emu knows (did you mean port?)",
        f"{cfg}: port: input should be less than or equal to 65535, got 70000",
        f"{cfg}: credentials[0].secret_key: missing (required)",
        f"{cfg}: min_part_size: expected a size: bytes, or a number with a unit like 5MiB, 64KiB, 1GB, "
        "got '5 parsecs'",
        f"{cfg}: durability: input should be 'fsync' or 'fast', got 'sometimes'",
        f"{cfg}: workers: input should be greater than or equal to 1, got 0",
        f"{cfg}: upload_expiry: expected a duration: seconds, or a number with a unit like 30s, 15m, 2h, 7d, "
        "got 'soon'",
    ]
    assert problems(None, {}, {"S3EMU_PORT": "nine", "S3EMU_AUTH": "maybe"}) == [
        "S3EMU_PORT: input should be a valid integer, unable to parse string as an integer, got 'nine'",
        "S3EMU_AUTH: input should be a valid boolean, unable to interpret input, got 'maybe'",
    ]
    assert problems(None, {"min_part_size": "2MiB", "max_part_size": "1MiB"}) == [
        "flag --max-part-size and flag --min-part-size: max_part_size (1048576) must be at least "
        "min_part_size (2097152)"]
    assert problems(None, {}, {"S3EMU_ACCESS_KEY": "k"}) == [
        "S3EMU_ACCESS_KEY and S3EMU_SECRET_KEY go together: set both or neither"]
    cfg.write_text("port = \n")
    assert problems(cfg)[0].startswith(f"{cfg}: not valid TOML: ")
    assert problems(tmp_path / "absent.toml") == [f"{tmp_path / 'absent.toml'}: cannot read the config file: "
                                                  "No such file or directory"]


def test_auth_false_from_the_environment_turns_auth_off(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, "--durability", "fast", env={"S3EMU_AUTH": "false", "S3EMU_REGION": "eu-west-1",
                                                              "S3EMU_MIN_PART_SIZE": "1KiB"}).start()
    try:
        assert requests.get(f"{srv.endpoint}/", timeout=30).status_code == 200  # unsigned, accepted
        health = requests.get(f"{srv.endpoint}/_s3emu/health", timeout=30).json()
        assert health["region"] == "eu-west-1"
        banner = "".join(srv.output)
        assert "region eu-west-1" in banner and "auth off" in banner
    finally:
        srv.stop()


def test_help_documents_every_flag_with_its_default() -> None:
    result = s3emu_cmd("serve", "--help")
    assert result.returncode == 0
    options = result.stdout.split("options:", 1)[1]
    flags = [re.sub(r"\s+", " ", e) for e in re.split(r"\n  (?=-)", options) if e.startswith("--")]
    text = " ".join(flags)
    assert len(flags) > 25
    undocumented = [e.split()[0] for e in flags if "(default:" not in e]
    assert undocumented == []
    for setting in ("--port N", "--min-part-size SIZE", "--upload-expiry DURATION", "--auth, --no-auth"):
        assert setting in text
    assert s3emu_cmd("--version").stdout == f"s3emu {__version__}\n"


def test_bad_config_is_one_line_per_problem_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('port = "http"\nauth = "sometimes"\n')
    result = s3emu_cmd("serve", "--config", str(cfg))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"s3emu: {cfg}: port: input should be a valid integer, unable to parse string as an integer, got 'http'",
        f"s3emu: {cfg}: auth: input should be a valid boolean, unable to interpret input, got 'sometimes'",
    ]


def _one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_start_failures_are_one_line_and_exit_2(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    _one_line(s3emu_cmd("serve", "--data-dir", str(a_file), "--port", "0"), "is not a directory", "--data-dir")
    _one_line(s3emu_cmd("serve", "--data-dir", str(a_file / "sub"), "--port", "0"),
              "cannot be created or written")
    _one_line(s3emu_cmd("serve", "--data-dir", str(tmp_path / "d"), "--port", "0", "--tls-cert",
                        str(tmp_path / "missing.pem"), "--tls-key", str(tmp_path / "missing.pem")),
              "cannot load the TLS certificate")
    newer = tmp_path / "newer"
    newer.mkdir()
    with sqlite3.connect(newer / "meta.sqlite3") as db:
        db.execute("PRAGMA user_version=999")
    _one_line(s3emu_cmd("serve", "--data-dir", str(newer), "--port", "0"), "newer s3emu", "999")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for workers in ("1", "2"):
            _one_line(s3emu_cmd("serve", "--data-dir", str(tmp_path / "d"), "--port", port, "--workers", workers),
                      f"port {port} on 127.0.0.1 is in use", "--port")
        debug = s3emu_cmd("serve", "--data-dir", str(tmp_path / "d"), "--port", port, "--debug")
        assert debug.returncode == 2 and "Traceback" in debug.stderr
        assert "address already in use" in debug.stderr.lower()


def test_banner_is_printed_once_without_the_secret(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, "--durability", "fast", "--workers", "2", "--no-access-log",
                        env={"S3EMU_ACCESS_KEY": "AKIDBANNER", "S3EMU_SECRET_KEY": "do-not-print-me"}).start()
    try:
        srv.client(access_key="AKIDBANNER", secret_key="do-not-print-me").list_buckets()
    finally:
        assert srv.stop() == 0
    output = "".join(srv.output)
    assert output.count("s3emu ready on") == 1
    assert "access key AKIDBANNER" in output and "2 worker processes" in output
    assert f"aws --endpoint-url {srv.endpoint} --region us-east-1 s3 ls" in output
    assert "do-not-print-me" not in output


def test_unknown_variables_are_warned_about(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, "--durability", "fast", env={"S3EMU_PROT": "9000"}).start()
    srv.stop()
    assert any("S3EMU_PROT is not an s3emu setting; ignored (did you mean S3EMU_PORT?)" in line
               for line in srv.output)


def test_every_setting_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    readme, example = (root / "README.md").read_text(), (root / "config.example.toml").read_text()
    for f in fields(Config):
        env = "S3EMU_ACCESS_KEY" if f.name == "credentials" else env_name(f.name)
        assert f"| `{f.name}` | `{env}`" in readme, f.name  # a row of the README's settings table
        assert re.search(rf"^(# )?({f.name} =|\[\[{f.name}\]\])", example, re.M), f.name
    load(root / "config.example.toml", {}, {})  # and the example is valid


def test_start_failures_as_json_lines(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for result in (s3emu_cmd("serve", "--port", "70000", "--log-format", "json"),
                   s3emu_cmd("serve", "--data-dir", str(a_file), env={"S3EMU_LOG_FORMAT": "json"})):
        assert result.returncode == 2
        [record] = [json.loads(line) for line in result.stderr.splitlines()]
        assert record["level"] == "ERROR" and record["logger"] == "s3emu"
    assert "is not a directory" in record["message"]
