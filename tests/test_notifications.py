"""Event notifications: Put/GetBucketNotificationConfiguration as S3
validates them, and S3's event messages delivered to a real webhook on
loopback (and to a JSON-lines file): for creates, deletes, delete markers
and lifecycle expiration, retried while the receiver fails, and surviving a
restart of the server."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from conftest import empty_bucket, eventually, fresh_bucket_name, workers_args
from server import ServerProcess

HOOK = "arn:aws:sqs:us-east-1:000000000000:hook"
FILE = "arn:aws:sns:us-east-1:000000000000:file"
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:fn"


class Receiver(ThreadingHTTPServer):
    """A webhook: keeps every message it accepts; answers 500 while `failing`
    is above zero (counting down) or `down` is set."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[dict[str, Any]] = []
        self.failing = 0
        self.refused = 0
        self.down = False
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def records(self, bucket: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for m in self.messages for r in m.get("Records", []) if r["s3"]["bucket"]["name"] == bucket]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            if self.server.down or self.server.failing > 0:
                self.server.failing = max(0, self.server.failing - 1)
                self.server.refused += 1
                status = 500
            else:
                self.server.messages.append(json.loads(body))
                status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.shutdown()
    rec.server_close()


def write_config(path: Path, receiver: Receiver, events_file: Path) -> Path:
    path.write_text(f"""lifecycle_day_seconds = 1
reaper_interval = 0.2
restore_seconds = 0.5
notification_max_backoff = 0.5
[notification_targets]
"{HOOK}" = "{receiver.url}"
"{FILE}" = "{events_file}"
""")
    return path


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("events") / "events.jsonl"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver, events_file: Path) -> Iterator[ServerProcess]:
    d = tmp_path_factory.mktemp("notifications")
    cfg = write_config(d / "s3emu.toml", receiver, events_file)
    server = ServerProcess(d / "data", "--config", str(cfg), "--durability", "fast", "--no-access-log",
                           *workers_args()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def c(srv: ServerProcess) -> Any:
    return srv.client()


@pytest.fixture
def b(c: Any) -> Iterator[str]:
    name = fresh_bucket_name("ev")
    c.create_bucket(Bucket=name)
    yield name
    empty_bucket(c, name)



def hook_all(c: Any, b: str, events: list[str] | None = None, **extra: Any) -> None:
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "all", "QueueArn": HOOK, "Events": events or ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], **extra}]})


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    r = excinfo.value.response
    return {**r["Error"], "Status": r["ResponseMetadata"]["HTTPStatusCode"]}


# -- the configuration ------------------------------------------------------------------------------

def test_round_trip(c: Any, b: str) -> None:
    assert set(c.get_bucket_notification_configuration(Bucket=b)) == {"ResponseMetadata"}
    config = {
        "TopicConfigurations": [{"Id": "t", "TopicArn": FILE, "Events": ["s3:ObjectRemoved:*"]}],
        "QueueConfigurations": [{"Id": "q", "QueueArn": HOOK, "Events": ["s3:ObjectCreated:Put"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                                    {"Name": "SUFFIX", "Value": ".txt"}]}}}],
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": LAMBDA, "Events": ["s3:ObjectTagging:*"]}],
    }
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration=config,
                                            SkipDestinationValidation=True)
    got = c.get_bucket_notification_configuration(Bucket=b)
    assert got["TopicConfigurations"] == config["TopicConfigurations"]
    assert got["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".txt"}]
    generated = got["LambdaFunctionConfigurations"][0].pop("Id")
    assert generated and got["LambdaFunctionConfigurations"] == config["LambdaFunctionConfigurations"]
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={})
    assert set(c.get_bucket_notification_configuration(Bucket=b)) == {"ResponseMetadata"}


