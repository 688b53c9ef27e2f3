"""Bucket settings that tools write and read back: request payment, transfer
acceleration, replication, and the inventory, analytics, metrics and
Intelligent-Tiering configurations kept by id; each with S3's validation
and its answer when nothing is configured."""
from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from rawhttp import request
from server import ServerProcess


def error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call()
    r = excinfo.value.response
    return {"status": r["ResponseMetadata"]["HTTPStatusCode"],
            **{k: v for k, v in r["Error"].items() if k not in ("RequestId", "HostId", "Resource")}}


@pytest.fixture(scope="module")
def loose(server: ServerProcess) -> Any:
    """A client that sends what it is given, so the server's validation shows."""
    return server.client(parameter_validation=False)


# -- request payment -----------------------------------------------------------------------------------------------

def test_request_payment(s3: Any, loose: Any, bucket: str) -> None:
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x", RequestPayer="requester")
    assert put["RequestCharged"] == "requester"
    assert s3.get_object(Bucket=bucket, Key="k", RequestPayer="requester")["RequestCharged"] == "requester"
    assert "RequestCharged" not in s3.get_object(Bucket=bucket, Key="k")
    assert error(lambda: loose.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "Random"}))["Code"] == "MalformedXML"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert "RequestCharged" not in s3.get_object(Bucket=bucket, Key="k", RequestPayer="requester")
    assert error(lambda: s3.get_bucket_request_payment(Bucket=f"{bucket}-none"))["Code"] == "NoSuchBucket"


# -- transfer acceleration ---------------------------------------------------------------------------------------------

