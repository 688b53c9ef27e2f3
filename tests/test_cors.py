"""CORS: Put/Get/DeleteBucketCors with boto3, preflight OPTIONS and actual
requests with an Origin (as a browser sends them) with requests, and the
server-wide `cors_allow_all` default."""
from __future__ import annotations

import base64
import hashlib
from typing import Any, Iterator

import pytest
import requests
from botocore.exceptions import ClientError
from lxml import etree

import rawhttp
from conftest import empty_bucket, fresh_bucket_name
from server import ServerProcess

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
               "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
               "whitelisted by the resource's CORS spec.")
ACCESS_CONTROL = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                  "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials")
MiB = 1024 * 1024


def error_of(exc: ClientError) -> tuple[int, str, str]:
    err = exc.response["Error"]
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"], err.get("Message", "")


def error_doc(resp: requests.Response) -> dict[str, str]:
    root = etree.fromstring(resp.content)
    assert root.tag == "Error", resp.content
    return {child.tag: child.text or "" for child in root}


def no_cors_headers(resp: requests.Response) -> bool:
    return not any(h in resp.headers for h in ACCESS_CONTROL)


def preflight(endpoint: str, path: str, origin: str | None, method: str | None,
              headers: str | None = None) -> requests.Response:
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(endpoint + path, headers=sent, timeout=30)


def put_cors_xml(endpoint: str, bucket: str, xml: bytes) -> rawhttp.Reply:
    md5 = base64.b64encode(hashlib.md5(xml).digest()).decode()
    return rawhttp.request(endpoint, "PUT", f"/{bucket}?cors", xml, {"Content-MD5": md5})


RULES = [
    {"ID": "app", "AllowedHeaders": ["x-amz-*", "Content-Type"], "AllowedMethods": ["GET", "PUT", "POST"],
     "AllowedOrigins": ["https://app.example.com", "http://*.example.com"],
     "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 3000},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
]


# --- the configuration calls ------------------------------------------------------------------------

def test_get_cors_without_configuration_is_no_such_cors_configuration(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(e.value) == (404, "NoSuchCORSConfiguration", "The CORS configuration does not exist")
    assert e.value.response["Error"]["BucketName"] == bucket


def test_put_get_delete_cors(s3: Any, bucket: str) -> None:
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204  # none yet: fine
    put = s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES  # order and case kept, only members set
    replaced = [{"AllowedMethods": ["DELETE", "HEAD"], "AllowedOrigins": [""]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": replaced})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == replaced
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(e.value)[:2] == (404, "NoSuchCORSConfiguration")


def test_cors_calls_on_a_missing_bucket(s3: Any) -> None:
    missing = fresh_bucket_name("nocors")
    for call, args in ((s3.put_bucket_cors, {"CORSConfiguration": {"CORSRules": RULES}}),
                       (s3.get_bucket_cors, {}), (s3.delete_bucket_cors, {})):
        with pytest.raises(ClientError) as e:
            call(Bucket=missing, **args)
        assert error_of(e.value)[:2] == (404, "NoSuchBucket")


def test_get_cors_document(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[:1]})
    reply = rawhttp.request(server.endpoint, "GET", f"/{bucket}?cors")
    assert reply.status == 200
    root = etree.fromstring(reply.body)
    assert root.tag == "{http://s3.amazonaws.com/doc/2006-03-01/}CORSConfiguration"
    rule = root[0]
    assert [etree.QName(c).localname for c in rule] == [
        "ID", "AllowedHeader", "AllowedHeader", "AllowedMethod", "AllowedMethod", "AllowedMethod",
        "AllowedOrigin", "AllowedOrigin", "ExposeHeader", "ExposeHeader", "MaxAgeSeconds"]


@pytest.mark.parametrize("rule, message", [
    ({"AllowedMethods": ["GET", "MYMETHOD"], "AllowedOrigins": ["*"]},
     "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"),
    ({"AllowedMethods": ["OPTIONS"], "AllowedOrigins": ["*"]},
     "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"),
    ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*example*.com"]},
     'AllowedOrigin "*example*.com" can not have more than one wildcard.'),
    ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["x-*-*"]},
     'AllowedHeader "x-*-*" can not have more than one wildcard.'),
])
def test_put_cors_invalid_request(s3: Any, bucket: str, rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert error_of(e.value) == (400, "InvalidRequest", message)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)  # nothing was stored


