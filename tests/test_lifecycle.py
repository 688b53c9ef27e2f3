"""Bucket lifecycle: the configuration API as S3 validates it, the abort-date
headers, and the reaper enforcing the rules (a lifecycle "day" is one second here)."""
from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from conftest import eventually, fresh_bucket_name
from rawhttp import md5_header, request
from server import ServerProcess

DAY = 1  # lifecycle_day_seconds


def write_config(path: Path, **settings: Any) -> Path:
    lines = [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def configured_server(d: Path, **settings: Any) -> ServerProcess:
    """A server started on data in d with these settings in its config file."""
    cfg = write_config(d / "s3emu.toml", **settings)
    return ServerProcess(d / "data", "--config", str(cfg), "--durability", "fast", "--no-access-log").start()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = configured_server(tmp_path_factory.mktemp("lifecycle"), lifecycle_day_seconds=DAY, reaper_interval=0.2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def c(srv: ServerProcess) -> Any:
    return srv.client()


@pytest.fixture
def b(c: Any) -> str:
    name = fresh_bucket_name("lc")
    c.create_bucket(Bucket=name)
    return name



def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def put_xml(srv: ServerProcess, bucket: str, xml: str) -> Any:
    return request(srv.endpoint, "PUT", f"/{bucket}?lifecycle", xml.encode(), md5_header(xml.encode()))


# -- the configuration API --------------------------------------------------------------------------

def test_no_configuration_is_404(c: Any, b: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_lifecycle_configuration(Bucket=b)
    assert error(excinfo) == (404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
    assert excinfo.value.response["Error"]["BucketName"] == b


def test_put_get_delete_round_trip(c: Any, b: str) -> None:
    rules = [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        {"ID": "tagged", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "t/", "Tags": [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}],
                            "ObjectSizeGreaterThan": 10}},
         "Expiration": {"Date": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)}},
        {"ID": "old", "Status": "Enabled", "Filter": {}, "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "move", "Status": "Enabled", "Filter": {"Tag": {"Key": "a", "Value": "b"}},
         "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
    ]
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    got = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "tagged", "old", "move"]
    assert got[0]["Filter"] == {"Prefix": "logs/"} and got[0]["Expiration"] == {"Days": 30}
    assert got[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert got[1]["Status"] == "Disabled"
    assert got[1]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": ""}]
    assert got[1]["Filter"]["And"]["ObjectSizeGreaterThan"] == 10
    assert got[1]["Expiration"]["Date"] == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert got[2]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert got[2]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3}
    assert got[3]["Transitions"] == [{"Days": 30, "StorageClass": "GLACIER"}]
    # a new configuration replaces the old one whole
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "only", "Status": "Enabled", "Prefix": "legacy/", "Expiration": {"Days": 1}}]})
    got = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert got == [{"ID": "only", "Status": "Enabled", "Prefix": "legacy/", "Expiration": {"Days": 1}}]
    assert c.delete_bucket_lifecycle(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_lifecycle_configuration(Bucket=b)
    assert error(excinfo)[1] == "NoSuchLifecycleConfiguration"
    # deleting what is not there is fine, as in S3
    assert c.delete_bucket_lifecycle(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_rule_without_id_gets_one(c: Any, b: str) -> None:
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 5}}]})
    (rule,) = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert rule["ID"]


def _rule(**fields: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, **fields}


