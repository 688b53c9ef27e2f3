"""The shortest path a newcomer takes: make a bucket, put, get, list, delete."""
from typing import Any


def test_put_get_list_delete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello world")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello world"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["hello.txt"]
    s3.delete_object(Bucket=bucket, Key="hello.txt")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
