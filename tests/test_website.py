"""Static website hosting: Put/Get/DeleteBucketWebsite as S3 validates them,
and the website endpoint (the --website-port, and bucket.s3-website.localhost
Host names on the S3 port) serving pages, index and error documents,
redirects and S3's HTML error pages to a plain HTTP client."""
from __future__ import annotations

import http.client
import re
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import s3emu

from conftest import empty_bucket, fresh_bucket_name, publish, workers_args
from server import ServerProcess


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("website"), "--website-port", "0", "--durability", "fast",
                           "--no-access-log", *workers_args()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site_port(srv: ServerProcess) -> int:
    found = [re.search(r"website endpoint on http://[^:]+:(\d+)", line) for line in srv.output]
    return int(next(m for m in found if m).group(1))


@pytest.fixture(scope="module")
def c(srv: ServerProcess) -> Any:
    return srv.client()


@pytest.fixture
def b(c: Any) -> Iterator[str]:
    """A bucket anyone may read and list, as a website's bucket is made public on S3."""
    name = fresh_bucket_name("web")
    c.create_bucket(Bucket=name)
    publish(c, name, ["s3:GetObject", "s3:ListBucket"])
    yield name
    empty_bucket(c, name)


def fetch(port: int, path: str, host: str, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One unsigned request, as a browser sends it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def site(b: str) -> str:
    return f"{b}.s3-website.localhost"


def put_page(c: Any, b: str, key: str, body: str, **kwargs: Any) -> str:
    return c.put_object(Bucket=b, Key=key, Body=body.encode(), ContentType="text/html", **kwargs)["ETag"]


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str, dict[str, Any]]:
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"], r["Error"]


# -- the configuration ------------------------------------------------------------------------------

def test_round_trip_and_delete(c: Any, b: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_website(Bucket=b)
    status, code, message, fields = error_code(excinfo)
    assert (status, code, message) == (404, "NoSuchWebsiteConfiguration",
                                       "The specified bucket does not have a website configuration")
    assert fields["BucketName"] == b
    assert c.delete_bucket_website(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
    config = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"},
              "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/", "HttpErrorCodeReturnedEquals": "404"},
                                "Redirect": {"HostName": "example.com", "HttpRedirectCode": "307",
                                             "Protocol": "https", "ReplaceKeyPrefixWith": "documents/"}},
                               {"Redirect": {"ReplaceKeyWith": "gone.html"}}]}
    c.put_bucket_website(Bucket=b, WebsiteConfiguration=config)
    got = c.get_bucket_website(Bucket=b)
    assert {k: got[k] for k in config} == config
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com"}})
    assert c.get_bucket_website(Bucket=b)["RedirectAllRequestsTo"] == {"HostName": "example.com"}
    c.delete_bucket_website(Bucket=b)
    with pytest.raises(ClientError):
        c.get_bucket_website(Bucket=b)


@pytest.mark.parametrize("config, expected", [
    ({"IndexDocument": {"Suffix": "/index.html"}},
     ("InvalidArgument", "The IndexDocument Suffix is not well formed", "IndexDocument")),
    ({"RedirectAllRequestsTo": {"HostName": "h"}, "IndexDocument": {"Suffix": "index.html"}},
     ("InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
      "RedirectAllRequestsTo")),
    ({"ErrorDocument": {"Key": "e.html"}},
     ("InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
      "IndexDocument")),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Redirect": {"Protocol": "ftp"}}]},
     ("InvalidRequest", "Invalid protocol, protocol can be http or https. If not defined the protocol will be "
                        "selected automatically.", None)),
    ({"IndexDocument": {"Suffix": "i.html"},
      "RoutingRules": [{"Redirect": {"ReplaceKeyPrefixWith": "a", "ReplaceKeyWith": "b"}}]},
     ("InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both.", None)),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": [{"Condition": {}, "Redirect": {"HostName": "h"}}]},
     ("InvalidRequest", "Condition cannot be empty. To redirect all requests without a condition, the condition "
                        "element shouldn't be present.", None)),
    ({"IndexDocument": {"Suffix": "i.html"}, "RoutingRules": []},
     ("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema",
      None)),
])
def test_validation_errors(c: Any, b: str, config: dict[str, Any], expected: tuple[str, str, str | None]) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_website(Bucket=b, WebsiteConfiguration=config)
    status, code, message, fields = error_code(excinfo)
    assert (status, code, message, fields.get("ArgumentName")) == (400, *expected)
    with pytest.raises(ClientError):
        c.get_bucket_website(Bucket=b)  # nothing was stored


