"""Storage classes: x-amz-storage-class on writes and where S3 shows it,
lifecycle Transitions that change it when due, and archived objects
(GLACIER, DEEP_ARCHIVE) that GET refuses until RestoreObject has made them
readable for a while. Here a lifecycle "day" is two seconds and a restore
takes one (restore_seconds)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from botocore.exceptions import ClientError

from conftest import fresh_bucket_name
from rawhttp import request
from server import ServerProcess
from test_lifecycle import configured_server, eventually

DAY = 2.0
RESTORE = 1.0
CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
           "DEEP_ARCHIVE", "GLACIER_IR")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = configured_server(tmp_path_factory.mktemp("classes"), lifecycle_day_seconds=DAY, reaper_interval=0.2,
                               restore_seconds=RESTORE, min_part_size=1)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def c(srv: ServerProcess) -> Any:
    return srv.client()


@pytest.fixture
def b(c: Any) -> str:
    c.create_bucket(Bucket=(name := fresh_bucket_name("sc")))
    return name


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call()
    r = excinfo.value.response
    return {"status": r["ResponseMetadata"]["HTTPStatusCode"], **r["Error"]}


def restore_header(c: Any, b: str, key: str, **kwargs: Any) -> str | None:
    return c.head_object(Bucket=b, Key=key, **kwargs).get("Restore")


# -- the class of a write ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("storage_class", CLASSES)
def test_every_class_is_kept_and_shown(c: Any, b: str, storage_class: str) -> None:
    c.put_object(Bucket=b, Key="k", Body=b"x", StorageClass=storage_class)
    head = c.head_object(Bucket=b, Key="k")
    assert head.get("StorageClass", "STANDARD") == storage_class  # S3 leaves STANDARD unsaid
    assert c.list_objects_v2(Bucket=b)["Contents"][0]["StorageClass"] == storage_class
    assert c.list_objects(Bucket=b)["Contents"][0]["StorageClass"] == storage_class
    assert c.list_object_versions(Bucket=b)["Versions"][0]["StorageClass"] == storage_class
    attrs = c.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["StorageClass"])
    assert attrs["StorageClass"] == storage_class


@pytest.mark.parametrize("storage_class", ["OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "standard", "COLD"])
def test_classes_s3_refuses(c: Any, b: str, storage_class: str) -> None:
    for call in (lambda: c.put_object(Bucket=b, Key="k", Body=b"x", StorageClass=storage_class),
                 lambda: c.create_multipart_upload(Bucket=b, Key="k", StorageClass=storage_class)):
        assert error(call).items() >= {"status": 400, "Code": "InvalidStorageClass",
                                       "Message": "The storage class you specified is not valid",
                                       "StorageClassRequested": storage_class}.items()
    assert "Contents" not in c.list_objects_v2(Bucket=b)


def test_multipart_upload_class_in_list_parts_and_the_object(c: Any, b: str) -> None:
    upload = c.create_multipart_upload(Bucket=b, Key="mp", StorageClass="ONEZONE_IA")["UploadId"]
    etag = c.upload_part(Bucket=b, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    assert c.list_parts(Bucket=b, Key="mp", UploadId=upload)["StorageClass"] == "ONEZONE_IA"
    assert c.list_multipart_uploads(Bucket=b)["Uploads"][0]["StorageClass"] == "ONEZONE_IA"
    c.complete_multipart_upload(Bucket=b, Key="mp", UploadId=upload,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert c.head_object(Bucket=b, Key="mp")["StorageClass"] == "ONEZONE_IA"


def test_copy_changes_the_class_only_when_asked(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="src", Body=b"x", StorageClass="STANDARD_IA")
    c.copy_object(Bucket=b, Key="same", CopySource=f"{b}/src")
    assert "StorageClass" not in c.head_object(Bucket=b, Key="same")  # a copy is STANDARD unless asked
    c.copy_object(Bucket=b, Key="src", CopySource=f"{b}/src", StorageClass="GLACIER_IR")
    assert c.head_object(Bucket=b, Key="src")["StorageClass"] == "GLACIER_IR"


# -- archived objects and RestoreObject -----------------------------------------------------------------------------

@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_object_is_refused_until_restored(c: Any, b: str, storage_class: str) -> None:
    c.put_object(Bucket=b, Key="cold", Body=b"frozen", StorageClass=storage_class)
    refused = error(lambda: c.get_object(Bucket=b, Key="cold"))
    assert refused.items() >= {"status": 403, "Code": "InvalidObjectState", "StorageClass": storage_class,
                               "Message": "The operation is not valid for the object's storage class"}.items()
    assert c.head_object(Bucket=b, Key="cold")["StorageClass"] == storage_class  # HEAD still answers
    assert error(lambda: c.copy_object(Bucket=b, Key="copy", CopySource=f"{b}/cold"))["Code"] == "InvalidObjectState"
    started = c.restore_object(Bucket=b, Key="cold", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}})
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert restore_header(c, b, "cold") == 'ongoing-request="true"'
    listed = c.list_objects_v2(Bucket=b, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"] == {"IsRestoreInProgress": True}
    assert "RestoreStatus" not in c.list_objects_v2(Bucket=b)["Contents"][0]
    again = error(lambda: c.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 1}))
    assert again.items() >= {"status": 409, "Code": "RestoreAlreadyInProgress",
                             "Message": "Object restore is already in progress"}.items()
    assert error(lambda: c.get_object(Bucket=b, Key="cold"))["Code"] == "InvalidObjectState"  # still under way

    assert eventually(lambda: 'ongoing-request="false"' in (restore_header(c, b, "cold") or ""))
    assert c.get_object(Bucket=b, Key="cold")["Body"].read() == b"frozen"
    got = c.get_object(Bucket=b, Key="cold")
    assert got["StorageClass"] == storage_class and got["Restore"].startswith('ongoing-request="false", expiry-date="')
    listed = c.list_objects(Bucket=b, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"]["IsRestoreInProgress"] is False and listed["RestoreStatus"]["RestoreExpiryDate"]
    c.copy_object(Bucket=b, Key="copy", CopySource=f"{b}/cold")
    assert c.get_object(Bucket=b, Key="copy")["Body"].read() == b"frozen"
    # restoring a restored object only moves its expiry: 200
    assert c.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 1})["ResponseMetadata"][
        "HTTPStatusCode"] == 200

    # a restored copy lasts its Days (one two-second day here, ending at a day boundary)
    assert eventually(lambda: restore_header(c, b, "cold") is None)
    assert error(lambda: c.get_object(Bucket=b, Key="cold"))["Code"] == "InvalidObjectState"


def test_restore_answers(c: Any, srv: ServerProcess, b: str) -> None:
    c.put_object(Bucket=b, Key="warm", Body=b"x", StorageClass="GLACIER_IR")
    refused = error(lambda: c.restore_object(Bucket=b, Key="warm", RestoreRequest={"Days": 1}))
    assert refused.items() >= {"status": 403, "Code": "InvalidObjectState",
                               "Message": "Restore is not allowed for the object's current storage class"}.items()
    assert error(lambda: c.restore_object(Bucket=b, Key="none", RestoreRequest={"Days": 1}))["Code"] == "NoSuchKey"
    c.put_object(Bucket=b, Key="cold", Body=b"x", StorageClass="GLACIER")
    for body in (b"<RestoreRequest><Days>0</Days></RestoreRequest>",
                 b"<RestoreRequest><GlacierJobParameters><Tier>Fast</Tier></GlacierJobParameters>"
                 b"<Days>1</Days></RestoreRequest>",
                 b"<RestoreRequest><Nope/></RestoreRequest>", b"not xml"):
        reply = request(srv.endpoint, "POST", f"/{b}/cold?restore", body)
        assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")
    assert restore_header(c, b, "cold") is None  # nothing was started by the refusals


def test_restore_by_version(c: Any, b: str) -> None:
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    old = c.put_object(Bucket=b, Key="k", Body=b"old", StorageClass="DEEP_ARCHIVE")["VersionId"]
    c.put_object(Bucket=b, Key="k", Body=b"new", StorageClass="DEEP_ARCHIVE")
    c.restore_object(Bucket=b, Key="k", VersionId=old, RestoreRequest={"Days": 5})
    assert restore_header(c, b, "k", VersionId=old) == 'ongoing-request="true"'
    assert restore_header(c, b, "k") is None
    assert eventually(lambda: c.get_object(Bucket=b, Key="k", VersionId=old)["Body"].read() == b"old"
                      if 'ongoing-request="false"' in (restore_header(c, b, "k", VersionId=old) or "") else False)
    assert error(lambda: c.get_object(Bucket=b, Key="k"))["Code"] == "InvalidObjectState"


# -- lifecycle transitions ---------------------------------------------------------------------------------------

def test_transitions_move_objects_down_when_due(c: Any, b: str) -> None:
    big = b"x" * (128 * 1024)
    c.put_object(Bucket=b, Key="logs/big", Body=big)
    c.put_object(Bucket=b, Key="logs/small", Body=b"x")
    c.put_object(Bucket=b, Key="logs/tagged", Body=b"x", Tagging="cold=yes")
    c.put_object(Bucket=b, Key="data/big", Body=big)
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "ia-then-glacier", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"}, {"Days": 2, "StorageClass": "GLACIER"}]},
        {"ID": "small-tagged", "Status": "Enabled", "Filter": {"And": {
            "Tags": [{"Key": "cold", "Value": "yes"}], "ObjectSizeGreaterThan": 0}},
         "Transitions": [{"Days": 1, "StorageClass": "DEEP_ARCHIVE"}]}]})

    def classes() -> dict[str, str]:
        return {o["Key"]: o["StorageClass"] for o in c.list_objects_v2(Bucket=b)["Contents"]}

    assert eventually(lambda: classes()["logs/big"] == "GLACIER", seconds=20)
    assert classes() == {"logs/big": "GLACIER", "logs/small": "STANDARD", "logs/tagged": "DEEP_ARCHIVE",
                         "data/big": "STANDARD"}  # small objects stay put unless a rule filters on size
    assert error(lambda: c.get_object(Bucket=b, Key="logs/big"))["Code"] == "InvalidObjectState"


def test_minimum_object_size_setting(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="small", Body=b"x")
    put = c.put_bucket_lifecycle_configuration(
        Bucket=b, TransitionDefaultMinimumObjectSize="varies_by_storage_class", LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]})
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = c.get_bucket_lifecycle_configuration(Bucket=b)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert eventually(lambda: c.head_object(Bucket=b, Key="small").get("StorageClass") == "GLACIER")
    refused = error(lambda: c.put_bucket_lifecycle_configuration(
        Bucket=b, TransitionDefaultMinimumObjectSize="value", LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}))
    assert refused.items() >= {"status": 400, "Code": "InvalidRequest",
                               "Message": "Invalid TransitionDefaultMinimumObjectSize found: value"}.items()
    assert c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"][0]["Transitions"]  # unchanged


def test_noncurrent_versions_transition(c: Any, b: str) -> None:
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    old = c.put_object(Bucket=b, Key="k", Body=b"old")["VersionId"]
    c.put_object(Bucket=b, Key="k", Body=b"new")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "GLACIER"}]}]})

    def classes() -> dict[str, str]:
        return {v["VersionId"]: v["StorageClass"] for v in c.list_object_versions(Bucket=b)["Versions"]}

    assert eventually(lambda: classes()[old] == "GLACIER")
    assert [cls for v, cls in classes().items() if v != old] == ["STANDARD"]


def test_transition_classes_s3_refuses(srv: ServerProcess, c: Any, b: str) -> None:
    assert error(lambda: c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": 1, "StorageClass": "STANDARD"}]}]}
    ))["Code"] == "MalformedXML"
