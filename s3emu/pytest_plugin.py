"""pytest fixtures for testing code against S3, served by s3emu.

Installed with s3emu (entry point `pytest11`), so any project with s3emu
installed can use them:

    def test_upload(s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"v")

Fixtures: s3emu_server (session), s3_client, s3_resource (session),
s3_bucket (a fresh bucket per test), s3emu_faults (fault rules for one test),
s3emu_reset (an empty store for one test).
Options (command line, or the ini-file key in brackets):
  --s3emu-endpoint URL       [s3emu_endpoint]       use a running server; start none
  --s3emu-min-part-size N    [s3emu_min_part_size]  smallest non-last multipart part
  --s3emu-auth / --s3emu-no-auth  [s3emu_auth]      check signatures (default: on)
  --s3emu-legacy-permissions [s3emu_legacy_permissions]  pre-2023 bucket defaults (ACLs on, no block)
  --s3emu-durability MODE    [s3emu_durability]     fsync or fast (default: fast)
  --s3emu-isolation MODE     [s3emu_isolation]      "test": every test that uses the server
                                                    starts with an empty store (default: session)
  [s3emu_region], [s3emu_access_key], [s3emu_secret_key]

Nothing heavy is imported until a fixture is used: loading the plugin is free.
"""
from __future__ import annotations

import uuid
import warnings
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    from .embedded import Endpoint


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("s3emu", "s3emu S3 server fixtures")
    group.addoption("--s3emu-endpoint", metavar="URL", help="use the S3 server at URL instead of starting one")
    group.addoption("--s3emu-min-part-size", metavar="BYTES", type=int,
                    help="smallest multipart part but the last (default 5 MiB, as S3)")
    group.addoption("--s3emu-auth", dest="s3emu_auth", action="store_const", const=True, default=None,
                    help="check request signatures (the default)")
    group.addoption("--s3emu-no-auth", dest="s3emu_auth", action="store_const", const=False,
                    help="accept requests with any or no signature")
    group.addoption("--s3emu-durability", choices=["fsync", "fast"],
                    help="fsync every write, or not (default: fast)")
    group.addoption("--s3emu-legacy-permissions", dest="s3emu_legacy_permissions", action="store_const",
                    const=True, default=None,
                    help="new buckets as before April 2023: ACLs enabled, no public access block")
    group.addoption("--s3emu-isolation", choices=["session", "test"],
                    help='"test": empty the store before every test that uses it (default: session)')
    parser.addini("s3emu_isolation", '"test": empty the store before every test that uses it', default="session")
    parser.addini("s3emu_endpoint", "use the S3 server at this URL instead of starting one", default="")
    parser.addini("s3emu_min_part_size", "smallest multipart part but the last, bytes", default="")
    parser.addini("s3emu_auth", "check request signatures", type="bool", default=True)
    parser.addini("s3emu_durability", "fsync or fast", default="fast")
    parser.addini("s3emu_legacy_permissions", "new buckets with ACLs enabled and no public access block",
                  type="bool", default=False)
    parser.addini("s3emu_region", "region of the server", default="us-east-1")
    parser.addini("s3emu_access_key", "access key", default="s3emu")
    parser.addini("s3emu_secret_key", "secret key", default="s3emu-secret")


def _option(config: pytest.Config, name: str) -> Any:
    """A command-line flag if given, else the ini-file value."""
    value = config.getoption(name)
    return config.getini(name) if value is None else value


@pytest.fixture(scope="session")
def s3emu_server(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator["Endpoint"]:
    """The S3 server: started for the session on a free 127.0.0.1 port with a
    temporary data directory, or the one given by --s3emu-endpoint. Has
    endpoint_url, region, credentials (access_key, secret_key), data_dir
    (None for an endpoint given), client(), resource(), add_fault(),
    clear_faults()."""
    from .embedded import Credentials, Endpoint, serve
    region = pytestconfig.getini("s3emu_region")
    credentials = Credentials(pytestconfig.getini("s3emu_access_key"), pytestconfig.getini("s3emu_secret_key"))
    endpoint = _option(pytestconfig, "s3emu_endpoint")
    if endpoint:
        yield Endpoint(endpoint, region=region, credentials=credentials)
        return
    settings: dict[str, Any] = {"region": region, "credentials": [credentials],
                                "auth": _option(pytestconfig, "s3emu_auth"),
                                "durability": _option(pytestconfig, "s3emu_durability"),
                                "legacy_permissions": bool(_option(pytestconfig, "s3emu_legacy_permissions"))}
    min_part_size = _option(pytestconfig, "s3emu_min_part_size")
    if min_part_size not in (None, ""):
        settings["min_part_size"] = int(min_part_size)
    with serve(tmp_path_factory.mktemp("s3emu"), **settings) as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(s3emu_server: "Endpoint") -> Any:
    """A boto3 S3 client for s3emu_server."""
    return s3emu_server.client()


@pytest.fixture(scope="session")
def s3_resource(s3emu_server: "Endpoint") -> Any:
    """A boto3 S3 resource for s3emu_server."""
    return s3emu_server.resource()


@pytest.fixture
def s3_bucket(s3emu_server: "Endpoint", s3_client: Any) -> Iterator[str]:
    """The name of a new, empty bucket; removed with everything in it after
    the test, locked objects included (fault rules added during the test are
    cleared first). Teardown never fails the test: what cannot be removed is a warning."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    if s3emu_server.region == "us-east-1":
        s3_client.create_bucket(Bucket=name)
    else:
        s3_client.create_bucket(Bucket=name,
                                CreateBucketConfiguration={"LocationConstraint": s3emu_server.region})
    yield name
    try:
        if s3emu_server.faults_added:
            s3emu_server.clear_faults()
        s3emu_server.reset(bucket=name)
    except Exception:  # not s3emu: S3's own calls, governance retention bypassed
        try:
            delete_bucket(s3_client, name)
        except Exception as e:
            warnings.warn(f"s3_bucket {name} was left behind: {e}", stacklevel=1)


@pytest.fixture
def s3emu_reset(s3emu_server: "Endpoint") -> "Endpoint":
    """s3emu_server, emptied for this test: no buckets, objects or uploads
    (fault rules stay; s3emu_faults clears those)."""
    s3emu_server.reset()
    return s3emu_server


@pytest.fixture(autouse=True)
def _s3emu_isolation(request: pytest.FixtureRequest) -> None:
    """With s3emu_isolation = "test", s3emu_reset for every test that uses the server."""
    if "s3emu_server" in request.fixturenames and _option(request.config, "s3emu_isolation") == "test":
        request.getfixturevalue("s3emu_reset")


@pytest.fixture
def s3emu_faults(s3emu_server: "Endpoint") -> Iterator["Endpoint"]:
    """s3emu_server, for adding fault rules that end with the test:
    s3emu_faults.add_fault(operation="UploadPart", error="SlowDown", times=2)."""
    yield s3emu_server
    s3emu_server.clear_faults()


def delete_bucket(client: Any, bucket: str) -> None:
    """Abort the bucket's uploads, delete its objects (every version), then the bucket."""
    from botocore.exceptions import ClientError
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        try:
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket)
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        except ClientError as e:
            if e.response["Error"]["Code"] != "NotImplemented":
                raise
            doomed = [{"Key": o["Key"]} for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                      for o in page.get("Contents", [])]
        for i in range(0, len(doomed), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i:i + 1000], "Quiet": True},
                                  BypassGovernanceRetention=True)
        client.delete_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchBucket":  # the test deleted it itself
            raise
