"""Model-based test of multipart upload: random sequences of calls against the
real server, each answer checked against a small in-memory model

    Uploads: Map[upload id -> Map[part number -> bytes]]
    Objects: Map[key -> bytes]

with the preconditions and postconditions of the multipart contract: parts
ordered by number in the object, unlisted parts dropped, an upload unknown
after Complete or Abort, nothing visible before Complete, and no data file
left behind that neither an open upload nor an object holds."""
from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from botocore.exceptions import ClientError
from hypothesis import settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule, \
    run_state_machine_as_test

from conftest import empty_bucket, fresh_bucket_name
from multipart_support import MIN_PART, body, data_files, md5, mp, mp_etag, mp_server  # noqa: F401
from server import ServerProcess

KEYS = ["a", "dir/b"]
NUMBERS = [1, 2, 3, 5, 9]
SIZES = [0, MIN_PART - 1, MIN_PART, MIN_PART + 476]  # half too small to be a non-last part
WRONG_ETAG = '"' + md5(b"never uploaded") + '"'

PartList = list[tuple[int, str]]  # (part number, quoted ETag) as sent to Complete


class MultipartMachine(RuleBasedStateMachine):
    upload_ids = Bundle("upload_ids")

    def __init__(self, client: Any, server: ServerProcess) -> None:
        super().__init__()
        self.s3 = client
        self.server = server
        self.bucket = fresh_bucket_name("model")
        client.create_bucket(Bucket=self.bucket)
        self.uploads: dict[str, dict[int, bytes]] = {}  # open uploads
        self.key_of: dict[str, str] = {}  # every upload ever created
        self.last_parts: dict[str, dict[int, bytes]] = {}  # parts an upload held when it ended
        self.objects: dict[str, tuple[bytes, str, int]] = {}  # key -> (bytes, ETag, data files it holds)
        self.made_by: dict[str, tuple[str, PartList]] = {}  # key -> the Complete its object came from

    def teardown(self) -> None:
        empty_bucket(self.s3, self.bucket)

    # -- helpers -------------------------------------------------------------

    def expect_error(self, code: str, status: int, call: Any) -> dict[str, Any]:
        try:
            call()
        except ClientError as e:
            err = e.response["Error"]
            assert (err["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), err
            return err
        raise AssertionError(f"expected {code}")

    def predict_complete(self, upload_id: str, listed: PartList) -> str:
        """'ok', 'replay' or the S3 error code the Complete must answer."""
        if not listed:
            return "MalformedXML"
        if upload_id not in self.uploads:
            made = self.made_by.get(self.key_of[upload_id])
            return "replay" if made == (upload_id, listed) else "NoSuchUpload"
        numbers = [n for n, _ in listed]
        if any(a >= b for a, b in zip(numbers, numbers[1:])):
            return "InvalidPartOrder"
        parts = self.uploads[upload_id]
        for i, (n, etag) in enumerate(listed):
            if n not in parts or f'"{md5(parts[n])}"' != etag:
                return "InvalidPart"
            if i < len(listed) - 1 and len(parts[n]) < MIN_PART:
                return "EntityTooSmall"
        return "ok"

    # -- rules ---------------------------------------------------------------

    @initialize(target=upload_ids, sizes=st.lists(st.sampled_from(SIZES), min_size=2, max_size=3))
    def start_with_parts(self, sizes: list[int]) -> str:
        """Begin with an upload that already holds parts, so Completes have something to judge."""
        upload_id = self.create(KEYS[0])
        for number, size in enumerate(sizes, 1):
            self.upload_part(upload_id, number, size, number)
        return upload_id

    @rule(target=upload_ids, key=st.sampled_from(KEYS))
    def create(self, key: str) -> str:
        upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        assert upload_id not in self.key_of
        self.uploads[upload_id] = {}
        self.key_of[upload_id] = key
        return upload_id

    @rule(upload_id=upload_ids, number=st.sampled_from(NUMBERS), size=st.sampled_from(SIZES),
          seed=st.integers(0, 3))
    def upload_part(self, upload_id: str, number: int, size: int, seed: int) -> None:
        data = body(size, seed)
        key = self.key_of[upload_id]
        call = lambda: self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,  # noqa: E731
                                           PartNumber=number, Body=data)
        if upload_id not in self.uploads:
            err = self.expect_error("NoSuchUpload", 404, call)
            assert err["UploadId"] == upload_id
            return
        assert call()["ETag"] == f'"{md5(data)}"'
        self.uploads[upload_id][number] = data

    @precondition(lambda self: any(self.uploads.values()))
    @rule(data=st.data(), seed=st.integers(4, 7))
    def reupload_part(self, data: st.DataObject, seed: int) -> None:
        upload_id = data.draw(st.sampled_from(sorted(u for u, parts in self.uploads.items() if parts)))
        number = data.draw(st.sampled_from(sorted(self.uploads[upload_id])))
        size = data.draw(st.sampled_from(SIZES))
        self.upload_part(upload_id, number, size, seed)

    @rule(upload_id=upload_ids, data=st.data())
    def complete(self, upload_id: str, data: st.DataObject) -> None:
        self.complete_with(upload_id, data)

    @precondition(lambda self: any(self.uploads.values()))
    @rule(data=st.data())
    def complete_open(self, data: st.DataObject) -> None:
        self.complete_with(data.draw(st.sampled_from(sorted(u for u, p in self.uploads.items() if p))), data)

    def complete_with(self, upload_id: str, data: st.DataObject) -> None:
        key = self.key_of[upload_id]
        known = self.uploads.get(upload_id, self.last_parts.get(upload_id, {}))
        valid = [(n, f'"{md5(known[n])}"') for n in sorted(known)] or [(1, WRONG_ETAG)]
        variant = data.draw(st.sampled_from(["all", "subset", "subset", "missing", "wrong etag", "wrong order",
                                             "empty", "repeat"]))
        if variant == "subset":
            listed = sorted(data.draw(st.lists(st.sampled_from(valid), min_size=1, unique=True)))
        elif variant == "missing":
            absent = [n for n in range(1, 12) if n not in known]
            listed = sorted(valid + [(data.draw(st.sampled_from(absent)), WRONG_ETAG)])
        elif variant == "wrong etag":
            i = data.draw(st.integers(0, len(valid) - 1))
            listed = valid[:i] + [(valid[i][0], WRONG_ETAG)] + valid[i + 1:]
        elif variant == "wrong order":
            listed = valid[::-1] if len(valid) > 1 else valid * 2
        elif variant == "empty":
            listed = []
        elif variant == "repeat" and self.made_by.get(key, ("",))[0] == upload_id:
            listed = self.made_by[key][1]
        else:
            listed = valid
        expected = self.predict_complete(upload_id, listed)
        call = lambda: self.s3.complete_multipart_upload(  # noqa: E731
            Bucket=self.bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in listed]})
        if expected not in ("ok", "replay"):
            err = self.expect_error(expected, 404 if expected == "NoSuchUpload" else 400, call)
            if expected in ("NoSuchUpload", "InvalidPart", "InvalidPartOrder"):
                assert err["UploadId"] == upload_id
            return
        etag = call()["ETag"]
        if expected == "replay":
            assert etag == self.objects[key][1]
            return
        parts = self.uploads.pop(upload_id)
        self.last_parts[upload_id] = parts
        content = [parts[n] for n, _ in listed]
        assert etag == mp_etag(*content)
        self.objects[key] = (b"".join(content), etag, len(listed))
        self.made_by[key] = (upload_id, listed)

    @rule(upload_id=upload_ids)
    def abort(self, upload_id: str) -> None:
        key = self.key_of[upload_id]
        call = lambda: self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key,  # noqa: E731
                                                      UploadId=upload_id)
        if upload_id not in self.uploads:
            assert self.expect_error("NoSuchUpload", 404, call)["UploadId"] == upload_id
            return
        assert call()["ResponseMetadata"]["HTTPStatusCode"] == 204
        self.last_parts[upload_id] = self.uploads.pop(upload_id)

    @rule(key=st.sampled_from(KEYS), seed=st.integers(0, 3))
    def put(self, key: str, seed: int) -> None:
        data = body(100, seed + 10)
        etag = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)["ETag"]
        self.objects[key] = (data, etag, 0)  # this small, its bytes are in the database: no data file
        self.made_by.pop(key, None)

    @rule(upload_id=upload_ids, key=st.sampled_from(KEYS))
    def observe(self, upload_id: str, key: str) -> None:
        """What a reader sees: one upload's parts, the uploads in progress, one key."""
        self.list_parts(upload_id)
        self.list_uploads()
        self.get(key)

    def list_parts(self, upload_id: str) -> None:
        key = self.key_of[upload_id]
        call = lambda: self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id)  # noqa: E731
        if upload_id not in self.uploads:
            assert self.expect_error("NoSuchUpload", 404, call)["UploadId"] == upload_id
            return
        got = [(p["PartNumber"], p["ETag"], p["Size"]) for p in call().get("Parts", [])]
        parts = self.uploads[upload_id]
        assert got == [(n, f'"{md5(parts[n])}"', len(parts[n])) for n in sorted(parts)]

    def list_uploads(self) -> None:
        got = [(u["Key"], u["UploadId"]) for u in
               self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])]
        created = list(self.key_of)  # creation order
        expected = sorted(((self.key_of[u], u) for u in self.uploads), key=lambda kv: (kv[0], created.index(kv[1])))
        assert got == expected

    def get(self, key: str) -> None:
        if key not in self.objects:
            self.expect_error("NoSuchKey", 404, lambda: self.s3.get_object(Bucket=self.bucket, Key=key))
            return
        got = self.s3.get_object(Bucket=self.bucket, Key=key)
        content, etag, _ = self.objects[key]
        assert (got["Body"].read(), got["ETag"]) == (content, etag)

    @invariant()
    def no_stray_data_files(self) -> None:
        held = sum(len(p) for p in self.uploads.values()) + sum(n for _, _, n in self.objects.values())
        assert len(data_files(self.server)) == held


def test_multipart_model(mp_server: ServerProcess, mp: Any) -> None:
    # the invariant counts every data file of the server: nothing else may be stored there
    assert data_files(mp_server) == set()
    run_state_machine_as_test(
        lambda: MultipartMachine(mp, mp_server),
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None, database=None))
