"""The benchmark's fast signer must produce exactly botocore's SigV4 signature,
and the server must accept what it signs."""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import botocore.auth
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials

from benchmarks.sigv4 import Signer
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess

NOW = dt.datetime(2026, 11, 21, 12, 30, 15, tzinfo=dt.timezone.utc)


def botocore_authorization(method: str, url: str, headers: dict[str, str]) -> str:
    req = AWSRequest(method=method, url=url, headers=headers)
    # UNSIGNED-PAYLOAD, as the benchmark sends
    req.context["client_config"] = BotoConfig(s3={"payload_signing_enabled": False})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    return req.headers["Authorization"]


def test_signature_matches_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW)  # botocore signs at NOW too
    signer = Signer(ACCESS_KEY, SECRET_KEY, REGION)
    cases = [
        ("PUT", "/bench/large", {"partNumber": "3", "uploadId": "abc-123_x"}, {}),
        ("GET", "/bench/a%20b/c", {"list-type": "2", "prefix": "a b/"}, {"Range": "bytes=0-99"}),
        ("POST", "/bench/key", {"uploads": ""}, {}),
    ]
    for method, path, query, headers in cases:
        ours = signer.sign(method, "127.0.0.1:9000", path, query, headers, now=NOW)["authorization"]
        qs = "&".join(f"{k}={quote(v, safe='-_.~')}" if v else k for k, v in query.items())
        url = f"https://127.0.0.1:9000{path}" + (f"?{qs}" if qs else "")
        theirs = botocore_authorization(method, url, headers)
        assert ours.split("Signature=")[1] == theirs.split("Signature=")[1], (method, path)
        assert ours.split(", ")[1] == theirs.split(", ")[1]  # same signed headers


def test_server_accepts_signed_requests(server: ServerProcess, s3: Any, bucket: str) -> None:
    signer = Signer(ACCESS_KEY, SECRET_KEY, REGION)
    host = server.endpoint.split("//", 1)[1]
    headers = signer.sign("PUT", host, f"/{bucket}/signed", {}, {"Content-Length": "5"})
    r = requests.put(f"{server.endpoint}/{bucket}/signed", data=b"hello", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == b"hello"
