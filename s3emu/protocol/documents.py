"""Bucket configuration documents checked against S3's schema, as S3 checks
them: an element S3 does not know, one missing, one repeated where S3 wants
one, or a value outside its enumeration is MalformedXML. What passes is kept
as a tree of (name, value) pairs in the schema's order, the value a string
or a subtree, which http.xml.render writes back as the same document.

A schema is a tuple of Fields, one per child element, in S3's order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from lxml import etree

from ..http.errors import S3Error
from ..http.xml import local
from ..storage.lifecycle import find as first
from ..storage.lifecycle import find_all

Tree = list[Any]  # [[name, text-or-Tree], ...]
__all__ = ["Field", "Schema", "Tree", "filter_schema", "find", "find_all", "malformed", "one_condition", "read"]


@dataclass(frozen=True)
class Field:
    """One child element: its name, what it holds ("text", "int", "bool", or
    a nested schema), whether it must be there, whether it may repeat (S3's
    flattened lists), and the values it may take."""

    name: str
    kind: Union[str, "Schema"] = "text"
    required: bool = False
    repeat: bool = False
    values: tuple[str, ...] = ()


Schema = tuple[Field, ...]


def malformed() -> S3Error:
    return S3Error("MalformedXML")


def read(elem: etree._Element, schema: Schema) -> Tree:
    """elem's children as a tree in schema order; MalformedXML where they break the schema."""
    found: dict[str, list[etree._Element]] = {}
    for child in elem:
        if not isinstance(child.tag, str):
            continue  # comments and the like
        found.setdefault(local(child), []).append(child)
    fields = {f.name: f for f in schema}
    if any(name not in fields for name in found):
        raise malformed()
    out: Tree = []
    for f in schema:
        elems = found.get(f.name, [])
        if (f.required and not elems) or (len(elems) > 1 and not f.repeat):
            raise malformed()
        out.extend([f.name, _value(e, f)] for e in elems)
    return out


def _value(elem: etree._Element, f: Field) -> Any:
    if not isinstance(f.kind, str):
        return read(elem, f.kind)
    if len(elem):
        raise malformed()
    text = (elem.text or "").strip()
    if f.kind == "int" and not (text.lstrip("-").isdigit() and len(text) <= 10):
        raise malformed()
    if f.kind == "bool" and text not in ("true", "false"):
        raise malformed()
    if f.values and text not in f.values:
        raise malformed()
    return str(int(text)) if f.kind == "int" else text


def find(tree: Tree, *path: str) -> Any:
    """The value at a path of element names (the first of each), or None."""
    value: Any = tree
    for name in path:
        value = first(value, name) if isinstance(value, list) else None
    return value


# -- pieces several configurations share ----------------------------------------------------------------------------

TAG: Schema = (Field("Key", required=True), Field("Value", required=True))
STATUS = ("Enabled", "Disabled")


def filter_schema(*extra: Field) -> Schema:
    """A Filter of a prefix, a tag, or an And of both (analytics, metrics,
    intelligent tiering; metrics adds access points)."""
    conjunction: Schema = (Field("Prefix"), Field("Tag", TAG, repeat=True), *extra)
    return (Field("Prefix"), Field("Tag", TAG), *extra, Field("And", conjunction))


def one_condition(tree: Tree | None) -> None:
    """A Filter holds one condition at most (several go inside And)."""
    if tree is not None and len(tree) > 1:
        raise malformed()
