"""Virtual-hosted-style addressing (bucket.<domain>) beside path style, with
auth on: boto3 (addressing_style="virtual"), presigned URLs and hand-built
requests.

*.localhost does not resolve on every machine (glibc leaves it to DNS), so
clients connect to 127.0.0.1 and send the virtual host in the Host header:
boto3 through a before-send hook that runs after signing.
"""
from __future__ import annotations

import hashlib
import http.client
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from botocore.exceptions import ClientError
from lxml import etree

import rawhttp
from conftest import empty_bucket, fresh_bucket_name
from server import ServerProcess, make_client

MiB = 1024 * 1024


def virtual_client(port: int, domain: str = "localhost", **config: Any) -> Any:
    """A boto3 client that addresses buckets as bucket.<domain>:port, connecting to 127.0.0.1."""
    client = make_client(f"http://{domain}:{port}", addressing_style="virtual", **config)
    client.meta.events.register_first("before-send.s3", _to_loopback)
    return client


def _to_loopback(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    request.headers["Host"] = parts.netloc  # what was signed
    request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


def send(port: int, method: str, host: str, path: str, body: bytes = b"", sign: bool = True,
         signed_host: str | None = None) -> rawhttp.Reply:
    """One request to 127.0.0.1:port with the given Host header, SigV4-signed
    for signed_host (default: host) unless sign is False."""
    headers = {"Host": host}
    if sign:
        headers = rawhttp.signed_headers(method, f"http://127.0.0.1:{port}{path}", {"Host": signed_host or host})
        headers["Host"] = host
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return rawhttp.Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


@pytest.fixture
def vbucket(server: ServerProcess, s3: Any) -> Iterator[tuple[Any, str]]:
    """A fresh bucket with a dot in its name, and a virtual-host client."""
    name = fresh_bucket_name("v.host")
    client = virtual_client(server.port)
    client.create_bucket(Bucket=name)
    yield client, name
    empty_bucket(s3, name)


def test_boto3_virtual_host_objects_with_auth(vbucket: tuple[Any, str], s3: Any) -> None:
    client, bucket = vbucket
    sent: list[str] = []
    client.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.headers["Host"]))
    client.put_object(Bucket=bucket, Key="dir/a b+c.txt", Body=b"hello", Metadata={"colour": "blue"})
    assert sent == [f"{bucket}.localhost:{client.meta.endpoint_url.rsplit(':', 1)[1]}"]
    got = client.get_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"colour": "blue"}
    assert client.head_object(Bucket=bucket, Key="dir/a b+c.txt")["ContentLength"] == 5
    client.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "dir/a b+c.txt"})
    listed = client.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/a b+c.txt"]
    # the path-style client sees the same objects: one bucket, two spellings
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"hello"
    deleted = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copy"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["copy"]
    client.delete_object(Bucket=bucket, Key="dir/a b+c.txt")
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert client.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_boto3_virtual_host_multipart_upload(vbucket: tuple[Any, str]) -> None:
    client, bucket = vbucket
    parts_data = [b"a" * (5 * MiB), b"tail"]
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = [{"PartNumber": n, "ETag": client.upload_part(Bucket=bucket, Key="big", UploadId=upload_id,
                                                          PartNumber=n, Body=data)["ETag"]}
             for n, data in enumerate(parts_data, 1)]
    assert [p["PartNumber"] for p in client.list_parts(Bucket=bucket, Key="big", UploadId=upload_id)["Parts"]] \
        == [1, 2]
    assert client.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["UploadId"] == upload_id
    client.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": parts})
    body = client.get_object(Bucket=bucket, Key="big", Range="bytes=5242878-")["Body"].read()
    assert body == b"aatail"


def test_boto3_virtual_host_sigv2(vbucket: tuple[Any, str], server: ServerProcess) -> None:
    client, bucket = vbucket
    v2 = virtual_client(server.port, signature_version="s3")
    v2.put_object(Bucket=bucket, Key="k", Body=b"v2")
    assert v2.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert urlsplit(url).hostname == f"{bucket}.localhost"
    parts = urlsplit(url)
    resp = requests.get(urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}")),
                        headers={"Host": parts.netloc}, timeout=30)
    assert (resp.status_code, resp.content) == (200, b"v2")


def test_presigned_sigv4_virtual_host_url(vbucket: tuple[Any, str], server: ServerProcess) -> None:
    client, bucket = vbucket
    client.put_object(Bucket=bucket, Key="p/q", Body=b"presigned")
    signer = virtual_client(server.port, signature_version="s3v4")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p/q"}, ExpiresIn=300)
    parts = urlsplit(url)
    assert parts.netloc == f"{bucket}.localhost:{server.port}" and parts.path == "/p/q"
    loopback = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))
    resp = requests.get(loopback, headers={"Host": parts.netloc}, timeout=30)
    assert (resp.status_code, resp.content) == (200, b"presigned")
    # the host is signed: the same URL for another bucket is refused
    resp = requests.get(loopback, headers={"Host": f"other-{bucket}.localhost:{server.port}"}, timeout=30)
    assert resp.status_code == 403
    assert etree.fromstring(resp.content).findtext("Code") == "SignatureDoesNotMatch"


