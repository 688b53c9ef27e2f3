"""Request authentication: SigV4 (header and presigned URLs), SigV2 (header
and query), clock skew, payload hashes, several credentials and --no-auth,
all signed by botocore's own signers and sent by real clients."""
from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import botocore.auth
import pytest
import requests
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from server import ACCESS_KEY, REGION, SECRET_KEY, ServerProcess, settled_blobs
from signing import error_of, send, sigv4_request


def client_error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return exc.value.response["Error"]


def sigv2_request(endpoint: str, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                  secret: str = SECRET_KEY) -> AWSRequest:
    request = AWSRequest(method=method, url=endpoint + path, data=body, headers=headers or {})
    HmacV1Auth(Credentials(ACCESS_KEY, secret)).add_auth(request)
    return request


def blob_files(data_dir: Path) -> set[Path]:
    return settled_blobs(data_dir)


def tmp_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "tmp").iterdir()]


# --- SigV4 in the Authorization header --------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["plain.txt", "a b/c+d=e&f~g!h'(i)*j,k;l:m@n$", "ünïcode/ключ/鍵", "pct%25/x%y",
                                 "dots/../x/./y", "//double//slash/", "~tilde"])
def test_sigv4_keys_with_special_characters(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=b"payload")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"payload"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key[:5], Delimiter="/", StartAfter="!")
    assert listed["KeyCount"] == 1


