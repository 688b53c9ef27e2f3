"""The routing table against botocore's service model: every S3 operation's
method, path and required query parameters and headers resolve to that
operation, by name."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import botocore.session
import pytest

from s3emu.http.errors import S3Error
from s3emu.http.operations import Operation
from s3emu.http.router import resolve

MODEL = botocore.session.get_session().get_service_model("s3")

# Operations that share another's request on the wire (botocore keeps the old
# names) or that s3emu does not route: what they resolve to instead.
ELSEWHERE = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",  # the deprecated name of the same request
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
    "CreateSession": "ListObjects",  # S3 Express directory buckets
    "ListDirectoryBuckets": "ListBuckets",
    "WriteGetObjectResponse": "MethodNotAllowed",  # Object Lambda, on its own host
}


def _request(name: str) -> tuple[str, str | None, str | None, dict[str, str], dict[str, str]]:
    """A minimal request for an operation: its method, bucket, key, the query
    of its URI plus its required query members, and its required headers."""
    op = MODEL.operation_model(name)
    path, _, raw_query = op.http["requestUri"].partition("?")
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    headers: dict[str, str] = {}
    shape: Any = op.input_shape
    for member_name in (shape.required_members if shape is not None else []):
        member = shape.members[member_name]
        where, wire_name = member.serialization.get("location"), member.serialization.get("name")
        if where == "querystring":
            query.setdefault(wire_name, "1")
        elif where == "header":
            headers[wire_name] = "x"
    bucket = "b" if "{Bucket}" in path else None
    key = "k" if "{Key+}" in path else None
    return op.http["method"], bucket, key, query, headers


# the operations both s3emu and the installed botocore know (a newer botocore
# may name operations the enum does not have yet)
KNOWN = sorted((set(MODEL.operation_names) & set(Operation.__members__)) | set(ELSEWHERE))


@pytest.mark.parametrize("name", KNOWN)
def test_each_operation_routes_to_itself(name: str) -> None:
    method, bucket, key, query, headers = _request(name)
    route = resolve(method, bucket, key, query, headers)
    got = route.code if isinstance(route, S3Error) else str(route)
    assert got == ELSEWHERE.get(name, name)


@pytest.mark.parametrize(("method", "bucket", "key", "query", "headers", "expected"), [
    ("GET", None, None, {}, {}, Operation.ListBuckets),
    ("OPTIONS", "b", "k", {}, {}, Operation.PreflightRequest),
    ("GET", "b", None, {"list-type": "2", "prefix": "p"}, {}, Operation.ListObjectsV2),
    ("GET", "b", None, {"prefix": "p", "marker": "m"}, {}, Operation.ListObjects),
    ("GET", "b", "k", {"versionId": "v", "partNumber": "1"}, {}, Operation.GetObject),
    ("PUT", "b", "k", {"partNumber": "1", "uploadId": "u"}, {"x-amz-copy-source": "s/k"}, Operation.UploadPartCopy),
    ("GET", "b", None, {"analytics": "", "id": "x"}, {}, Operation.GetBucketAnalyticsConfiguration),
    ("GET", "b", None, {"analytics": ""}, {}, Operation.ListBucketAnalyticsConfigurations),
    ("GET", "b", "k", {"annotation": ""}, {}, Operation.ListObjectAnnotations),
])
def test_examples(method: str, bucket: str | None, key: str | None, query: dict[str, str],
                  headers: dict[str, str], expected: Operation) -> None:
    assert resolve(method, bucket, key, query, headers) is expected


@pytest.mark.parametrize(("method", "bucket", "key", "code"), [
    ("POST", "b", "k", "MethodNotAllowed"),  # a plain POST to an object: S3 has no such call
    ("PUT", None, None, "MethodNotAllowed"),
    ("PATCH", "b", None, "MethodNotAllowed"),
])
def test_refusals(method: str, bucket: str | None, key: str | None, code: str) -> None:
    # the error to answer once the request is authenticated (dispatch raises it then)
    refusal = resolve(method, bucket, key, {}, {})
    assert isinstance(refusal, S3Error) and refusal.code == code
