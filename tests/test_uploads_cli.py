"""`s3emu uploads list|abort`: bulk cleanup of uploads in progress, run against
the data directory of a live server."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from server import ServerProcess


def uploads_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "s3emu", "uploads", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[ServerProcess, Any, dict[str, str]]]:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--min-part-size", "1",
                        "--no-access-log").start()
    c = srv.client()
    for b in ("warehouse", "other"):
        c.create_bucket(Bucket=b)
    ids = {}
    for bucket, key in (("warehouse", "tables/t1/part-0"), ("warehouse", "tables/t1/part-1"),
                        ("warehouse", "tables/t2/part-0"), ("other", "tables/t1/x")):
        ids[f"{bucket}/{key}"] = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        c.upload_part(Bucket=bucket, Key=key, UploadId=ids[f"{bucket}/{key}"], PartNumber=1, Body=b"p" * 10)
    try:
        yield srv, c, ids
    finally:
        srv.stop()


def open_uploads(c: Any, bucket: str) -> set[str]:
    return {u["Key"] for u in c.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}


def test_list_with_filters(live: tuple[ServerProcess, Any, dict[str, str]]) -> None:
    srv, _, ids = live
    result = uploads_cli(srv.data_dir, "list")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(f"{r[0]}/{r[1]}" for r in rows) == sorted(ids)
    assert all(r[2] == ids[f"{r[0]}/{r[1]}"] and r[3].endswith("Z") for r in rows)
    assert "4 upload(s) in progress" in result.stderr

    result = uploads_cli(srv.data_dir, "list", "--bucket", "warehouse", "--prefix", "tables/t1/")
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == ["tables/t1/part-0", "tables/t1/part-1"]
    result = uploads_cli(srv.data_dir, "list", "--older-than", "1h")
    assert result.returncode == 0 and result.stdout == "" and "0 upload(s)" in result.stderr


def test_abort_under_a_path_while_the_server_runs(live: tuple[ServerProcess, Any, dict[str, str]]) -> None:
    srv, c, ids = live
    result = uploads_cli(srv.data_dir, "abort", "--bucket", "warehouse", "--prefix", "tables/t1/")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "2 upload(s) aborted"
    assert sorted(line.split("\t")[2] for line in lines[:-1]) == ["tables/t1/part-0", "tables/t1/part-1"]
    assert all(line.startswith("aborted\t") for line in lines[:-1])
    # the server sees it at once
    assert open_uploads(c, "warehouse") == {"tables/t2/part-0"}
    assert open_uploads(c, "other") == {"tables/t1/x"}
    with pytest.raises(ClientError) as excinfo:
        c.upload_part(Bucket="warehouse", Key="tables/t1/part-0", UploadId=ids["warehouse/tables/t1/part-0"],
                      PartNumber=2, Body=b"late")
    assert excinfo.value.response["Error"]["Code"] == "NoSuchUpload"
    # and the parts' data files are gone with them
    fsck = subprocess.run([sys.executable, "-m", "s3emu", "fsck", "--data-dir", str(srv.data_dir), "--grace", "0"],
                          capture_output=True, text=True, timeout=60)
    assert fsck.returncode == 0, fsck.stdout
    assert "2 part(s), 2 data file(s)" in fsck.stdout


def test_abort_older_than(live: tuple[ServerProcess, Any, dict[str, str]]) -> None:
    srv, c, _ = live
    # the fixture's uploads began an hour ago (backdated, so no clock race decides the test)
    db = sqlite3.connect(srv.data_dir / "meta.sqlite3")
    db.execute("UPDATE uploads SET initiated = initiated - 3600")
    db.commit()
    db.close()
    fresh = c.create_multipart_upload(Bucket="other", Key="fresh")["UploadId"]
    result = uploads_cli(srv.data_dir, "abort", "--older-than", "30m")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "4 upload(s) aborted"
    assert open_uploads(c, "warehouse") == set()
    assert open_uploads(c, "other") == {"fresh"}
    c.abort_multipart_upload(Bucket="other", Key="fresh", UploadId=fresh)
    # nothing left to do: a second run is a no-op
    assert uploads_cli(srv.data_dir, "abort").stdout.splitlines() == ["0 upload(s) aborted"]


@pytest.mark.parametrize("duration", ["7 days", "x", "-1h"])
def test_bad_duration(live: tuple[ServerProcess, Any, dict[str, str]], duration: str) -> None:
    srv, c, _ = live
    result = uploads_cli(srv.data_dir, "abort", f"--older-than={duration}")
    assert result.returncode == 2
    assert "duration" in result.stderr
    assert len(open_uploads(c, "warehouse")) == 3  # nothing aborted


def test_data_dir_from_config_file(live: tuple[ServerProcess, Any, dict[str, str]], tmp_path: Path) -> None:
    srv, _, _ = live
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text(f'data_dir = "{srv.data_dir}"\n')
    result = subprocess.run([sys.executable, "-m", "s3emu", "uploads", "list", "--config", str(cfg)],
                            capture_output=True, text=True, timeout=60, cwd=os.getcwd())
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 4


def test_missing_data_dir(tmp_path: Path) -> None:
    result = uploads_cli(tmp_path / "absent", "list")
    assert result.returncode == 2 and "not an s3emu data directory" in result.stderr