def test_wrong_secret_is_signature_does_not_match(server: ServerProcess, bucket: str) -> None:
    bad = server.client(secret_key="not-the-secret")
    with pytest.raises(ClientError) as exc:
        bad.put_object(Bucket=bucket, Key="k", Body=b"data")
    err = client_error(exc)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Code"] == "SignatureDoesNotMatch"
    assert err["AWSAccessKeyId"] == ACCESS_KEY
    assert len(err["SignatureProvided"]) == 64
    assert err["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert err["StringToSign"].split("\n")[2].endswith(f"/{REGION}/s3/aws4_request")
    creq = err["CanonicalRequest"].split("\n")
    assert creq[0] == "PUT" and creq[1] == f"/{bucket}/k"
    assert creq[-1] == hashlib.sha256(b"data").hexdigest()
    assert bytes.fromhex(err["StringToSignBytes"].replace(" ", "")).decode() == err["StringToSign"]
    assert bytes.fromhex(err["CanonicalRequestBytes"].replace(" ", "")).decode() == err["CanonicalRequest"]
    with pytest.raises(ClientError) as exc:
        bad.head_bucket(Bucket=bucket)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key_is_invalid_access_key_id(server: ServerProcess, bucket: str) -> None:
    stranger = server.client(access_key="AKIDONTKNOWYOU", secret_key="x")
    with pytest.raises(ClientError) as exc:
        stranger.get_object(Bucket=bucket, Key="k")
    err = client_error(exc)
    assert err["Code"] == "InvalidAccessKeyId"
    assert err["AWSAccessKeyId"] == "AKIDONTKNOWYOU"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_no_authorization_is_access_denied(server: ServerProcess, bucket: str) -> None:
    for method in ("GET", "PUT"):
        r = requests.request(method, f"{server.endpoint}/{bucket}/k", data=b"x" if method == "PUT" else None,
                             timeout=30)
        assert r.status_code == 403
        assert error_of(r)["Code"] == "AccessDenied"
    r = requests.get(server.endpoint + "/", timeout=30)
    assert r.status_code == 403 and error_of(r)["Code"] == "AccessDenied"


def test_unsupported_authorization_type(server: ServerProcess, bucket: str) -> None:
    r = requests.get(f"{server.endpoint}/{bucket}", headers={"Authorization": "Bearer abc"}, timeout=30)
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "InvalidArgument" and err["ArgumentName"] == "Authorization"


def test_malformed_sigv4_header(server: ServerProcess, bucket: str) -> None:
    request = sigv4_request(server.endpoint, "GET", f"/{bucket}")
    good = request.headers["Authorization"]
    for header, message in [
        (good.split(", Signature=")[0], "requires three components"),
        (good.replace(f"/{REGION}/s3/aws4_request", "/s3"), "Credential is mal-formed"),
    ]:
        headers = dict(request.headers.items())
        headers["Authorization"] = header
        r = requests.get(request.url, headers=headers, timeout=30)
        assert r.status_code == 400
        err = error_of(r)
        assert err["Code"] == "AuthorizationHeaderMalformed"
        assert message in err["Message"]


def test_skewed_clock_is_request_time_too_skewed(server: ServerProcess, bucket: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: skewed)
    request = sigv4_request(server.endpoint, "GET", f"/{bucket}")
    r = send(request)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "RequestTimeTooSkewed"
    assert err["RequestTime"] == skewed.strftime("%Y%m%dT%H%M%SZ")
    assert err["MaxAllowedSkewMilliseconds"] == "900000"
    server_time = datetime.datetime.strptime(err["ServerTime"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(server_time - skewed - datetime.timedelta(minutes=20)) < datetime.timedelta(minutes=2)
    # a clock ahead by as much fails the same way
    ahead = skewed + datetime.timedelta(minutes=40)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: ahead)
    r = send(sigv4_request(server.endpoint, "PUT", f"/{bucket}/k", body=b"x"))
    assert r.status_code == 403
    assert error_of(r)["RequestTime"] == ahead.strftime("%Y%m%dT%H%M%SZ")


def test_small_skew_is_accepted(server: ServerProcess, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: skewed)
    r = send(sigv4_request(server.endpoint, "GET", f"/{bucket}"))
    assert r.status_code == 200


def test_missing_content_sha256_header(server: ServerProcess, bucket: str) -> None:
    request = sigv4_request(server.endpoint, "GET", f"/{bucket}")
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-amz-content-sha256"}
    r = requests.get(request.url, headers=headers, timeout=30)
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidRequest"


def test_invalid_content_sha256_value(server: ServerProcess, bucket: str) -> None:
    r = send(sigv4_request(server.endpoint, "PUT", f"/{bucket}/k", body=b"abc", payload_hash="not-a-hash"))
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "InvalidArgument" and err["ArgumentName"] == "x-amz-content-sha256"


def test_content_sha256_mismatch_stores_nothing(server: ServerProcess, s3: Any, bucket: str) -> None:
    body = b"the body that is sent" * 10000
    claimed = hashlib.sha256(b"another body").hexdigest()
    blobs_before = blob_files(server.data_dir)
    r = send(sigv4_request(server.endpoint, "PUT", f"/{bucket}/mismatch", body=body, payload_hash=claimed))
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "XAmzContentSHA256Mismatch"
    assert err["ClientComputedContentSHA256"] == claimed
    assert err["S3ComputedContentSHA256"] == hashlib.sha256(body).hexdigest()
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="mismatch")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert tmp_files(server.data_dir) == []
    assert blob_files(server.data_dir) == blobs_before


def test_unsigned_payload_is_accepted(server: ServerProcess, s3: Any, bucket: str) -> None:
    r = send(sigv4_request(server.endpoint, "PUT", f"/{bucket}/unsigned", body=b"anything",
                           payload_hash="UNSIGNED-PAYLOAD"))
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"anything"


def test_virtual_hosted_request_signed_with_sigv4(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="vh/key", Body=b"vhost")
    host = f"{bucket}.localhost:{server.port}"
    request = sigv4_request(f"http://{host}", "GET", "/vh/key")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", "/vh/key", headers={"Host": host, **dict(request.headers.items())})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert response.read() == b"vhost"
    finally:
        conn.close()


# --- presigned URLs ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def v4(server: ServerProcess) -> Any:
    """A client that presigns with SigV4 (boto3 presigns S3 URLs with SigV2 unless told)."""
    return server.client(signature_version="s3v4")


def test_default_boto3_presigned_urls(s3: Any, bucket: str) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "dflt key"})
    assert requests.put(url, data=b"default presign", timeout=30).status_code == 200
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dflt key"})
    assert requests.get(url, timeout=30).content == b"default presign"

