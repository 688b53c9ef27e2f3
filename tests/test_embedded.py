"""The Python API: `with s3emu.serve(...) as server:` runs a real server in
a background thread."""
from __future__ import annotations

import gc
import socket
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

import s3emu
from s3emu.embedded import Endpoint
from s3emu.http.request import S3Request


def test_serve_with_a_temporary_data_dir() -> None:
    with s3emu.serve() as server:
        data_dir = server.data_dir
        assert (data_dir / "meta.sqlite3").exists()
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        assert server.credentials == ("s3emu", "s3emu-secret")
        assert server.credentials.access_key == "s3emu" and server.region == "us-east-1"
        s3 = server.client()
        s3.create_bucket(Bucket="embedded")
        s3.put_object(Bucket="embedded", Key="k", Body=b"v")
        bucket = server.resource().Bucket("embedded")
        assert [o.key for o in bucket.objects.all()] == ["k"]
    assert not data_dir.exists()
    with pytest.raises(requests.ConnectionError):  # stopped: nothing listens any more
        requests.get(f"{server.endpoint_url}/_s3emu/health", timeout=5)


def test_a_given_data_dir_is_kept_and_reused(tmp_path: Path) -> None:
    with s3emu.serve(tmp_path) as server:
        assert server.data_dir == tmp_path
        s3 = server.client()
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k", Body=b"still here")
    assert (tmp_path / "meta.sqlite3").exists()
    with s3emu.serve(data_dir=tmp_path) as server:
        assert server.client().get_object(Bucket="kept", Key="k")["Body"].read() == b"still here"


def test_settings_are_config_fields() -> None:
    with s3emu.serve(min_part_size=1024, auth=False, region="eu-west-1") as server:
        assert server.region == "eu-west-1"
        # auth=False: an unsigned request is accepted (naming its region, as S3 wants outside us-east-1)
        config = b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>" \
                 b"</CreateBucketConfiguration>"
        assert requests.put(f"{server.endpoint_url}/open-bucket", data=config, timeout=30).status_code == 200
        s3 = server.client()
        assert s3.get_bucket_location(Bucket="open-bucket")["LocationConstraint"] == "eu-west-1"
        upload = s3.create_multipart_upload(Bucket="open-bucket", Key="mp")["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="open-bucket", Key="mp", UploadId=upload,
                                                          PartNumber=n, Body=body)["ETag"]}
                 for n, body in ((1, b"a" * 1024), (2, b"b" * 10))]
        s3.complete_multipart_upload(Bucket="open-bucket", Key="mp", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket="open-bucket", Key="mp")["Body"].read() == b"a" * 1024 + b"b" * 10


def test_min_part_size_is_enforced() -> None:
    with s3emu.serve(min_part_size=1024) as server:
        s3 = server.client()
        s3.create_bucket(Bucket="strict")
        upload = s3.create_multipart_upload(Bucket="strict", Key="mp")["UploadId"]
        parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="strict", Key="mp", UploadId=upload,
                                                          PartNumber=n, Body=b"x" * 1023)["ETag"]}
                 for n in (1, 2)]
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(Bucket="strict", Key="mp", UploadId=upload,
                                         MultipartUpload={"Parts": parts})
        assert exc.value.response["Error"]["Code"] == "EntityTooSmall"


def test_auth_on_by_default_with_given_credentials() -> None:
    with s3emu.serve(credentials=[("AKIDEXAMPLE", "wJalrXUtnFEMI")]) as server:
        assert server.credentials == ("AKIDEXAMPLE", "wJalrXUtnFEMI")
        server.client().create_bucket(Bucket="mine")
        unsigned = requests.get(f"{server.endpoint_url}/mine", timeout=30)
        assert unsigned.status_code == 403 and "<Code>AccessDenied</Code>" in unsigned.text
        stranger = Endpoint(server.endpoint_url).client(retries={"total_max_attempts": 1})
        with pytest.raises(ClientError) as exc:
            stranger.list_objects_v2(Bucket="mine")
        assert exc.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_faults_from_settings_and_api() -> None:
    rule = {"operation": "PutObject", "error": "SlowDown", "times": 1}
    with s3emu.serve(faults=[rule]) as server:
        s3 = server.client(retries={"total_max_attempts": 1})
        s3.create_bucket(Bucket="faulty")
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket="faulty", Key="k", Body=b"x")
        assert exc.value.response["Error"]["Code"] == "SlowDown"
        added = server.add_fault(operation="GetObject", error="InternalError", times=1)
        assert [f["id"] for f in server.faults()][-1] == added["id"]
        server.remove_fault(added["id"])
        s3.put_object(Bucket="faulty", Key="k", Body=b"x")
        assert s3.get_object(Bucket="faulty", Key="k")["Body"].read() == b"x"
        server.clear_faults()
        assert server.faults() == []


@pytest.mark.parametrize("settings, error", [
    ({"colour": "red"}, TypeError),
    ({"durability": "sometimes"}, ValueError),
    ({"log_format": "xml"}, ValueError),
    ({"faults": [{"operation": "PutObject"}]}, ValueError),
])
def test_bad_settings_are_refused(settings: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        s3emu.serve(**settings)  # type: ignore[arg-type]


def test_a_taken_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            s3emu.serve(tmp_path, port=taken.getsockname()[1])


def test_answered_requests_are_freed_without_the_cycle_collector() -> None:
    """Each request's objects go when its record is written, by reference
    counting: the cycle collector's passes hold every thread while they run."""
    def live() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, S3Request))

    with s3emu.serve() as server:
        s3 = server.client()
        s3.create_bucket(Bucket="freed")
        s3.put_object(Bucket="freed", Key="k", Body=b"x")
        gc.collect()
        gc.disable()
        try:
            before = live()
            for _ in range(20):
                s3.get_object(Bucket="freed", Key="k")["Body"].read()
                s3.list_objects_v2(Bucket="freed")
                with pytest.raises(ClientError):  # an error answer too
                    s3.get_object(Bucket="freed", Key="missing")
            after = live()
        finally:
            gc.enable()
    assert after - before < 5  # the last request's record may still be on its way
