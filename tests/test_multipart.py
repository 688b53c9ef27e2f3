"""Multipart upload, call by call: what each of the seven operations (and
GET/HEAD ?partNumber) answers, on success and on every error S3 defines."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from multipart_support import (MAX_PART, MIN_PART, body, data_files, error, md5, mp, mp_bucket,  # noqa: F401
                               mp_etag, mp_server, raw, upload)

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
NO_SUCH_UPLOAD = ("The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                  "been aborted or completed.")


def complete_xml(parts: list[tuple[int, str]], namespace: bool = True) -> bytes:
    xmlns = f' xmlns="{S3_NS}"' if namespace else ""
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f'<CompleteMultipartUpload{xmlns}>{items}</CompleteMultipartUpload>'.encode()


def raw_error(payload: bytes) -> str:
    m = re.search(rb"<Code>([^<]+)</Code>", payload)
    assert m, payload
    return m.group(1).decode()


# -- CreateMultipartUpload ---------------------------------------------------

def test_create_keeps_object_headers_metadata_class_and_tags(mp: Any, mp_bucket: str) -> None:
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    upload_id, parts = upload(
        mp, mp_bucket, "doc.json", [body(MIN_PART, 1), body(10, 2)],
        ContentType="application/json", ContentDisposition='attachment; filename="d.json"',
        ContentLanguage="fr", CacheControl="max-age=60", ContentEncoding="identity", Expires=expires,
        Metadata={"owner": "alice", "Mixed-Case": "v"}, StorageClass="STANDARD_IA", Tagging="a=1&b=2")
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="doc.json", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts})
    for got in (mp.get_object(Bucket=mp_bucket, Key="doc.json"), mp.head_object(Bucket=mp_bucket, Key="doc.json")):
        assert got["ContentType"] == "application/json"
        assert got["ContentDisposition"] == 'attachment; filename="d.json"'
        assert got["ContentLanguage"] == "fr"
        assert got["CacheControl"] == "max-age=60"
        assert got["ContentEncoding"] == "identity"
        assert got["Expires"] == expires
        assert got["Metadata"] == {"owner": "alice", "mixed-case": "v"}
        assert got["StorageClass"] == "STANDARD_IA"
        assert got["ContentLength"] == MIN_PART + 10
    assert mp.get_object(Bucket=mp_bucket, Key="doc.json")["TagCount"] == 2
    listed = mp.list_objects_v2(Bucket=mp_bucket)["Contents"][0]
    assert listed["StorageClass"] == "STANDARD_IA"


def test_create_default_content_type(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"x"])
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert mp.head_object(Bucket=mp_bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_upload_ids_are_long_url_safe_unique_and_sort_by_creation(mp: Any, mp_bucket: str) -> None:
    ids = [mp.create_multipart_upload(Bucket=mp_bucket, Key="same")["UploadId"] for _ in range(30)]
    assert len(set(ids)) == 30
    for upload_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", upload_id)  # room for 128 random bits, no escaping needed
    assert sorted(ids) == ids
    listed = [u["UploadId"] for u in mp.list_multipart_uploads(Bucket=mp_bucket)["Uploads"]]
    assert listed == ids


def test_create_in_missing_bucket(mp: Any) -> None:
    with pytest.raises(ClientError) as e:
        mp.create_multipart_upload(Bucket="no-such-bucket-mp", Key="k")
    assert error(e.value)["Code"] == "NoSuchBucket"
    assert error(e.value)["Status"] == 404


def test_create_rejects_bad_storage_class(mp: Any, mp_bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        mp.create_multipart_upload(Bucket=mp_bucket, Key="k", StorageClass="PLATINUM")
    assert error(e.value)["Code"] == "InvalidStorageClass"
    assert mp.list_multipart_uploads(Bucket=mp_bucket).get("Uploads", []) == []


# -- UploadPart ---------------------------------------------------------------

def test_upload_part_returns_quoted_md5(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    data = body(3000, 7)
    resp = mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data)
    assert resp["ETag"] == f'"{md5(data)}"'


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_upload_part_number_out_of_range(mp: Any, mp_bucket: str, number: int) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    assert err["Message"] == "Part number must be an integer between 1 and 10000, inclusive"
    assert err["ArgumentName"] == "partNumber"
    assert err["ArgumentValue"] == str(number)


def test_upload_part_number_not_an_integer(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    status, payload = raw(mp_server, "PUT", f"/{mp_bucket}/k?partNumber=abc&uploadId={upload_id}", b"x")
    assert status == 400
    assert raw_error(payload) == "InvalidArgument"
    assert b"<ArgumentValue>abc</ArgumentValue>" in payload


def test_upload_part_needs_content_length(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    # S3 implements no HTTP-chunked body of unknown length: 501 naming Transfer-Encoding
    # (aws/aws-sdk-js-v3#3403, Automattic/knox#43)
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    status, payload = raw(mp_server, "PUT", f"/{mp_bucket}/k?partNumber=1&uploadId={upload_id}",
                          chunks=[b"abc", b"def"])
    assert status == 501
    assert raw_error(payload) == "NotImplemented" and b"<Header>Transfer-Encoding</Header>" in payload
    assert mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


def test_upload_part_content_md5(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    import base64
    import hashlib
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    before = data_files(mp_server)
    good = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"hello", ContentMD5=good)
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"hello",
                       ContentMD5=wrong)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("BadDigest", 400)
    # here both digests are base64 (AWS: upload-part-md5-bad-digest)
    assert (error(e.value)["ExpectedDigest"], error(e.value)["CalculatedDigest"]) == (wrong, good)
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"hello",
                       ContentMD5="not-base64!")
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("InvalidDigest", 400)
    assert error(e.value)["Content-MD5"] == "not-base64!"
    parts = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
    assert len(data_files(mp_server) - before) == 1  # the refused parts left no file behind


def test_upload_part_too_large(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    before = data_files(mp_server)
    with pytest.raises(ClientError) as e:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x" * (MAX_PART + 1))
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("EntityTooLarge", 400)
    assert err["MaxSizeAllowed"] == str(MAX_PART)
    assert err["ProposedSize"] == str(MAX_PART + 1)
    mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x" * MAX_PART)
    assert len(data_files(mp_server) - before) == 1


def test_reupload_replaces_part(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    first = mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=body(2000, 1))["ETag"]
    files = data_files(mp_server)
    second = mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=body(1500, 2))["ETag"]
    assert first != second
    assert len(data_files(mp_server)) == len(files)  # the first version's file is gone
    parts = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, second, 1500)]
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}]})
    assert error(e.value)["Code"] == "InvalidPart"
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": second}]})
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == body(1500, 2)


def test_upload_part_unknown_upload_or_other_key(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    for key, uid in (("k", "nonexistent-upload"), ("other-key", upload_id)):
        with pytest.raises(ClientError) as e:
            mp.upload_part(Bucket=mp_bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"x")
        err = error(e.value)
        assert (err["Code"], err["Status"], err["UploadId"]) == ("NoSuchUpload", 404, uid)
        assert err["Message"] == NO_SUCH_UPLOAD
    assert mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id).get("Parts", []) == []


# -- UploadPartCopy ------------------------------------------------------------

def test_upload_part_copy_whole_and_ranges(mp: Any, mp_bucket: str) -> None:
    source_key = "src dir/ünï cødé+?&.bin"
    source = body(5000, 3)
    mp.put_object(Bucket=mp_bucket, Key=source_key, Body=source)
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="dst")["UploadId"]
    src = {"Bucket": mp_bucket, "Key": source_key}
    whole = mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=src)
    assert whole["CopyPartResult"]["ETag"] == f'"{md5(source)}"'
    assert isinstance(whole["CopyPartResult"]["LastModified"], dt.datetime)
    ranged = mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=2, CopySource=src,
                                 CopySourceRange="bytes=100-1299")
    assert ranged["CopyPartResult"]["ETag"] == f'"{md5(source[100:1300])}"'
    # the string form, leading slash included (boto3 URL-encodes it)
    last = mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=3,
                               CopySource=f"/{mp_bucket}/{source_key}", CopySourceRange="bytes=4999-4999")
    assert last["CopyPartResult"]["ETag"] == f'"{md5(source[4999:])}"'
    parts = [{"PartNumber": n, "ETag": r["CopyPartResult"]["ETag"]} for n, r in ((1, whole), (2, ranged), (3, last))]
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="dst", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert done["ETag"] == mp_etag(source, source[100:1300], source[4999:])
    assert mp.get_object(Bucket=mp_bucket, Key="dst")["Body"].read() == source + source[100:1300] + source[4999:]


@pytest.mark.parametrize("bad", ["bytes=5-", "bytes=-5", "bytes=9-3", "5-9", "bytes=a-b", "bytes=1-2,4-5"])
def test_upload_part_copy_malformed_range(mp: Any, mp_bucket: str, bad: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="src", Body=body(100))
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": mp_bucket, "Key": "src"}, CopySourceRange=bad)
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    assert err["ArgumentName"] == "x-amz-copy-source-range"
    assert err["ArgumentValue"] == bad


def test_upload_part_copy_range_past_the_end(mp: Any, mp_bucket: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="src", Body=body(100))
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": mp_bucket, "Key": "src"}, CopySourceRange="bytes=50-100")
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("InvalidArgument", 400)
    assert err["Message"] == "Range specified is not valid for source object of size: 100"
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("x-amz-copy-source-range", "bytes=50-100")
    # a range that starts past the end is another error (AWS: upload-part-copy-range-exc-100-200)
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": mp_bucket, "Key": "src"}, CopySourceRange="bytes=100-200")
    err = error(e.value)
    assert (err["Code"], err["Status"], err["Message"]) == (
        "InvalidRequest", 400, "The specified copy range is invalid for the source object size")
    assert "ArgumentName" not in err
    assert mp.list_parts(Bucket=mp_bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []


def test_upload_part_copy_conditions(mp: Any, mp_bucket: str) -> None:
    put = mp.put_object(Bucket=mp_bucket, Key="src", Body=b"source bytes")
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="dst")["UploadId"]
    src = {"Bucket": mp_bucket, "Key": "src"}
    common = dict(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=src)
    past = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    for condition in ({"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'},
                      {"CopySourceIfNoneMatch": put["ETag"]},
                      {"CopySourceIfUnmodifiedSince": past}):
        with pytest.raises(ClientError) as e:
            mp.upload_part_copy(**common, **condition)
        assert (error(e.value)["Code"], error(e.value)["Status"]) == ("PreconditionFailed", 412), condition
    assert mp.list_parts(Bucket=mp_bucket, Key="dst", UploadId=upload_id).get("Parts", []) == []
    ok = mp.upload_part_copy(**common, CopySourceIfMatch=put["ETag"], CopySourceIfModifiedSince=past)
    assert ok["CopyPartResult"]["ETag"] == put["ETag"]
    # a date in the future is ignored (AWS: test_upload_part_copy_with_copy_source_if_modified_since_in_future)
    ok = mp.upload_part_copy(**common, CopySourceIfModifiedSince=future)
    assert ok["CopyPartResult"]["ETag"] == put["ETag"]


def test_upload_part_copy_missing_source_or_upload(mp: Any, mp_bucket: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="src", Body=b"abc")
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource={"Bucket": mp_bucket, "Key": "missing"})
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId="bogus", PartNumber=1,
                            CopySource={"Bucket": mp_bucket, "Key": "src"})
    assert (error(e.value)["Code"], error(e.value)["UploadId"]) == ("NoSuchUpload", "bogus")
    with pytest.raises(ClientError) as e:
        mp.upload_part_copy(Bucket=mp_bucket, Key="dst", UploadId=upload_id, PartNumber=0,
                            CopySource={"Bucket": mp_bucket, "Key": "src"})
    assert (error(e.value)["Code"], error(e.value)["ArgumentName"]) == ("InvalidArgument", "partNumber")


# -- CompleteMultipartUpload -------------------------------------------------

def test_complete_result_and_etag(mp: Any, mp_bucket: str) -> None:
    data = [body(MIN_PART, 1), body(MIN_PART + 5, 2), body(3, 3)]
    key = "dir/with space/é.bin"
    upload_id, parts = upload(mp, mp_bucket, key, data)
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert done["Bucket"] == mp_bucket
    assert done["Key"] == key
    assert done["ETag"] == mp_etag(*data)
    assert done["Location"].endswith(f"/{mp_bucket}/" + quote(key, safe="/"))
    got = mp.get_object(Bucket=mp_bucket, Key=key)
    assert got["ETag"] == done["ETag"]
    assert got["Body"].read() == b"".join(data)
    assert mp.list_multipart_uploads(Bucket=mp_bucket).get("Uploads", []) == []


@pytest.mark.parametrize("namespace", [True, False])
def test_complete_parses_xml_with_or_without_namespace(mp_server: Any, mp: Any, mp_bucket: str,
                                                        namespace: bool) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART, 1), b"tail"])
    # unquoted ETags too: the comparison ignores quotes
    doc = complete_xml([(p["PartNumber"], p["ETag"].strip('"')) for p in parts], namespace)
    status, payload = raw(mp_server, "POST", f"/{mp_bucket}/k?uploadId={upload_id}", doc)
    assert status == 200, payload
    assert b"<CompleteMultipartUploadResult" in payload
    assert mp_etag(body(MIN_PART, 1), b"tail").encode().replace(b'"', b"&quot;") in payload \
        or mp_etag(body(MIN_PART, 1), b"tail").encode() in payload
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == body(MIN_PART, 1) + b"tail"


def test_complete_reads_the_first_of_a_repeated_part_element(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART, 1), b"tail"])
    first, second = (p["ETag"] for p in parts)

    def doc(etags: str) -> bytes:
        # prefixed and unprefixed names alike, and elements S3 does not know, in between
        return (f'<s3:CompleteMultipartUpload xmlns:s3="{S3_NS}"><s3:Part><s3:PartNumber>1</s3:PartNumber>'
                f'<Note>x</Note>{etags}<PartNumber>2</PartNumber></s3:Part>'
                f'<Part><PartNumber>2</PartNumber><ETag>{second}</ETag></Part></s3:CompleteMultipartUpload>').encode()

    status, payload = raw(mp_server, "POST", f"/{mp_bucket}/k?uploadId={upload_id}",
                          doc(f"<s3:ETag>{second}</s3:ETag><ETag>{first}</ETag>"))
    assert (status, raw_error(payload)) == (400, "InvalidPart")
    status, payload = raw(mp_server, "POST", f"/{mp_bucket}/k?uploadId={upload_id}",
                          doc(f"<ETag>{first}</ETag><s3:ETag>{second}</s3:ETag>"))
    assert status == 200, payload
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == body(MIN_PART, 1) + b"tail"


@pytest.mark.parametrize("doc,code", [
    (b"this is not xml", "MalformedXML"),
    (b"<CompleteMultipartUpload><Part>", "MalformedXML"),
    (b"<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>", "MalformedXML"),
    (f'<CompleteMultipartUpload xmlns="{S3_NS}"/>'.encode(), "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>", "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
     "MalformedXML"),
    (b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part>"
     b"</CompleteMultipartUpload>", "MalformedXML"),
    (b"", "InvalidRequest"),
])
def test_complete_malformed_body(mp_server: Any, mp: Any, mp_bucket: str, doc: bytes, code: str) -> None:
    upload_id, _ = upload(mp, mp_bucket, "k", [b"data"])
    status, payload = raw(mp_server, "POST", f"/{mp_bucket}/k?uploadId={upload_id}", doc)
    assert (status, raw_error(payload)) == (400, code)
    if code == "InvalidRequest":
        assert b"You must specify at least one part" in payload
    assert len(mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id)["Parts"]) == 1  # still open


def test_complete_without_parts_via_boto3(mp: Any, mp_bucket: str) -> None:
    upload_id, _ = upload(mp, mp_bucket, "k", [b"data"])
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": []})
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("MalformedXML", 400)


@pytest.mark.parametrize("order", [[2, 1], [1, 1], [1, 2, 2], [1, 3, 2]])
def test_complete_invalid_part_order(mp: Any, mp_bucket: str, order: list[int]) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART, n) for n in range(3)])
    listed = [parts[n - 1] for n in order]
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": listed})
    err = error(e.value)
    assert (err["Code"], err["Status"], err["UploadId"]) == ("InvalidPartOrder", 400, upload_id)
    assert err["Message"] == ("The list of parts was not in ascending order. Parts must be ordered by part "
                              "number.")


def test_complete_order_is_checked_before_parts(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART)])
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 7, "ETag": '"00000000000000000000000000000000"'}, parts[0]]})
    assert error(e.value)["Code"] == "InvalidPartOrder"


def test_complete_invalid_part(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART, 1), body(MIN_PART, 2)])
    wrong = '"0123456789abcdef0123456789abcdef"'
    for listed, number, etag in (
            ([parts[0], {"PartNumber": 3, "ETag": wrong}], 3, wrong),
            ([parts[0], {"PartNumber": 2, "ETag": wrong}], 2, wrong)):
        with pytest.raises(ClientError) as e:
            mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                         MultipartUpload={"Parts": listed})
        err = error(e.value)
        assert (err["Code"], err["Status"]) == ("InvalidPart", 400)
        assert err["UploadId"] == upload_id
        assert err["PartNumber"] == str(number)
        assert err["ETag"].strip('"') == etag.strip('"')
        assert err["Message"].startswith("One or more of the specified parts could not be found.")
    assert mp.list_multipart_uploads(Bucket=mp_bucket)["Uploads"][0]["UploadId"] == upload_id
    with pytest.raises(ClientError):
        mp.head_object(Bucket=mp_bucket, Key="k")


def test_complete_part_number_out_of_range(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"x"])
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={
            "Parts": [parts[0], {"PartNumber": 10001, "ETag": parts[0]["ETag"]}]})
    err = error(e.value)
    assert (err["Code"], err["ArgumentName"], err["ArgumentValue"]) == ("InvalidArgument", "partNumber", "10001")


def test_complete_entity_too_small(mp: Any, mp_bucket: str) -> None:
    data = [body(MIN_PART, 1), body(MIN_PART - 1, 2), body(MIN_PART, 3)]
    upload_id, parts = upload(mp, mp_bucket, "k", data)
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("EntityTooSmall", 400)
    assert err["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert err["ProposedSize"] == str(MIN_PART - 1)
    assert err["MinSizeAllowed"] == str(MIN_PART)
    assert err["PartNumber"] == "2"
    assert err["ETag"].strip('"') == md5(data[1])
    # the small part may be last: listing only 1 and 2 succeeds
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts[:2]})
    assert done["ETag"] == mp_etag(data[0], data[1])


def test_complete_single_small_part_and_empty_part(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "empty", [b""])
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="empty", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    assert done["ETag"] == mp_etag(b"")
    got = mp.get_object(Bucket=mp_bucket, Key="empty")
    assert (got["ContentLength"], got["Body"].read()) == (0, b"")


def test_complete_discards_unlisted_parts(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    before = data_files(mp_server)
    data = [body(MIN_PART, n) for n in range(1, 6)]
    upload_id, parts = upload(mp, mp_bucket, "k", data)
    part_files = data_files(mp_server) - before
    assert len(part_files) == 5
    listed = [parts[0], parts[2], parts[4]]  # numbers 1, 3, 5
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": listed})
    assert done["ETag"] == mp_etag(data[0], data[2], data[4])
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == data[0] + data[2] + data[4]
    after = data_files(mp_server) - before
    # completion adopted three part files as they were and removed the other two: no bytes copied
    assert len(after) == 3 and after <= part_files


def test_complete_object_size_header(mp: Any, mp_bucket: str) -> None:
    data = [body(MIN_PART, 1), b"12345"]
    upload_id, parts = upload(mp, mp_bucket, "k", data)
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, MpuObjectSize=MIN_PART + 4)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("InvalidRequest", 400)
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts}, MpuObjectSize=MIN_PART + 5)
    assert done["ETag"] == mp_etag(*data)


def test_complete_if_none_match(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"new"])
    mp.put_object(Bucket=mp_bucket, Key="k", Body=b"old")
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("PreconditionFailed", 412)
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"old"
    # the key is free again, but it changed since the upload began: S3 cannot tell which state the condition
    # meant (AWS: complete-multipart-after-del), so 409 naming the condition and the key
    mp.delete_object(Bucket=mp_bucket, Key="k")
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    err = error(e.value)
    assert (err["Code"], err["Status"], err["Condition"], err["Key"]) == (
        "ConditionalRequestConflict", 409, "If-None-Match", "k")
    assert err["Message"] == ("The conditional request cannot succeed due to a conflicting operation against this "
                              "resource.")
    # an upload begun since then completes (AWS: complete-multipart-after-del-restart)
    upload_id, parts = upload(mp, mp_bucket, "k", [b"new"])
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"new"


def test_complete_if_match(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"new"])
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch='"whatever"')
    assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["Key"]) == ("NoSuchKey", 404, "k")
    old = mp.put_object(Bucket=mp_bucket, Key="k", Body=b"old")
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("PreconditionFailed", 412)
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"old"
    # the condition holds, but the key was written after the upload began (AWS: complete-multipart-if-match-put-during)
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch=old["ETag"])
    assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["Condition"]) == (
        "ConditionalRequestConflict", 409, "If-Match")
    # an upload begun after that write completes against it (AWS: complete-multipart-if-match-put-before-restart)
    upload_id, parts = upload(mp, mp_bucket, "k", [b"new"])
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                 MultipartUpload={"Parts": parts}, IfMatch=old["ETag"])
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"new"


def test_complete_if_none_match_other_than_star(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"new"])
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch='"abc"')
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("NotImplemented", 501)


def test_repeated_complete(mp: Any, mp_bucket: str) -> None:
    data = [body(MIN_PART, 1), b"end"]
    upload_id, parts = upload(mp, mp_bucket, "k", data)
    first = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    again = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                         MultipartUpload={"Parts": parts})
    assert again["ETag"] == first["ETag"] == mp_etag(*data)
    # a different part list is not a repeat
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts[:1]})
    assert (error(e.value)["Code"], error(e.value)["UploadId"]) == ("NoSuchUpload", upload_id)
    # once the key holds something else, the upload is simply gone
    mp.put_object(Bucket=mp_bucket, Key="k", Body=b"other")
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts})
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("NoSuchUpload", 404)
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"other"


def test_completed_upload_is_gone_for_other_calls(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"x"])
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert_upload_gone(mp, mp_bucket, "k", upload_id, complete=False)


def test_complete_unknown_upload(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"x"])
    for key, uid in (("k", "nope"), ("other", upload_id)):
        with pytest.raises(ClientError) as e:
            mp.complete_multipart_upload(Bucket=mp_bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
        assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["UploadId"]) == \
            ("NoSuchUpload", 404, uid)
    # without a part list too: the unknown upload is named first (AWS: complete-exc in
    # test_multipart_no_such_upload); a known one is told to list its parts (complete-exc-no-parts)
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId="fakeid")
    assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["UploadId"]) == \
        ("NoSuchUpload", 404, "fakeid")
    with pytest.raises(ClientError) as e:
        mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id)
    assert (error(e.value)["Code"], error(e.value)["Message"]) == ("InvalidRequest",
                                                                  "You must specify at least one part")


# -- AbortMultipartUpload ------------------------------------------------------

def assert_upload_gone(client: Any, bucket: str, key: str, upload_id: str, complete: bool = True) -> None:
    calls = [
        lambda: client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id),
        lambda: client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id),
        lambda: client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x"),
        lambda: client.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                                        CopySource={"Bucket": bucket, "Key": key}),
    ]
    if complete:
        calls.append(lambda: client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]}))
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        err = error(e.value)
        assert (err["Code"], err["Status"], err["UploadId"]) == ("NoSuchUpload", 404, upload_id)
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert upload_id not in [u["UploadId"] for u in uploads]


def test_abort_removes_parts_and_bytes(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    before = data_files(mp_server)
    mp.put_object(Bucket=mp_bucket, Key="k", Body=b"existing")  # small: its bytes are in the database
    upload_id, _ = upload(mp, mp_bucket, "k", [body(MIN_PART, n) for n in range(4)])
    assert len(data_files(mp_server) - before) == 4
    resp = mp.abort_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert len(data_files(mp_server) - before) == 0
    assert_upload_gone(mp, mp_bucket, "k", upload_id)
    assert len(data_files(mp_server) - before) == 0
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"existing"


def test_abort_unknown_upload(mp: Any, mp_bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        mp.abort_multipart_upload(Bucket=mp_bucket, Key="k", UploadId="nope")
    assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["UploadId"]) == \
        ("NoSuchUpload", 404, "nope")


# -- ListMultipartUploads ----------------------------------------------------

def test_list_uploads_fields_and_order(mp: Any, mp_bucket: str) -> None:
    made = []
    for key in ["b", "a", "b", "c/d", "a"]:
        made.append((key, mp.create_multipart_upload(Bucket=mp_bucket, Key=key,
                                                     StorageClass="STANDARD_IA" if key == "c/d" else "STANDARD")
                     ["UploadId"]))
    resp = mp.list_multipart_uploads(Bucket=mp_bucket)
    got = [(u["Key"], u["UploadId"]) for u in resp["Uploads"]]
    # by key, then by initiation time
    assert got == sorted(made, key=lambda kv: (kv[0], made.index(kv)))
    assert resp["IsTruncated"] is False
    assert resp["MaxUploads"] == 1000
    assert resp["Bucket"] == mp_bucket
    # AWS recordings (test_list_multiparts_next_marker): no Prefix element unless one was asked for; the
    # Next* markers name the last upload listed even when nothing follows; Initiator keeps a DisplayName,
    # Owner has only its ID
    assert "Prefix" not in resp
    assert (resp["NextKeyMarker"], resp["NextUploadIdMarker"]) == got[-1]
    for u in resp["Uploads"]:
        assert set(u["Initiator"]) == {"ID", "DisplayName"} and list(u["Owner"]) == ["ID"]
        assert isinstance(u["Initiated"], dt.datetime)
        assert u["StorageClass"] == ("STANDARD_IA" if u["Key"] == "c/d" else "STANDARD")


def test_list_uploads_prefix_delimiter(mp: Any, mp_bucket: str) -> None:
    for key in ["photos/2024/a", "photos/2024/b", "photos/2025/a", "photos/top", "video/x", "readme"]:
        mp.create_multipart_upload(Bucket=mp_bucket, Key=key)
    resp = mp.list_multipart_uploads(Bucket=mp_bucket, Prefix="photos/", Delimiter="/")
    assert [u["Key"] for u in resp["Uploads"]] == ["photos/top"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]
    assert (resp["Prefix"], resp["Delimiter"]) == ("photos/", "/")
    top = mp.list_multipart_uploads(Bucket=mp_bucket, Delimiter="/")
    assert [u["Key"] for u in top["Uploads"]] == ["readme"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["photos/", "video/"]
    only_prefixes = mp.list_multipart_uploads(Bucket=mp_bucket, Prefix="photos/2024", Delimiter="/")
    assert (only_prefixes["NextKeyMarker"], only_prefixes["NextUploadIdMarker"]) == ("", "")
    # even a truncated page that ends with a common prefix names no next upload (AWS: list-multiparts-start)
    first = mp.list_multipart_uploads(Bucket=mp_bucket, Prefix="photos/", Delimiter="/", MaxUploads=1)
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["photos/2024/"] and first["IsTruncated"] is True
    assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == ("", "")


def test_list_uploads_markers(mp: Any, mp_bucket: str) -> None:
    ids = {k: [mp.create_multipart_upload(Bucket=mp_bucket, Key=k)["UploadId"] for _ in range(3)]
           for k in ["a", "b", "c"]}
    after_b = mp.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="b")
    assert [u["UploadId"] for u in after_b["Uploads"]] == ids["c"]
    assert after_b["KeyMarker"] == "b"
    within_b = mp.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="b", UploadIdMarker=ids["b"][0])
    assert [u["UploadId"] for u in within_b["Uploads"]] == ids["b"][1:] + ids["c"]
    assert within_b["UploadIdMarker"] == ids["b"][0]
    # an upload-id-marker without a key-marker is ignored (and not echoed); a key-marker need not exist
    ignored = mp.list_multipart_uploads(Bucket=mp_bucket, UploadIdMarker=ids["b"][0])
    assert len(ignored["Uploads"]) == 9 and ignored["UploadIdMarker"] == ""
    # one that is no upload of the key-marker's key is refused (AWS: list-multiparts-wrong-id-for-key)
    with pytest.raises(ClientError) as e:
        mp.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="a", UploadIdMarker=ids["b"][0])
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"]) == ("InvalidArgument", "Invalid uploadId marker")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("upload-id-marker", ids["b"][0])
    assert [u["Key"] for u in mp.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="aa")["Uploads"]] == \
        ["b"] * 3 + ["c"] * 3


def test_list_uploads_truncation_and_pagination(mp: Any, mp_bucket: str) -> None:
    made = [(k, mp.create_multipart_upload(Bucket=mp_bucket, Key=k)["UploadId"])
            for k in ["k1", "k2", "k2", "k2", "k3", "k4", "k4"]]
    first = mp.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=2)
    assert first["IsTruncated"] is True
    assert first["MaxUploads"] == 2
    assert (first["NextKeyMarker"], first["NextUploadIdMarker"]) == made[1]
    seen = []
    pages = 0
    for page in mp.get_paginator("list_multipart_uploads").paginate(Bucket=mp_bucket, PaginationConfig={
            "PageSize": 2}):
        pages += 1
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        assert pages <= 10
    assert pages == 4
    assert seen == made  # every upload exactly once, in order
    last = mp.list_multipart_uploads(Bucket=mp_bucket, KeyMarker="k4", UploadIdMarker=made[5][1])
    assert last["IsTruncated"] is False
    assert [u["UploadId"] for u in last["Uploads"]] == [made[6][1]]


def test_list_uploads_max_uploads_bounds(mp: Any, mp_bucket: str) -> None:
    for _ in range(3):
        mp.create_multipart_upload(Bucket=mp_bucket, Key="k")
    resp = mp.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=5000)
    assert resp["MaxUploads"] == 1000 and len(resp["Uploads"]) == 3
    with pytest.raises(ClientError) as e:
        mp.list_multipart_uploads(Bucket=mp_bucket, MaxUploads=-1)
    assert (error(e.value)["Code"], error(e.value)["ArgumentName"]) == ("InvalidArgument", "max-uploads")


def test_list_uploads_url_encoding(mp: Any, mp_bucket: str) -> None:
    key = "sp ace/ü+é"
    mp.create_multipart_upload(Bucket=mp_bucket, Key=key)
    mp.create_multipart_upload(Bucket=mp_bucket, Key="sp ace/x/y")
    # boto3 passes encoding-type through for this call and leaves the answer encoded
    resp = mp.list_multipart_uploads(Bucket=mp_bucket, Prefix="sp ace/", Delimiter="/", KeyMarker="sp ace/",
                                     EncodingType="url")
    assert resp["EncodingType"] == "url"
    assert [u["Key"] for u in resp["Uploads"]] == [quote(key, safe="/")]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["sp%20ace/x/"]
    assert (resp["Prefix"], resp["KeyMarker"]) == ("sp%20ace/", "sp%20ace/")
    assert resp["NextKeyMarker"] == "sp%20ace/%C3%BC%2B%C3%A9"  # "x/" sorts before "ü"
    plain = mp.list_multipart_uploads(Bucket=mp_bucket, Prefix="sp ace/", Delimiter="/")
    assert [u["Key"] for u in plain["Uploads"]] == [key]
    assert "EncodingType" not in plain


def test_list_uploads_raw_url_encoding(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    mp.create_multipart_upload(Bucket=mp_bucket, Key="a b/ü")
    status, payload = raw(mp_server, "GET", f"/{mp_bucket}?uploads&encoding-type=url")
    assert status == 200
    assert b"<Key>a%20b/%C3%BC</Key>" in payload
    status, payload = raw(mp_server, "GET", f"/{mp_bucket}?uploads")
    assert "<Key>a b/ü</Key>".encode() in payload


def test_list_uploads_missing_bucket(mp: Any) -> None:
    with pytest.raises(ClientError) as e:
        mp.list_multipart_uploads(Bucket="no-such-bucket-mp")
    assert error(e.value)["Code"] == "NoSuchBucket"


# -- ListParts -------------------------------------------------------------------

def test_list_parts_fields(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k", StorageClass="STANDARD_IA")["UploadId"]
    data = {3: body(1500, 3), 1: body(10, 1)}
    for n, d in data.items():
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=d)
    resp = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in resp["Parts"]] == \
        [(1, f'"{md5(data[1])}"', 10), (3, f'"{md5(data[3])}"', 1500)]
    assert all(isinstance(p["LastModified"], dt.datetime) for p in resp["Parts"])
    assert (resp["Bucket"], resp["Key"], resp["UploadId"]) == (mp_bucket, "k", upload_id)
    assert (resp["PartNumberMarker"], resp["NextPartNumberMarker"], resp["MaxParts"]) == (0, 3, 1000)
    assert resp["IsTruncated"] is False
    assert resp["StorageClass"] == "STANDARD_IA"
    assert set(resp["Initiator"]) == {"ID", "DisplayName"} and list(resp["Owner"]) == ["ID"]


def test_list_parts_marker_is_a_part_number(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    numbers = [300, 1, 200, 9, 5]
    for n in numbers:
        mp.upload_part(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumber=n, Body=body(n, n))
    pages = []
    marker = 0
    for _ in range(5):
        resp = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id, MaxParts=2, PartNumberMarker=marker)
        pages.append(([p["PartNumber"] for p in resp["Parts"]], resp["NextPartNumberMarker"], resp["IsTruncated"]))
        assert resp["PartNumberMarker"] == marker and resp["MaxParts"] == 2
        if not resp["IsTruncated"]:
            break
        marker = resp["NextPartNumberMarker"]
    assert pages == [([1, 5], 5, True), ([9, 200], 200, True), ([300], 300, False)]
    # a marker between part numbers, not an index into the list
    resp = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumberMarker=7)
    assert [p["PartNumber"] for p in resp["Parts"]] == [9, 200, 300]
    resp = mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id, PartNumberMarker=300)
    assert resp.get("Parts", []) == [] and resp["IsTruncated"] is False
    seen = [p["PartNumber"] for page in mp.get_paginator("list_parts").paginate(
        Bucket=mp_bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 2}) for p in page["Parts"]]
    assert seen == sorted(numbers)


def test_list_parts_max_parts_bounds(mp: Any, mp_bucket: str) -> None:
    upload_id, _ = upload(mp, mp_bucket, "k", [b"a", b"b"])
    assert mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id, MaxParts=5000)["MaxParts"] == 1000
    with pytest.raises(ClientError) as e:
        mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id, MaxParts=-1)
    assert (error(e.value)["Code"], error(e.value)["ArgumentName"]) == ("InvalidArgument", "max-parts")


def test_list_parts_unknown_upload(mp: Any, mp_bucket: str) -> None:
    upload_id = mp.create_multipart_upload(Bucket=mp_bucket, Key="k")["UploadId"]
    for key, uid in (("k", "nope"), ("other", upload_id)):
        with pytest.raises(ClientError) as e:
            mp.list_parts(Bucket=mp_bucket, Key=key, UploadId=uid)
        assert (error(e.value)["Code"], error(e.value)["Status"], error(e.value)["UploadId"]) == \
            ("NoSuchUpload", 404, uid)


# -- GetObject / HeadObject ?partNumber ---------------------------------------

def test_get_and_head_part_number_of_multipart_object(mp: Any, mp_bucket: str) -> None:
    data = [body(MIN_PART, 1), body(MIN_PART + 100, 2), body(7, 3)]
    upload_id, parts = upload(mp, mp_bucket, "k", data)
    etag = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})["ETag"]
    total = sum(map(len, data))
    start = 0
    for n, d in enumerate(data, 1):
        for resp in (mp.get_object(Bucket=mp_bucket, Key="k", PartNumber=n),
                     mp.head_object(Bucket=mp_bucket, Key="k", PartNumber=n)):
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
            assert resp["ContentRange"] == f"bytes {start}-{start + len(d) - 1}/{total}"
            assert resp["ContentLength"] == len(d)
            assert resp["ETag"] == etag
            assert resp["PartsCount"] == 3
        assert mp.get_object(Bucket=mp_bucket, Key="k", PartNumber=n)["Body"].read() == d
        start += len(d)
    with pytest.raises(ClientError) as e:
        mp.get_object(Bucket=mp_bucket, Key="k", PartNumber=4)
    err = error(e.value)
    assert (err["Code"], err["Status"]) == ("InvalidPartNumber", 416)
    assert (err["PartNumberRequested"], err["ActualPartCount"]) == ("4", "3")
    with pytest.raises(ClientError) as e:
        mp.head_object(Bucket=mp_bucket, Key="k", PartNumber=4)
    assert error(e.value)["Status"] == 416
    # no partNumber: the whole object, no parts count
    whole = mp.get_object(Bucket=mp_bucket, Key="k")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and "PartsCount" not in whole


def test_part_number_of_single_part_object(mp: Any, mp_bucket: str) -> None:
    mp.put_object(Bucket=mp_bucket, Key="plain", Body=b"plain bytes")
    resp = mp.get_object(Bucket=mp_bucket, Key="plain", PartNumber=1)
    assert resp["Body"].read() == b"plain bytes"
    assert resp["ContentRange"] == "bytes 0-10/11"
    with pytest.raises(ClientError) as e:
        mp.get_object(Bucket=mp_bucket, Key="plain", PartNumber=2)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("InvalidPartNumber", 416)


# -- Visibility ------------------------------------------------------------------

def test_nothing_visible_until_complete(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "new", [body(MIN_PART, 1), b"x"])
    with pytest.raises(ClientError) as e:
        mp.get_object(Bucket=mp_bucket, Key="new")
    assert error(e.value)["Code"] == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        mp.head_object(Bucket=mp_bucket, Key="new")
    assert error(e.value)["Status"] == 404
    assert mp.list_objects_v2(Bucket=mp_bucket)["KeyCount"] == 0
    assert "Contents" not in mp.list_objects(Bucket=mp_bucket)
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="new", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert [o["Key"] for o in mp.list_objects_v2(Bucket=mp_bucket)["Contents"]] == ["new"]


def test_existing_object_unchanged_until_complete(mp: Any, mp_bucket: str) -> None:
    old = mp.put_object(Bucket=mp_bucket, Key="k", Body=b"old contents", Metadata={"v": "1"})
    upload_id, parts = upload(mp, mp_bucket, "k", [body(MIN_PART, 1), b"new"], Metadata={"v": "2"})
    got = mp.get_object(Bucket=mp_bucket, Key="k")
    assert (got["Body"].read(), got["ETag"], got["Metadata"]) == (b"old contents", old["ETag"], {"v": "1"})
    assert mp.list_objects_v2(Bucket=mp_bucket)["Contents"][0]["Size"] == len(b"old contents")
    done = mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
    got = mp.get_object(Bucket=mp_bucket, Key="k")
    assert (got["Body"].read(), got["ETag"], got["Metadata"]) == (body(MIN_PART, 1) + b"new", done["ETag"],
                                                                  {"v": "2"})


def test_two_uploads_to_one_key_last_complete_wins(mp: Any, mp_bucket: str) -> None:
    first_id, first_parts = upload(mp, mp_bucket, "k", [b"first"])
    second_id, second_parts = upload(mp, mp_bucket, "k", [b"second"])
    assert first_id != second_id
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=second_id,
                                 MultipartUpload={"Parts": second_parts})
    # the other upload is untouched by the first completion
    assert [p["ETag"] for p in mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=first_id)["Parts"]] == \
        [first_parts[0]["ETag"]]
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"second"
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=first_id,
                                 MultipartUpload={"Parts": first_parts})
    assert mp.get_object(Bucket=mp_bucket, Key="k")["Body"].read() == b"first"


# -- DeleteBucket with uploads in progress -------------------------------------

def test_delete_bucket_takes_uploads_with_it(mp_server: Any, mp: Any, mp_bucket: str) -> None:
    before = data_files(mp_server)
    upload_id, _ = upload(mp, mp_bucket, "k", [body(MIN_PART, 1), body(MIN_PART, 2)])
    mp.create_multipart_upload(Bucket=mp_bucket, Key="other")
    assert len(data_files(mp_server) - before) == 2
    resp = mp.delete_bucket(Bucket=mp_bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert data_files(mp_server) - before == set()
    with pytest.raises(ClientError) as e:
        mp.list_multipart_uploads(Bucket=mp_bucket)
    assert error(e.value)["Code"] == "NoSuchBucket"
    mp.create_bucket(Bucket=mp_bucket)
    assert mp.list_multipart_uploads(Bucket=mp_bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as e:
        mp.list_parts(Bucket=mp_bucket, Key="k", UploadId=upload_id)
    assert error(e.value)["Code"] == "NoSuchUpload"


def test_delete_bucket_with_objects_still_refused(mp: Any, mp_bucket: str) -> None:
    upload_id, parts = upload(mp, mp_bucket, "k", [b"x"])
    mp.complete_multipart_upload(Bucket=mp_bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts})
    with pytest.raises(ClientError) as e:
        mp.delete_bucket(Bucket=mp_bucket)
    assert (error(e.value)["Code"], error(e.value)["Status"]) == ("BucketNotEmpty", 409)
