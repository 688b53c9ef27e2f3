"""The web console at /_s3emu/console/: its files and admin endpoints over
HTTP, and the whole of it driven in headless Chromium (sign in, buckets,
a multipart upload from the browser, details and download, uploads in
progress with their parts, abort, fault rules), with a screenshot of each
main page under test-artifacts/."""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess
from signing import send, sigv4_request

MiB = 1024 * 1024
STATIC = Path(__file__).resolve().parent.parent / "s3emu" / "console"


def signed_get(endpoint: str, path: str) -> requests.Response:
    return send(sigv4_request(endpoint, "GET", path))


# ---- over HTTP -------------------------------------------------------------------------


def test_console_files_have_types_caching_and_a_strict_policy(server: ServerProcess) -> None:
    page = requests.get(f"{server.endpoint}/_s3emu/console/", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="app.js">' in page.text
    again = requests.get(f"{server.endpoint}/_s3emu/console/", headers={"If-None-Match": page.headers["ETag"]},
                         timeout=30)
    assert again.status_code == 304 and again.content == b""
    for name, content_type in (("app.js", "text/javascript; charset=utf-8"),
                               ("console.css", "text/css; charset=utf-8"), ("icon.svg", "image/svg+xml")):
        r = requests.get(f"{server.endpoint}/_s3emu/console/{name}", timeout=30)
        assert (r.status_code, r.headers["Content-Type"]) == (200, content_type), name
        assert r.content == (STATIC / name).read_bytes()
    bare = requests.get(f"{server.endpoint}/_s3emu/console", allow_redirects=False, timeout=30)
    assert (bare.status_code, bare.headers["Location"]) == (308, "/_s3emu/console/")
    assert requests.get(f"{server.endpoint}/_s3emu/console/nope.js", timeout=30).status_code == 404
    # a POST meets the gate of every change under /_s3emu/ first: not JSON (a cross-site form could send it)
    assert requests.post(f"{server.endpoint}/_s3emu/console/", timeout=30).status_code == 415


def test_console_files_load_nothing_from_elsewhere() -> None:
    """Every file the page loads is shipped beside it: links, sources, CSS urls
    and module imports are all relative (the CSP enforces it in the browser)."""
    names = {p.name for p in STATIC.iterdir()}
    for path in STATIC.iterdir():
        text = path.read_text()
        refs = re.findall(r'(?:src|href)="([^"#][^"]*)"|url\(([^)]*)\)|from "([^"]+)"|import\(([^)]*)\)', text)
        for ref in ("".join(groups) for groups in refs):
            assert "//" not in ref and not ref.startswith("/"), f"{path.name} loads {ref}"
            assert ref.removeprefix("./") in names, f"{path.name} loads {ref}, which is not shipped"


def test_console_files_are_package_data() -> None:
    """`pip install .` ships every console file (pyproject's package-data globs cover them all)."""
    with open(STATIC.parent.parent / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["s3emu"]
    for path in STATIC.iterdir():
        assert any(fnmatch.fnmatch(f"console/{path.name}", g) for g in globs), path.name


def test_admin_endpoints_need_a_signature_and_hide_secrets(server: ServerProcess, s3: Any, bucket: str) -> None:
    for name in ("config", "requests", "usage"):
        r = requests.get(f"{server.endpoint}/_s3emu/{name}", timeout=30)
        assert r.status_code == 403, name
        assert "<Code>AccessDenied</Code>" in r.text
    config = signed_get(server.endpoint, "/_s3emu/config").json()
    assert config["credentials"] == [{"access_key": "s3emu", "secret_key": "(hidden)"}]
    assert "s3emu-secret" not in json.dumps(config)
    assert config["console"] is True

    s3.put_object(Bucket=bucket, Key="a", Body=b"12345")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=bucket, Key="missing")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="u")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="u", UploadId=upload, PartNumber=1, Body=b"x" * 100)
    recent = signed_get(server.endpoint, "/_s3emu/requests?limit=1000").json()["requests"]
    mine = [e for e in recent if e["bucket"] == bucket]
    missing = next(e for e in mine if e["key"] == "missing")
    assert (missing["operation"], missing["status"], missing["error"]) == ("GetObject", 404, "NoSuchKey")
    assert any(e["operation"] == "PutObject" and e["status"] == 200 and e["error"] is None for e in mine)

    usage = signed_get(server.endpoint, "/_s3emu/usage").json()
    assert usage["buckets"][bucket] == {"objects": 1, "bytes": 5, "versions": 1, "version_bytes": 5,
                                        "delete_markers": 0, "uploads": 1, "upload_bytes": 100}
    # the part's data file; the 5-byte object is kept in the metadata database
    assert usage["parts"]["blobs"] == {"files": 1, "bytes": 100} and usage["parts"]["metadata"]["bytes"] > 0
    assert usage["disk"]["total"] > usage["disk"]["free"] > 0