@pytest.mark.parametrize("xml", [
    b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>',
    b"<CORSConfiguration><CORSRule/></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"<Colour>red</Colour></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    b"<ID>a</ID><ID>b</ID></CORSRule></CORSConfiguration>",
    b"<LifecycleConfiguration/>",
    b"<CORSConfiguration><CORSRule>",
])
def test_put_cors_malformed_xml(server: ServerProcess, bucket: str, xml: bytes) -> None:
    reply = put_cors_xml(server.endpoint, bucket, xml)
    assert reply.status == 400
    assert reply.error()["Code"] == "MalformedXML"


def test_put_cors_more_than_100_rules_is_malformed(server: ServerProcess, bucket: str) -> None:
    rule = b"<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    assert put_cors_xml(server.endpoint, bucket, b"<CORSConfiguration>" + rule * 100
                        + b"</CORSConfiguration>").status == 200
    reply = put_cors_xml(server.endpoint, bucket, b"<CORSConfiguration>" + rule * 101 + b"</CORSConfiguration>")
    assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")


def test_put_cors_needs_an_integrity_check(server: ServerProcess, bucket: str) -> None:
    xml = b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>" \
          b"</CORSRule></CORSConfiguration>"
    reply = rawhttp.request(server.endpoint, "PUT", f"/{bucket}?cors", xml)
    assert (reply.status, reply.error()["Code"]) == (400, "InvalidRequest")
    assert reply.error()["Message"] == "Missing required header for this request: Content-MD5"
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    reply = rawhttp.request(server.endpoint, "PUT", f"/{bucket}?cors", xml, {"Content-MD5": wrong})
    assert (reply.status, reply.error()["Code"]) == (400, "BadDigest")
    assert put_cors_xml(server.endpoint, bucket, xml).status == 200


# --- preflight ------------------------------------------------------------------------------------

