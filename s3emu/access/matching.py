"""IAM's string patterns and condition operators, over plain values.

IAM wildcards are `*` (any run of characters) and `?` (one character) and
nothing else: fnmatch would also read `[...]` as a character class, which IAM
does not, so patterns become regular expressions here. IP ranges use the
standard library's ipaddress, dates datetime.fromisoformat. No policy library
on PyPI evaluates conditions against a request context (policyuniverse and
parliament parse and lint policies), so the operators are written out below.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from datetime import datetime, timezone
from typing import Callable, Iterable


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """`value` matches an IAM pattern (`*` and `?` wildcards)."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    """An ISO 8601 date or an epoch number of seconds, as IAM's Date operators take."""
    number = _number(text)
    if number is not None:
        return number
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _compare(convert: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Callable[[str, str],
                                                                                                        bool]:
    def check(value: str, expected: str) -> bool:
        a, b = convert(value), convert(expected)
        return a is not None and b is not None and test(a, b)
    return check


def _in_network(value: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False


def _bool(value: str, expected: str) -> bool:
    return value.lower() == expected.lower()


def _arn_like(value: str, pattern: str) -> bool:
    """ARN patterns match field by field (arn:partition:service:region:account:resource)."""
    got, want = value.split(":", 5), pattern.split(":", 5)
    return len(got) == len(want) == 6 and all(like(p, v) for p, v in zip(want, got))


# operator -> (does one value match one policy value, is the operator negated)
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, e: v == e, False),
    "StringNotEquals": (lambda v, e: v == e, True),
    "StringEqualsIgnoreCase": (lambda v, e: v.lower() == e.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, e: v.lower() == e.lower(), True),
    "StringLike": (lambda v, e: like(e, v), False),
    "StringNotLike": (lambda v, e: like(e, v), True),
    "NumericEquals": (_compare(_number, lambda a, b: a == b), False),
    "NumericNotEquals": (_compare(_number, lambda a, b: a == b), True),
    "NumericLessThan": (_compare(_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_compare(_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_compare(_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_compare(_number, lambda a, b: a >= b), False),
    "DateEquals": (_compare(_date, lambda a, b: a == b), False),
    "DateNotEquals": (_compare(_date, lambda a, b: a == b), True),
    "DateLessThan": (_compare(_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_compare(_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_compare(_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_compare(_date, lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (lambda v, e: v == e, False),
    "IpAddress": (_in_network, False),
    "NotIpAddress": (_in_network, True),
    "ArnEquals": (lambda v, e: v == e, False),
    "ArnNotEquals": (lambda v, e: v == e, True),
    "ArnLike": (_arn_like, False),
    "ArnNotLike": (_arn_like, True),
}


def split_operator(name: str) -> tuple[str, str, bool] | None:
    """("ForAnyValue"/"ForAllValues"/"", operator, if_exists), or None for an unknown operator."""
    qualifier, _, rest = name.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    if_exists = rest.endswith("IfExists")
    operator = rest[:-len("IfExists")] if if_exists else rest
    if operator == "Null" and not if_exists:
        return qualifier, operator, False
    return (qualifier, operator, if_exists) if operator in OPERATORS else None


def condition_holds(name: str, found: list[str] | None, expected: Iterable[str]) -> bool:
    """One condition operator applied to one key: `found` are the key's
    values in the request (None when the request lacks it), `expected` the
    policy's values (any of which may match). IAM's rules: a missing key fails
    a condition, except a negated operator, `...IfExists` and Null;
    ForAllValues holds for no values, ForAnyValue does not."""
    parsed = split_operator(name)
    if parsed is None:
        return False
    qualifier, operator, if_exists = parsed
    expected = list(expected)
    if operator == "Null":
        return any(_bool("true" if not found else "false", e) for e in expected)
    test, negated = OPERATORS[operator]
    if not found:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def matches(value: str) -> bool:
        hit = any(test(value, e) for e in expected)
        return not hit if negated else hit
    if qualifier == "ForAllValues":
        return all(matches(v) for v in found)
    return any(matches(v) for v in found)
