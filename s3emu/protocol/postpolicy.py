"""POST Object's policy document (browser form uploads): decoded from its
base64 form field, its expiration and every condition checked against the
form's fields, as S3 does (AWS API reference, "Creating a POST policy").

Conditions are ["eq", "$name", value], ["starts-with", "$name", prefix],
["content-length-range", min, max] or {"name": value} (eq). Field names
compare case-insensitively; values exactly. Every form field but the
signature fields, `file`, `policy` and `x-ignore-*` must be covered.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Mapping

from ..http.errors import S3Error
from .dates import parse_iso8601

# fields that need no condition (and x-ignore-*)
UNCHECKED = frozenset({"x-amz-signature", "signature", "awsaccesskeyid", "file", "policy", "x-amz-security-token"})


def _invalid(message: str) -> S3Error:
    return S3Error("InvalidPolicyDocument", f"Invalid Policy: {message}", status=400)


def _refused(message: str) -> S3Error:
    return S3Error("AccessDenied", f"Invalid according to Policy: {message}")


def decode(encoded: str) -> dict[str, Any]:
    """The policy document of a form's `policy` field (InvalidPolicyDocument
    when it is not base64 JSON with an expiration and a list of conditions)."""
    try:
        doc = json.loads(base64.b64decode(encoded.encode(), validate=False))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _invalid("Invalid JSON.") from None
    if not isinstance(doc, dict):
        raise _invalid("Invalid JSON.")
    if "expiration" not in doc:
        raise _invalid("Policy missing expiration.")
    if not isinstance(doc.get("conditions", []), list):
        raise _invalid("Invalid Policy: Conditions must be a list.")
    return doc


def _expiration(doc: dict[str, Any]) -> datetime:
    try:
        return parse_iso8601(str(doc["expiration"]))
    except ValueError:
        raise _invalid("Invalid 'expiration' value: " + json.dumps(doc["expiration"])) from None


def _show(condition: Any) -> str:
    """A condition as S3 quotes it in its refusal: ["eq", "$name", "value"]."""
    return json.dumps(condition, ensure_ascii=False)


def size_range(doc: dict[str, Any]) -> tuple[int, int | None] | None:
    """The content-length-range condition as (min, max) bytes, None without one;
    a range that is not two integers fails the policy."""
    for condition in doc.get("conditions", []):
        if isinstance(condition, list) and condition and condition[0] == "content-length-range":
            try:
                low, high = int(condition[1]), int(condition[2])
            except (IndexError, TypeError, ValueError):
                raise _refused(f"Policy Condition failed: {_show(condition)}") from None
            return low, high
    return None


def check(doc: dict[str, Any], fields: Mapping[str, str], bucket: str, now: datetime) -> None:
    """Refuse a form its policy does not allow: AccessDenied ("Invalid
    according to Policy: ...") for an expired policy, a failed condition or a
    field no condition covers; InvalidPolicyDocument for a malformed one.
    `fields` are the form's fields by lower-case name ("bucket" is the
    bucket's name)."""
    if now > _expiration(doc):
        raise _refused("Policy expired.")
    values = {**{k.lower(): v for k, v in fields.items()}, "bucket": bucket}
    covered = set()
    for condition in doc.get("conditions", []):
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                               "specified.")
            name, expected = next(iter(condition.items()))
            operator, name = "eq", f"${name}"
            condition = ["eq", name, expected]  # S3 quotes the shorthand in its long form
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
            operator, name, expected = condition[0].lower(), condition[1], condition[2]
        else:
            raise _invalid("Invalid Condition: " + _show(condition))
        if operator == "content-length-range":
            continue  # checked against the file as it arrives
        if operator not in ("eq", "starts-with") or not isinstance(name, str):
            raise _invalid(f"Invalid Condition: {_show(condition)}")
        field = name[1:].lower() if name.startswith("$") else None
        covered.add(field)
        value = values.get(field) if field else None
        if field and value is None and operator == "starts-with" and expected == "":
            continue  # starts-with "" allows the field to be absent
        ok = value is not None and isinstance(expected, str) and (
            value == expected if operator == "eq" else value.startswith(expected))
        if not ok:
            raise _refused(f"Policy Condition failed: {_show(condition)}")
    extra = [name for name in fields if name.lower() not in covered and name.lower() not in UNCHECKED
             and not name.lower().startswith("x-ignore-") and name.lower() != "bucket"]
    if extra:
        raise _refused("Extra input fields: " + ", ".join(extra))