def test_last_requests_come_from_every_worker(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--workers", "2", "--no-access-log").start()
    try:
        ids = []
        for _ in range(30):  # a new connection each: the kernel spreads them over the workers
            r = requests.get(f"{srv.endpoint}/no-such-bucket", headers={"Connection": "close"}, timeout=30)
            ids.append(r.headers["x-amz-request-id"])
        recent = signed_get(srv.endpoint, "/_s3emu/requests?limit=1000").json()["requests"]
        assert set(ids) <= {e["request_id"] for e in recent}
        assert len(list((tmp_path / "data" / "requests").glob("*.jsonl"))) == 2
    finally:
        srv.stop()


def test_no_console(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--no-console").start()
    try:
        for path in ("console/", "console/app.js", "usage"):
            assert requests.get(f"{srv.endpoint}/_s3emu/{path}", timeout=30).status_code == 404
        assert requests.get(f"{srv.endpoint}/_s3emu/health", timeout=30).status_code == 200
    finally:
        srv.stop()
    assert not any("console:" in line for line in srv.output)
    assert not (tmp_path / "data" / "requests").exists()


def test_console_with_auth_off_needs_no_sign_in(browser: Any, tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--no-auth", "--no-access-log").start()
    try:
        srv.client().create_bucket(Bucket="open")
        browser.open(f"{srv.endpoint}/_s3emu/console/")
        browser.text_of("tbody tr", "open")
        assert "auth off" in browser.find("#who").text
    finally:
        srv.stop()


def test_banner_names_the_console(server: ServerProcess) -> None:
    assert f"  console: {server.endpoint}/_s3emu/console/\n" in server.output


# ---- in the browser -------------------------------------------------------------------------


def test_console_in_a_browser(server: ServerProcess, s3: Any, browser: Any, tmp_path: Path) -> None:
    base = f"{server.endpoint}/_s3emu/console/"
    name = fresh_bucket_name("console")
    try:
        sign_in(browser, base)
        create_bucket(browser, name)
        big = upload_multipart(browser, s3, name, tmp_path)
        check_details_and_download(browser, s3, name, big)
        check_pages(browser, s3, base, name)
        check_versions(browser, s3, base, name)
        check_lock_state(browser, s3, base)
        check_uploads_in_progress(browser, s3, base, name)
        check_fault_rules(browser, s3, base, name)
        check_bucket_deletion(browser, s3, base, name)
        page_shot(browser, "console-buckets")
        errors = [e for e in browser.console_errors() if "Failed to load resource" not in e]
        assert errors == []  # script errors; failed loads are S3's own refusals, shown on the page
    finally:
        try:
            empty_bucket(s3, name)
        except ClientError:
            pass  # never created


def sign_in(browser: Any, base: str) -> None:
    browser.open(base)
    browser.find("input[name=access-key]").send_keys("s3emu")
    browser.find("input[name=secret-key]").send_keys("wrong-secret")
    browser.find("form.signin button[type=submit]").click()
    assert "SignatureDoesNotMatch" in browser.find(".error").text
    secret = browser.find("input[name=secret-key]")
    secret.clear()
    secret.send_keys("s3emu-secret")
    browser.find("form.signin button[type=submit]").click()
    browser.text_of("h1", "Buckets")


def create_bucket(browser: Any, name: str) -> None:
    field = browser.find("input[name=bucket]")
    field.send_keys("Not_A_Bucket")
    browser.click_text("button", "Create bucket")
    assert browser.text_of(".error", "InvalidBucketName")
    field.clear()
    field.send_keys(name)
    browser.click_text("button", "Create bucket")
    browser.text_of("tbody tr", name)


def upload_multipart(browser: Any, s3: Any, bucket: str, tmp_path: Path) -> Path:
    """12 MiB from the browser: three parts of 5, 5 and 2 MiB, sent in parallel."""
    browser.click_text("a", bucket)
    browser.text_of("h1", bucket)
    big = tmp_path / "twelve.bin"
    big.write_bytes(os.urandom(12 * MiB))
    browser.find("input[name=key-prefix]").send_keys("big/")
    browser.find("input[type=file]").send_keys(str(big))
    browser.click_text("button", "Upload")
    row = browser.find(".progress-row[data-done]", timeout=120)
    assert "multipart upload, 3 parts" in row.text
    assert row.get_attribute("data-parts-done") == "3"
    assert int(row.get_attribute("data-updates")) >= 4  # progress shown as parts went out
    bar = row.find_element("css selector", "progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(12 * MiB)
    head = s3.head_object(Bucket=bucket, Key="big/twelve.bin")
    assert head["ContentLength"] == 12 * MiB and head["ETag"].endswith('-3"')
    page_shot(browser, "console-objects")
    return big


def check_details_and_download(browser: Any, s3: Any, bucket: str, big: Path) -> None:
    browser.click_text("a.folder", "big/")
    browser.click_text("a.object", "twelve.bin")
    details = browser.text_of("#object-details", "12582912 bytes")
    etag = s3.head_object(Bucket=bucket, Key="big/twelve.bin")["ETag"]
    assert etag in details.text
    assert "3 (multipart upload)" in details.text
    assert "STANDARD" in details.text
    assert "Tags are not supported by this server." in details.text or "No tags." in details.text
    page_shot(browser, "console-object")
    browser.find("select[name=expiry]").send_keys("15 minutes")
    browser.click_text("button", "Create presigned URL")
    url = browser.find("input[name=presigned]").get_attribute("value")
    assert "X-Amz-Expires=900" in url and "X-Amz-Signature=" in url
    got = requests.get(url, timeout=60)  # signed in the browser, fetched by someone else
    assert got.status_code == 200 and got.content == big.read_bytes()
    assert requests.get(url.replace("X-Amz-Expires=900", "X-Amz-Expires=901"), timeout=30).status_code == 403
    browser.find("#download").click()
    got = browser.downloaded("twelve.bin", big.stat().st_size)
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()


def check_pages(browser: Any, s3: Any, base: str, bucket: str) -> None:
    """Browsing page by page, and the bucket's settings shown as the API answers."""
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"page/{i}", Body=b"p")
    browser.open(f"{base}#/objects/{bucket}?prefix=page%2F&size=2")
    browser.text_of("#page-info", "Page 1 · entries 1–2")
    for expected in ("Page 2 · entries 3–4", "Page 3 · entries 5–5"):
        browser.find("#next-page").click()
        browser.text_of("#page-info", expected)
    assert browser.find("#listing tbody").text.split()[0] == "4"  # page/4, named after the prefix
    browser.find("#prev-page").click()
    browser.text_of("#page-info", "Page 2 · entries 3–4")
    odd = "odd dir/ä b+c%25#?&=*'~.txt"  # signed paths must encode all of these as S3 does
    s3.put_object(Bucket=bucket, Key=odd, Body=b"odd!")
    browser.open(f"{base}#/objects/{bucket}")
    browser.click_text("a.folder", "odd dir/")
    browser.click_text("a.object", "ä b+c")
    assert "4 bytes" in browser.text_of("#object-details", "4 bytes").text
    assert browser.find("h1").text == odd
    whole = s3.create_multipart_upload(Bucket=bucket, Key="whole", ChecksumAlgorithm="CRC64NVME",
                                       ChecksumType="FULL_OBJECT")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(
        Bucket=bucket, Key="whole", UploadId=whole, PartNumber=n, ChecksumAlgorithm="CRC64NVME",
        Body=b"w" * (5 * MiB if n == 1 else 10))["ETag"]} for n in (1, 2)]
    s3.complete_multipart_upload(Bucket=bucket, Key="whole", UploadId=whole, MultipartUpload={"Parts": parts})
    browser.open(f"{base}#/object/{bucket}?key=whole")
    details = browser.text_of("#object-details", "2 (multipart upload)").text
    assert "CRC64NVME" in details and "FULL_OBJECT" in details
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": "pending/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}]})
    browser.open(f"{base}#/bucket/{bucket}")
    lifecycle = browser.text_of("section.setting", "abort uploads after 3 days")
    assert "tidy" in lifecycle.text and "prefix \"pending/\"" in lifecycle.text
    assert "Not configured." in browser.text_of("section.setting", "CORS").text
    page_shot(browser, "console-bucket-settings")