def test_presigned_get_and_put_from_requests(v4: Any, bucket: str) -> None:
    key = "presigned/ä b+c"
    put_url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    r = requests.put(put_url, data=b"from requests", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{hashlib.md5(b"from requests").hexdigest()}"'
    get_url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key,
                                                              "ResponseContentType": "text/x-test"})
    r = requests.get(get_url, timeout=30)
    assert r.status_code == 200
    assert r.content == b"from requests"
    assert r.headers["Content-Type"] == "text/x-test"


def test_presigned_upload_part_from_requests(v4: Any, s3: Any, bucket: str) -> None:
    key = "mpu-presigned"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    data = b"part-one-data" * 100
    url = v4.generate_presigned_url("upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload_id,
                                                           "PartNumber": 1})
    r = requests.put(url, data=data, timeout=30)
    assert r.status_code == 200, r.text
    etag = r.headers["ETag"]
    assert etag == f'"{hashlib.md5(data).hexdigest()}"'
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_tampered_presigned_url_is_signature_does_not_match(v4: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"A")
    s3.put_object(Bucket=bucket, Key="b", Body=b"B")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
    assert requests.get(url, timeout=30).content == b"A"
    for tampered in (url.replace(f"/{bucket}/a?", f"/{bucket}/b?"),
                     _with_query(url, **{"response-content-type": "text/evil"}),
                     _with_query(url, **{"X-Amz-Signature": "0" * 64})):
        r = requests.get(tampered, timeout=30)
        assert r.status_code == 403
        err = error_of(r)
        assert err["Code"] == "SignatureDoesNotMatch"
        assert err["AWSAccessKeyId"] == ACCESS_KEY
        assert "UNSIGNED-PAYLOAD" in err["CanonicalRequest"]


def test_signature_mismatch_shows_the_path_as_s3_canonicalises_it(v4: Any, bucket: str) -> None:
    # AWS decodes the path and encodes it again, slashes kept: `/%2Fbucket` is signed as `//bucket`
    # (LocalStack's AWS-validated test_pre_signed_url_forward_slash_bucket)
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url.replace(f"/{bucket}/k", f"/%2F{bucket}/k"), timeout=30)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "SignatureDoesNotMatch"
    assert err["CanonicalRequest"].startswith(f"GET\n//{bucket}/k\n")


def test_presigned_url_with_unsigned_amz_headers(v4: Any, bucket: str) -> None:
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.put(url, data=b"x", headers={"x-amz-meta-extra": "1", "x-amz-tagging": "a=b"}, timeout=30)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "AccessDenied"
    assert err["HeadersNotSigned"] == "x-amz-meta-extra, x-amz-tagging"
    signed = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k", "Metadata": {"a": "b"}})
    assert requests.put(signed, data=b"x", headers={"x-amz-meta-a": "b"}, timeout=30).status_code == 200


def test_expired_presigned_url(v4: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2)
    r = requests.get(url, timeout=30)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "AccessDenied"
    assert err["Message"] == "Request has expired"
    assert err["X-Amz-Expires"] == "1"
    signed_at = dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"]
    expires = datetime.datetime.strptime(signed_at, "%Y%m%dT%H%M%SZ") + datetime.timedelta(seconds=1)
    assert err["Expires"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert datetime.datetime.strptime(err["ServerTime"], "%Y-%m-%dT%H:%M:%SZ") >= expires


@pytest.mark.parametrize("expires, message", [("604801", "less than a week"), ("0", "non-negative"),
                                              ("-5", "non-negative"), ("soon", "should be a number")])
def test_presigned_expires_out_of_range(v4: Any, bucket: str, expires: str, message: str) -> None:
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(_with_query(url, **{"X-Amz-Expires": expires}), timeout=30)
    assert r.status_code == 400
    err = error_of(r)
    assert err["Code"] == "AuthorizationQueryParametersError"
    assert message in err["Message"]


def test_presigned_url_missing_parameters(v4: Any, bucket: str) -> None:
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "X-Amz-SignedHeaders"]
    r = requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=30)
    assert r.status_code == 400
    assert error_of(r)["Code"] == "AuthorizationQueryParametersError"


