"""Object Lock: the bucket configuration and default retention, retention
(GOVERNANCE with its bypass, COMPLIANCE) and legal holds on versions, set by
the API or by headers on writes, and the deletes they refuse.

Compliance-locked versions can never be deleted before their date, so these
tests run on a server of their own whose data directory is thrown away."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from rawhttp import request
from server import ServerProcess

DENIED = "Access Denied because object protected by object lock."
NO_LOCK = "Bucket is missing Object Lock Configuration"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"
X_MD5 = "ndTkYSaMgDT1yFZOFVxnpg=="  # Content-MD5 of b"x"
_names = itertools.count()


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def days(n: float) -> dt.datetime:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=n)).replace(microsecond=0)


@pytest.fixture(scope="module")
def lock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("lockdata"), "--durability", "fast").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def s3(lock_server: ServerProcess) -> Any:
    return lock_server.client()


def new_bucket(s3: Any, lock: bool = True) -> str:
    name = f"lock-{next(_names)}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


@pytest.fixture
def locked(s3: Any) -> str:
    return new_bucket(s3)


def lock_config(mode: str | None = None, **period: int) -> dict[str, Any]:
    config: dict[str, Any] = {"ObjectLockEnabled": "Enabled"}
    if mode:
        config["Rule"] = {"DefaultRetention": {"Mode": mode, **period}}
    return config


# -- the bucket's configuration ------------------------------------------------------

def test_lock_enabled_bucket_is_versioned_with_empty_rule(s3: Any, locked: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    assert s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"] != "null"


def test_versioning_cannot_be_suspended(s3: Any, locked: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert error_of(exc) == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"


@pytest.mark.parametrize("period", [{"Days": 3}, {"Years": 2}])
def test_default_retention_round_trip(s3: Any, locked: str, period: dict[str, int]) -> None:
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=lock_config("GOVERNANCE", **period))
    got = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]
    assert got == lock_config("GOVERNANCE", **period)
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=lock_config())
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == lock_config()


def _config_body(inner: str) -> bytes:
    return f'<ObjectLockConfiguration xmlns="{NS}">{inner}</ObjectLockConfiguration>'.encode()


RULE = "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>{}</DefaultRetention></Rule>"


@pytest.mark.parametrize("body,code", [
    (b"", "MissingRequestBodyError"),
    (_config_body(""), "MalformedXML"),
    (_config_body("<ObjectLockEnabled>Disabled</ObjectLockEnabled>"), "MalformedXML"),
    (_config_body(RULE.format("<Mode>GOVERNANCE</Mode>")), "MalformedXML"),
    (_config_body(RULE.format("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")), "MalformedXML"),
    (_config_body(RULE.format("<Mode>LOCKED</Mode><Days>1</Days>")), "MalformedXML"),
    (_config_body(RULE.format("<Mode>GOVERNANCE</Mode><Days>one</Days>")), "MalformedXML"),
    (_config_body(RULE.format("<Mode>GOVERNANCE</Mode><Days>0</Days>")), "InvalidArgument"),
    (_config_body(RULE.format("<Mode>COMPLIANCE</Mode><Years>-1</Years>")), "InvalidArgument"),
    (_config_body("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule></Rule>"), "MalformedXML"),
])
def test_lock_configuration_refusals(s3: Any, lock_server: ServerProcess, locked: str, body: bytes,
                                     code: str) -> None:
    reply = request(lock_server.endpoint, "PUT", f"/{locked}?object-lock", body)
    assert (reply.status, reply.error()["Code"]) == (400, code)
    if code == "InvalidArgument":
        assert reply.error()["Message"] == "Default retention period must be a positive integer value."
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == lock_config()


def test_bucket_without_lock(s3: Any) -> None:
    plain = new_bucket(s3, lock=False)
    with pytest.raises(ClientError) as exc:
        s3.get_object_lock_configuration(Bucket=plain)
    assert error_of(exc) == ("ObjectLockConfigurationNotFoundError", 404)
    assert exc.value.response["Error"]["Message"] == "Object Lock configuration does not exist for this bucket"
    # an unversioned bucket cannot take a configuration ...
    with pytest.raises(ClientError) as exc:
        s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=1))
    assert error_of(exc) == ("InvalidBucketState", 409)
    assert "BucketName" not in exc.value.response["Error"]  # (AWS: put-object-lock-existing-bucket-no-versioning)
    # ... nor a lock on an object, by header or by call
    s3.put_object(Bucket=plain, Key="k", Body=b"x")
    calls = [
        lambda: s3.put_object(Bucket=plain, Key="k2", Body=b"x", ObjectLockLegalHoldStatus="ON"),
        lambda: s3.create_multipart_upload(Bucket=plain, Key="k2", ObjectLockMode="GOVERNANCE",
                                           ObjectLockRetainUntilDate=days(1)),
        lambda: s3.put_object_retention(Bucket=plain, Key="k",
                                        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": days(1)}),
        lambda: s3.get_object_retention(Bucket=plain, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=plain, Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=plain, Key="k"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("InvalidRequest", 400) and exc.value.response["Error"]["Message"] == NO_LOCK
        assert "BucketName" not in exc.value.response["Error"]  # (AWS: put-object-retention-regular-bucket)
    assert "Contents" not in s3.list_objects_v2(Bucket=plain, Prefix="k2")
    # an empty PutObjectLegalHold is MalformedXML first (AWS: test_put_object_legal_hold_exc)
    with pytest.raises(ClientError) as exc:
        s3.put_object_legal_hold(Bucket=plain, Key="k")
    assert error_of(exc) == ("MalformedXML", 400)
    # bypassing governance means nothing there: refused whatever its value (AWS: test_delete_object_with_no_locking)
    for call in (lambda bypass: s3.delete_object(Bucket=plain, Key="k", BypassGovernanceRetention=bypass),
                 lambda bypass: s3.delete_objects(Bucket=plain, Delete={"Objects": [{"Key": "k"}]},
                                                  BypassGovernanceRetention=bypass)):
        for bypass in (True, False):
            with pytest.raises(ClientError) as exc:
                call(bypass)
            assert error_of(exc) == ("InvalidArgument", 400)
            err = exc.value.response["Error"]
            assert err["Message"] == "x-amz-bypass-governance-retention is only applicable to Object Lock enabled " \
                                     "buckets."
            assert err["ArgumentName"] == "x-amz-bypass-governance-retention"
    assert s3.get_object(Bucket=plain, Key="k")["Body"].read() == b"x"
    # a versioned bucket can have Object Lock added
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=1))
    assert s3.get_object_lock_configuration(Bucket=plain)["ObjectLockConfiguration"] == lock_config(
        "GOVERNANCE", Days=1)
    s3.put_object(Bucket=plain, Key="n", Body=b"")
    assert s3.head_object(Bucket=plain, Key="n")["ObjectLockMode"] == "GOVERNANCE"


# -- retention -----------------------------------------------------------------------

def test_retention_headers_on_put_are_returned_by_get_and_head(s3: Any, locked: str) -> None:
    until = days(2)
    put = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="OFF")
    for resp in (s3.head_object(Bucket=locked, Key="k"), s3.get_object(Bucket=locked, Key="k")):
        assert resp["ObjectLockMode"] == "GOVERNANCE" and resp["ObjectLockRetainUntilDate"] == until
        assert resp["ObjectLockLegalHoldStatus"] == "OFF"
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=put["VersionId"])["Retention"]
    assert retention == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "OFF"}


def test_unlocked_version_has_no_retention_or_hold(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="k", Body=b"x")
    head = s3.head_object(Bucket=locked, Key="k")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(ClientError) as exc:
            call(Bucket=locked, Key="k")
        assert error_of(exc) == ("NoSuchObjectLockConfiguration", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket=locked, Key="missing")
    assert error_of(exc) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket=locked, Key="k", VersionId="0" * 48)
    assert error_of(exc) == ("NoSuchVersion", 404)
    # an unlocked version deletes as usual
    version = s3.head_object(Bucket=locked, Key="k")["VersionId"]
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)


@pytest.mark.parametrize("headers,message", [
    ({"x-amz-object-lock-mode": "GOVERNANCE"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"),
    ({"x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"),
    ({"x-amz-object-lock-mode": "FOREVER", "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"},
     "Unknown wormMode directive."),
    ({"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "2001-01-01T00:00:00Z"},
     "The retain until date must be in the future!"),
    ({"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "someday"},
     "The retain until date must be provided in ISO 8601 format"),
    ({"x-amz-object-lock-legal-hold": "on"}, "Legal Hold must be either of 'ON' or 'OFF'"),
])
def test_lock_header_refusals(lock_server: ServerProcess, s3: Any, locked: str, headers: dict[str, str],
                              message: str) -> None:
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k", b"x", {"Content-MD5": X_MD5, **headers})
    err = reply.error()
    assert (reply.status, err["Code"], err["Message"]) == (400, "InvalidArgument", message)
    if "both be supplied" in message:  # naming the header missing (AWS: put-obj-locked-error-no-mode)
        missing = ({"x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date"} - set(headers)).pop()
        assert err["ArgumentName"] == missing
    assert "Versions" not in s3.list_object_versions(Bucket=locked)


def test_lock_headers_need_a_checksum(lock_server: ServerProcess, locked: str) -> None:
    lock = {"x-amz-object-lock-legal-hold": "ON"}
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k", b"x", lock)
    assert (reply.status, reply.error()["Code"]) == (400, "InvalidRequest")
    assert "Content-MD5" in reply.error()["Message"]
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k", b"x",
                    {**lock, "Content-MD5": X_MD5})
    assert reply.status == 200


def test_governance_blocks_deletes_unless_bypassed(s3: Any, locked: str) -> None:
    until = days(2)
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=until)["VersionId"]
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="k", VersionId=version)
    assert error_of(exc) == ("AccessDenied", 403) and exc.value.response["Error"]["Message"] == DENIED
    # a delete without a version id only adds a marker
    marker = s3.delete_object(Bucket=locked, Key="k")
    assert marker["DeleteMarker"] is True
    # extending needs no bypass; shortening does
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=version,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": days(3)})
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="k", VersionId=version,
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": days(1)})
    assert error_of(exc) == ("AccessDenied", 403)
    shorter = days(1)
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter})
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]["RetainUntilDate"] \
        == shorter
    s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=locked).get("Versions", [])] == []


def test_governance_retention_removed_with_bypass(s3: Any, lock_server: ServerProcess, locked: str) -> None:
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=days(1))["VersionId"]
    empty = f'<Retention xmlns="{NS}"/>'.encode()
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k?retention&versionId={version}", empty)
    assert (reply.status, reply.error()["Code"]) == (403, "AccessDenied")
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k?retention&versionId={version}", empty,
                    {"x-amz-bypass-governance-retention": "true"})
    assert reply.status == 200
    with pytest.raises(ClientError) as exc:
        s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)
    assert error_of(exc) == ("NoSuchObjectLockConfiguration", 404)
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)


def test_compliance_cannot_be_shortened_or_bypassed(s3: Any, locked: str) -> None:
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"]
    s3.put_object_retention(Bucket=locked, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": days(1)})
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": days(0.5)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": days(5)}):
        with pytest.raises(ClientError) as exc:
            s3.put_object_retention(Bucket=locked, Key="k", VersionId=version, Retention=retention,
                                    BypassGovernanceRetention=True)
        assert error_of(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert error_of(exc) == ("AccessDenied", 403)
    until = days(2)
    s3.put_object_retention(Bucket=locked, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until})
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockRetainUntilDate"] == until


def test_retention_refusals(s3: Any, lock_server: ServerProcess, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="k",
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": days(-1)})
    assert error_of(exc) == ("InvalidArgument", 400)
    assert exc.value.response["Error"]["Message"] == "The retain until date must be in the future!"
    # the date as S3's Java services print it, in US Pacific time (AWS: test_s3_object_retention_exc)
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)})
    assert exc.value.response["Error"]["ArgumentValue"] == "Tue Dec 31 16:00:00 PST 2019"
    for inner in ("<Mode>GOVERNANCE</Mode>", "<Mode>SOMETIMES</Mode><RetainUntilDate>2099-01-01T00:00:00Z"
                  "</RetainUntilDate>", "<Mode>GOVERNANCE</Mode><RetainUntilDate>soon</RetainUntilDate>"):
        body = f'<Retention xmlns="{NS}">{inner}</Retention>'.encode()
        reply = request(lock_server.endpoint, "PUT", f"/{locked}/k?retention", body)
        assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="missing",
                                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": days(1)})
    assert error_of(exc) == ("NoSuchKey", 404)
    assert "ObjectLockMode" not in s3.head_object(Bucket=locked, Key="k")


# -- legal hold ------------------------------------------------------------------------

def test_legal_hold_blocks_deletes_even_with_bypass(s3: Any, lock_server: ServerProcess, locked: str) -> None:
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"]
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=version, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"]["Status"] == "ON"
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    assert error_of(exc) == ("AccessDenied", 403)
    reply = request(lock_server.endpoint, "PUT", f"/{locked}/k?legal-hold",
                    f'<LegalHold xmlns="{NS}"><Status>MAYBE</Status></LegalHold>'.encode())
    assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"]["Status"] == "OFF"
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)
    assert "Versions" not in s3.list_object_versions(Bucket=locked)


def test_delete_objects_reports_locked_versions(s3: Any, locked: str) -> None:
    held = s3.put_object(Bucket=locked, Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    gov = s3.put_object(Bucket=locked, Key="gov", Body=b"x", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=days(1))["VersionId"]
    free = s3.put_object(Bucket=locked, Key="free", Body=b"x")["VersionId"]
    objects = [{"Key": "held", "VersionId": held}, {"Key": "gov", "VersionId": gov},
               {"Key": "free", "VersionId": free}]
    resp = s3.delete_objects(Bucket=locked, Delete={"Objects": objects})
    assert [d["Key"] for d in resp["Deleted"]] == ["free"]
    assert sorted((e["Key"], e["Code"], e["Message"]) for e in resp["Errors"]) == [
        ("gov", "AccessDenied", DENIED), ("held", "AccessDenied", DENIED)]
    resp = s3.delete_objects(Bucket=locked, Delete={"Objects": objects[:2]}, BypassGovernanceRetention=True)
    assert [d["Key"] for d in resp["Deleted"]] == ["gov"] and [e["Key"] for e in resp["Errors"]] == ["held"]


# -- default retention and writes other than PutObject -------------------------------------

def test_default_retention_applies_to_every_new_version(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="before", Body=b"x")
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=lock_config("GOVERNANCE", Days=2))
    s3.put_object(Bucket=locked, Key="put", Body=b"x")
    s3.copy_object(Bucket=locked, Key="copy", CopySource={"Bucket": locked, "Key": "before"})
    upload = s3.create_multipart_upload(Bucket=locked, Key="mpu")["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="mpu", UploadId=upload, PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(Bucket=locked, Key="mpu", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    low, high = days(2) - dt.timedelta(minutes=5), days(2) + dt.timedelta(minutes=5)
    for key in ("put", "copy", "mpu"):
        head = s3.head_object(Bucket=locked, Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE" and low < head["ObjectLockRetainUntilDate"] < high, key
    assert "ObjectLockMode" not in s3.head_object(Bucket=locked, Key="before")  # only new versions
    # a write's own retention wins over the default
    until = days(1)  # once: a second may pass between the write and the check
    s3.put_object(Bucket=locked, Key="own", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    head = s3.head_object(Bucket=locked, Key="own")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", until)


def test_multipart_upload_carries_lock_headers(s3: Any, locked: str) -> None:
    until = days(3)
    upload = s3.create_multipart_upload(Bucket=locked, Key="m", ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")["UploadId"]
    part = s3.upload_part(Bucket=locked, Key="m", UploadId=upload, PartNumber=1, Body=b"abc")
    done = s3.complete_multipart_upload(Bucket=locked, Key="m", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=locked, Key="m", VersionId=done["VersionId"])
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"], head["ObjectLockLegalHoldStatus"]) == (
        "GOVERNANCE", until, "ON")


def test_copy_takes_its_own_lock_not_the_sources(s3: Any, locked: str) -> None:
    s3.put_object(Bucket=locked, Key="src", Body=b"x", ObjectLockLegalHoldStatus="ON", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=days(1))
    s3.copy_object(Bucket=locked, Key="plain-copy", CopySource={"Bucket": locked, "Key": "src"})
    head = s3.head_object(Bucket=locked, Key="plain-copy")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head
    s3.copy_object(Bucket=locked, Key="held-copy", CopySource={"Bucket": locked, "Key": "src"},
                   ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=locked, Key="held-copy")["ObjectLockLegalHoldStatus"] == "ON"
