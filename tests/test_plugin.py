"""The pytest plugin shipped with s3emu, run as another project would: a
separate pytest process in a scratch directory."""
from __future__ import annotations

from pathlib import Path

import pytest

from server import ServerProcess, make_client

pytest_plugins = ["pytester"]


def test_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app="""
        import urllib.request

        def test_server(s3emu_server):
            assert s3emu_server.endpoint_url.startswith("http://127.0.0.1:")
            assert s3emu_server.region == "us-east-1"
            assert tuple(s3emu_server.credentials) == ("s3emu", "s3emu-secret")
            assert (s3emu_server.data_dir / "meta.sqlite3").exists()
            with urllib.request.urlopen(s3emu_server.endpoint_url + "/_s3emu/health") as r:
                assert b'"ok"' in r.read()

        def test_client_and_bucket(s3_client, s3_bucket):
            assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0
            s3_client.put_object(Bucket=s3_bucket, Key="a", Body=b"1")
            upload = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="left-open")
            test_client_and_bucket.name = s3_bucket

        def test_bucket_was_emptied_and_removed(s3_client, s3_bucket):
            names = [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
            assert names == [s3_bucket]  # the previous test's bucket is gone
            assert s3_bucket != test_client_and_bucket.name

        def test_resource(s3_resource, s3_bucket):
            s3_resource.Object(s3_bucket, "r").put(Body=b"via resource")
            assert s3_resource.Object(s3_bucket, "r").get()["Body"].read() == b"via resource"

        def test_faults_end_with_the_test(s3emu_faults, s3_client, s3_bucket):
            s3emu_faults.add_fault(operation="PutObject", error="SlowDown")
            assert len(s3emu_faults.faults()) == 1

        def test_no_faults_left(s3emu_server):
            assert s3emu_server.faults() == []
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_a_project_with_its_own_storage_module(pytester: pytest.Pytester) -> None:
    # s3emu's engine is s3emu.storage: a project's top-level storage.py (imported
    # first, by its conftest) must neither shadow it nor be shadowed by it
    pytester.makepyfile(storage="MINE = True\n")
    pytester.makeconftest("import storage\n")
    pytester.makepyfile(test_mine="""
        import storage

        def test_both(s3_client, s3_bucket):
            s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"v")
            assert s3_client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"v"
            assert storage.MINE
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_ini_options_and_flags(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        s3emu_min_part_size = 1024
        s3emu_auth = false
        s3emu_durability = fsync
        s3emu_legacy_permissions = true
    """)
    pytester.makepyfile(test_opts="""
        import urllib.error
        import urllib.request

        def unsigned_status(url):
            try:
                with urllib.request.urlopen(url) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        def test_options(s3emu_server, s3_client, s3_bucket):
            assert s3emu_server.config.min_part_size == 1024
            assert s3emu_server.config.durability == "fsync"
            assert s3emu_server.config.legacy_permissions
            s3_client.put_object(Bucket=s3_bucket, Key="public", Body=b"p", ACL="public-read")  # ACLs enabled
            assert s3emu_server.config.auth == EXPECT_AUTH
            assert unsigned_status(s3emu_server.endpoint_url + "/" + s3_bucket) == (403 if EXPECT_AUTH else 200)
            upload = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="mp")["UploadId"]
            parts = [{"PartNumber": n, "ETag": s3_client.upload_part(
                        Bucket=s3_bucket, Key="mp", UploadId=upload, PartNumber=n, Body=b"x" * 1024)["ETag"]}
                     for n in (1, 2)]
            s3_client.complete_multipart_upload(Bucket=s3_bucket, Key="mp", UploadId=upload,
                                                MultipartUpload={"Parts": parts})
    """)
    source = (pytester.path / "test_opts.py").read_text()
    (pytester.path / "test_opts.py").write_text(source.replace("EXPECT_AUTH", "False"))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    # a command-line flag beats the ini file
    (pytester.path / "test_opts.py").write_text(source.replace("EXPECT_AUTH", "True"))
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--s3emu-auth").assert_outcomes(passed=1)
    # and a bad flag value is refused
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--s3emu-durability", "never")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--s3emu-durability*invalid choice*"])


def test_existing_endpoint(pytester: pytest.Pytester, tmp_path: Path) -> None:
    outer = ServerProcess(tmp_path / "data", "--durability", "fast").start()
    try:
        client = make_client(outer.endpoint)
        client.create_bucket(Bucket="outside")
        pytester.makepyfile(test_reuse=f"""
            def test_reuse(s3emu_server, s3_client, s3_bucket):
                assert s3emu_server.endpoint_url == "{outer.endpoint}"
                assert s3emu_server.data_dir is None
                s3_client.put_object(Bucket="outside", Key="from-inner", Body=b"hi")
                s3_client.put_object(Bucket=s3_bucket, Key="temp", Body=b"x")
        """)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--s3emu-endpoint={outer.endpoint}")
        result.assert_outcomes(passed=1)
        assert client.get_object(Bucket="outside", Key="from-inner")["Body"].read() == b"hi"
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["outside"]  # s3_bucket's is gone
    finally:
        outer.stop()


def test_loading_the_plugin_costs_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="""
        import sys, threading

        def test_plain(request):
            assert request.config.pluginmanager.hasplugin("s3emu")
            assert "boto3" not in sys.modules
            assert "aiohttp" not in sys.modules
            assert "s3emu.embedded" not in sys.modules
            assert [t.name for t in threading.enumerate() if t.name == "s3emu"] == []
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_isolation_per_test_and_locked_objects(pytester: pytest.Pytester) -> None:
    pytester.makeini("""
        [pytest]
        s3emu_isolation = test
    """)
    pytester.makepyfile(test_isolated="""
        import warnings

        def test_leaves_things_behind(s3_client, s3_bucket):
            s3_client.create_bucket(Bucket="left-behind")
            s3_client.put_object(Bucket="left-behind", Key="k", Body=b"v")
            s3_client.create_multipart_upload(Bucket="left-behind", Key="open")
            # compliance-locked objects S3 itself would refuse to delete for a day
            s3_client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
            s3_client.put_object_lock_configuration(Bucket=s3_bucket, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
            s3_client.put_object(Bucket=s3_bucket, Key="locked", Body=b"x")
            s3_client.put_object_legal_hold(Bucket=s3_bucket, Key="locked", LegalHold={"Status": "ON"})

        def test_starts_empty(s3_client):
            assert s3_client.list_buckets()["Buckets"] == []

        def test_reset_on_request(s3emu_server, s3_client):
            s3_client.create_bucket(Bucket="mine")
            s3emu_server.reset()
            assert s3_client.list_buckets()["Buckets"] == []

        def test_not_using_s3_starts_no_server(request):
            assert "s3emu_server" not in request.fixturenames
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error:s3_bucket")
    result.assert_outcomes(passed=4)
