"""Server access logging as pure functions: the BucketLoggingStatus document
(parsed, checked and rendered back) and S3's server access log format.

A logging configuration is kept as {"TargetBucket": name, "TargetPrefix":
prefix, "TargetGrants": [{"Grantee": {"Type": ..., "ID"/"URI"/...: ...},
"Permission": ...}], "TargetObjectKeyFormat": {"SimplePrefix": {}} or
{"PartitionedPrefix": {"PartitionDateSource": ...}}} (the last two optional).
"""
from __future__ import annotations

import time
from typing import Any, Mapping
from urllib.parse import quote

from lxml import etree

from ..http.errors import S3Error
from ..http.xml import S3_NS, child_text, children, parse

Logging = dict[str, Any]

XSI = "http://www.w3.org/2001/XMLSchema-instance"
GRANTEE_FIELDS = ("ID", "DisplayName", "EmailAddress", "URI")
# sub-resources and the resource names S3's log gives their operations
RESOURCES = {
    "uploads": "UPLOADS", "uploadId": "UPLOAD", "versioning": "VERSIONING", "cors": "CORS",
    "lifecycle": "LIFECYCLE", "website": "WEBSITE", "logging": "LOGGING_STATUS", "notification": "NOTIFICATION",
    "acl": "ACL", "policy": "POLICY", "location": "LOCATION", "versions": "BUCKETVERSIONS",
    "delete": "MULTI_OBJECT_DELETE", "object-lock": "OBJECT_LOCK_CONFIGURATION", "retention": "RETENTION",
    "legal-hold": "LEGAL_HOLD", "encryption": "ENCRYPTION", "attributes": "OBJECT_ATTRIBUTES",
    "restore": "RESTORE", "requestPayment": "REQUEST_PAYMENT", "accelerate": "ACCELERATE",
    "replication": "REPLICATION", "publicAccessBlock": "PUBLIC_ACCESS_BLOCK",
    "ownershipControls": "OWNERSHIP_CONTROLS",
}


def parse_status(body: bytes) -> Logging | None:
    """A PutBucketLogging document: the configuration, or None (logging off).
    MalformedXML without TargetBucket or TargetPrefix."""
    doc = parse(body, "BucketLoggingStatus")
    enabled = children(doc, "LoggingEnabled")
    if not enabled:
        return None
    elem = enabled[0]
    bucket, prefix = child_text(elem, "TargetBucket"), child_text(elem, "TargetPrefix")
    if not bucket or prefix is None:
        raise S3Error("MalformedXML")
    logging: Logging = {"TargetBucket": bucket, "TargetPrefix": prefix}
    grants = [_grant(g) for gs in children(elem, "TargetGrants") for g in children(gs, "Grant")]
    if grants:
        logging["TargetGrants"] = grants
    for key_format in children(elem, "TargetObjectKeyFormat"):
        if children(key_format, "PartitionedPrefix"):
            source = child_text(children(key_format, "PartitionedPrefix")[0], "PartitionDateSource")
            if source not in (None, "EventTime", "DeliveryTime"):
                raise S3Error("MalformedXML")
            logging["TargetObjectKeyFormat"] = {"PartitionedPrefix": {"PartitionDateSource": source or "DeliveryTime"}}
        elif children(key_format, "SimplePrefix"):
            logging["TargetObjectKeyFormat"] = {"SimplePrefix": {}}
    return logging


def _grant(elem: Any) -> dict[str, Any]:
    grantees = children(elem, "Grantee")
    permission = child_text(elem, "Permission")
    if not grantees or not permission:
        raise S3Error("MalformedXML")
    grantee = {"Type": grantees[0].get(f"{{{XSI}}}type") or ""}
    grantee.update({k: v for k in GRANTEE_FIELDS if (v := child_text(grantees[0], k)) is not None})
    if grantee["Type"] not in ("CanonicalUser", "AmazonCustomerByEmail", "Group"):
        raise S3Error("MalformedXML")
    return {"Grantee": grantee, "Permission": permission}


