"""S3's XML: rendering responses and safely parsing request bodies."""
from __future__ import annotations

import re
from typing import Any, Iterable

from lxml import etree

from .errors import S3Error

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# Entity expansion, external entities and network access all off: request
# bodies come from strangers.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)

Fields = Iterable[tuple[str, Any]]

# Keys may hold characters XML 1.0 cannot (most C0 controls, U+FFFE/U+FFFF).
# S3 writes them as character references (&#x1;) all the same; lxml refuses
# them, so they travel through it as U+FDD0 <hex> U+FDD1 and become references
# after serialisation (U+FDD0 itself is sent that way too, keeping it unambiguous).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ufdd0]")
_STANDIN = re.compile("\ufdd0([0-9a-f]+)\ufdd1".encode())


def _text(value: str) -> str:
    if _NOT_XML.search(value) is None:
        return value
    return _NOT_XML.sub(lambda m: f"\ufdd0{ord(m.group()):x}\ufdd1", value)


def _add(parent: etree._Element, name: str, value: Any) -> None:
    if value is None:
        return
    child = etree.SubElement(parent, name)
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        for attr, attr_value in getattr(value, "attributes", {}).items():  # e.g. a Grantee's xsi:type
            child.set(attr, attr_value)
        for sub_name, sub_value in value:
            _add(child, sub_name, sub_value)
    else:
        child.text = _text(str(value))


def render(root: str, fields: Fields, namespace: str | None = S3_NS, text: str | None = None) -> bytes:
    """An XML document from (name, value) pairs; a value that is a list of
    pairs becomes a nested element, None is left out, repeats are kept."""
    elem = etree.Element(root, nsmap={None: namespace} if namespace else None)  # type: ignore[dict-item]
    elem.text = text
    for name, value in fields:
        _add(elem, name, value)
    body = etree.tostring(elem, xml_declaration=True, encoding="UTF-8")
    return _STANDIN.sub(rb"&#x\1;", body) if b"\xef\xb7\x90" in body else body


def render_error(err: S3Error, request_id: str, host_id: str) -> bytes:
    """S3's <Error> document as S3 sends it (not as the documentation's example
    shows it): Code, Message, the error's own fields, RequestId, HostId, and
    no <Resource> (none of the ~70 codes recorded on AWS in LocalStack's
    snapshot tests carries one)."""
    fields: list[tuple[str, Any]] = [("Code", err.code), ("Message", err.message)]
    fields += list(err.fields.items())
    fields += [("RequestId", request_id), ("HostId", host_id)]
    return render("Error", fields, namespace=None)


def parse(body: bytes, root: str) -> etree._Element:
    """Parse a request body whose root element must be `root`, ignoring
    namespaces. Anything else is MalformedXML."""
    try:
        elem = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise S3Error("MalformedXML") from None
    if elem is None or local(elem) != root:
        raise S3Error("MalformedXML")
    return elem


def local(elem: etree._Element) -> str:
    tag = elem.tag  # "{namespace}name" or "name"; an entity reference's is not a string
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(elem: etree._Element, name: str) -> list[etree._Element]:
    """The child elements named `name` in any namespace or none."""
    return list(elem.iterchildren("{*}" + name))


def child_texts(elem: etree._Element) -> dict[str, str]:
    """Each child element's text (stripped) by local name; the first of a
    name wins, as child_text. Inlines local(): a Complete of 10,000 parts asks this 10,000 times."""
    texts: dict[str, str] = {}
    for c in elem:
        tag = c.tag
        if isinstance(tag, str):
            name = tag.rpartition("}")[2]
            if name not in texts:
                texts[name] = (c.text or "").strip()
    return texts


def child_text(elem: etree._Element, name: str) -> str | None:
    for c in elem:
        if local(c) == name:
            return (c.text or "").strip()
    return None
