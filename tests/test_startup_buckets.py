"""Buckets created at start-up from [[buckets]] or S3EMU_BUCKETS: settings
applied, seed files uploaded, idempotent across restarts."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import s3emu
from server import ServerProcess, clean_env

CONFIG = """
[[buckets]]
name = "web-assets"
versioning = "Enabled"
seed = "{seed}"
cors = [{{AllowedOrigins = ["http://localhost:3000"], AllowedMethods = ["GET", "PUT"], ExposeHeaders = ["ETag"]}}]
lifecycle = [{{ID = "tmp", Status = "Enabled", Filter = {{Prefix = "tmp/"}}, Expiration = {{Days = 1}}}}]

[[buckets]]
name = "records"
object_lock = true
policy = {{Version = "2012-10-17", Statement = []}}
"""


def test_buckets_from_the_config_file_and_the_environment(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    (seed / "css").mkdir(parents=True)
    (seed / "index.html").write_text("<h1>hi</h1>")
    (seed / "css" / "site.css").write_text("h1 {}")
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text(CONFIG.format(seed=seed))
    srv = ServerProcess(tmp_path / "data", "--config", str(cfg), "--durability", "fast")
    srv.start()
    try:
        s3 = srv.client()
        assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["records", "web-assets"]
        assert s3.get_bucket_versioning(Bucket="web-assets")["Status"] == "Enabled"
        assert s3.get_bucket_cors(Bucket="web-assets")["CORSRules"] == [
            {"AllowedOrigins": ["http://localhost:3000"], "AllowedMethods": ["GET", "PUT"], "ExposeHeaders": ["ETag"]}]
        [rule] = s3.get_bucket_lifecycle_configuration(Bucket="web-assets")["Rules"]
        assert (rule["ID"], rule["Filter"], rule["Expiration"]) == ("tmp", {"Prefix": "tmp/"}, {"Days": 1})
        lock = s3.get_object_lock_configuration(Bucket="records")["ObjectLockConfiguration"]
        assert lock["ObjectLockEnabled"] == "Enabled"
        got = s3.get_object(Bucket="web-assets", Key="css/site.css")
        assert got["Body"].read() == b"h1 {}" and got["ContentType"] == "text/css"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="web-assets")["Contents"]] == ["css/site.css",
                                                                                           "index.html"]
        assert any("records: policy is not supported by s3emu yet" in line for line in srv.output)
        # what clients changed survives a restart: nothing is re-created or re-seeded
        s3.put_object(Bucket="web-assets", Key="index.html", Body=b"edited")
        s3.delete_object(Bucket="web-assets", Key="css/site.css")
        srv.restart()
        s3 = srv.client()
        assert s3.get_object(Bucket="web-assets", Key="index.html")["Body"].read() == b"edited"
        assert len(s3.list_object_versions(Bucket="web-assets", Prefix="index.html")["Versions"]) == 2
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="web-assets")["Contents"]] == ["index.html"]
        # the environment's list replaces the file's (flags > environment > file); what exists stays
        srv.stop()
        srv.env = {"S3EMU_BUCKETS": "plain-one,web-assets"}
        s3 = srv.start().client()
        assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["plain-one", "records", "web-assets"]
        assert s3.get_bucket_versioning(Bucket="web-assets")["Status"] == "Enabled"
    finally:
        srv.stop()


def test_bad_bucket_settings_stop_the_start(tmp_path: Path) -> None:
    cfg = tmp_path / "s3emu.toml"
    cfg.write_text('[[buckets]]\nname = "ok-bucket"\ncors = [{AllowedOrigins = ["*"]}]\n'
                   '[[buckets]]\nname = "Not_Valid"\n')
    result = subprocess.run([sys.executable, "-m", "s3emu", "serve", "--config", str(cfg), "--port", "0",
                             "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60,
                            env=clean_env())
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "s3emu: buckets[0] (ok-bucket): MalformedXML: The XML you provided " \
                                             "was not well-formed or did not validate against our published schema"
    cfg.write_text('[[buckets]]\nname = "Not_Valid"\n[[buckets]]\nname = "x"\nversioning = "On"\n')
    result = subprocess.run([sys.executable, "-m", "s3emu", "serve", "--config", str(cfg), "--port", "0",
                             "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60,
                            env=clean_env())
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"s3emu: {cfg}: buckets[1].versioning: input should be 'Enabled' or 'Suspended', got 'On'"]


def test_buckets_in_python() -> None:
    with s3emu.serve(buckets=[{"name": "ready-made", "versioning": "Enabled"}]) as server:
        assert server.client().get_bucket_versioning(Bucket="ready-made")["Status"] == "Enabled"