def test_put_website_on_missing_bucket(c: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_website(Bucket="no-such-bucket-web", WebsiteConfiguration={"IndexDocument": {"Suffix": "i"}})
    assert error_code(excinfo)[:2] == (404, "NoSuchBucket")


# -- the website endpoint --------------------------------------------------------------------------

def test_pages_index_documents_and_conditional_get(c: Any, b: str, site_port: int) -> None:
    etag = put_page(c, b, "index.html", "home")
    put_page(c, b, "docs/index.html", "docs home")
    put_page(c, b, "style.css", "body{}", CacheControl="max-age=60")
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    status, headers, body = fetch(site_port, "/", site(b))
    assert (status, body, headers["etag"], headers["content-type"]) == (200, b"home", etag, "text/html")
    assert fetch(site_port, "/docs/", site(b))[::2] == (200, b"docs home")
    status, headers, body = fetch(site_port, "/docs", site(b))
    assert (status, headers["location"], body) == (302, "/docs/", b"")
    status, headers, _ = fetch(site_port, "/style.css", site(b))
    assert (status, headers["cache-control"]) == (200, "max-age=60")
    assert fetch(site_port, "/", site(b), headers={"If-None-Match": etag})[0] == 304
    status, headers, body = fetch(site_port, "/", site(b), "HEAD")
    assert (status, headers["content-length"], body) == (200, "4", b"")
    # the S3 port answers website Host names too, without signatures
    assert fetch(int(urlsplit(c.meta.endpoint_url).port or 0), "/docs/", site(b))[::2] == (200, b"docs home")


def test_error_pages(c: Any, b: str, site_port: int) -> None:
    status, headers, body = fetch(site_port, "/", site("no-such-bucket-web"))
    assert status == 404 and headers["content-type"].startswith("text/html")
    assert b"<li>Code: NoSuchBucket</li>" in body and b"<li>BucketName: no-such-bucket-web</li>" in body
    status, _, body = fetch(site_port, "/page", site(b))
    assert status == 404 and b"<li>Code: NoSuchWebsiteConfiguration</li>" in body
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    status, _, body = fetch(site_port, "/missing/", site(b))
    assert status == 404
    assert body.startswith(b"<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>404 Not Found</h1>\n"
                           b"<ul>\n<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n"
                           b"<li>Key: missing/index.html</li>\n<li>RequestId: ")
    for method in ("POST", "PUT", "DELETE"):
        status, _, body = fetch(site_port, "/", site(b), method)
        assert status == 405 and b"<li>Method: " + method.encode() + b"</li>" in body
        assert b"<li>ResourceType: OBJECT</li>" in body
    assert fetch(site_port, "/nothing", site(b), "HEAD")[::2] == (404, b"")


def test_bytes_that_are_not_utf8(c: Any, b: str, srv: ServerProcess, site_port: int) -> None:
    """A Host header or path that is not UTF-8 is S3's 400 page, as on the S3
    endpoint (not a 500, nor a key with U+FFFD in place of its bytes)."""
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}}]})
    for port in (site_port, srv.port):
        status, headers, body = fetch(port, "/", "\xff" + site(b))
        assert status == 400 and headers["content-type"].startswith("text/html"), body
        assert b"<li>Code: InvalidArgument</li>" in body
    for path in ("/%ff", "/old/%c3%28"):
        status, _, body = fetch(site_port, path, site(b))
        assert status == 400 and b"<li>Code: InvalidURI</li>" in body, body