def test_preflight_errors_without_configuration(server: ServerProcess, bucket: str) -> None:
    ep = server.endpoint
    resp = preflight(ep, f"/{bucket}/k", None, "PUT")
    assert resp.status_code == 400
    assert error_doc(resp)["Code"] == "BadRequest"
    assert error_doc(resp)["Message"] == "Insufficient information. Origin request header needed."
    resp = preflight(ep, f"/{bucket}/k", "https://app.example.com", "PUT")
    doc = error_doc(resp)
    assert (resp.status_code, doc["Code"], doc["Message"]) == (
        403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    assert (doc["Method"], doc["ResourceType"]) == ("PUT", "BUCKET")
    assert error_doc(preflight(ep, f"/{bucket}", "https://app.example.com", None))["Method"] == "OPTIONS"
    resp = preflight(ep, f"/{fresh_bucket_name('gone')}/k", "https://app.example.com", "GET")
    assert resp.status_code == 403
    assert error_doc(resp)["Message"] == "CORSResponse: Bucket not found"
    assert no_cors_headers(resp)


def test_preflight_matches_rules(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    ep, path = server.endpoint, f"/{bucket}/some/key"
    resp = preflight(ep, path, "https://app.example.com", "PUT", "Content-Type,X-Amz-Meta-Colour")
    assert resp.status_code == 200 and resp.content == b""
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET, PUT, POST"
    assert resp.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-colour"
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert resp.headers["Access-Control-Max-Age"] == "3000"
    assert resp.headers["Vary"] == VARY
    # one wildcard inside an origin
    resp = preflight(ep, path, "http://shop.example.com", "POST")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "http://shop.example.com"
    assert "Access-Control-Allow-Headers" not in resp.headers
    # the second rule: any origin, GET only, no headers; answered with `*` and no credentials
    resp = preflight(ep, path, "http://elsewhere.test:8080", "GET")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers
    assert resp.headers["Access-Control-Allow-Methods"] == "GET"
    assert "Access-Control-Max-Age" not in resp.headers


@pytest.mark.parametrize("origin, method, headers", [
    ("http://elsewhere.test", "PUT", None),  # the origin only has GET
    ("https://shop.example.com", "PUT", None),  # scheme must match: http://*.example.com
    ("https://app.example.com/", "PUT", None),  # a trailing slash is another origin
    ("HTTPS://APP.EXAMPLE.COM", "PUT", None),  # origins match case-sensitively
    ("https://app.example.com", "DELETE", None),  # method not allowed
    ("https://app.example.com", "PUT", "x-amz-meta-a, authorization"),  # one header not allowed
    ("http://elsewhere.test", "GET", "x-amz-meta-a"),  # no AllowedHeader: no header allowed
])
def test_preflight_not_allowed(server: ServerProcess, s3: Any, bucket: str, origin: str, method: str,
                               headers: str | None) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    resp = preflight(server.endpoint, f"/{bucket}/k", origin, method, headers)
    doc = error_doc(resp)
    assert (resp.status_code, doc["Code"], doc["Message"]) == (403, "AccessForbidden", NOT_ALLOWED)
    assert (doc["Method"], doc["ResourceType"]) == (method, "OBJECT")
    assert no_cors_headers(resp)
    assert error_doc(preflight(server.endpoint, f"/{bucket}", origin, method, headers))["ResourceType"] == "BUCKET"


def test_preflight_request_method_required_with_configuration(server: ServerProcess, s3: Any,
                                                              bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    resp = preflight(server.endpoint, f"/{bucket}/k", "https://app.example.com", None)
    assert resp.status_code == 400
    assert error_doc(resp)["Message"] == "Invalid Access-Control-Request-Method: null"
    resp = preflight(server.endpoint, f"/{bucket}/k", "https://app.example.com", "PATCH")
    assert resp.status_code == 400
    assert error_doc(resp)["Message"] == "Invalid Access-Control-Request-Method: PATCH"


def test_wildcard_matches_no_characters_and_is_anchored(server: ServerProcess, s3: Any, bucket: str) -> None:
    rules = [{"AllowedMethods": ["GET"], "AllowedOrigins": ["start*end"], "AllowedHeaders": ["x-amz-meta-*"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    for origin, status in (("startend", 200), ("start12end", 200), ("0start12end", 403), ("startend0", 403)):
        assert preflight(server.endpoint, f"/{bucket}", origin, "GET").status_code == status, origin
    assert preflight(server.endpoint, f"/{bucket}", "startend", "GET", "X-Amz-Meta-").status_code == 200
    assert preflight(server.endpoint, f"/{bucket}", "startend", "GET", "x-amz-met").status_code == 403


def test_preflight_needs_no_signature_and_ignores_a_bad_one(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    resp = requests.options(f"{server.endpoint}/{bucket}/k?X-Amz-Signature=bad&X-Amz-Credential=nobody",
                            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
                                     "Authorization": "AWS4-HMAC-SHA256 garbage"}, timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


# --- actual requests --------------------------------------------------------------------------------

def test_actual_requests_get_cors_headers_when_a_rule_matches(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    resp = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=30)
    assert (resp.status_code, resp.content) == (200, b"hello")
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    assert resp.headers["Vary"] == VARY
    # a request no rule allows is served, without CORS headers
    resp = requests.get(url, headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "PUT"},
                        timeout=30)
    assert resp.status_code == 200 and no_cors_headers(resp) and "Vary" not in resp.headers
    # no Origin: not a CORS request
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200 and no_cors_headers(resp)
    # errors carry them too, so the page can read them
    resp = requests.get(f"{server.endpoint}/{bucket}/k", headers={"Origin": "https://app.example.com"}, timeout=30)
    assert resp.status_code == 403 and error_doc(resp)["Code"] == "AccessDenied"
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_browser_multipart_upload_through_presigned_urls(server: ServerProcess, s3: Any, bucket: str) -> None:
    """What a browser uploader does: preflight, PUT each part to a presigned
    URL, read each ETag from the answer (it must be exposed), then complete."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://localhost:5173"], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"],
         "ExposeHeaders": ["ETag"]}]})
    browser_multipart_upload(server, s3, bucket, "http://localhost:5173")


def browser_multipart_upload(server: ServerProcess, s3: Any, bucket: str, origin: str) -> None:
    parts_data = [bytes([i]) * (5 * MiB) for i in (1, 2)] + [b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="video.bin")["UploadId"]
    presigner = server.client(signature_version="s3v4")
    parts = []
    for number, data in enumerate(parts_data, 1):
        url = presigner.generate_presigned_url("upload_part", Params={
            "Bucket": bucket, "Key": "video.bin", "UploadId": upload_id, "PartNumber": number})
        path = url[len(server.endpoint):]
        pre = preflight(server.endpoint, path, origin, "PUT")
        assert pre.status_code == 200, pre.content
        resp = requests.put(url, data=data, headers={"Origin": origin}, timeout=60)
        assert resp.status_code == 200, resp.content
        exposed = [h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")]
        assert "etag" in exposed
        assert resp.headers["Access-Control-Allow-Origin"] in (origin, "*")
        assert resp.headers["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
        parts.append({"PartNumber": number, "ETag": resp.headers["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="video.bin", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts})
    body = s3.get_object(Bucket=bucket, Key="video.bin")["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(b"".join(parts_data)).digest()


# --- the server-wide default ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("cors-all"), "--durability", "fast", "--cors-allow-all").start()
    yield srv
    srv.stop()


@pytest.fixture
def open_bucket(open_server: ServerProcess) -> Iterator[tuple[ServerProcess, Any, str]]:
    client = open_server.client()
    name = fresh_bucket_name("open")
    client.create_bucket(Bucket=name)
    yield open_server, client, name
    empty_bucket(client, name)


def test_cors_allow_all_answers_any_origin(open_bucket: tuple[ServerProcess, Any, str]) -> None:
    srv, s3, bucket = open_bucket
    resp = preflight(srv.endpoint, f"/{bucket}/k", "http://localhost:3000", "DELETE",
                     "authorization,x-amz-date,x-amz-content-sha256,content-md5")
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET, PUT, HEAD, POST, DELETE"
    assert resp.headers["Access-Control-Allow-Headers"] == "authorization, x-amz-date, x-amz-content-sha256, " \
                                                           "content-md5"
    exposed = resp.headers["Access-Control-Expose-Headers"].split(", ")
    assert {"ETag", "x-amz-version-id", "x-amz-request-id", "x-amz-checksum-crc32"} <= set(exposed)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = requests.head(f"{srv.endpoint}/{bucket}/k", headers={"Origin": "http://localhost:3000"}, timeout=30)
    assert resp.status_code == 403  # unsigned: auth still applies, but the browser may read the answer
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    # a missing bucket is allowed too, so the page sees NoSuchBucket
    assert preflight(srv.endpoint, f"/{fresh_bucket_name('gone')}", "http://a.test", "GET").status_code == 200
    # the Origin header is still required
    assert preflight(srv.endpoint, f"/{bucket}/k", None, "GET").status_code == 400


def test_cors_allow_all_gives_way_to_bucket_rules(open_bucket: tuple[ServerProcess, Any, str]) -> None:
    srv, s3, bucket = open_bucket
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://only.test"], "AllowedMethods": ["GET"]}]})
    assert preflight(srv.endpoint, f"/{bucket}/k", "http://localhost:3000", "GET").status_code == 403
    assert preflight(srv.endpoint, f"/{bucket}/k", "https://only.test", "GET").status_code == 200
    s3.delete_bucket_cors(Bucket=bucket)
    assert preflight(srv.endpoint, f"/{bucket}/k", "http://localhost:3000", "GET").status_code == 200


def test_cors_allow_all_browser_multipart_upload(open_bucket: tuple[ServerProcess, Any, str]) -> None:
    srv, s3, bucket = open_bucket
    browser_multipart_upload(srv, s3, bucket, "http://localhost:5173")