@pytest.mark.parametrize("rules, expected", [
    ([_rule(Expiration={"Days": 0})],
     ("InvalidArgument", "'Days' for Expiration action must be a positive integer")),
    ([_rule(Expiration={"Date": dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone.utc)})],
     ("InvalidArgument", "'Date' must be at midnight GMT")),
    ([_rule(Expiration={"Days": 1}), _rule(Expiration={"Days": 2})],
     ("InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule")),
    ([_rule(ID="x" * 256, Expiration={"Days": 1})],
     ("InvalidArgument", "ID length should not exceed allowed limit of 255")),
    ([_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})],
     ("InvalidArgument", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                         "integer")),
    ([_rule(NoncurrentVersionExpiration={"NoncurrentDays": -1})],
     ("InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")),
    ([_rule(Filter={"Tag": {"Key": "a", "Value": "b"}}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})],
     ("InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags.")),
    ([_rule(Filter={"Tag": {"Key": "a", "Value": "b"}}, Expiration={"ExpiredObjectDeleteMarker": True})],
     ("InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Tags.")),
    ([_rule(Filter={"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}},
            Expiration={"Days": 1})],
     ("InvalidRequest", "Duplicate Tag Keys are not allowed.")),
    ([_rule()], ("InvalidRequest", "At least one action needs to be specified in a rule")),
])
def test_invalid_rules(c: Any, b: str, rules: list[dict[str, Any]], expected: tuple[str, str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": rules})
    assert error(excinfo) == (400, *expected)
    with pytest.raises(ClientError) as excinfo:  # nothing was stored
        c.get_bucket_lifecycle_configuration(Bucket=b)
    assert error(excinfo)[1] == "NoSuchLifecycleConfiguration"


RULE = "<ID>r</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"


@pytest.mark.parametrize("xml", [
    "<LifecycleConfiguration></LifecycleConfiguration>",  # no rules
    "<LifecycleConfiguration><Rule><ID>r</ID>",  # not well-formed
    f"<CORSConfiguration><Rule>{RULE}<Filter/></Rule></CORSConfiguration>",  # wrong root
    f"<LifecycleConfiguration><Rule>{RULE}</Rule></LifecycleConfiguration>",  # neither Filter nor Prefix
    f"<LifecycleConfiguration><Rule>{RULE}<Filter/><Prefix/></Rule></LifecycleConfiguration>",  # both
    f"<LifecycleConfiguration><Rule>{RULE}<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
    "</Filter></Rule></LifecycleConfiguration>",  # two conditions without And
    "<LifecycleConfiguration><Rule><ID>r</ID><Status>On</Status><Filter/><Expiration><Days>1</Days></Expiration>"
    "</Rule></LifecycleConfiguration>",  # bad status
    "<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days>"
    "<Date>2030-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>",  # Days and Date
    "<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter/><Expiration><Days>soon</Days>"
    "</Expiration></Rule></LifecycleConfiguration>",  # not a number
    f"<LifecycleConfiguration><Rule>{RULE}<Filter/><Bogus/></Rule></LifecycleConfiguration>",  # unknown element
])
def test_malformed_xml(srv: ServerProcess, b: str, xml: str) -> None:
    reply = put_xml(srv, b, xml)
    assert reply.status == 400
    assert reply.error()["Code"] == "MalformedXML"


def test_no_such_bucket(c: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_lifecycle_configuration(Bucket="no-such-bucket-lc", LifecycleConfiguration={"Rules": [
            _rule(Expiration={"Days": 1})]})
    assert error(excinfo)[:2] == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_lifecycle_configuration(Bucket="no-such-bucket-lc")
    assert error(excinfo)[:2] == (404, "NoSuchBucket")


# -- abort-date headers -----------------------------------------------------------------------------

def test_abort_date_on_create_and_list_parts(c: Any, b: str) -> None:
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "quick", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1000}},
        {"ID": "slow", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 5000}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "tmp/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    before = time.time()
    created = c.create_multipart_upload(Bucket=b, Key="tmp/x")
    # the earliest enabled rule that covers the key wins; the date falls on a day boundary
    assert created["AbortRuleId"] == "quick"
    abort_at = created["AbortDate"].timestamp()
    assert before + 1000 * DAY - 1 <= abort_at <= time.time() + 1001 * DAY
    listed = c.list_parts(Bucket=b, Key="tmp/x", UploadId=created["UploadId"])
    assert listed["AbortRuleId"] == "quick" and listed["AbortDate"] == created["AbortDate"]
    other = c.create_multipart_upload(Bucket=b, Key="keep/x")
    assert other["AbortRuleId"] == "slow"
    c.delete_bucket_lifecycle(Bucket=b)
    plain = c.create_multipart_upload(Bucket=b, Key="tmp/y")
    assert "AbortDate" not in plain and "AbortRuleId" not in plain
    for key, upload in (("tmp/x", created), ("keep/x", other), ("tmp/y", plain)):
        c.abort_multipart_upload(Bucket=b, Key=key, UploadId=upload["UploadId"])


def test_transition_default_minimum_object_size(c: Any, b: str) -> None:
    # AWS: test_s3_transition_default_minimum_object_size
    rules = {"Rules": [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 7}}]}
    put = c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rules,
                                               TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = c.get_bucket_lifecycle_configuration(Bucket=b)
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    put = c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rules)
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = c.get_bucket_lifecycle_configuration(Bucket=b)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration=rules,
                                             TransitionDefaultMinimumObjectSize="value")
    assert error(excinfo) == (400, "InvalidRequest", "Invalid TransitionDefaultMinimumObjectSize found: value")


