"""The storage-class rules the engine applies without a server: restore
states over time, which transitions S3 makes, and tags of versions written
before tags were kept as a dict."""
from __future__ import annotations

import pytest

from s3emu.storage import ObjectMeta, object_tags
from s3emu.storage.archive import new_restore, readable, restore_status, transition_allowed

DAY = 10.0


def test_a_restore_is_under_way_then_readable_then_gone() -> None:
    meta: ObjectMeta = {"storage_class": "GLACIER"}
    assert (restore_status(meta, 0), readable(meta, 0)) == ("none", False)
    state, already = new_restore(meta, days=2, tier="Bulk", now=3, restore_seconds=5, day_seconds=DAY)
    assert not already and state["ready"] == 8 and state["expiry"] == 30  # 8 + 2 days, up to a day boundary
    meta["restore"] = state
    assert [restore_status(meta, t) for t in (7.9, 8, 29.9, 30)] == ["ongoing", "restored", "restored", "none"]
    assert [readable(meta, t) for t in (7.9, 8, 30)] == [False, True, False]
    extended, already = new_restore(meta, days=1, tier="Bulk", now=25, restore_seconds=5, day_seconds=DAY)
    assert already and extended["expiry"] == 40 and extended["ready"] == 8  # Days counted from now


def test_unarchived_classes_are_always_readable() -> None:
    for storage_class in ("STANDARD", "STANDARD_IA", "GLACIER_IR", "INTELLIGENT_TIERING"):
        assert readable({"storage_class": storage_class}, 0)
    assert readable({}, 0)  # versions written before classes were kept are STANDARD


@pytest.mark.parametrize("current, target, size, min_size, sized, allowed", [
    ("STANDARD", "STANDARD_IA", 200_000, "all_storage_classes_128K", False, True),
    ("GLACIER", "STANDARD_IA", 200_000, "all_storage_classes_128K", False, False),  # never back up
    ("GLACIER", "GLACIER", 200_000, "all_storage_classes_128K", False, False),
    ("GLACIER", "DEEP_ARCHIVE", 200_000, "all_storage_classes_128K", False, True),
    ("STANDARD", "GLACIER", 100, "all_storage_classes_128K", False, False),
    ("STANDARD", "GLACIER", 100, "varies_by_storage_class", False, True),
    ("STANDARD", "STANDARD_IA", 100, "varies_by_storage_class", False, False),
    ("STANDARD", "STANDARD_IA", 100, "all_storage_classes_128K", True, True),  # the rule's size filter wins
])
def test_transitions_s3_makes(current: str, target: str, size: int, min_size: str, sized: bool,
                              allowed: bool) -> None:
    assert transition_allowed(current, target, size, min_size, sized) is allowed


def test_tags_of_older_versions() -> None:
    assert object_tags({"tagging": "a=1&b=&c=x%20y"}) == {"a": "1", "b": "", "c": "x y"}
    assert object_tags({"tags": {"k": "v"}, "tagging": "ignored=1"}) == {"k": "v"}
    assert object_tags({}) == {}
