"""s3emu's own endpoints under /_s3emu/: health, Prometheus metrics, fault
rules; and the --ready-file start-up signal."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import hashlib
import json
import shutil

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import s3emu
from s3emu.storage.blobs import IN_DATABASE_BYTES
from server import settled_blobs

MiB = 1024 * 1024


def admin_url(server: Any, path: str) -> str:
    return f"{server.endpoint_url}/_s3emu/{path}"


def admin(server: Any, method: str, path: str, body: Any = None, *, sign: bool = True,
          headers: dict[str, str] | None = None, secret: str | None = None) -> requests.Response:
    """An admin request, JSON body, signed as a generic AWS client signs (botocore's
    SigV4Auth: no x-amz-content-sha256 header, the body's hash in the signature)."""
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    url = admin_url(server, path)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if sign:
        request = AWSRequest(method=method, url=url, data=data, headers=sent)
        creds = Credentials(server.credentials.access_key, secret or server.credentials.secret_key)
        SigV4Auth(creds, "s3", server.region).add_auth(request)
        sent = dict(request.headers.items())
    return requests.request(method, url, data=data, headers=sent, timeout=30)


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


def test_health_command_finds_the_server_by_port(s3emu_server: Any) -> None:
    port = urllib.parse.urlsplit(s3emu_server.endpoint_url).port
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3EMU_")}
    ask = lambda *args: subprocess.run([sys.executable, "-m", "s3emu", "health", *args], env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
    found = ask("--port", str(port))
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["status"] == "ok"
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    missing = ask("--host", "127.0.0.1", "--port", str(closed))
    assert missing.returncode == 1 and f"http://127.0.0.1:{closed} does not answer" in missing.stderr


def test_unknown_admin_paths_and_methods(s3emu_server: Any) -> None:
    resp = requests.get(admin_url(s3emu_server, "nope"), timeout=30)
    assert resp.status_code == 404 and resp.json() == {"error": "no such endpoint: /_s3emu/nope"}
    assert admin(s3emu_server, "POST", "health").status_code == 405
    assert admin(s3emu_server, "PUT", "faults", {}).status_code == 405
    assert requests.get(admin_url(s3emu_server, "faults/1"), timeout=30).status_code == 405
    assert admin(s3emu_server, "POST", "nope").status_code == 404


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
    resp = admin(s3emu_server, "POST", "faults", [{"operation": "PutObject", "error": "SlowDown", "times": 3},
                                                  {"operation": "GetObject", "delay_ms": 10}])
    assert resp.status_code == 201
    added = resp.json()["faults"]
    assert [(r["operation"], r["times"], r["fired"]) for r in added] == [("PutObject", 3, 0), ("GetObject", None, 0)]
    assert requests.get(url, timeout=30).json()["faults"] == added  # reading needs no signature
    resp = admin(s3emu_server, "DELETE", f"faults/{added[0]['id']}")
    assert resp.status_code == 200 and resp.json()["faults"] == added[1:]
    resp = admin(s3emu_server, "DELETE", f"faults/{added[0]['id']}")
    assert resp.status_code == 404 and resp.json() == {"error": f"no fault rule {added[0]['id']}"}
    assert admin(s3emu_server, "DELETE", "faults").json() == {"faults": []}
    assert requests.get(url, timeout=30).json() == {"faults": []}


@pytest.mark.parametrize("body, message", [
    (b"{not json", "Expecting property name"),
    (b'"SlowDown"', "a fault rule is a JSON object"),
    (b'{"operation": "PutObject"}', "a fault needs an action"),
    (b'{"error": "SlowDown", "colour": "red"}', "unknown fault settings: colour"),
    (b'{"error": "SlowDown", "probability": 2}', "probability must be between 0 and 1"),
    (b'{"error": "SlowDown", "probability": true}', "probability must be between 0 and 1"),
    (b'{"error": "SlowDown", "nth": 0}', "nth must be an integer between 1"),
    (b'{"error": "SlowDown", "nth": 1.5}', "nth must be an integer"),
    (b'[{"error": "SlowDown"}, {"delay_ms": -1}]', "delay_ms must be a number of milliseconds between 0"),
    (b'{"delay_ms": NaN}', "NaN is not a JSON number"),
    (b'{"delay_ms": Infinity}', "Infinity is not a JSON number"),
    (b'{"delay_ms": 1e12}', "delay_ms must be a number of milliseconds between 0 and 300000"),
    (b'{"delay_ms": "10"}', "delay_ms must be a number"),
    (b'{"error": 503}', "error must be an S3 error code"),
    (b'{"error": "Teapot"}', "give its status too"),
    (b'{"error": "Bad<Code>", "status": 418}', "error must be an S3 error code"),
    (b'{"error": "SlowDown", "status": 99}', "status must be an HTTP error status"),
    (b'{"error": "SlowDown", "status": "503"}', "status must be an HTTP error status"),
    (b'{"error": "SlowDown", "operation": "Nope"}', "operation must be an S3 operation name"),
    (b'{"error": "SlowDown", "part_number": 10001}', "part_number must be an integer between 1 and 10000"),
    (b'{"error": "SlowDown", "times": -1}', "times must be an integer between 0"),
    (b'{"error": "SlowDown", "bucket": 7}', "bucket must be printable text"),
    (b'{"error": "SlowDown", "message": "a\\u0000b"}', "message must be printable text"),
    (b'{"reset_after_bytes": -5}', "reset_after_bytes must be an integer between 0"),
])
def test_bad_fault_rules_are_refused_whole(s3emu_server: Any, s3emu_faults: Any, body: bytes,
                                           message: str) -> None:
    resp = admin(s3emu_server, "POST", "faults", body)
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
            s3.put_object(Bucket=bucket, Key="k", Body=b"v" * (IN_DATABASE_BYTES + 1))  # a data file of its own
            upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
            s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 10)
        s3.put_object_legal_hold(Bucket="keep", Key="k", LegalHold={"Status": "ON"})
        data_files = lambda: sorted(settled_blobs(tmp_path))  # noqa: E731
        assert len(data_files()) == 4
        url = admin_url(server, "reset")
        assert requests.get(url, timeout=30).status_code == 405
        assert requests.post(f"{url}?bucket=drop", json={}, timeout=30).status_code == 403  # unsigned
        resp = admin(server, "POST", "reset?bucket=drop", {})
        assert resp.status_code == 200 and resp.json() == {"reset": "drop", "buckets_removed": 1}
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["keep"]
        assert len(data_files()) == 2
        server.reset()  # the locked object and the open upload go too
        assert s3.list_buckets()["Buckets"] == []
        assert data_files() == []
        assert metrics(server)["s3emu_stored_objects"] == 0
        assert metrics(server)["s3emu_uploads_in_progress"] == 0
        s3.create_bucket(Bucket="keep")  # the names are free again


# -- the gate every state-changing admin request passes ----------------------------------------------------------

RULE = {"operation": "HeadBucket", "error": "SlowDown"}


def test_unsigned_changes_are_refused_with_auth_on(s3emu_server: Any, s3emu_faults: Any) -> None:
    for method, path, body in (("POST", "faults", RULE), ("DELETE", "faults", None), ("DELETE", "faults/1", None)):
        resp = admin(s3emu_server, method, path, body, sign=False)
        assert resp.status_code == 403, (method, path, resp.text)
        assert "signed" in resp.json()["error"]
    wrong = admin(s3emu_server, "POST", "faults", RULE, secret="not-the-secret")
    assert wrong.status_code == 403 and wrong.json()["error"].startswith("SignatureDoesNotMatch")
    assert s3emu_faults.faults() == []


def test_signed_body_cannot_be_swapped(s3emu_server: Any, s3emu_faults: Any) -> None:
    data = json.dumps(RULE).encode()
    request = AWSRequest(method="POST", url=admin_url(s3emu_server, "faults"), data=data,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(s3emu_server.credentials.access_key, s3emu_server.credentials.secret_key), "s3",
              s3emu_server.region).add_auth(request)
    other = json.dumps({"error": "InternalError"}).encode()
    resp = requests.post(request.url, data=other, headers=dict(request.headers.items()), timeout=30)
    assert resp.status_code == 403
    declared = {**dict(request.headers.items()), "x-amz-content-sha256": hashlib.sha256(data).hexdigest()}
    resp = requests.post(request.url, data=other, headers=declared, timeout=30)  # unsigned header: refused
    assert resp.status_code == 403
    assert s3emu_faults.faults() == []


@pytest.mark.parametrize("headers, status", [
    ({"Content-Type": "text/plain"}, 415),  # a cross-site "simple" POST
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),
])
def test_cross_site_requests_are_refused_even_signed(s3emu_server: Any, s3emu_faults: Any,
                                                     headers: dict[str, str], status: int) -> None:
    resp = admin(s3emu_server, "POST", "faults", RULE, headers=headers)
    assert resp.status_code == status, resp.text
    assert s3emu_faults.faults() == []


