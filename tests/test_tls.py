"""HTTPS with --tls-cert/--tls-key: a throwaway self-signed certificate,
boto3 (which streams aws-chunked bodies with a CRC trailer over HTTPS) and
the AWS CLI moving a 64 MiB file both ways over HTTP and HTTPS."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
import requests
from botocore.config import Config as BotoConfig
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import empty_bucket, fresh_bucket_name
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess

MiB = 1024 * 1024
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
AWS = Path(sys.executable).parent / "aws"


def write_self_signed(where: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, valid for a day, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s3emu test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = where / "cert.pem", where / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, cert: tuple[Path, Path]) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("tls-data"), "--durability", "fast",
                        "--tls-cert", str(cert[0]), "--tls-key", str(cert[1])).start()
    yield srv
    srv.stop()


def tls_client(srv: ServerProcess, cert: Path) -> Any:
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name=REGION, verify=str(cert),
                        config=BotoConfig(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


@pytest.fixture
def tls_bucket(tls_server: ServerProcess, cert: tuple[Path, Path]) -> Iterator[tuple[Any, str]]:
    client = tls_client(tls_server, cert[0])
    name = fresh_bucket_name("tls")
    client.create_bucket(Bucket=name)
    yield client, name
    empty_bucket(client, name)


def payload_modes(client: Any) -> list[str]:
    """x-amz-content-sha256 of every request the client sends from now on."""
    modes: list[str] = []
    client.meta.events.register("before-send.s3.*", lambda request, **_: modes.append(
        str(request.headers.get("x-amz-content-sha256", b"").decode())))
    return modes


def test_ready_line_and_handshake(tls_server: ServerProcess, cert: tuple[Path, Path]) -> None:
    assert tls_server.endpoint == f"https://127.0.0.1:{tls_server.port}"
    # the certificate is verified by name and by address
    resp = requests.get(f"https://localhost:{tls_server.port}/", verify=str(cert[0]), timeout=30)
    assert resp.status_code == 403  # unsigned ListBuckets: the TLS part worked
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_server.endpoint + "/", timeout=30)  # not trusted without the certificate
    # plain HTTP to the TLS port gets no S3 answer
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_server.port}/", timeout=30)
    context = ssl.create_default_context(cafile=str(cert[0]))
    raw = socket.create_connection(("127.0.0.1", tls_server.port), timeout=30)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
        assert sock.version() in ("TLSv1.2", "TLSv1.3")


def test_boto3_put_and_get_over_https(tls_bucket: tuple[Any, str]) -> None:
    client, bucket = tls_bucket
    modes = payload_modes(client)
    data = os.urandom(2 * MiB + 3)
    client.put_object(Bucket=bucket, Key="stream", Body=io.BytesIO(data))
    assert modes[-1] == UNSIGNED_TRAILER  # aws-chunked with a CRC32 trailer, decoded by the server
    head = client.head_object(Bucket=bucket, Key="stream")
    assert head["ContentLength"] == len(data) and head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert client.get_object(Bucket=bucket, Key="stream")["Body"].read() == data
    ranged = client.get_object(Bucket=bucket, Key="stream", Range="bytes=1000-1999999")["Body"].read()
    assert ranged == data[1000:2000000]
    client.put_object(Bucket=bucket, Key="empty", Body=io.BytesIO(b""))
    assert client.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_boto3_multipart_over_https(tls_bucket: tuple[Any, str]) -> None:
    client, bucket = tls_bucket
    modes = payload_modes(client)
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    parts = []
    for number, data in enumerate(parts_data, 1):
        part = client.upload_part(Bucket=bucket, Key="mpu", UploadId=upload_id, PartNumber=number,
                                  Body=io.BytesIO(data))
        assert modes[-1] == UNSIGNED_TRAILER
        assert part["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    client.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=upload_id, MultipartUpload={"Parts": parts})
    whole = b"".join(parts_data)
    got = client.get_object(Bucket=bucket, Key="mpu")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(whole).digest()
    part2 = client.get_object(Bucket=bucket, Key="mpu", PartNumber=2)["Body"].read()
    assert part2 == parts_data[1]


def test_boto3_upload_file_over_https(tls_bucket: tuple[Any, str], tmp_path: Path) -> None:
    client, bucket = tls_bucket
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(12 * MiB + 5))
    client.upload_file(str(src), bucket, "managed")  # the transfer manager: multipart over 8 MiB
    dst = tmp_path / "dst.bin"
    client.download_file(bucket, "managed", str(dst))
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("plain-data"), "--durability", "fast").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(MiB))
    return path


def aws_cli(endpoint: str, *args: str, ca_bundle: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE="/nonexistent/s3emu-aws-config", AWS_EC2_METADATA_DISABLED="true",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent/s3emu-aws-credentials", AWS_MAX_ATTEMPTS="1")
    if ca_bundle is not None:
        env["AWS_CA_BUNDLE"] = str(ca_bundle)
    return subprocess.run([str(AWS), "--endpoint-url", endpoint, *args], env=env, capture_output=True,
                          text=True, timeout=240)


def sha256_file(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
    return digest.digest()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_aws_cli_copies_64_mib_both_ways(scheme: str, request: pytest.FixtureRequest, big_file: Path,
                                         cert: tuple[Path, Path], tmp_path: Path) -> None:
    srv: ServerProcess = request.getfixturevalue("tls_server" if scheme == "https" else "plain_server")
    assert srv.endpoint.startswith(scheme + "://")
    ca = cert[0] if scheme == "https" else None
    bucket = fresh_bucket_name("cli")
    made = aws_cli(srv.endpoint, "s3", "mb", f"s3://{bucket}", ca_bundle=ca)
    assert made.returncode == 0, made.stderr
    try:
        up = aws_cli(srv.endpoint, "s3", "cp", str(big_file), f"s3://{bucket}/dir/big.bin", ca_bundle=ca)
        assert up.returncode == 0, up.stderr
        listed = aws_cli(srv.endpoint, "s3api", "head-object", "--bucket", bucket, "--key", "dir/big.bin",
                         ca_bundle=ca)
        assert listed.returncode == 0, listed.stderr
        head = json.loads(listed.stdout)
        assert head["ContentLength"] == 64 * MiB
        assert head["ETag"].endswith('-8"')  # a multipart ETag: 8 parts of the CLI's 8 MiB
        back = tmp_path / "back.bin"
        down = aws_cli(srv.endpoint, "s3", "cp", f"s3://{bucket}/dir/big.bin", str(back), ca_bundle=ca)
        assert down.returncode == 0, down.stderr
        assert sha256_file(back) == sha256_file(big_file)
    finally:
        aws_cli(srv.endpoint, "s3", "rb", f"s3://{bucket}", "--force", ca_bundle=ca)


def test_aws_cli_refuses_an_untrusted_certificate(tls_server: ServerProcess) -> None:
    result = aws_cli(tls_server.endpoint, "s3", "ls")
    assert result.returncode != 0
    assert "SSL" in result.stderr or "certificate" in result.stderr


def test_workers_serve_tls(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    srv = ServerProcess(tmp_path / "data", "--durability", "fast", "--workers", "2",
                        "--tls-cert", str(cert[0]), "--tls-key", str(cert[1])).start()
    try:
        assert srv.endpoint.startswith("https://")
        client = tls_client(srv, cert[0])
        client.create_bucket(Bucket="workers-tls")
        for i in range(4):  # new connections, spread over both workers
            client.put_object(Bucket="workers-tls", Key=f"k{i}", Body=io.BytesIO(b"x" * i))
        assert client.list_objects_v2(Bucket="workers-tls")["KeyCount"] == 4
    finally:
        srv.stop()


@pytest.mark.parametrize("flags, message", [
    (["--tls-cert", "CERT"], "tls_cert and tls_key go together"),
    (["--tls-key", "KEY"], "tls_cert and tls_key go together"),
    (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "KEY"], "cannot load the TLS certificate"),
    (["--tls-cert", "KEY", "--tls-key", "CERT"], "cannot load the TLS certificate"),
])
def test_bad_tls_settings_stop_the_server(tmp_path: Path, cert: tuple[Path, Path], flags: list[str],
                                          message: str) -> None:
    args = [str(cert[0]) if f == "CERT" else str(cert[1]) if f == "KEY" else f for f in flags]
    result = subprocess.run([sys.executable, "-m", "s3emu", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
