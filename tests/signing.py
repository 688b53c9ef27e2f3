"""Requests signed by botocore's own signers, for tests that hand-build
what boto3 would not send (odd payload hashes, streaming bodies, skewed clocks)."""
from __future__ import annotations

import hashlib
from typing import Any

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree

from server import ACCESS_KEY, REGION, SECRET_KEY


class FixedPayloadSigV4(S3SigV4Auth):
    """botocore's S3 SigV4 signer, signing the x-amz-content-sha256 we choose."""

    def __init__(self, credentials: Credentials, payload: str) -> None:
        super().__init__(credentials, "s3", REGION)
        self._payload = payload

    def payload(self, request: Any) -> str:
        return self._payload


def sigv4_request(endpoint: str, method: str, path: str, *, body: Any = b"", headers: dict[str, str] | None = None,
                  secret: str = SECRET_KEY, access_key: str = ACCESS_KEY,
                  payload_hash: str | None = None) -> AWSRequest:
    request = AWSRequest(method=method, url=endpoint + path, data=body, headers=headers or {})
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    FixedPayloadSigV4(Credentials(access_key, secret), payload_hash).add_auth(request)
    return request


def signature_of(request: AWSRequest) -> str:
    return request.headers["Authorization"].rsplit("Signature=", 1)[1]


def send(request: AWSRequest) -> requests.Response:
    return requests.request(request.method, request.url, data=request.body, headers=dict(request.headers.items()),
                            timeout=30)


def error_of(response: Any) -> dict[str, str]:
    """The fields of an S3 <Error> document (bytes, or a requests or http.client response)."""
    if isinstance(response, bytes):
        body = response
    else:
        body = response.content if hasattr(response, "content") else response.read()
    root = etree.fromstring(body)
    return {child.tag: child.text or "" for child in root}