def test_same_origin_request_is_accepted(s3emu_server: Any, s3emu_faults: Any) -> None:
    resp = admin(s3emu_server, "POST", "faults", RULE, headers={"Origin": s3emu_server.endpoint_url})
    assert resp.status_code == 201
    assert [r["error"] for r in s3emu_faults.faults()] == ["SlowDown"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_aws_sigv4_adds_a_rule(s3emu_server: Any, s3emu_faults: Any) -> None:
    creds = s3emu_server.credentials
    out = subprocess.run(["curl", "-sS", "--max-time", "30", "--aws-sigv4", f"aws:amz:{s3emu_server.region}:s3",
                          "--user", f"{creds.access_key}:{creds.secret_key}", "-H", "Content-Type: application/json",
                          "-d", json.dumps(RULE), "-w", "\n%{http_code}", admin_url(s3emu_server, "faults")],
                         capture_output=True, text=True, timeout=60)
    body, _, status = out.stdout.rpartition("\n")
    assert status == "201", out.stdout + out.stderr
    assert json.loads(body)["faults"][0]["error"] == "SlowDown"
    assert [r["operation"] for r in s3emu_faults.faults()] == ["HeadBucket"]


def test_auth_off_changes_need_no_signature_but_stay_same_site(tmp_path: Path) -> None:
    with s3emu.serve(tmp_path / "data", auth=False) as server:
        assert admin(server, "POST", "faults", RULE, headers={"Content-Type": "text/plain"},
                     sign=False).status_code == 415
        assert admin(server, "POST", "faults", RULE, headers={"Origin": "http://evil.example"},
                     sign=False).status_code == 403
        assert admin(server, "POST", "faults", RULE, sign=False).status_code == 201
        assert len(server.faults()) == 1