def test_expiration_header_names_the_rule(c: Any, b: str) -> None:
    # x-amz-expiration on PutObject, GET, HEAD, CopyObject and CompleteMultipartUpload of what a rule will
    # expire (AWS: head-object-expiry, get-object-expiry): the day boundary after Days, and the rule's id
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "rule_number_one", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7000}}]})
    before = time.time()
    put = c.put_object(Bucket=b, Key="tmp/k", Body=b"test")
    answers = [put, c.head_object(Bucket=b, Key="tmp/k"), c.get_object(Bucket=b, Key="tmp/k"),
               c.copy_object(Bucket=b, Key="tmp/c", CopySource={"Bucket": b, "Key": "tmp/k"})]
    upload = c.create_multipart_upload(Bucket=b, Key="tmp/m")["UploadId"]
    part = c.upload_part(Bucket=b, Key="tmp/m", UploadId=upload, PartNumber=1, Body=b"x")
    answers.append(c.complete_multipart_upload(Bucket=b, Key="tmp/m", UploadId=upload,
                                               MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}))
    for answer in answers:
        match = re.fullmatch(r'expiry-date="([^"]+)", rule-id="rule_number_one"', answer["Expiration"])
        assert match, answer["Expiration"]
        due = email.utils.parsedate_to_datetime(match.group(1)).timestamp()
        assert before + 7000 * DAY - 1 <= due <= time.time() + 7001 * DAY
    # nothing for what no rule covers
    assert "Expiration" not in c.put_object(Bucket=b, Key="keep/k", Body=b"x")
    assert "Expiration" not in c.head_object(Bucket=b, Key="keep/k")


def test_expiration_header_rules_and_versions(c: Any, b: str) -> None:
    # among rules giving the same date the first listed names it (AWS: test_bucket_lifecycle_multiple_rules);
    # a read by version id gets no header, current version or not (test_..._object_expiry_versioned)
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": rule, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": 7000}}
        for rule, prefix in (("rule_one", "testobject"), ("rule_two", "test"), ("rule_three", "t"))]})
    for key, rule in (("testobject-expiry", "rule_one"), ("test-one-rule", "rule_two")):
        put = c.put_object(Bucket=b, Key=key, Body=b"x")
        assert put["Expiration"].endswith(f'rule-id="{rule}"'), put["Expiration"]
        assert "Expiration" not in c.head_object(Bucket=b, Key=key, VersionId=put["VersionId"])
        assert c.head_object(Bucket=b, Key=key)["Expiration"] == put["Expiration"]
    assert "Expiration" not in c.put_object(Bucket=b, Key="no-rules", Body=b"x")


# -- the reaper -------------------------------------------------------------------------------------

def test_reaper_aborts_incomplete_uploads_under_the_rule(c: Any, b: str) -> None:
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    doomed = c.create_multipart_upload(Bucket=b, Key="tmp/big")["UploadId"]
    c.upload_part(Bucket=b, Key="tmp/big", UploadId=doomed, PartNumber=1, Body=b"x" * 100)
    kept = c.create_multipart_upload(Bucket=b, Key="keep/big")["UploadId"]

    def open_uploads() -> set[str]:
        return {u["UploadId"] for u in c.list_multipart_uploads(Bucket=b).get("Uploads", [])}

    assert eventually(lambda: doomed not in open_uploads())
    assert open_uploads() == {kept}
    with pytest.raises(ClientError) as excinfo:
        c.upload_part(Bucket=b, Key="tmp/big", UploadId=doomed, PartNumber=2, Body=b"y")
    assert error(excinfo)[:2] == (404, "NoSuchUpload")
    c.abort_multipart_upload(Bucket=b, Key="keep/big", UploadId=kept)


def test_reaper_expires_objects(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="logs/old", Body=b"old")
    c.put_object(Bucket=b, Key="logs/tagged", Body=b"t", Tagging="keep=no")
    c.put_object(Bucket=b, Key="logs/tagged-keep", Body=b"t", Tagging="keep=yes")
    c.put_object(Bucket=b, Key="data/kept", Body=b"kept")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/old"}, "Expiration": {"Days": 2}},
        {"ID": "tags", "Status": "Enabled", "Filter": {"And": {"Prefix": "logs/t", "Tags": [
            {"Key": "keep", "Value": "no"}]}}, "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "data/"}, "Expiration": {"Days": 1}}]})

    def keys() -> list[str]:
        return [o["Key"] for o in c.list_objects_v2(Bucket=b).get("Contents", [])]

    assert eventually(lambda: keys() == ["data/kept", "logs/tagged-keep"])
    assert c.get_object(Bucket=b, Key="data/kept")["Body"].read() == b"kept"


def test_expiration_date_in_the_past_expires_everything_it_covers(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="a/1", Body=b"1")
    c.put_object(Bucket=b, Key="b/1", Body=b"1")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "past", "Status": "Enabled", "Filter": {"Prefix": "a/"},
         "Expiration": {"Date": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}}]})
    assert eventually(lambda: [o["Key"] for o in c.list_objects_v2(Bucket=b).get("Contents", [])] == ["b/1"])


