"""Static website hosting rules as pure functions: the WebsiteConfiguration
document (parsed and checked as S3 checks it, rendered back), routing-rule
matching and redirects, and the HTML error pages of S3's website endpoints.

A configuration is kept as a dict with S3's element names:
{"IndexDocument": suffix, "ErrorDocument": key, "RedirectAllRequestsTo":
{"HostName", "Protocol"}, "RoutingRules": [{"Condition": {...} | absent,
"Redirect": {...}}]}.
"""
from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from ..http.errors import S3Error
from ..http.xml import child_text, children, parse

Website = dict[str, Any]

CONDITION_FIELDS = ("HttpErrorCodeReturnedEquals", "KeyPrefixEquals")
REDIRECT_FIELDS = ("HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith", "ReplaceKeyWith")
STATUS_TEXT = {301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
               403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed",
               416: "Requested Range Not Satisfiable", 500: "Internal Server Error"}


def _invalid_argument(message: str, name: str, value: str | None) -> S3Error:
    return S3Error("InvalidArgument", message, ArgumentName=name, ArgumentValue=value)


def _fields(elem: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: text for name in names if (text := child_text(elem, name)) is not None}


def _check_protocol(fields: dict[str, str]) -> None:
    if "Protocol" in fields and fields["Protocol"] not in ("http", "https"):
        raise S3Error("InvalidRequest", "Invalid protocol, protocol can be http or https. If not defined the "
                                        "protocol will be selected automatically.")


def _rule(elem: Any) -> dict[str, Any]:
    redirects = children(elem, "Redirect")
    if len(redirects) != 1:
        raise S3Error("MalformedXML")
    redirect = _fields(redirects[0], REDIRECT_FIELDS)
    _check_protocol(redirect)
    if "ReplaceKeyPrefixWith" in redirect and "ReplaceKeyWith" in redirect:
        raise S3Error("InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    code = redirect.get("HttpRedirectCode")
    if code is not None and not (code.isdigit() and len(code) == 3 and code[0] == "3" and code != "300"):
        raise S3Error("InvalidRequest", f"The provided HTTP redirect code ({code}) is not valid. Valid codes "
                                        f"are 3XX except 300.")
    rule: dict[str, Any] = {"Redirect": redirect}
    conditions = children(elem, "Condition")
    if conditions:
        condition = _fields(conditions[0], CONDITION_FIELDS)
        if not condition:
            raise S3Error("InvalidRequest", "Condition cannot be empty. To redirect all requests without a "
                                            "condition, the condition element shouldn't be present.")
        rule["Condition"] = condition
    return rule


def parse_configuration(body: bytes) -> Website:
    """A PutBucketWebsite document, checked in S3's order. Raises MalformedXML,
    InvalidArgument (IndexDocument, RedirectAllRequestsTo) and InvalidRequest
    (routing rules) with S3's messages."""
    doc = parse(body, "WebsiteConfiguration")
    website: Website = {}
    redirect_all = children(doc, "RedirectAllRequestsTo")
    index = children(doc, "IndexDocument")
    error = children(doc, "ErrorDocument")
    rules = children(doc, "RoutingRules")
    if redirect_all:
        if index or error or rules:
            raise _invalid_argument("RedirectAllRequestsTo cannot be provided in conjunction with other Routing "
                                    "Rules.", "RedirectAllRequestsTo", "not null")
        target = _fields(redirect_all[0], ("HostName", "Protocol"))
        if not target.get("HostName"):
            raise S3Error("MalformedXML")
        _check_protocol(target)
        return {"RedirectAllRequestsTo": target}
    suffix = child_text(index[0], "Suffix") if index else None
    if suffix is None:
        raise _invalid_argument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is "
                                "empty", "IndexDocument", "null")
    if not suffix or "/" in suffix:
        raise _invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
    website["IndexDocument"] = suffix
    if error:
        key = child_text(error[0], "Key")
        if not key:
            raise _invalid_argument("The ErrorDocument Key is not well formed", "ErrorDocument", key)
        website["ErrorDocument"] = key
    if rules:
        items = children(rules[0], "RoutingRule")
        if not items:
            raise S3Error("MalformedXML")
        website["RoutingRules"] = [_rule(item) for item in items]
    return website