def test_missing_bucket(c: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.get_bucket_notification_configuration(Bucket="no-such-bucket-ev")
    assert (error(excinfo)["Status"], error(excinfo)["Code"]) == (404, "NoSuchBucket")


@pytest.mark.parametrize("queue, expected", [
    ({"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]},
     {"Code": "InvalidArgument", "Message": "The ARN could not be parsed", "ArgumentName": "Queue",
      "ArgumentValue": "not-an-arn"}),
    ({"QueueArn": HOOK, "Events": ["s3:ObjectCreated:*"],
      "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}},
     {"Code": "InvalidArgument", "Message": "filter rule name must be either prefix or suffix",
      "ArgumentName": "FilterRule.Name", "ArgumentValue": "middle"}),
    ({"QueueArn": HOOK, "Events": ["s3:ObjectCreated:*"],
      "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "Prefix", "Value": "b"}]}}},
     {"Code": "InvalidArgument", "Message": "Cannot specify more than one prefix rule in a filter."}),
    ({"QueueArn": HOOK, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix"}]}}},
     {"Code": "MalformedXML"}),
    ({"QueueArn": HOOK, "Events": ["s3:ObjectCreated:Nope"]},
     {"Code": "InvalidArgument", "Message": "The event is not supported for notifications"}),
])
def test_validation_errors(c: Any, b: str, queue: dict[str, Any], expected: dict[str, str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"QueueConfigurations": [queue]})
    found = error(excinfo)
    assert found["Status"] == 400 and {k: found.get(k) for k in expected} == expected
    assert "QueueConfigurations" not in c.get_bucket_notification_configuration(Bucket=b)


def test_overlapping_configurations(c: Any, b: str) -> None:
    def put(*filters: tuple[str, str]) -> None:
        rules = [{"Name": n, "Value": v} for n, v in filters]
        second = {"TopicArn": FILE, "Events": ["s3:ObjectCreated:Put"]}
        if rules:
            second["Filter"] = {"Key": {"FilterRules": rules}}
        c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": HOOK, "Events": ["s3:ObjectCreated:*"],
                                     **({"Filter": {"Key": {"FilterRules": rules}}} if rules else {})}],
            "TopicConfigurations": [second]})

    with pytest.raises(ClientError) as excinfo:
        put()
    assert error(excinfo)["Message"] == ("Configurations overlap. Configurations on the same bucket cannot share a "
                                         "common event type.")
    with pytest.raises(ClientError) as excinfo:
        put(("prefix", "logs/"))
    assert error(excinfo)["Message"].startswith("Configuration is ambiguously defined.")
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": HOOK, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}}],
        "TopicConfigurations": [{"TopicArn": FILE, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "b/"}]}}}]})


def test_unmapped_destinations(c: Any, b: str) -> None:
    queue = "arn:aws:sqs:us-east-1:000000000000:nowhere"
    config = {"QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}],
              "LambdaFunctionConfigurations": [{"LambdaFunctionArn": LAMBDA, "Events": ["s3:ObjectRemoved:*"]}]}
    with pytest.raises(ClientError) as excinfo:
        c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration=config)
    found = error(excinfo)
    assert found["Message"] == "Unable to validate the following destination configurations"
    assert (found["ArgumentName1"], found["ArgumentValue1"]) == (queue, "The destination queue does not exist")
    assert (found["ArgumentName2"], found["ArgumentValue2"]) == (
        f"{LAMBDA}, null", f"Not authorized to invoke function [{LAMBDA}]")
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration=config,
                                            SkipDestinationValidation=True)
    assert c.get_bucket_notification_configuration(Bucket=b)["QueueConfigurations"][0]["QueueArn"] == queue


# -- delivery ---------------------------------------------------------------------------------------

