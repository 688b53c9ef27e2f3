"""s3emu's own endpoints under /_s3emu/: health, Prometheus metrics, fault
rules; and the --ready-file start-up signal."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import s3emu

MiB = 1024 * 1024


def admin_url(server: Any, path: str) -> str:
    return f"{server.endpoint_url}/_s3emu/{path}"


def metrics(server: Any) -> dict[str, float]:
    """The samples of a scrape, by name with labels, checking every line is well formed."""
    resp = requests.get(admin_url(server, "metrics"), timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: dict[str, float] = {}
    for line in resp.text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) (s3emu|process|python)_\w+ .+", line), line
            continue
        m = re.fullmatch(r'((?:s3emu|process|python)_\w+(?:\{[^}]*\})?) (\S+)', line)
        assert m, line
        samples[m.group(1)] = float(m.group(2))
    return samples


def test_health_needs_no_signature(s3emu_server: Any) -> None:
    assert s3emu_server.config.auth  # the server checks signatures for S3 requests...
    resp = requests.get(admin_url(s3emu_server, "health"), timeout=30)  # ...but not here
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json() == {"status": "ok", "version": s3emu.__version__, "region": s3emu_server.region}
    unsigned = requests.get(f"{s3emu_server.endpoint_url}/", timeout=30)
    assert unsigned.status_code == 403 and "<Code>AccessDenied</Code>" in unsigned.text


def test_unknown_admin_paths_and_methods(s3emu_server: Any) -> None:
    resp = requests.get(admin_url(s3emu_server, "nope"), timeout=30)
    assert resp.status_code == 404 and resp.json() == {"error": "no such endpoint: /_s3emu/nope"}
    assert requests.post(admin_url(s3emu_server, "health"), timeout=30).status_code == 405
    assert requests.put(admin_url(s3emu_server, "faults"), data=b"{}", timeout=30).status_code == 405
    assert requests.get(admin_url(s3emu_server, "faults/1"), timeout=30).status_code == 405


def test_metrics_count_requests_bytes_and_latency(s3emu_server: Any, s3_client: Any, s3_bucket: str) -> None:
    before = metrics(s3emu_server)
    s3_client.put_object(Bucket=s3_bucket, Key="m", Body=b"m" * 1000)
    assert s3_client.get_object(Bucket=s3_bucket, Key="m")["Body"].read() == b"m" * 1000
    with pytest.raises(s3_client.exceptions.NoSuchKey):
        s3_client.get_object(Bucket=s3_bucket, Key="absent")
    after = metrics(s3emu_server)

    def delta(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert delta('s3emu_requests_total{operation="PutObject",status="200"}') == 1
    assert delta('s3emu_requests_total{operation="GetObject",status="200"}') == 1
    assert delta('s3emu_requests_total{operation="GetObject",status="404"}') == 1
    assert delta('s3emu_received_bytes_total{operation="PutObject"}') == 1000
    assert delta('s3emu_sent_bytes_total{operation="GetObject"}') > 1000  # the object and the error document
    assert delta('s3emu_request_duration_seconds_count{operation="GetObject"}') == 2
    assert delta('s3emu_request_duration_seconds_bucket{le="+Inf",operation="GetObject"}') == 2
    assert delta("s3emu_stored_bytes") == 1000
    assert delta("s3emu_stored_objects") == 1
    # histogram buckets are cumulative
    bounds = [v for k, v in after.items()
              if k.startswith("s3emu_request_duration_seconds_bucket{") and 'operation="GetObject"' in k]
    assert len(bounds) == 15
    assert bounds == sorted(bounds)


def test_metrics_build_info_and_process(s3emu_server: Any) -> None:
    samples = metrics(s3emu_server)
    [build] = [k for k in samples if k.startswith("s3emu_build_info{")]
    assert f'version="{s3emu.__version__}"' in build and samples[build] == 1
    assert samples["process_resident_memory_bytes"] > 1024 * 1024
    assert samples["process_cpu_seconds_total"] > 0
    assert samples["process_open_fds"] > 0


def test_metrics_leave_admin_requests_out(s3emu_server: Any) -> None:
    before = metrics(s3emu_server)
    requests.get(admin_url(s3emu_server, "health"), timeout=30)
    after = metrics(s3emu_server)
    assert {k: v for k, v in after.items() if "requests_total" in k} == \
           {k: v for k, v in before.items() if "requests_total" in k}


def test_uploads_in_progress_gauge(s3emu_server: Any, s3_client: Any, s3_bucket: str) -> None:
    start = metrics(s3emu_server)["s3emu_uploads_in_progress"]
    one = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="a")["UploadId"]
    two = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="b")["UploadId"]
    assert metrics(s3emu_server)["s3emu_uploads_in_progress"] == start + 2
    s3_client.abort_multipart_upload(Bucket=s3_bucket, Key="a", UploadId=one)
    etag = s3_client.upload_part(Bucket=s3_bucket, Key="b", UploadId=two, PartNumber=1, Body=b"x")["ETag"]
    s3_client.complete_multipart_upload(Bucket=s3_bucket, Key="b", UploadId=two,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert metrics(s3emu_server)["s3emu_uploads_in_progress"] == start


def test_fault_admin_api(s3emu_server: Any, s3emu_faults: Any) -> None:
    url = admin_url(s3emu_server, "faults")
    resp = requests.post(url, json=[{"operation": "PutObject", "error": "SlowDown", "times": 3},
                                    {"operation": "GetObject", "delay_ms": 10}], timeout=30)
    assert resp.status_code == 201
    added = resp.json()["faults"]
    assert [(r["operation"], r["times"], r["fired"]) for r in added] == [("PutObject", 3, 0), ("GetObject", None, 0)]
    assert requests.get(url, timeout=30).json()["faults"] == added
    resp = requests.delete(f"{url}/{added[0]['id']}", timeout=30)
    assert resp.status_code == 200 and resp.json()["faults"] == added[1:]
    resp = requests.delete(f"{url}/{added[0]['id']}", timeout=30)
    assert resp.status_code == 404 and resp.json() == {"error": f"no fault rule {added[0]['id']}"}
    assert requests.delete(url, timeout=30).json() == {"faults": []}
    assert requests.get(url, timeout=30).json() == {"faults": []}


@pytest.mark.parametrize("body, message", [
    (b"{not json", "Expecting property name"),
    (b'"SlowDown"', "a fault rule is a JSON object"),
    (b'{"operation": "PutObject"}', "a fault needs an action"),
    (b'{"error": "SlowDown", "colour": "red"}', "unknown fault settings: colour"),
    (b'{"error": "SlowDown", "probability": 2}', "probability must be between 0 and 1"),
    (b'{"error": "SlowDown", "nth": 0}', "nth counts from 1"),
    (b'[{"error": "SlowDown"}, {"delay_ms": -1}]', "must not be negative"),
])
def test_bad_fault_rules_are_refused_whole(s3emu_server: Any, s3emu_faults: Any, body: bytes,
                                           message: str) -> None:
    resp = requests.post(admin_url(s3emu_server, "faults"), data=body, timeout=30)
    assert resp.status_code == 400
    assert message in resp.json()["error"]
    assert s3emu_faults.faults() == []  # nothing half-added


def test_ready_file_and_port_zero(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "s3emu", "serve", "--host", "127.0.0.1", "--port", "0",
                             "--data-dir", str(tmp_path / "data"), "--durability", "fast", "--no-access-log",
                             "--ready-file", str(ready)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed when the server accepts requests, as is the file
        m = re.fullmatch(r"s3emu ready on (http://127\.0\.0\.1:(\d+))\n", line)
        assert m and int(m.group(2)) > 0
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.read_text() == m.group(1) + "\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ready")] == []  # no temp left
        resp = requests.get(f"{m.group(1)}/_s3emu/health", timeout=30)
        assert resp.json()["status"] == "ok"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    assert not ready.exists()  # removed at shutdown: a stale file never says "ready"



def test_reset_empties_the_store(tmp_path: Path) -> None:
    with s3emu.serve(tmp_path, min_part_size=1) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="keep", ObjectLockEnabledForBucket=True)
        s3.create_bucket(Bucket="drop")
        for bucket in ("keep", "drop"):
            s3.put_object(Bucket=bucket, Key="k", Body=b"v" * 100)
            upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
            s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 10)
        s3.put_object_legal_hold(Bucket="keep", Key="k", LegalHold={"Status": "ON"})
        data_files = lambda: sorted(p for p in (tmp_path / "blobs").rglob("*") if p.is_file())  # noqa: E731
        assert len(data_files()) == 4
        url = admin_url(server, "reset")
        assert requests.get(url, timeout=30).status_code == 405
        resp = requests.post(f"{url}?bucket=drop", json={}, timeout=30)
        assert resp.status_code == 200 and resp.json() == {"reset": "drop", "buckets_removed": 1}
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep"]
        assert len(data_files()) == 2
        server.reset()  # the locked object and the open upload go too
        assert s3.list_buckets()["Buckets"] == []
        assert data_files() == []
        assert metrics(server)["s3emu_stored_objects"] == 0
        assert metrics(server)["s3emu_uploads_in_progress"] == 0
        s3.create_bucket(Bucket="keep")  # the names are free again