def check_versions(browser: Any, s3: Any, base: str, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="v.txt", Body=b"one", Metadata={"colour": "blue"},
                          ContentType="text/plain", CacheControl="max-age=60")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v.txt", Body=b"two!")
    marker = s3.delete_object(Bucket=bucket, Key="v.txt")["VersionId"]
    browser.open(f"{base}#/object/{bucket}?key=v.txt")
    versions = browser.text_of("#object-details", "delete marker")
    assert marker in versions.text and first in versions.text
    assert "NoSuchKey" in browser.find(".error").text  # the latest is a delete marker
    browser.open(f"{base}#/object/{bucket}?key=v.txt&versionId={first}")
    details = browser.text_of("#object-details", first).text
    for shown in ("3 bytes", "colour\nblue", "text/plain", "max-age=60", "Legal hold\nOFF"):
        assert shown in details, shown
    browser.click_text("button", "Delete this version")
    assert first in browser.accept_confirm()
    browser.text_of("h1", bucket)  # back to the listing of the object's folder: the bucket's top
    versions = s3.list_object_versions(Bucket=bucket, Prefix="v.txt")
    assert first not in [v["VersionId"] for v in versions.get("Versions", [])]
    assert len(versions["Versions"]) == 1 and versions["DeleteMarkers"][0]["VersionId"] == marker