def test_server_wide_upload_expiry(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "s3emu.toml", upload_expiry="2s", reaper_interval=0.2)
    server = ServerProcess(tmp_path / "data", "--config", str(cfg), "--durability", "fast",
                           "--no-access-log").start()
    try:
        c = server.client()
        c.create_bucket(Bucket="expiry")
        old = c.create_multipart_upload(Bucket="expiry", Key="a")["UploadId"]
        c.upload_part(Bucket="expiry", Key="a", UploadId=old, PartNumber=1, Body=b"part")
        assert eventually(lambda: not c.list_multipart_uploads(Bucket="expiry").get("Uploads"))
        # not an S3 rule: no abort-date header
        assert "AbortDate" not in c.create_multipart_upload(Bucket="expiry", Key="b")
    finally:
        server.stop()


@pytest.mark.parametrize("value", ["7x", "-5", "soon"])
def test_bad_upload_expiry_is_refused_at_start(tmp_path: Path, value: str) -> None:
    cfg = write_config(tmp_path / "s3emu.toml", upload_expiry=value)
    server = ServerProcess(tmp_path / "data", "--config", str(cfg))
    with pytest.raises(RuntimeError) as excinfo:
        server.start(timeout=10)
    assert "duration" in str(excinfo.value)


def test_tag_filters_follow_put_object_tagging(c: Any, b: str) -> None:
    c.put_object(Bucket=b, Key="tagged-later", Body=b"x")
    c.put_object(Bucket=b, Key="untagged-later", Body=b"x", Tagging="expire=yes")
    c.put_object_tagging(Bucket=b, Key="tagged-later", Tagging={"TagSet": [{"Key": "expire", "Value": "yes"}]})
    c.delete_object_tagging(Bucket=b, Key="untagged-later")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "by-tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "expire", "Value": "yes"}},
         "Expiration": {"Days": 1}}]})
    assert eventually(lambda: [o["Key"] for o in c.list_objects_v2(Bucket=b).get("Contents", [])]
                      == ["untagged-later"])


def test_expiration_header_names_the_rule_that_applies(c: Any, b: str) -> None:
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "late", "Status": "Enabled", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
         "Expiration": {"Days": 5000}},
        {"ID": "soon", "Status": "Enabled", "Filter": {"And": {"Prefix": "s/", "Tags": [
            {"Key": "t", "Value": "1"}]}}, "Expiration": {"Days": 4000}}]})
    put = c.put_object(Bucket=b, Key="s/k", Body=b"x", Tagging="t=1")
    assert put["Expiration"].endswith('rule-id="soon"')
    head = c.head_object(Bucket=b, Key="s/k")
    assert head["Expiration"] == put["Expiration"]
    expiry = email.utils.parsedate_to_datetime(put["Expiration"].split('"')[1])
    # 4000 one-second days after the write, rounded up to the next day boundary
    assert 4000 <= (expiry - head["LastModified"]).total_seconds() <= 4002
    assert "Expiration" not in c.head_object(Bucket=b, Key="s/k", VersionId=put["VersionId"])
    assert "Expiration" not in c.put_object(Bucket=b, Key="s/other", Body=b"x")
    assert c.put_object(Bucket=b, Key="x/k", Body=b"x", Tagging="t=1")["Expiration"].endswith('rule-id="late"')


@pytest.mark.parametrize("action", [
    "<Expiration><Date>0001-01-01T00:00:00Z</Date></Expiration>",
    "<Expiration><Days>2147483647</Days></Expiration>",
    "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2147483647</DaysAfterInitiation>"
    "</AbortIncompleteMultipartUpload>",
])
def test_far_off_dates_do_not_break_the_bucket(server: ServerProcess, s3: Any, bucket: str, action: str) -> None:
    """A rule whose date lies before year 1000 or whose days reach past year
    9999 (real days, the session server's) is kept and reported, and the
    writes that report it go on working: dates are written with four digits."""
    rules = "".join(f"<Rule><ID>{name}</ID><Status>Enabled</Status><Filter><Prefix>{prefix}</Prefix></Filter>"
                    f"{action}</Rule>" for name, prefix in (("far", "never/"), ("near", "x")))
    assert put_xml(server, bucket, f"<LifecycleConfiguration>{rules}</LifecycleConfiguration>").status == 200
    got = request(server.endpoint, "GET", f"/{bucket}?lifecycle")
    assert got.status == 200
    assert b"<Date>1-" not in got.body
    put = s3.put_object(Bucket=bucket, Key="x", Body=b"v")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="x")
    if "Expiration" in action:
        assert 'rule-id="near"' in put["Expiration"]
        assert 'rule-id="near"' in s3.head_object(Bucket=bucket, Key="x")["Expiration"]
    else:
        assert upload["AbortRuleId"] == "near"
        assert upload["AbortDate"].year == 9999
    s3.abort_multipart_upload(Bucket=bucket, Key="x", UploadId=upload["UploadId"])