def render_configuration(website: Website) -> list[tuple[str, Any]]:
    """The GetBucketWebsite document's fields."""
    fields: list[tuple[str, Any]] = []
    if "RedirectAllRequestsTo" in website:
        target = website["RedirectAllRequestsTo"]
        fields.append(("RedirectAllRequestsTo", [(k, target[k]) for k in ("HostName", "Protocol") if k in target]))
    if "IndexDocument" in website:
        fields.append(("IndexDocument", [("Suffix", website["IndexDocument"])]))
    if "ErrorDocument" in website:
        fields.append(("ErrorDocument", [("Key", website["ErrorDocument"])]))
    if "RoutingRules" in website:
        rules = []
        for rule in website["RoutingRules"]:
            parts: list[tuple[str, Any]] = []
            if "Condition" in rule:
                parts.append(("Condition", [(k, rule["Condition"][k]) for k in CONDITION_FIELDS
                                            if k in rule["Condition"]]))
            parts.append(("Redirect", [(k, rule["Redirect"][k]) for k in REDIRECT_FIELDS if k in rule["Redirect"]]))
            rules.append(("RoutingRule", parts))
        fields.append(("RoutingRules", rules))
    return fields


def matching_rule(website: Website, key: str, error_status: int | None) -> dict[str, Any] | None:
    """The first routing rule whose condition holds for `key` (the key as
    requested, before any index document is added) and, for a rule with
    HttpErrorCodeReturnedEquals, for the error the lookup produced
    (error_status; None before the lookup)."""
    for rule in website.get("RoutingRules", []):
        condition = rule.get("Condition", {})
        if not key.startswith(condition.get("KeyPrefixEquals", "")):
            continue
        code = condition.get("HttpErrorCodeReturnedEquals")
        if code is not None and str(error_status) != code:
            continue
        return dict(rule)
    return None


def rule_redirect(rule: dict[str, Any], key: str, scheme: str, host: str) -> tuple[int, str]:
    """The status and Location of a routing rule's redirect for `key`."""
    redirect = rule["Redirect"]
    if "ReplaceKeyWith" in redirect:
        key = redirect["ReplaceKeyWith"]
    elif "ReplaceKeyPrefixWith" in redirect:
        prefix = rule.get("Condition", {}).get("KeyPrefixEquals", "")
        key = redirect["ReplaceKeyPrefixWith"] + key[len(prefix):]
    location = f"{redirect.get('Protocol', scheme)}://{redirect.get('HostName', host)}/{quote(key, safe='/~')}"
    return int(redirect.get("HttpRedirectCode", 301)), location


def redirect_all_location(website: Website, raw_path: str, scheme: str) -> str:
    """Where RedirectAllRequestsTo sends a request for raw_path (kept as sent)."""
    target = website["RedirectAllRequestsTo"]
    return f"{target.get('Protocol', scheme)}://{target['HostName']}{raw_path or '/'}"


def _items(err: S3Error) -> str:
    lines = [f"<li>Code: {html.escape(err.code)}</li>", f"<li>Message: {html.escape(err.message)}</li>"]
    lines += [f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in err.fields.items()]
    return "\n".join(lines)


def error_page(err: S3Error, request_id: str, host_id: str, document_error: S3Error | None = None) -> bytes:
    """S3's HTML error page for a website request; document_error is why the
    custom error document could not be served, when one is configured."""
    title = f"{err.status} {STATUS_TEXT.get(err.status, 'Error')}"
    extra = ""
    if document_error is not None:
        extra = ("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n"
                 f"{_items(document_error)}\n</ul>\n")
    page = (f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n{_items(err)}\n"
            f"<li>RequestId: {request_id}</li>\n<li>HostId: {host_id}</li>\n</ul>\n{extra}<hr/>\n</body>\n</html>\n")
    return page.encode()