def check_bucket_deletion(browser: Any, s3: Any, base: str, name: str) -> None:
    """S3's refusal to delete a bucket that holds objects is shown; an empty one goes."""
    empty = fresh_bucket_name("empty")
    s3.create_bucket(Bucket=empty)
    browser.open(f"{base}#/buckets")
    browser.find(f'button[data-delete="{empty}"]').click()
    assert empty in browser.accept_confirm()
    browser.wait(lambda d: not d.find_elements("css selector", f'button[data-delete="{empty}"]'), what="row gone")
    assert empty not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    browser.find(f'button[data-delete="{name}"]').click()
    browser.accept_confirm()
    assert "BucketNotEmpty" in browser.text_of(".error", "BucketNotEmpty").text
    browser.text_of("tbody tr", name)


def check_lock_state(browser: Any, s3: Any, base: str) -> None:
    name = fresh_bucket_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    until = datetime.now(timezone.utc) + timedelta(days=1)
    version = s3.put_object(Bucket=name, Key="held", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["VersionId"]
    try:
        browser.open(f"{base}#/object/{name}?key=held")
        details = browser.text_of("#object-details", "GOVERNANCE until").text
        assert "Legal hold\nON" in details
        browser.open(f"{base}#/bucket/{name}")
        lock = browser.text_of("section.setting", "Object lock")
        browser.wait(lambda d: "Enabled\nEnabled" in lock.text, what="object lock shown as enabled")
        assert "Status\nEnabled" in browser.text_of("section.setting", "Versioning").text
    finally:
        s3.put_object_legal_hold(Bucket=name, Key="held", VersionId=version, LegalHold={"Status": "OFF"})
        s3.delete_object(Bucket=name, Key="held", VersionId=version, BypassGovernanceRetention=True)
        s3.delete_bucket(Bucket=name)


def check_uploads_in_progress(browser: Any, s3: Any, base: str, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="pending/data.bin")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="pending/data.bin", UploadId=upload, PartNumber=n,
                            Body=bytes([n]) * 1024 * n)["ETag"] for n in (1, 2)]
    browser.open(f"{base}#/uploads/{bucket}")
    card = browser.find(f'section[data-upload-id="{upload}"]')
    assert card.find_element("css selector", ".parts-count").text == "2"
    assert "3072 bytes" in card.find_element("css selector", ".total-bytes").text
    for etag in etags:
        assert etag in card.text
    assert "(rule tidy)" in card.text  # the abort date ListParts reports, from the lifecycle rule
    page_shot(browser, "console-uploads")
    card.find_element("css selector", f'button[data-abort="{upload}"]').click()
    assert "2 parts" in browser.accept_confirm()
    browser.text_of("#upload-count", "0 uploads in progress")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    for key in ("tmp/a", "tmp/b", "keep/c"):
        s3.create_multipart_upload(Bucket=bucket, Key=key)
    browser.open(f"{base}#/uploads/{bucket}")
    browser.text_of("#upload-count", "3 uploads in progress")
    prefix = browser.find("input[name=abort-prefix]")
    prefix.send_keys("tmp/")
    browser.click_text("button", "Abort all")
    assert "Abort 2 uploads" in browser.accept_confirm()
    browser.text_of("#abort-result", "Aborted 2 uploads.")
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == ["keep/c"]