def test_accelerate(s3: Any, loose: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Suspended"
    for status in ("enabled", "random"):
        assert error(lambda: loose.put_bucket_accelerate_configuration(
            Bucket=bucket, AccelerateConfiguration={"Status": status}))["Code"] == "MalformedXML"
    dotted = fresh_bucket_name("dot.ted")
    s3.create_bucket(Bucket=dotted)
    try:
        assert error(lambda: s3.put_bucket_accelerate_configuration(
            Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"})) == {
            "status": 400, "Code": "InvalidRequest",
            "Message": "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"}
    finally:
        s3.delete_bucket(Bucket=dotted)


# -- replication -------------------------------------------------------------------------------------------------

ROLE = "arn:aws:iam::000000000000:role/replication"


def _replication(destination: str, **rule: Any) -> dict[str, Any]:
    return {"Role": ROLE, "Rules": [{"Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "Tax"},
                                     "DeleteMarkerReplication": {"Status": "Disabled"},
                                     "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}, **rule}]}


def test_replication(s3: Any, loose: Any, bucket: str) -> None:
    missing = error(lambda: s3.get_bucket_replication(Bucket=bucket))
    assert missing == {"status": 404, "Code": "ReplicationConfigurationNotFoundError",
                       "Message": "The replication configuration was not found", "BucketName": bucket}
    target = fresh_bucket_name("dst")
    s3.create_bucket(Bucket=target)
    try:
        assert error(lambda: s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=_replication(
            target)))["Message"] == "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for destination in (target, "no-such-bucket-here"):
            assert error(lambda: s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=_replication(
                destination))) == {"status": 400, "Code": "InvalidRequest",
                                   "Message": "Destination bucket must have versioning enabled."}
        s3.put_bucket_versioning(Bucket=target, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=_replication(target))
        got = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
        assert got["Role"] == ROLE
        rule = got["Rules"][0]
        assert rule["ID"] and rule["Filter"] == {"Prefix": "Tax"} and rule["Priority"] == 1
        assert rule["Destination"] == {"Bucket": f"arn:aws:s3:::{target}"}
        assert error(lambda: loose.put_bucket_replication(
            Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": []}))["Code"] == "MalformedXML"
        assert s3.delete_bucket_replication(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert s3.delete_bucket_replication(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert error(lambda: s3.get_bucket_replication(Bucket=bucket))["status"] == 404
    finally:
        empty_bucket(s3, target)


# -- configurations by id ------------------------------------------------------------------------------------------

def _inventory(config_id: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {"Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "All",
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{bucket}", "Format": "CSV"}},
            "Schedule": {"Frequency": "Daily"}, **extra}


def test_inventory(s3: Any, loose: Any, bucket: str) -> None:
    assert s3.list_bucket_inventory_configurations(Bucket=bucket)["IsTruncated"] is False
    for config_id in ("test-1", "z-test", "a-test"):
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id=config_id, InventoryConfiguration=_inventory(
            config_id, bucket, OptionalFields=["Size", "ETag"]))
    listed = s3.list_bucket_inventory_configurations(Bucket=bucket)["InventoryConfigurationList"]
    assert [c["Id"] for c in listed] == ["a-test", "test-1", "z-test"]
    assert s3.get_bucket_inventory_configuration(Bucket=bucket, Id="test-1")["InventoryConfiguration"] == \
        _inventory("test-1", bucket, OptionalFields=["Size", "ETag"])
    put = lambda config: loose.put_bucket_inventory_configuration(  # noqa: E731
        Bucket=bucket, Id="test-1", InventoryConfiguration=config)
    assert error(lambda: put(_inventory("other", bucket))) == {
        "status": 400, "Code": "IdMismatch", "Message": "Document ID does not match the specified configuration ID."}
    wrong_arn = _inventory("test-1", bucket)
    wrong_arn["Destination"]["S3BucketDestination"]["Bucket"] = bucket
    assert error(lambda: put(wrong_arn)) == {"status": 400, "Code": "InvalidS3DestinationBucket",
                                             "Message": "Invalid bucket ARN."}
    for bad in (_inventory("test-1", bucket, Schedule={"Frequency": "Hourly"}),
                _inventory("test-1", bucket, IncludedObjectVersions="Wrong"),
                _inventory("test-1", bucket, OptionalFields=["TestField"])):
        assert error(lambda: put(bad))["Code"] == "MalformedXML"
    s3.delete_bucket_inventory_configuration(Bucket=bucket, Id="z-test")
    assert error(lambda: s3.get_bucket_inventory_configuration(Bucket=bucket, Id="z-test")) == {
        "status": 404, "Code": "NoSuchConfiguration", "Message": "The specified configuration does not exist."}
    assert error(lambda: s3.delete_bucket_inventory_configuration(Bucket=bucket, Id="z-test"))["status"] == 404


def test_analytics_and_intelligent_tiering(s3: Any, bucket: str) -> None:
    analytics = {"Id": "a1", "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},
                 "StorageClassAnalysis": {"DataExport": {"OutputSchemaVersion": "V_1", "Destination": {
                     "S3BucketDestination": {"Format": "CSV", "Bucket": f"arn:aws:s3:::{bucket}", "Prefix": "x"}}}}}
    assert error(lambda: s3.put_bucket_analytics_configuration(
        Bucket=bucket, Id="other", AnalyticsConfiguration=analytics))["Code"] == "MalformedXML"
    s3.put_bucket_analytics_configuration(Bucket=bucket, Id="a1", AnalyticsConfiguration=analytics)
    assert s3.get_bucket_analytics_configuration(Bucket=bucket, Id="a1")["AnalyticsConfiguration"] == analytics
    assert [c["Id"] for c in s3.list_bucket_analytics_configurations(Bucket=bucket)[
        "AnalyticsConfigurationList"]] == ["a1"]
    tiering = {"Id": "t1", "Filter": {"Prefix": "t"}, "Status": "Enabled",
               "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
                            {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}
    s3.put_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t1", IntelligentTieringConfiguration=tiering)
    assert s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t1")[
        "IntelligentTieringConfiguration"] == tiering
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t1")
    assert "IntelligentTieringConfigurationList" not in s3.list_bucket_intelligent_tiering_configurations(
        Bucket=bucket)
    assert error(lambda: s3.delete_bucket_intelligent_tiering_configuration(
        Bucket=f"{bucket}-none", Id="t1"))["Code"] == "NoSuchBucket"


def test_metrics_listed_a_hundred_at_a_time(s3: Any, bucket: str) -> None:
    ids = [f"m{i:03d}" for i in range(102)]
    for config_id in ids:
        s3.put_bucket_metrics_configuration(Bucket=bucket, Id=config_id, MetricsConfiguration={
            "Id": config_id, "Filter": {"Prefix": "logs/"}})
    first = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert (len(first["MetricsConfigurationList"]), first["IsTruncated"]) == (100, True)
    second = s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert second["IsTruncated"] is False and second["ContinuationToken"] == first["NextContinuationToken"]
    assert [c["Id"] for c in first["MetricsConfigurationList"] + second["MetricsConfigurationList"]] == ids
    assert error(lambda: s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken="bogus"))[
        "Code"] == "InvalidArgument"
    s3.put_bucket_metrics_configuration(Bucket=bucket, Id="m000", MetricsConfiguration={
        "Id": "m000", "Filter": {"Prefix": "new/"}})
    assert s3.get_bucket_metrics_configuration(Bucket=bucket, Id="m000")["MetricsConfiguration"]["Filter"] == {
        "Prefix": "new/"}


def test_configuration_documents_that_are_not_xml(server: ServerProcess, bucket: str) -> None:
    for sub in ("inventory", "analytics", "metrics", "intelligent-tiering"):
        reply = request(server.endpoint, "PUT", f"/{bucket}?{sub}&id=x", b"<nope")
        assert (reply.status, reply.error()["Code"]) == (400, "MalformedXML")
