"""Event notifications as pure functions: the NotificationConfiguration
document (parsed and checked as S3 checks it, rendered back), which
configurations an event reaches, and S3's event message format.

A configuration is kept as {"configs": [{"kind": "Queue" | "Topic" |
"CloudFunction", "id": str, "arn": str, "events": [str], "filters":
[["Prefix" | "Suffix", value]]}], "eventbridge": bool}.
"""
from __future__ import annotations

import base64
import os
from typing import Any, Callable
from urllib.parse import quote_plus

from ..http.errors import S3Error
from ..http.xml import child_text, children, local, parse
from .dates import iso8601

Notification = dict[str, Any]

KINDS = ("Topic", "Queue", "CloudFunction")  # element <KindConfiguration> holds <Kind>arn</Kind>
SERVICES = {"Queue": "queue", "Topic": "topic", "CloudFunction": "function"}
EVENTS = frozenset({
    "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectRetention:Put",
})
# events whose messages S3 writes in a later format version, without size and sequencer
V23_EVENTS = ("ObjectTagging:", "ObjectAcl:", "ObjectRetention:")


def _arn_ok(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and all(parts[i] for i in (1, 2, 5))


def _filters(elem: Any) -> list[list[str]]:
    rules: list[list[str]] = []
    for filt in children(elem, "Filter"):
        for key in children(filt, "S3Key"):
            for rule in children(key, "FilterRule"):
                name, value = child_text(rule, "Name"), child_text(rule, "Value")
                if name is None or value is None:
                    raise S3Error("MalformedXML")
                if name.lower() not in ("prefix", "suffix"):
                    raise S3Error("InvalidArgument", "filter rule name must be either prefix or suffix",
                                  ArgumentName="FilterRule.Name", ArgumentValue=name)
                name = name.capitalize()
                if any(n == name for n, _ in rules):
                    raise S3Error("InvalidArgument", f"Cannot specify more than one {name.lower()} rule in a "
                                  f"filter.", ArgumentName="FilterRule.Name", ArgumentValue=name.lower())
                rules.append([name, value])
    return rules


def _configuration(elem: Any, kind: str) -> dict[str, Any]:
    arn = child_text(elem, kind)
    events = [(e.text or "").strip() for e in children(elem, "Event")]
    if arn is None or not events:
        raise S3Error("MalformedXML")
    if not _arn_ok(arn):
        raise S3Error("InvalidArgument", "The ARN could not be parsed", ArgumentName=kind, ArgumentValue=arn)
    for event in events:
        if event not in EVENTS:
            raise S3Error("InvalidArgument", "The event is not supported for notifications", ArgumentName="Event",
                          ArgumentValue=event)
    config_id = child_text(elem, "Id") or base64.b64encode(os.urandom(36)).decode()[:48]
    return {"kind": kind, "id": config_id, "arn": arn, "events": events, "filters": _filters(elem)}


def _events_overlap(a: str, b: str) -> bool:
    return a == b or (a.endswith(":*") and b.startswith(a[:-1])) or (b.endswith(":*") and a.startswith(b[:-1]))


def _check_overlaps(configs: list[dict[str, Any]]) -> None:
    """S3 refuses two configurations one event could trigger together."""
    for i, first in enumerate(configs):
        for second in configs[i + 1:]:
            shared = [(a, b) for a in first["events"] for b in second["events"] if _events_overlap(a, b)]
            if not shared:
                continue
            f1, f2 = dict(first["filters"]), dict(second["filters"])
            prefixes = _affix_overlap(f1.get("Prefix", ""), f2.get("Prefix", ""), str.startswith)
            suffixes = _affix_overlap(f1.get("Suffix", ""), f2.get("Suffix", ""), str.endswith)
            if not (prefixes and suffixes):
                continue
            if not f1 and not f2:
                raise S3Error("InvalidArgument", "Configurations overlap. Configurations on the same bucket cannot "
                                                 "share a common event type.", ArgumentName="Event",
                              ArgumentValue=", ".join(shared[0]))
            raise S3Error("InvalidArgument", "Configuration is ambiguously defined. Cannot have overlapping "
                                             "suffixes in two rules if the prefixes are overlapping for the same "
                                             "event type.")


def _affix_overlap(a: str, b: str, test: Callable[[str, str], bool]) -> bool:
    return test(a, b) or test(b, a)


def parse_configuration(body: bytes) -> Notification:
    """A PutBucketNotificationConfiguration document. Raises MalformedXML and
    InvalidArgument with S3's messages (unparsable ARNs, filter rules,
    unknown events, overlapping configurations)."""
    doc = parse(body, "NotificationConfiguration")
    configs: list[dict[str, Any]] = []
    eventbridge = False
    for elem in doc:
        name = local(elem)
        if name == "EventBridgeConfiguration":
            eventbridge = True
            continue
        kind = name.removesuffix("Configuration")
        if kind not in KINDS:
            raise S3Error("MalformedXML")
        configs.append(_configuration(elem, kind))
    _check_overlaps(configs)
    return {"configs": configs, "eventbridge": eventbridge}


def render_configuration(notification: Notification | None) -> list[tuple[str, Any]]:
    """The GetBucketNotificationConfiguration document's fields (none when unset)."""
    fields: list[tuple[str, Any]] = []
    configs = (notification or {}).get("configs", [])
    for kind in KINDS:
        for c in configs:
            if c["kind"] != kind:
                continue
            parts: list[tuple[str, Any]] = [("Id", c["id"]), (kind, c["arn"])]
            parts += [("Event", e) for e in c["events"]]
            if c["filters"]:
                rules = [("FilterRule", [("Name", n), ("Value", v)]) for n, v in c["filters"]]
                parts.append(("Filter", [("S3Key", rules)]))
            fields.append((f"{kind}Configuration", parts))
    if (notification or {}).get("eventbridge"):
        fields.append(("EventBridgeConfiguration", []))
    return fields


def destinations(notification: Notification) -> list[tuple[str, str]]:
    """(kind, arn) of every configuration, once each, in document order."""
    seen: dict[str, str] = {}
    for c in notification.get("configs", []):
        seen.setdefault(c["arn"], c["kind"])
    return [(kind, arn) for arn, kind in seen.items()]


def unavailable(kind: str, arn: str) -> str:
    """S3's reason for a destination it cannot validate."""
    if kind == "CloudFunction":
        return f"Not authorized to invoke function [{arn}]"
    return f"The destination {SERVICES[kind]} does not exist"


def matching(notification: Notification | None, event: str, key: str) -> list[dict[str, Any]]:
    """The configurations an event ("ObjectCreated:Put", without "s3:") on key reaches."""
    found = []
    for c in (notification or {}).get("configs", []):
        name = f"s3:{event}"
        if not any(e == name or (e.endswith(":*") and name.startswith(e[:-1])) for e in c["events"]):
            continue
        filters = dict(c["filters"])
        if key.startswith(filters.get("Prefix", "")) and key.endswith(filters.get("Suffix", "")):
            found.append(c)
    return found


def event_record(event: str, *, region: str, bucket: str, key: str, configuration_id: str, time: float,
                 principal: str, source_ip: str, request_id: str, host_id: str, owner_id: str,
                 size: int | None = None, etag: str | None = None, version_id: str | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One record of S3's event message (Records[]), in S3's field order. The
    sequencer is left empty: the outbox fills it in from its own order."""
    v23 = event.startswith(V23_EVENTS)  # these name no size and no sequencer
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if size is not None and not v23:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag
    if version_id is not None and version_id != "null":
        obj["versionId"] = version_id
    if not v23:
        obj["sequencer"] = ""
    record: dict[str, Any] = {
        "eventVersion": "2.3" if v23 else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso8601(time),
        "eventName": event,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": owner_id}, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }
    record.update(extra or {})
    return record


def test_event(bucket: str, time: float, request_id: str, host_id: str) -> dict[str, Any]:
    """The s3:TestEvent message S3 sends to each destination when a configuration is saved."""
    return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": iso8601(time), "Bucket": bucket,
            "RequestId": request_id, "HostId": host_id}


def with_sequencer(message: dict[str, Any], sequence: int) -> dict[str, Any]:
    """The message with its records' empty sequencers set from `sequence` (increasing)."""
    for record in message.get("Records", []):
        obj = record.get("s3", {}).get("object", {})
        if obj.get("sequencer") == "":
            obj["sequencer"] = f"{sequence:018X}"
    return message
