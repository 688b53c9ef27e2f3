"""SigV4 canonicalisation checked against botocore's own signer: s3emu must
accept every signature botocore makes, for awkward keys and queries alike."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from s3emu.auth import sigv4
from s3emu.http.errors import S3Error

SECRET = "s3emu-secret"
CREDENTIALS = Credentials("s3emu", SECRET)


def _signed(method: str, path: str, query: str, headers: dict[str, str]) -> AWSRequest:
    request = AWSRequest(method=method, url=f"http://127.0.0.1:9000{path}" + (f"?{query}" if query else ""),
                         headers=headers, data=b"")
    S3SigV4Auth(CREDENTIALS, "s3", "us-east-1").add_auth(request)
    return request


def _verify(request: AWSRequest) -> sigv4.Signed:
    """s3emu's check of a botocore-signed request, from what goes on the wire."""
    prepared = request.prepare()
    url = urlsplit(prepared.url)
    headers = CIMultiDict((k.lower(), v) for k, v in prepared.headers.items())
    headers["host"] = url.netloc  # the HTTP client adds it; botocore signs it
    fields = sigv4.header_fields(headers["authorization"])
    cred = sigv4.header_credential(fields["Credential"], "us-east-1")
    return sigv4.check_signature(secret=SECRET, cred=cred, timestamp=headers["x-amz-date"], method=prepared.method,
                                 paths=sigv4.canonical_paths(url.path), query=sigv4.canonical_query(url.query),
                                 headers=headers, signed=fields["SignedHeaders"].split(";"),
                                 payload=headers["x-amz-content-sha256"], provided=fields["Signature"])


KEYS = ["plain.txt", "dir/sub/file", "a b+c", "ünïcødé/ключ", "odd !'()*,;=@$&:", "~tilde_and-dash",
        "trailing/", "dots/../and/./slashes//"]


@pytest.mark.parametrize("key", KEYS)
def test_keys(key: str) -> None:
    _verify(_signed("PUT", "/bucket/" + quote(key, safe="/~"), "", {"Content-Type": "text/plain"}))


@pytest.mark.parametrize("query", [
    "uploads", "list-type=2&prefix=a%20b&delimiter=%2F", "versionId=null&partNumber=1",
    "prefix=%E2%9C%93&max-keys=10", "response-content-disposition=attachment%3B%20filename%3D%22x%22",
    "b=2&a=1&a=0",
])
def test_queries(query: str) -> None:
    _verify(_signed("GET", "/bucket", query, {}))


def test_header_values_are_trimmed_and_folded() -> None:
    _verify(_signed("PUT", "/bucket/k", "", {"x-amz-meta-note": "  two   spaces  ", "x-amz-meta-empty": ""}))


def test_a_changed_request_fails_with_what_s3emu_signed() -> None:
    request = _signed("PUT", "/bucket/k", "", {})
    request.url = request.url.replace("/k", "/other")
    with pytest.raises(S3Error) as excinfo:
        _verify(request)
    assert excinfo.value.code == "SignatureDoesNotMatch"
    assert excinfo.value.fields["CanonicalRequest"].startswith("PUT\n/bucket/other\n")
