"""CORS as S3 does it: a bucket's rules (its CORSConfiguration document),
matching a browser's request against them, and the Access-Control-* headers
of the answer.

A rule is stored as a dict with S3's member names (ID, AllowedHeaders,
AllowedMethods, AllowedOrigins, ExposeHeaders, MaxAgeSeconds). The first rule
that allows the origin, the method and every requested header wins.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from lxml import etree

from ..http.errors import S3Error
from ..http.xml import Fields, local, parse

Rule = dict[str, Any]

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

# element name -> rule member; the lists repeat, ID and MaxAgeSeconds may not
_MEMBERS = {"ID": "ID", "AllowedHeader": "AllowedHeaders", "AllowedMethod": "AllowedMethods",
            "AllowedOrigin": "AllowedOrigins", "ExposeHeader": "ExposeHeaders", "MaxAgeSeconds": "MaxAgeSeconds"}
_SINGLE = {"ID", "MaxAgeSeconds"}

# `cors_allow_all`: what a browser app needs against a bucket without rules,
# multipart uploads through presigned URLs included (it must read each ETag)
DEFAULT_RULE: Rule = {
    "AllowedHeaders": ["*"], "AllowedMethods": list(METHODS), "AllowedOrigins": ["*"],
    "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Content-Type", "Last-Modified",
                      "x-amz-version-id", "x-amz-delete-marker", "x-amz-request-id", "x-amz-id-2",
                      "x-amz-server-side-encryption", "x-amz-expiration", "x-amz-mp-parts-count",
                      "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                      "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-type",
                      "x-amz-abort-date", "x-amz-abort-rule-id"],
}

NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
               "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
               "whitelisted by the resource's CORS spec.")


# --- the CORSConfiguration document ---------------------------------------------------------------

def _malformed() -> S3Error:
    return S3Error("MalformedXML")


def _rule(elem: etree._Element) -> Rule:
    rule: Rule = {}
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        member = _MEMBERS.get(local(child))
        if member is None or len(child):
            raise _malformed()
        text = (child.text or "").strip()
        if member in _SINGLE:
            if member in rule:
                raise _malformed()
            rule[member] = text
        else:
            rule.setdefault(member, []).append(text)
    if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
        raise _malformed()
    for method in rule["AllowedMethods"]:
        if method not in METHODS:
            raise S3Error("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is "
                          + method)
    for name, member in (("AllowedOrigin", "AllowedOrigins"), ("AllowedHeader", "AllowedHeaders")):
        for value in rule.get(member, []):
            if value.count("*") > 1:
                raise S3Error("InvalidRequest", f'{name} "{value}" can not have more than one wildcard.')
    if "MaxAgeSeconds" in rule:
        if not re.fullmatch(r"-?\d{1,10}", rule["MaxAgeSeconds"]):
            raise _malformed()
        rule["MaxAgeSeconds"] = int(rule["MaxAgeSeconds"])
    if len(rule.get("ID", "")) > 255:
        raise S3Error("InvalidArgument", "ID length should not exceed allowed limit of 255", ArgumentName="ID",
                      ArgumentValue=rule["ID"])
    return rule


def parse_configuration(body: bytes) -> list[Rule]:
    """S3's CORSConfiguration document, validated as S3 does, as rules."""
    root = parse(body, "CORSConfiguration")
    rules = []
    for elem in root:
        if not isinstance(elem.tag, str):
            continue
        if local(elem) != "CORSRule":
            raise _malformed()
        rules.append(_rule(elem))
    if not rules or len(rules) > MAX_RULES:
        raise _malformed()
    return rules


def render_rules(rules: list[Rule]) -> Fields:
    """The rules as CORSConfiguration children, members in S3's order."""
    out = []
    for rule in rules:
        fields: list[tuple[str, Any]] = []
        for name, member in _MEMBERS.items():
            value = rule.get(member)
            if isinstance(value, list):
                fields += [(name, v) for v in value]
            elif value is not None:
                fields.append((name, value))
        out.append(("CORSRule", fields))
    return out


# --- matching -------------------------------------------------------------------------------------

def _wildcard(pattern: str, value: str) -> bool:
    """`value` equals `pattern`, whose one `*` stands for any (even no) characters."""
    if "*" not in pattern:
        return pattern == value
    prefix, suffix = pattern.split("*", 1)
    return len(value) >= len(prefix) + len(suffix) and value.startswith(prefix) and value.endswith(suffix)


def requested_headers(headers: Mapping[str, str]) -> list[str]:
    """Access-Control-Request-Headers as lowercase names, in the order sent."""
    raw = headers.get("Access-Control-Request-Headers", "")
    return [h.strip().lower() for h in raw.split(",") if h.strip()]


def match(rules: list[Rule], origin: str, method: str, wanted: list[str]) -> Rule | None:
    """The first rule allowing `origin` (case-sensitive), `method` and every
    requested header (case-insensitive)."""
    for rule in rules:
        if method not in rule["AllowedMethods"]:
            continue
        if not any(_wildcard(o, origin) for o in rule["AllowedOrigins"]):
            continue
        allowed = [h.lower() for h in rule.get("AllowedHeaders", [])]
        if all(any(_wildcard(a, h) for a in allowed) for h in wanted):
            return rule
    return None


def response_headers(rule: Rule, origin: str, wanted: list[str]) -> dict[str, str]:
    """The Access-Control-* headers S3 answers a matched request with: the
    origin (or `*` for a rule open to all, then without credentials), the
    rule's methods, the requested headers, exposed headers and max age."""
    wildcard = "*" in rule["AllowedOrigins"]
    headers = {"Access-Control-Allow-Origin": "*" if wildcard else origin}
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    headers["Access-Control-Allow-Methods"] = ", ".join(rule["AllowedMethods"])
    if wanted:
        headers["Access-Control-Allow-Headers"] = ", ".join(wanted)
    if rule.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    headers["Vary"] = VARY
    return headers