def test_error_document(c: Any, b: str, site_port: int) -> None:
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"},
                                                         "ErrorDocument": {"Key": "404.html"}})
    status, _, body = fetch(site_port, "/nothing", site(b))
    assert status == 404
    assert b"<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>" in body
    assert b"<li>Key: 404.html</li>" in body
    etag = put_page(c, b, "404.html", "not here")
    status, headers, body = fetch(site_port, "/nothing", site(b))
    assert (status, body, headers["etag"]) == (404, b"not here", etag)


def test_object_redirects(c: Any, b: str, site_port: int) -> None:
    put_page(c, b, "new.html", "new")
    c.put_object(Bucket=b, Key="old.html", Body=b"", WebsiteRedirectLocation="/new.html")
    c.put_object(Bucket=b, Key="away", Body=b"", WebsiteRedirectLocation="https://example.com/x")
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    status, headers, _ = fetch(site_port, "/old.html", site(b))
    assert (status, headers["location"]) == (301, "/new.html")
    assert fetch(site_port, "/away", site(b))[1]["location"] == "https://example.com/x"


def test_routing_rules(c: Any, b: str, site_port: int) -> None:
    put_page(c, b, "index.html", "home")
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"},
        "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"}, "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
            {"Condition": {"KeyPrefixEquals": "img/"},
             "Redirect": {"HostName": "cdn.example.com", "Protocol": "https", "HttpRedirectCode": "307"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"}, "Redirect": {"ReplaceKeyWith": "index.html"}},
        ]})
    status, headers, _ = fetch(site_port, "/docs/a%20b.html", site(b))
    assert (status, headers["location"]) == (301, f"http://{site(b)}/documents/a%20b.html")
    status, headers, _ = fetch(site_port, "/img/logo.png", site(b))
    assert (status, headers["location"]) == (307, "https://cdn.example.com/img/logo.png")
    status, headers, _ = fetch(site_port, "/lost", site(b))
    assert (status, headers["location"]) == (301, f"http://{site(b)}/index.html")
    assert fetch(site_port, "/", site(b))[::2] == (200, b"home")  # rules see the key before the index document


def test_redirect_all_requests(c: Any, b: str, site_port: int) -> None:
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}})
    status, headers, body = fetch(site_port, "/a/b?x=1", site(b))
    assert (status, headers["location"], body) == (301, "https://www.example.com/a/b?x=1", b"")


def test_public_access_rules_apply(c: Any, site_port: int) -> None:
    """A private bucket's pages are 403 AccessDenied; with GetObject public but
    not ListBucket, a missing page is 403 too (S3 tells only listers 404)."""
    name = fresh_bucket_name("web")
    c.create_bucket(Bucket=name)
    try:
        put_page(c, name, "index.html", "home")
        c.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
        status, _, body = fetch(site_port, "/", site(name))
        assert status == 403 and b"<li>Code: AccessDenied</li>" in body
        publish(c, name, ["s3:GetObject"])
        assert fetch(site_port, "/", site(name))[::2] == (200, b"home")
        status, _, body = fetch(site_port, "/missing.html", site(name))
        assert status == 403 and b"<li>Code: AccessDenied</li>" in body
    finally:
        empty_bucket(c, name)


def test_website_port_addressing(c: Any, b: str, site_port: int) -> None:
    put_page(c, b, "index.html", "home")
    c.put_bucket_website(Bucket=b, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert fetch(site_port, f"/{b}/", f"127.0.0.1:{site_port}")[::2] == (200, b"home")  # path style on an IP
    assert fetch(site_port, "/", b)[::2] == (200, b"home")  # the Host is the bucket, as with a CNAME
    assert fetch(site_port, "/", f"{b}.localhost")[::2] == (200, b"home")


def test_embedded_server_website_port() -> None:
    with s3emu.serve(website_port=0) as server:
        c = server.client()
        c.create_bucket(Bucket="embedded-site")
        publish(c, "embedded-site", ["s3:GetObject"])
        put_page(c, "embedded-site", "index.html", "home")
        c.put_bucket_website(Bucket="embedded-site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
        assert server.website_url is not None and server.website_url != server.endpoint_url
        port = int(server.website_url.rsplit(":", 1)[1])
        assert fetch(port, "/", site("embedded-site"))[::2] == (200, b"home")