def test_signature_covers_the_virtual_host(server: ServerProcess, bucket: str) -> None:
    host = f"{bucket}.localhost:{server.port}"
    assert send(server.port, "PUT", host, "/k", b"data").status == 200
    reply = send(server.port, "GET", host, "/k")
    assert (reply.status, reply.body) == (200, b"data")
    # signed for one host, sent to another
    reply = send(server.port, "GET", host, "/k", signed_host=f"{bucket}-x.localhost:{server.port}")
    assert (reply.status, reply.error()["Code"]) == (403, "SignatureDoesNotMatch")
    # unsigned: refused
    reply = send(server.port, "GET", host, "/k", sign=False)
    assert (reply.status, reply.error()["Code"]) == (403, "AccessDenied")


def test_host_equal_to_the_domain_is_path_style(server: ServerProcess, bucket: str) -> None:
    root = f"localhost:{server.port}"
    assert send(server.port, "PUT", root, f"/{bucket}/k", b"path").status == 200
    reply = send(server.port, "GET", root, f"/{bucket}/k")
    assert (reply.status, reply.body) == (200, b"path")
    reply = send(server.port, "GET", root, "/")  # ListBuckets
    assert reply.status == 200
    names = [e.text for e in rawhttp.xml(reply.body).iter("{*}Name")]
    assert bucket in names
    # a bucket in the Host, any case, port or not
    reply = send(server.port, "GET", f"{bucket.upper()}.LocalHost", "/k")
    assert (reply.status, reply.body) == (200, b"path")
    reply = send(server.port, "GET", f"{bucket}.localhost:{server.port}", "/?list-type=2")
    assert [e.text for e in rawhttp.xml(reply.body).iter("{*}Key")] == ["k"]


def test_virtual_host_errors_name_the_bucket(server: ServerProcess) -> None:
    missing = fresh_bucket_name("missing")
    reply = send(server.port, "GET", f"{missing}.localhost:{server.port}", "/some/key")
    error = reply.error()
    assert (reply.status, error["Code"], error["BucketName"]) == (404, "NoSuchBucket", missing)
    assert "Resource" not in error
    client = virtual_client(server.port)
    with pytest.raises(ClientError) as e:
        client.get_object(Bucket=missing, Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


@pytest.fixture(scope="module")
def domain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Domains from the config file, then replaced by --domain flags."""
    data = tmp_path_factory.mktemp("domains")
    config = Path(data) / "s3emu.toml"
    config.write_text('domains = ["s3.from-config.test"]\n')
    srv = ServerProcess(data / "data", "--config", str(config), "--durability", "fast",
                        "--domain", "S3.Example.Test.", "--domain", "objects.internal").start()
    yield srv
    srv.stop()


def test_configured_domains(domain_server: ServerProcess) -> None:
    port = domain_server.port
    client = virtual_client(port, domain="s3.example.test")
    name = fresh_bucket_name("dom.ains")
    client.create_bucket(Bucket=name)
    try:
        client.put_object(Bucket=name, Key="k", Body=b"first domain")
        other = virtual_client(port, domain="objects.internal")
        assert other.get_object(Bucket=name, Key="k")["Body"].read() == b"first domain"
        # localhost is no longer a domain, nor the config file's (the flags replaced it): path style
        reply = send(port, "GET", f"{name}.localhost:{port}", f"/{name}/k")
        assert (reply.status, reply.body) == (200, b"first domain")
        reply = send(port, "GET", f"{name}.s3.from-config.test:{port}", f"/{name}/k")
        assert (reply.status, reply.body) == (200, b"first domain")
        # the domain itself addresses no bucket
        reply = send(port, "GET", f"objects.internal:{port}", "/")
        assert reply.status == 200 and name in [e.text for e in rawhttp.xml(reply.body).iter("{*}Name")]
    finally:
        empty_bucket(domain_server.client(), name)


def test_config_file_domains(tmp_path: Path) -> None:
    config = tmp_path / "s3emu.toml"
    config.write_text('domains = ["store.local.test"]\n')
    srv = ServerProcess(tmp_path / "data", "--config", str(config), "--durability", "fast").start()
    try:
        client = virtual_client(srv.port, domain="store.local.test")
        client.create_bucket(Bucket="from-config")
        client.put_object(Bucket="from-config", Key="k", Body=b"x" * 10)
        digest = hashlib.md5(b"x" * 10).hexdigest()
        assert client.head_object(Bucket="from-config", Key="k")["ETag"] == f'"{digest}"'
        assert srv.client().list_objects_v2(Bucket="from-config")["Contents"][0]["Key"] == "k"
    finally:
        srv.stop()


def test_cors_preflight_on_a_virtual_host(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://app.test"], "AllowedMethods": ["PUT"], "ExposeHeaders": ["ETag"]}]})
    resp = requests.options(f"http://127.0.0.1:{server.port}/some/key",
                            headers={"Host": f"{bucket}.localhost:{server.port}", "Origin": "http://app.test",
                                     "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "http://app.test"
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag"
    # the same path on the bare domain is a bucket named "some": there is none
    resp = requests.options(f"http://127.0.0.1:{server.port}/some/key",
                            headers={"Host": f"localhost:{server.port}", "Origin": "http://app.test",
                                     "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert resp.status_code == 403
    assert etree.fromstring(resp.content).findtext("Message") == "CORSResponse: Bucket not found"