def test_presigned_url_with_unknown_key(server: ServerProcess, bucket: str) -> None:
    stranger = server.client(access_key="AKIDONTKNOWYOU", secret_key="x")
    url = stranger.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url, timeout=30)
    assert r.status_code == 403
    assert error_of(r)["Code"] == "InvalidAccessKeyId"


def test_header_and_query_auth_together(v4: Any, bucket: str) -> None:
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url, headers={"Authorization": f"AWS {ACCESS_KEY}:abc="}, timeout=30)
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidArgument"


# --- SigV2 ------------------------------------------------------------------------------------------------------

def test_sigv2_header_put_get_and_subresources(server: ServerProcess, s3: Any, bucket: str) -> None:
    key = "v2/ké y+1"
    path = f"/{bucket}/v2/k%C3%A9%20y%2B1"
    md5 = base64.b64encode(hashlib.md5(b"v2 body").digest()).decode()
    r = send(sigv2_request(server.endpoint, "PUT", path, body=b"v2 body",
                           headers={"Content-Type": "text/plain", "x-amz-meta-color": "blue", "Content-MD5": md5}))
    assert r.status_code == 200, r.text
    obj = s3.get_object(Bucket=bucket, Key=key)
    assert obj["Body"].read() == b"v2 body" and obj["Metadata"] == {"color": "blue"}
    r = send(sigv2_request(server.endpoint, "GET", path + "?response-content-type=a%2Fb"))
    assert r.status_code == 200 and r.content == b"v2 body" and r.headers["Content-Type"] == "a/b"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="v2mpu")["UploadId"]
    r = send(sigv2_request(server.endpoint, "GET", f"/{bucket}?uploads"))
    assert r.status_code == 200 and upload_id in r.text
    r = send(sigv2_request(server.endpoint, "GET", f"/{bucket}/v2mpu?uploadId={upload_id}"))
    assert r.status_code == 200 and "ListPartsResult" in r.text


def test_sigv2_header_wrong_secret(server: ServerProcess, bucket: str) -> None:
    request = sigv2_request(server.endpoint, "GET", f"/{bucket}?uploads", secret="wrong")
    r = send(request)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "SignatureDoesNotMatch"
    assert err["AWSAccessKeyId"] == ACCESS_KEY
    assert err["StringToSign"] == f"GET\n\n\n{request.headers['Date']}\n/{bucket}?uploads"
    assert err["SignatureProvided"] == request.headers["Authorization"].split(":", 1)[1]


def test_sigv2_header_x_amz_date_and_skew(server: ServerProcess, bucket: str) -> None:
    stale = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}", headers={"x-amz-date": stale})
    HmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(request)
    r = send(request)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "RequestTimeTooSkewed" and err["RequestTime"] == stale
    # a current x-amz-date replaces Date: the date line of the string to sign is then empty
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}", headers={"x-amz-date": now})
    signer = HmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY))
    sts = f"GET\n\n\n\nx-amz-date:{now}\n/{bucket}"
    headers = {"x-amz-date": now, "Authorization": f"AWS {ACCESS_KEY}:{signer.sign_string(sts)}"}
    r = requests.get(request.url, headers=headers, timeout=30)
    assert r.status_code == 200, r.text


def test_sigv2_header_without_date(server: ServerProcess, bucket: str) -> None:
    r = requests.get(f"{server.endpoint}/{bucket}", headers={"Authorization": f"AWS {ACCESS_KEY}:abc="}, timeout=30)
    assert r.status_code == 403
    assert error_of(r)["Code"] == "AccessDenied"


def test_sigv2_virtual_hosted(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="vh2", Body=b"v2 vhost")
    request = AWSRequest(method="GET", url=f"http://{bucket}.localhost:{server.port}/vh2")
    request.auth_path = f"/{bucket}/vh2"
    HmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", "/vh2", headers={"Host": f"{bucket}.localhost:{server.port}",
                                             **dict(request.headers.items())})
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"v2 vhost"
    finally:
        conn.close()