def check_fault_rules(browser: Any, s3: Any, base: str, bucket: str) -> None:
    browser.open(f"{base}#/server")
    browser.find("input[name=operation]").send_keys("HeadBucket")
    browser.find("input[name=bucket]").send_keys(bucket)
    browser.find("input[name=error]").send_keys("SlowDown")
    browser.find("input[name=times]").send_keys("1")
    browser.click_text("button", "Add fault rule")
    row = browser.text_of("#server-faults tbody tr", "HeadBucket")
    rule_id = row.find_element("css selector", "td").text
    once = boto3.client("s3", endpoint_url=s3.meta.endpoint_url, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION,
                        config=BotoConfig(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))
    with pytest.raises(ClientError) as caught:
        once.head_bucket(Bucket=bucket)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    once.head_bucket(Bucket=bucket)  # `times` 1: it fired once
    browser.click_text("button", "Refresh now")
    browser.wait(lambda d: row_cells(browser, rule_id) == ("2", "1"), what="the rule's matched/fired counts")
    last = browser.text_of("#server-requests tbody tr", "SlowDown")
    assert "HeadBucket" in last.text and "503" in last.text
    assert "HeadBucket" in browser.find("#server-metrics").text
    assert "(hidden)" in browser.find("#server-config").text
    assert "blobs/" in browser.find("#server-disk").text
    page_shot(browser, "console-server")
    browser.find(f'button[data-remove="{rule_id}"]').click()
    browser.text_of("#server-faults", "No fault rules")


UNLABELLED = """return Array.from(document.querySelectorAll("input, select, textarea, button"))
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
  .map((e) => e.outerHTML.slice(0, 120));"""


def page_shot(browser: Any, name: str) -> None:
    """A screenshot of the page as a test artifact, once every control on it has a name."""
    assert browser.driver.execute_script(UNLABELLED) == [], name
    assert browser.driver.execute_script("return document.querySelectorAll('main h1').length") == 1, name
    browser.screenshot(name)


def row_cells(browser: Any, rule_id: str) -> tuple[str, str] | None:
    """A fault rule's matched and fired counts as the page shows them."""
    for row in browser.driver.find_elements("css selector", "#server-faults tbody tr"):
        cells = row.find_elements("css selector", "td")
        if cells and cells[0].text == rule_id:
            return (row.find_element("css selector", ".fault-matched").text,
                    row.find_element("css selector", ".fault-fired").text)
    return None
