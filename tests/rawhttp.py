"""Hand-built, SigV4-signed HTTP requests for what boto3 hides: exact status
codes, headers and error documents, paths sent byte for byte."""
from __future__ import annotations

import base64
import hashlib
import http.client
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree

from server import ACCESS_KEY, REGION, SECRET_KEY

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


class _UnsignedPayloadAuth(S3SigV4Auth):
    """SigV4 over headers only, so a body can be anything (even cut short)."""

    def payload(self, request: Any) -> str:
        return UNSIGNED_PAYLOAD


def signed_headers(method: str, url: str, headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers (given ones plus Authorization, X-Amz-Date, ...) for a request to url."""
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    _UnsignedPayloadAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    return dict(req.headers.items())


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error(self) -> dict[str, str]:
        """The fields of an S3 <Error> document."""
        root = etree.fromstring(self.body)
        assert root.tag == "Error", self.body
        return {child.tag: child.text or "" for child in root}


def request(endpoint: str, method: str, path: str, body: bytes = b"",
            headers: Mapping[str, str] | None = None) -> Reply:
    """Send one signed request; path (with any query) goes on the wire as given."""
    parts = urlsplit(endpoint)
    sent = signed_headers(method, endpoint + path, headers)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=sent)
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def md5_header(body: bytes) -> dict[str, str]:
    """Content-MD5, which S3 requires on DeleteObjects and bucket configuration documents."""
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


def xml(body: bytes) -> etree._Element:
    return etree.fromstring(body)


def strip_ns(tag: str) -> str:
    return etree.QName(tag).localname