def test_sigv2_query(server: ServerProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="q2 key", Body=b"query v2")
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}/q2%20key")
    HmacV1QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), expires=60).add_auth(request)
    r = requests.get(request.url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == b"query v2"
    r = requests.get(request.url.replace("q2%20key", "other"), timeout=30)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "SignatureDoesNotMatch"
    assert err["StringToSign"].endswith(f"/{bucket}/other")
    # presigned PUT, v2 flavour
    request = AWSRequest(method="PUT", url=f"{server.endpoint}/{bucket}/q2put")
    HmacV1QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), expires=60).add_auth(request)
    r = requests.put(request.url, data=b"put via v2 query", timeout=30)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="q2put")["Body"].read() == b"put via v2 query"


def test_sigv2_query_expired_and_incomplete(server: ServerProcess, bucket: str) -> None:
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}/k")
    HmacV1QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), expires=-10).add_auth(request)
    r = requests.get(request.url, timeout=30)
    assert r.status_code == 403
    err = error_of(r)
    assert err["Code"] == "AccessDenied" and err["Message"] == "Request has expired"
    assert "Expires" in err and "ServerTime" in err
    r = requests.get(f"{server.endpoint}/{bucket}/k?AWSAccessKeyId={ACCESS_KEY}&Signature=abc", timeout=30)
    assert r.status_code == 403
    assert error_of(r)["Code"] == "AccessDenied"


# --- configuration: several credentials, auth off -----------------------------------------------------------------

@pytest.fixture(scope="module")
def two_key_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("twokeys")
    config = data / "s3emu.toml"
    config.write_text('[[credentials]]\naccess_key = "alice"\nsecret_key = "alice-secret"\n\n'
                      '[[credentials]]\naccess_key = "bob"\nsecret_key = "bob-secret"\n')
    srv = ServerProcess(data / "data", "--config", str(config), "--durability", "fast").start()
    yield srv
    srv.stop()


def test_several_credentials_from_config(two_key_server: ServerProcess) -> None:
    alice = two_key_server.client(access_key="alice", secret_key="alice-secret")
    bob = two_key_server.client(access_key="bob", secret_key="bob-secret")
    name = fresh_bucket_name("keys")
    alice.create_bucket(Bucket=name)
    alice.put_object(Bucket=name, Key="k", Body=b"shared")
    assert bob.get_object(Bucket=name, Key="k")["Body"].read() == b"shared"
    url = bob.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"})
    assert requests.get(url, timeout=30).content == b"shared"
    for client, code in ((two_key_server.client(access_key="alice", secret_key="bob-secret"),
                          "SignatureDoesNotMatch"),
                         (two_key_server.client(), "InvalidAccessKeyId")):
        with pytest.raises(ClientError) as exc:
            client.get_object(Bucket=name, Key="k")
        assert client_error(exc)["Code"] == code


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("noauth"), "--no-auth", "--durability", "fast").start()
    yield srv
    srv.stop()


def test_no_auth_accepts_any_signature(open_server: ServerProcess) -> None:
    wrong = open_server.client(access_key="whoever", secret_key="wrong")
    name = fresh_bucket_name("open")
    wrong.create_bucket(Bucket=name)
    wrong.put_object(Bucket=name, Key="k", Body=b"open data")
    assert wrong.get_object(Bucket=name, Key="k")["Body"].read() == b"open data"
    r = requests.get(f"{open_server.endpoint}/{name}/k", timeout=30)
    assert r.status_code == 200 and r.content == b"open data"
    r = requests.get(f"{open_server.endpoint}/{name}/k", headers={"Authorization": "Bearer x"}, timeout=30)
    assert r.status_code == 200
    url = wrong.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"}, ExpiresIn=1)
    time.sleep(1.5)
    assert requests.get(url, timeout=30).content == b"open data"
    # the payload hash still guards the body
    request = sigv4_request(open_server.endpoint, "PUT", f"/{name}/bad", body=b"abc",
                            payload_hash=hashlib.sha256(b"abd").hexdigest())
    r = send(request)
    assert r.status_code == 400 and error_of(r)["Code"] == "XAmzContentSHA256Mismatch"