def test_test_event_on_save(c: Any, b: str, receiver: Receiver) -> None:
    hook_all(c, b)

    def test_events() -> list[dict[str, Any]]:
        with receiver.lock:
            return [m for m in receiver.messages if m.get("Bucket") == b]
    assert eventually(lambda: len(test_events()) == 1)
    event = test_events()[0]
    assert set(event) == {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"}
    assert (event["Service"], event["Event"]) == ("Amazon S3", "s3:TestEvent")


def test_created_and_removed_events(c: Any, b: str, receiver: Receiver) -> None:
    hook_all(c, b)
    put = c.put_object(Bucket=b, Key="a b@c.txt", Body=b"hello")
    c.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "a b@c.txt"})
    upload = c.create_multipart_upload(Bucket=b, Key="big")
    part = c.upload_part(Bucket=b, Key="big", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10)
    c.complete_multipart_upload(Bucket=b, Key="big", UploadId=upload["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    c.delete_object(Bucket=b, Key="copy")
    c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "big"}]})
    assert eventually(lambda: len(receiver.records(b)) == 5)
    # one more, delivered after the others (in order): by then a second delivery of any would be in too
    c.put_object(Bucket=b, Key="last", Body=b"")
    assert eventually(lambda: len(receiver.records(b)) >= 6)
    records = receiver.records(b)
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put", "ObjectCreated:Copy",
                                                 "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete",
                                                 "ObjectRemoved:Delete", "ObjectCreated:Put"]
    first = records[0]
    assert list(first) == ["eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
                           "requestParameters", "responseElements", "s3"]
    assert (first["eventVersion"], first["eventSource"], first["awsRegion"]) == ("2.1", "aws:s3", "us-east-1")
    assert first["userIdentity"] == {"principalId": "AWS:s3emu"}
    assert first["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert first["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert first["s3"]["s3SchemaVersion"] == "1.0" and first["s3"]["configurationId"] == "all"
    assert first["s3"]["bucket"] == {"name": b, "ownerIdentity": {"principalId": "s3emu"}, "arn": f"arn:aws:s3:::{b}"}
    obj = first["s3"]["object"]
    assert (obj["key"], obj["size"], obj["eTag"]) == ("a+b%40c.txt", 5, put["ETag"].strip('"'))
    assert "versionId" not in obj
    assert records[3]["s3"]["object"].keys() == {"key", "sequencer"}
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 6


def test_versioned_events_and_filters(c: Any, b: str, receiver: Receiver) -> None:
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    hook_all(c, b, Filter={"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                                   {"Name": "suffix", "Value": ".txt"}]}})
    c.put_object(Bucket=b, Key="out/x.txt", Body=b"skip")
    c.put_object(Bucket=b, Key="in/x.bin", Body=b"skip")
    v1 = c.put_object(Bucket=b, Key="in/x.txt", Body=b"one")["VersionId"]
    marker = c.delete_object(Bucket=b, Key="in/x.txt")["VersionId"]
    c.delete_object(Bucket=b, Key="in/x.txt", VersionId=v1)
    assert eventually(lambda: len(receiver.records(b)) == 3)
    put, mark, delete = receiver.records(b)
    assert (put["eventName"], put["s3"]["object"]["versionId"]) == ("ObjectCreated:Put", v1)
    assert mark["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert mark["s3"]["object"] | {"sequencer": ""} == {"key": "in/x.txt", "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                                                        "versionId": marker, "sequencer": ""}
    assert (delete["eventName"], delete["s3"]["object"]["versionId"]) == ("ObjectRemoved:Delete", v1)


def test_file_target(c: Any, b: str, events_file: Path) -> None:
    c.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={"TopicConfigurations": [
        {"Id": "to-file", "TopicArn": FILE, "Events": ["s3:ObjectCreated:*"]}]})
    c.put_object(Bucket=b, Key="k", Body=b"data")

    def lines() -> list[dict[str, Any]]:
        if not events_file.exists():
            return []
        found = [json.loads(line) for line in events_file.read_text().splitlines()]
        return [m for m in found if m.get("Bucket") == b or
                any(r["s3"]["bucket"]["name"] == b for r in m.get("Records", []))]
    assert eventually(lambda: len(lines()) == 2)
    test_event, created = lines()
    assert test_event["Event"] == "s3:TestEvent"
    assert created["Records"][0]["s3"]["configurationId"] == "to-file"


def test_retried_until_the_receiver_recovers(c: Any, b: str, receiver: Receiver) -> None:
    hook_all(c, b, events=["s3:ObjectCreated:*"])
    assert eventually(lambda: any(m.get("Bucket") == b for m in list(receiver.messages)))
    with receiver.lock:
        receiver.failing, refused = 3, receiver.refused
    for body in (b"a", b"bb", b"ccc"):
        c.put_object(Bucket=b, Key="same-key", Body=body)
    assert eventually(lambda: len(receiver.records(b)) == 3)
    assert receiver.refused - refused == 3
    assert [r["s3"]["object"]["size"] for r in receiver.records(b)] == [1, 2, 3]  # in order, each once


def test_restore_tagging_and_acl_events(c: Any, b: str, receiver: Receiver) -> None:
    """ObjectRestore:Post when a restore starts, :Completed once the copy is
    ready (not holding up the events in between); tagging and ACL events."""
    hook_all(c, b, events=["s3:ObjectRestore:*", "s3:ObjectTagging:*", "s3:ObjectAcl:Put"])
    put = c.put_object(Bucket=b, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    c.restore_object(Bucket=b, Key="cold", RestoreRequest={"Days": 2})
    c.put_object_tagging(Bucket=b, Key="cold", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    c.delete_object_tagging(Bucket=b, Key="cold")
    c.put_object_acl(Bucket=b, Key="cold", ACL="private")
    assert eventually(lambda: len(receiver.records(b)) == 5)
    records = receiver.records(b)
    assert [r["eventName"] for r in records] == ["ObjectRestore:Post", "ObjectTagging:Put", "ObjectTagging:Delete",
                                                 "ObjectAcl:Put", "ObjectRestore:Completed"]
    post, tagged, completed = records[0], records[1], records[4]
    assert (post["eventVersion"], post["s3"]["object"]["size"]) == ("2.1", 6)
    assert tagged["eventVersion"] == "2.3"
    assert tagged["s3"]["object"] == {"key": "cold", "eTag": put["ETag"].strip('"')}
    restore = completed["glacierEventData"]["restoreEventData"]
    assert restore["lifecycleRestoreStorageClass"] == "GLACIER"
    assert restore["lifecycleRestorationExpiryTime"] >= completed["eventTime"] >= post["eventTime"]


def test_lifecycle_expiration_event(c: Any, b: str, receiver: Receiver) -> None:
    hook_all(c, b, events=["s3:LifecycleExpiration:*"])
    c.put_object(Bucket=b, Key="old", Body=b"x")
    c.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    assert eventually(lambda: len(receiver.records(b)) == 1)
    record = receiver.records(b)[0]
    assert record["eventName"] == "LifecycleExpiration:Delete"
    assert record["userIdentity"] == {"principalId": "s3.amazonaws.com"}
    assert record["s3"]["object"]["key"] == "old"


def test_undelivered_events_survive_a_restart(tmp_path: Path, receiver: Receiver, events_file: Path) -> None:
    cfg = write_config(tmp_path / "s3emu.toml", receiver, events_file)
    server = ServerProcess(tmp_path / "data", "--config", str(cfg), "--durability", "fast", "--no-access-log")
    server.start()
    try:
        c = server.client()
        b = fresh_bucket_name("restart")
        c.create_bucket(Bucket=b)
        with receiver.lock:
            receiver.down = True
        hook_all(c, b, events=["s3:ObjectCreated:*"])
        for n in range(3):
            c.put_object(Bucket=b, Key=f"k{n}", Body=b"x")
        server.stop()
        with receiver.lock:
            receiver.down = False
        server.args += ["--workers", "2"]  # both workers feed the outbox; one delivers
        server.port = 0  # a fresh port: the old one may linger in TIME_WAIT
        server.start()
        c = server.client()
        for n in range(3, 6):
            c.put_object(Bucket=b, Key=f"k{n}", Body=b"x")
        assert eventually(lambda: len(receiver.records(b)) >= 6)
        # in order, and each once: one target's messages leave one by one, oldest first
        assert [r["s3"]["object"]["key"] for r in receiver.records(b)] == [f"k{n}" for n in range(6)]
    finally:
        server.stop()
