"""POST Object (browser form uploads) against a real server: forms built by
botocore's generate_presigned_post (SigV4 and SigV2) accepted, tampered,
expired and condition-breaking ones refused as S3 refuses them, anonymous
uploads only where the bucket allows them, and a real upload from headless
Chromium checked byte for byte."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from xml.etree import ElementTree

import pytest
import requests

from browser import Browser
from conftest import empty_bucket, fresh_bucket_name
from server import ServerProcess, make_client


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("post"), "--durability", "fast", "--no-access-log").start()
    yield server
    server.stop()


@pytest.fixture
def bucket(srv: ServerProcess) -> Iterator[str]:
    client = srv.client()
    name = fresh_bucket_name("post")
    client.create_bucket(Bucket=name)
    yield name
    empty_bucket(client, name)


def post(form: dict[str, Any], body: bytes, filename: str = "upload.bin", **fields: str) -> requests.Response:
    return requests.post(form["url"], data={**form["fields"], **fields}, files={"file": (filename, body)},
                         allow_redirects=False, timeout=60)


def error(response: requests.Response) -> tuple[int, str, str]:
    root = ElementTree.fromstring(response.content)
    return response.status_code, root.findtext("Code") or "", root.findtext("Message") or ""


def test_a_presigned_form_uploads_the_file(srv: ServerProcess, bucket: str) -> None:
    client = srv.client()
    body = os.urandom(3 * 1024 * 1024 + 17)  # several reads of the stream
    form = client.generate_presigned_post(bucket, "dir/${filename}", Fields={"Content-Type": "image/png",
                                                                           "x-amz-meta-kind": "photo"},
                                          Conditions=[["starts-with", "$Content-Type", "image/"],
                                                      {"x-amz-meta-kind": "photo"},
                                                      ["content-length-range", 1, 10 * 1024 * 1024]])
    response = post(form, body, filename="cat.png")
    assert response.status_code == 204, response.text
    assert response.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = client.get_object(Bucket=bucket, Key="dir/cat.png")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["Metadata"]) == ("image/png", {"kind": "photo"})


def test_success_status_and_redirect(srv: ServerProcess, bucket: str) -> None:
    client = srv.client()
    form = client.generate_presigned_post(bucket, "k", Fields={"success_action_status": "201"},
                                          Conditions=[{"success_action_status": "201"}])
    response = post(form, b"abc")
    assert response.status_code == 201
    root, ns = ElementTree.fromstring(response.content), "{http://s3.amazonaws.com/doc/2006-03-01/}"
    assert (root.tag, root.findtext(f"{ns}Bucket"), root.findtext(f"{ns}Key")) == (f"{ns}PostResponse", bucket, "k")
    assert root.findtext(f"{ns}ETag") == f'"{hashlib.md5(b"abc").hexdigest()}"'
    form = client.generate_presigned_post(bucket, "k", Fields={"success_action_redirect": "https://app.test/done"},
                                          Conditions=[["starts-with", "$success_action_redirect", "https://"]])
    response = post(form, b"abc")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"https://app.test/done?bucket={bucket}&key=k&etag=")


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_tampered_and_expired_forms_are_refused(srv: ServerProcess, bucket: str, signature_version: str) -> None:
    client = make_client(srv.endpoint, signature_version=signature_version)
    form = client.generate_presigned_post(bucket, "k")
    assert post(form, b"ok").status_code == 204
    tampered = json.loads(base64.b64decode(form["fields"]["policy"]))
    tampered["conditions"].append(["starts-with", "$x-amz-meta-extra", ""])
    status, code, _ = error(post(form, b"x", policy=base64.b64encode(json.dumps(tampered).encode()).decode()))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert error(post(form, b"x", key="other"))[:2] == (403, "AccessDenied")  # the key condition fails
    expired = client.generate_presigned_post(bucket, "k", ExpiresIn=-10)
    assert error(post(expired, b"x")) == (403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    signature = "x-amz-signature" if signature_version == "s3v4" else "signature"
    fields = {k: v for k, v in form["fields"].items() if k != signature}
    status, code, message = error(requests.post(form["url"], data=fields, files={"file": b"x"}, timeout=60))
    assert (status, code) == (400, "InvalidArgument") and "must contain a field named" in message


def test_each_condition_is_enforced(srv: ServerProcess, bucket: str) -> None:
    client = srv.client()
    form = client.generate_presigned_post(bucket, "k", Fields={"acl": "private", "Content-Type": "text/plain"},
                                          Conditions=[{"acl": "private"}, ["starts-with", "$Content-Type", "text/"],
                                                      ["content-length-range", 2, 4]])
    assert post(form, b"abc").status_code == 204
    assert error(post(form, b"abc", acl="public-read"))[2] == \
        'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]'
    assert "starts-with" in error(post(form, b"abc", **{"Content-Type": "image/png"}))[2]
    assert error(post(form, b"abcdef"))[:2] == (400, "EntityTooLarge")
    assert error(post(form, b"a"))[:2] == (400, "EntityTooSmall")
    assert error(post(form, b"abc", **{"x-amz-meta-sneaky": "1"}))[2] == \
        "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky"
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"  # nothing refused was stored
    bad = requests.post(form["url"], data=form["fields"], timeout=60)  # not multipart/form-data
    assert error(bad)[:2] == (412, "PreconditionFailed")


def test_anonymous_form_uploads_need_a_writable_bucket(srv: ServerProcess, bucket: str) -> None:
    client = srv.client()
    url = f"{srv.endpoint}/{bucket}"
    anonymous = requests.post(url, data={"key": "anon"}, files={"file": b"hi"}, timeout=60)
    assert error(anonymous)[:2] == (403, "AccessDenied")
    client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership":
                                                                                       "ObjectWriter"}]})
    client.delete_public_access_block(Bucket=bucket)
    client.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert requests.post(url, data={"key": "anon"}, files={"file": b"hi"}, timeout=60).status_code == 204
    assert client.get_object(Bucket=bucket, Key="anon")["Body"].read() == b"hi"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def test_upload_from_a_real_browser(browser: Browser, srv: ServerProcess, bucket: str, tmp_path: Path) -> None:
    client = srv.client()
    form = client.generate_presigned_post(bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
                                          Conditions=[{"success_action_status": "201"}])
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in form["fields"].items())
    (tmp_path / "index.html").write_text(f'<!doctype html><form method="post" action="{form["url"]}" '
                                         f'enctype="multipart/form-data">{inputs}<input type="file" name="file" '
                                         f'id="file"><button id="send">Upload</button></form>')
    upload = tmp_path / "photo.bin"
    upload.write_bytes(os.urandom(200_000))
    page = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(tmp_path)))
    thread = threading.Thread(target=page.serve_forever, daemon=True)
    thread.start()
    try:
        browser.open(f"http://127.0.0.1:{page.server_address[1]}/index.html")
        browser.find("#file").send_keys(str(upload))
        browser.find("#send").click()
        browser.wait(lambda d: "PostResponse" in d.page_source, what="no PostResponse in the browser")
    finally:
        page.shutdown()
        page.server_close()
    assert client.get_object(Bucket=bucket, Key="uploads/photo.bin")["Body"].read() == upload.read_bytes()


def test_form_metadata_is_kept_as_typed(srv: ServerProcess, bucket: str) -> None:
    # S3 decodes no RFC 2047 encoded-word in a form field and returns non-ASCII values encoded
    # (AWS recording test_post_object_with_unicode_metadata)
    client = srv.client()
    fields = {"x-amz-meta-nonascii": "ÄMÄZÕÑ S3", "x-amz-meta-b-encoded": "=?UTF-8?B?YWJj?="}
    form = client.generate_presigned_post(bucket, "unicode", Fields=fields,
                                          Conditions=[{k: v} for k, v in fields.items()])
    assert post(form, b"abc").status_code == 204
    assert client.head_object(Bucket=bucket, Key="unicode")["Metadata"] == {
        "nonascii": "=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=", "b-encoded": "=?UTF-8?B?YWJj?="}


def test_a_form_upload_gets_tags_class_and_the_bucket_encryption(srv: ServerProcess, bucket: str) -> None:
    client = srv.client()
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k1"},
         "BucketKeyEnabled": True}]})
    tagging = "<Tagging><TagSet><Tag><Key>kind</Key><Value>form</Value></Tag></TagSet></Tagging>"
    fields = {"tagging": tagging, "x-amz-storage-class": "STANDARD_IA"}
    form = client.generate_presigned_post(bucket, "k", Fields=fields, Conditions=[{k: v} for k, v in fields.items()])
    response = post(form, b"x")
    assert response.status_code == 204, response.text
    assert response.headers["x-amz-server-side-encryption"] == "aws:kms"
    head = client.head_object(Bucket=bucket, Key="k")
    assert (head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == ("arn:aws:kms:us-east-1:000000000000:key/k1", True)
    assert head["StorageClass"] == "STANDARD_IA"
    assert client.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "kind", "Value": "form"}]


def _raw_form(url: str, fields: list[tuple[str, str]], file: bytes, cut: int = 0) -> tuple[int, bytes]:
    """POST a form built by hand, its body cut short by `cut` bytes (Content-Length says the cut length)."""
    boundary = "----s3emu-form"
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields)
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'.encode() + file
             + f"\r\n--{boundary}--\r\n".encode())
    reply = requests.post(url, data=body[:len(body) - cut], timeout=60,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return reply.status_code, reply.content


def test_many_small_fields_count_against_the_form_limit(srv: ServerProcess, bucket: str) -> None:
    """The 20 KiB before the file are the fields' bytes as sent, each field's
    own headers included: 2000 one-letter fields exceed them."""
    status, reply = _raw_form(f"{srv.endpoint}/{bucket}", [("key", "k")] + [(f"f{i}", "v") for i in range(2000)],
                              b"data")
    assert status == 400 and b"<Code>MaxPostPreDataLengthExceededError</Code>" in reply
    assert "Contents" not in srv.client().list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("cut", [300, 12])  # inside the file; inside its closing boundary
def test_a_form_cut_short_stores_nothing(srv: ServerProcess, bucket: str, cut: int) -> None:
    client = srv.client()
    client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership":
                                                                                       "ObjectWriter"}]})
    client.delete_public_access_block(Bucket=bucket)
    client.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    status, reply = _raw_form(f"{srv.endpoint}/{bucket}", [("key", "cut")], b"0123456789" * 100, cut)
    assert status == 400 and b"<Code>MalformedPOSTRequest</Code>" in reply, reply
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)
    assert _raw_form(f"{srv.endpoint}/{bucket}", [("key", "whole")], b"0123456789" * 100)[0] == 204
    assert client.get_object(Bucket=bucket, Key="whole")["Body"].read() == b"0123456789" * 100
