"""Every storage failure has one S3 code, status and message, decided in the
error catalogue (s3emu.http.errors), never in the engine."""
from __future__ import annotations

import inspect

import pytest

from s3emu.http.errors import ERRORS, STORAGE_ERRORS, S3Error
from s3emu.storage import errors as storage

RAISED = [cls for _, cls in inspect.getmembers(storage, inspect.isclass)
          if issubclass(cls, storage.StorageError) and cls not in (storage.StorageError, storage.PreconditionFailed,
                                                                      storage.UnsupportedDataDirectory)]


@pytest.mark.parametrize("cls", RAISED, ids=lambda c: c.__name__)
def test_each_storage_error_maps_to_a_catalogued_code(cls: type[storage.StorageError]) -> None:
    assert cls in STORAGE_ERRORS
    assert STORAGE_ERRORS[cls][0] in ERRORS


def test_data_becomes_fields_and_messages() -> None:
    err = S3Error.from_storage(storage.InvalidPart(UploadId="u", PartNumber=2, ETag="e"))
    assert (err.code, err.status, err.fields) == ("InvalidPart", 400, {"UploadId": "u", "PartNumber": 2, "ETag": "e"})
    assert err.message == ERRORS["InvalidPart"][1]
    assert S3Error.from_storage(storage.ETagMismatch()).fields == {"Condition": "If-Match"}
    assert S3Error.from_storage(storage.ObjectExists()).fields == {"Condition": "If-None-Match"}
    assert S3Error.from_storage(storage.InvalidVersionId("")).message == "Version id cannot be the empty string"
    assert S3Error.from_storage(storage.InvalidVersionId("x")).message == "Invalid version id specified"
    mismatch = S3Error.from_storage(storage.ObjectSizeMismatch(5, 6))
    assert (mismatch.code, mismatch.message) == (
        "InvalidRequest", "The provided 'x-amz-mp-object-size' header value 5 does not match what was computed: 6")
    assert S3Error.from_storage(storage.IncompleteBody(5, 3)).message == ERRORS["IncompleteBody"][1]
    assert S3Error.from_storage(storage.IncompleteBody(5, 6)).message.startswith("The request body is longer")


def test_a_delete_marker_addressed_by_version_is_method_not_allowed() -> None:
    err = S3Error.from_storage(storage.DeleteMarkerHit("v1", 0.0, True, "k"), "GET")
    assert (err.code, err.status) == ("MethodNotAllowed", 405)
    assert err.fields == {"Method": "GET", "ResourceType": "DeleteMarker"}
    assert err.headers["x-amz-version-id"] == "v1" and err.headers["Allow"] == "DELETE"
    current = S3Error.from_storage(storage.DeleteMarkerHit("v1", 0.0, False, "k"))
    assert (current.code, current.fields) == ("NoSuchKey", {"Key": "k"})