def render_status(logging: Logging | None) -> bytes:
    """The GetBucketLogging document (empty when logging is off)."""
    root = etree.Element("BucketLoggingStatus", nsmap={None: S3_NS})  # type: ignore[dict-item]
    if logging is not None:
        enabled = etree.SubElement(root, "LoggingEnabled")
        etree.SubElement(enabled, "TargetBucket").text = logging["TargetBucket"]
        if logging.get("TargetGrants"):
            grants = etree.SubElement(enabled, "TargetGrants")
            for grant in logging["TargetGrants"]:
                g = etree.SubElement(grants, "Grant")
                grantee = etree.SubElement(g, "Grantee", nsmap={"xsi": XSI})
                grantee.set(f"{{{XSI}}}type", grant["Grantee"]["Type"])
                for name in GRANTEE_FIELDS:
                    if name in grant["Grantee"]:
                        etree.SubElement(grantee, name).text = grant["Grantee"][name]
                etree.SubElement(g, "Permission").text = grant["Permission"]
        etree.SubElement(enabled, "TargetPrefix").text = logging["TargetPrefix"]
        key_format = logging.get("TargetObjectKeyFormat")
        if key_format is not None:
            fmt = etree.SubElement(enabled, "TargetObjectKeyFormat")
            if "PartitionedPrefix" in key_format:
                part = etree.SubElement(fmt, "PartitionedPrefix")
                etree.SubElement(part, "PartitionDateSource").text = \
                    key_format["PartitionedPrefix"]["PartitionDateSource"]
            else:
                etree.SubElement(fmt, "SimplePrefix")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def log_key(logging: Logging, source_bucket: str, region: str, account: str, when: float, unique: str) -> str:
    """The key of a log object delivered at `when`: TargetPrefix then
    YYYY-mm-DD-HH-MM-SS-UniqueString, or S3's partitioned form
    [account]/[region]/[bucket]/YYYY/MM/DD/ before it."""
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(when))
    prefix = logging["TargetPrefix"]
    if "PartitionedPrefix" in logging.get("TargetObjectKeyFormat", {}):
        prefix += f"{account}/{region}/{source_bucket}/{time.strftime('%Y/%m/%d', time.gmtime(when))}/"
    return f"{prefix}{stamp}-{unique}"


def operation_name(method: str, key: str | None, query: Mapping[str, str], copy: bool, website: bool) -> str:
    """S3's name for a request in the log: REST.GET.OBJECT, REST.PUT.PART,
    REST.POST.MULTI_OBJECT_DELETE, WEBSITE.GET.OBJECT..."""
    if website:
        return f"WEBSITE.{method}.OBJECT"
    sub = next((s for s in query if s in RESOURCES or s == "tagging"), None)
    if sub == "tagging":
        resource = "OBJECT_TAGGING" if key is not None else "TAGGING"
    elif sub == "uploadId" and "partNumber" in query and method == "PUT":
        resource = "PART"
    elif sub is not None:
        resource = RESOURCES[sub]
    else:
        resource = "OBJECT" if key is not None else "BUCKET"
    return f"REST.{'COPY' if copy else method}.{resource}"


def _quoted(value: str | None) -> str:
    return "-" if not value else '"' + value.replace('"', '\\"') + '"'


def record(*, owner: str, bucket: str, time_: float, remote_ip: str, requester: str | None, request_id: str,
           operation: str, key: str | None, request_uri: str, status: int, error_code: str | None,
           bytes_sent: int | None, object_size: int | None, total_ms: int, referer: str | None,
           user_agent: str | None, version_id: str | None, host_id: str, signature_version: str | None,
           auth_type: str | None, host: str | None, tls_version: str | None) -> str:
    """One line of S3's server access log format (fields space-separated, `-` for none)."""
    stamp = time.strftime("[%d/%b/%Y:%H:%M:%S +0000]", time.gmtime(time_))
    fields = [owner, bucket, stamp, remote_ip or "-", requester or "-", request_id, operation,
              quote(key, safe="/") if key is not None else "-", _quoted(request_uri), str(status),
              error_code or "-", "-" if not bytes_sent else str(bytes_sent),
              "-" if object_size is None else str(object_size), str(total_ms), str(total_ms),
              _quoted(referer), _quoted(user_agent), version_id or "-", host_id, signature_version or "-",
              "-", auth_type or "-", host or "-", tls_version or "-", "-", "-"]
    return " ".join(fields)


def region_error(source_region: str, target_region: str) -> S3Error:
    """CrossLocationLoggingProhibitted: S3 names the source's region unless it is us-east-1."""
    source = source_region if source_region != "us-east-1" else None  # None fields are left out
    return S3Error("CrossLocationLoggingProhibitted", SourceBucketLocation=source,
                   TargetBucketLocation=target_region)
