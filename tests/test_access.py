"""Who may do what, over HTTP: two accounts (the default one and bob) and
anonymous callers against one server, allowed and refused by ACLs, bucket
policies (explicit Deny over Allow), Object Ownership and the public access
block, as S3 decides."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import empty_bucket, fresh_bucket_name
from server import ServerProcess, make_client

BOB_ID = "222222222222"
BOB_KEY, BOB_SECRET = "AKIABOB", "bob-secret"
CONFIG = f'''
[[accounts]]
name = "bob"
account_id = "{BOB_ID}"
email = "bob@example.com"
[[accounts.keys]]
access_key = "{BOB_KEY}"
secret_key = "{BOB_SECRET}"
'''


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("access")
    (root / "s3emu.toml").write_text(CONFIG)
    server = ServerProcess(root / "data", "--config", str(root / "s3emu.toml"), "--durability", "fast",
                           "--no-access-log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(srv: ServerProcess) -> Any:
    return srv.client()


@pytest.fixture(scope="module")
def bob(srv: ServerProcess) -> Any:
    return make_client(srv.endpoint, access_key=BOB_KEY, secret_key=BOB_SECRET)


@pytest.fixture(scope="module")
def anon(srv: ServerProcess) -> Any:
    return make_client(srv.endpoint, signature_version=UNSIGNED)


@pytest.fixture(scope="module")
def ids(owner: Any, bob: Any) -> dict[str, str]:
    return {"owner": owner.list_buckets()["Owner"]["ID"], "bob": bob.list_buckets()["Owner"]["ID"]}


@pytest.fixture
def open_bucket(owner: Any) -> Iterator[str]:
    """A bucket of the default account with ACLs enabled and no public access block (S3's pre-2023 defaults)."""
    name = fresh_bucket_name("acc")
    owner.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    owner.delete_public_access_block(Bucket=name)
    owner.put_object(Bucket=name, Key="doc.txt", Body=b"hello")
    yield name
    owner.delete_bucket_policy(Bucket=name)
    empty_bucket(owner, name)


def code(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return str(e.value.response["Error"]["Code"])


def put_policy(client: Any, bucket: str, *statements: dict[str, Any]) -> None:
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                               "Statement": list(statements)}))


def test_accounts_own_their_buckets(owner: Any, bob: Any, ids: dict[str, str]) -> None:
    assert ids["owner"] == "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"  # as before accounts
    assert len(ids["bob"]) == 64 and ids["bob"] != ids["owner"]
    name = fresh_bucket_name("bob")
    bob.create_bucket(Bucket=name)
    try:
        assert name in [b["Name"] for b in bob.list_buckets()["Buckets"]]
        assert name not in [b["Name"] for b in owner.list_buckets()["Buckets"]]
        assert code(owner.create_bucket, Bucket=name) == "BucketAlreadyExists"
        bob.put_object(Bucket=name, Key="k", Body=b"x")
        listed = bob.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"][0]
        assert listed["Owner"]["ID"] == ids["bob"]
        upload = bob.create_multipart_upload(Bucket=name, Key="m")
        parts = bob.list_parts(Bucket=name, Key="m", UploadId=upload["UploadId"])
        assert parts["Initiator"] == {"ID": ids["bob"], "DisplayName": "bob"} and parts["Owner"]["ID"] == ids["bob"]
        assert code(owner.get_object, Bucket=name, Key="k") == "AccessDenied"
        assert code(owner.list_objects_v2, Bucket=name) == "AccessDenied"
        assert code(bob.get_bucket_acl, Bucket=name, ExpectedBucketOwner="000000000000") == "AccessDenied"
        assert bob.get_bucket_acl(Bucket=name, ExpectedBucketOwner=BOB_ID)["Owner"]["ID"] == ids["bob"]
    finally:
        empty_bucket(bob, name)


def test_new_buckets_enforce_ownership_and_block_public_access(owner: Any) -> None:
    client, bucket = owner, fresh_bucket_name("acc")
    client.create_bucket(Bucket=bucket)
    controls = client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert controls == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                   "RestrictPublicBuckets"), True)
    assert code(client.put_object, Bucket=bucket, Key="k", Body=b"x", ACL="public-read") \
        == "AccessControlListNotSupported"
    assert code(client.put_bucket_acl, Bucket=bucket, ACL="public-read") == "AccessControlListNotSupported"
    client.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    assert len(client.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == 1
    policy = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    assert code(put_policy, client, bucket, policy) == "AccessDenied"  # BlockPublicPolicy
    empty_bucket(client, bucket)


def test_anonymous_callers_need_a_public_grant(owner: Any, anon: Any, srv: ServerProcess, open_bucket: str) -> None:
    url = f"{srv.endpoint}/{open_bucket}/doc.txt"
    assert requests.get(url, timeout=30).status_code == 403
    assert code(anon.list_objects_v2, Bucket=open_bucket) == "AccessDenied"
    assert requests.get(f"{srv.endpoint}/no-such-bucket-here/doc.txt", timeout=30).status_code == 404
    owner.put_object_acl(Bucket=open_bucket, Key="doc.txt", ACL="public-read")
    got = requests.get(url, timeout=30)
    assert (got.status_code, got.content) == (200, b"hello")
    assert code(anon.list_objects_v2, Bucket=open_bucket) == "AccessDenied"  # the object's grant, not the bucket's
    assert code(anon.put_object, Bucket=open_bucket, Key="new", Body=b"x") == "AccessDenied"
    owner.put_bucket_acl(Bucket=open_bucket, ACL="public-read-write")
    anon.put_object(Bucket=open_bucket, Key="new", Body=b"x")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=open_bucket)["Contents"]] == ["doc.txt", "new"]
    assert requests.get(f"{srv.endpoint}/{open_bucket}/missing", timeout=30).status_code == 404  # may list
    # IgnorePublicAcls: public grants stop counting; BlockPublicAcls: new ones are refused
    owner.put_public_access_block(Bucket=open_bucket, PublicAccessBlockConfiguration={
        "IgnorePublicAcls": True, "BlockPublicAcls": True})
    assert requests.get(url, timeout=30).status_code == 403
    assert requests.get(f"{srv.endpoint}/{open_bucket}/missing", timeout=30).status_code == 403
    assert code(owner.put_object_acl, Bucket=open_bucket, Key="doc.txt", ACL="public-read") == "AccessDenied"
    owner.delete_public_access_block(Bucket=open_bucket)
    assert requests.get(url, timeout=30).status_code == 200


def test_what_anonymous_callers_may_never_do(owner: Any, anon: Any, open_bucket: str) -> None:
    """A public-read-write bucket still refuses anonymous multipart uploads and
    copies (S3's AccessDenied messages, quoted from AmazonS3Exceptions)."""
    owner.put_bucket_acl(Bucket=open_bucket, ACL="public-read-write")
    owner.put_object_acl(Bucket=open_bucket, Key="doc.txt", ACL="public-read")
    anon.put_object(Bucket=open_bucket, Key="single", Body=b"x")  # a plain PUT is what the grant allows
    for call, kwargs, message in [
        (anon.create_multipart_upload, {"Key": "big"},
         "Anonymous users cannot initiate multipart uploads.  Please authenticate."),
        (anon.copy_object, {"Key": "copy", "CopySource": {"Bucket": open_bucket, "Key": "doc.txt"}},
         "Anonymous users cannot copy objects.  Please authenticate."),
    ]:
        with pytest.raises(ClientError) as e:
            call(Bucket=open_bucket, **kwargs)
        assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == ("AccessDenied", message)
    assert "Uploads" not in owner.list_multipart_uploads(Bucket=open_bucket)
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=open_bucket)["Contents"]] == ["doc.txt", "single"]


def test_acl_grants_to_another_account(owner: Any, bob: Any, ids: dict[str, str], open_bucket: str) -> None:
    assert code(bob.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"
    owner.put_object_acl(Bucket=open_bucket, Key="doc.txt", GrantRead='emailAddress="bob@example.com"')
    grants = owner.get_object_acl(Bucket=open_bucket, Key="doc.txt")["Grants"]
    assert {"Grantee": {"ID": ids["bob"], "Type": "CanonicalUser"}, "Permission": "READ"} in grants
    assert bob.get_object(Bucket=open_bucket, Key="doc.txt")["Body"].read() == b"hello"
    assert code(bob.get_object_acl, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"  # READ is not READ_ACP
    assert code(owner.put_object_acl, Bucket=open_bucket, Key="doc.txt",
                GrantRead='emailAddress="nobody@example.com"') == "UnresolvableGrantByEmailAddress"
    # bob writes into the bucket through a bucket grant; ObjectWriter: he owns what he writes
    owner.put_bucket_acl(Bucket=open_bucket, GrantWrite=f'id="{ids["bob"]}"', GrantFullControl=f'id="{ids["owner"]}"')
    bob.put_object(Bucket=open_bucket, Key="bobs", Body=b"b")
    assert owner.get_object_acl  # the bucket owner cannot read bob's object without a grant
    assert code(owner.get_object, Bucket=open_bucket, Key="bobs") == "AccessDenied"
    bob.put_object(Bucket=open_bucket, Key="shared", Body=b"s", ACL="bucket-owner-full-control")
    assert owner.get_object(Bucket=open_bucket, Key="shared")["Body"].read() == b"s"
    owner.delete_object(Bucket=open_bucket, Key="bobs")  # the bucket owner may always delete


def test_policy_allows_and_an_explicit_deny_wins(owner: Any, bob: Any, ids: dict[str, str], open_bucket: str) -> None:
    arn = f"arn:aws:s3:::{open_bucket}"
    allow = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{BOB_ID}:root"},
             "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [arn, f"{arn}/*"]}
    put_policy(owner, open_bucket, allow)
    assert bob.get_object(Bucket=open_bucket, Key="doc.txt")["Body"].read() == b"hello"
    assert bob.list_objects_v2(Bucket=open_bucket)["KeyCount"] == 1
    assert code(bob.put_object, Bucket=open_bucket, Key="x", Body=b"x") == "AccessDenied"
    deny = {"Effect": "Deny", "Principal": {"AWS": BOB_ID}, "Action": "s3:GetObject", "Resource": f"{arn}/doc*"}
    put_policy(owner, open_bucket, allow, deny)
    assert code(bob.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"
    assert bob.list_objects_v2(Bucket=open_bucket)["KeyCount"] == 1
    # an ACL grant does not outweigh a Deny either
    owner.put_object_acl(Bucket=open_bucket, Key="doc.txt", GrantRead=f'id="{ids["bob"]}"')
    assert code(bob.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"
    # nor does owning the bucket; yet the owner may still manage the policy
    put_policy(owner, open_bucket,
               {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [arn, f"{arn}/*"]})
    assert code(owner.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"
    assert json.loads(owner.get_bucket_policy(Bucket=open_bucket)["Policy"])["Statement"][0]["Effect"] == "Deny"
    owner.delete_bucket_policy(Bucket=open_bucket)
    assert owner.get_object(Bucket=open_bucket, Key="doc.txt")["Body"].read() == b"hello"


def test_delete_objects_judges_each_key(owner: Any, bob: Any, anon: Any, open_bucket: str) -> None:
    # S3 answers 200 with an AccessDenied entry for each key the caller may not delete
    owner.put_object(Bucket=open_bucket, Key="tmp/a", Body=b"a")
    put_policy(owner, open_bucket, {"Effect": "Allow", "Principal": {"AWS": BOB_ID}, "Action": "s3:DeleteObject",
                                    "Resource": f"arn:aws:s3:::{open_bucket}/tmp/*"})
    objects = {"Objects": [{"Key": "tmp/a"}, {"Key": "doc.txt"}]}
    refused = [{"Key": "doc.txt", "Code": "AccessDenied", "Message": "Access Denied"}]
    answer = anon.delete_objects(Bucket=open_bucket, Delete=objects)
    assert answer["Errors"] == [{**refused[0], "Key": "tmp/a"}, *refused]
    answer = bob.delete_objects(Bucket=open_bucket, Delete=objects)
    assert ([d["Key"] for d in answer["Deleted"]], answer["Errors"]) == (["tmp/a"], refused)
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=open_bucket)["Contents"]] == ["doc.txt"]


def test_policy_conditions(owner: Any, bob: Any, open_bucket: str) -> None:
    arn = f"arn:aws:s3:::{open_bucket}"
    bob_principal = {"AWS": BOB_ID}
    put_policy(owner, open_bucket,
               {"Effect": "Allow", "Principal": bob_principal, "Action": "s3:ListBucket", "Resource": arn,
                "Condition": {"StringLike": {"s3:prefix": "public/*"}}},
               {"Effect": "Allow", "Principal": bob_principal, "Action": "s3:PutObject", "Resource": f"{arn}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                               "s3:RequestObjectTag/team": "blue"}}},
               {"Effect": "Allow", "Principal": bob_principal, "Action": "s3:GetObject", "Resource": f"{arn}/*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/share": "yes"},
                              "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "Bool": {"aws:SecureTransport": "false"},
                              "NumericLessThan": {"s3:signatureAge": "600000"},
                              "StringEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"}}},
               {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{arn}/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}})
    assert bob.list_objects_v2(Bucket=open_bucket, Prefix="public/")["KeyCount"] == 0
    assert code(bob.list_objects_v2, Bucket=open_bucket, Prefix="") == "AccessDenied"
    assert code(bob.put_object, Bucket=open_bucket, Key="t", Body=b"t", ACL="bucket-owner-full-control",
                Tagging="team=red") == "AccessDenied"
    assert code(bob.put_object, Bucket=open_bucket, Key="t", Body=b"t", Tagging="team=blue") == "AccessDenied"
    bob.put_object(Bucket=open_bucket, Key="t", Body=b"t", ACL="bucket-owner-full-control", Tagging="team=blue")
    owner.put_object(Bucket=open_bucket, Key="shared", Body=b"s", Tagging="share=yes")
    assert bob.get_object(Bucket=open_bucket, Key="shared")["Body"].read() == b"s"
    assert code(bob.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"  # no such tag


def test_public_policy_and_restrict_public_buckets(owner: Any, bob: Any, srv: ServerProcess,
                                                   open_bucket: str) -> None:
    arn = f"arn:aws:s3:::{open_bucket}"
    private = {"Effect": "Allow", "Principal": {"AWS": BOB_ID}, "Action": "s3:GetObject", "Resource": f"{arn}/*"}
    put_policy(owner, open_bucket, private)
    assert owner.get_bucket_policy_status(Bucket=open_bucket)["PolicyStatus"]["IsPublic"] is False
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{arn}/*"}
    put_policy(owner, open_bucket, private, public)
    assert owner.get_bucket_policy_status(Bucket=open_bucket)["PolicyStatus"]["IsPublic"] is True
    url = f"{srv.endpoint}/{open_bucket}/doc.txt"
    assert requests.get(url, timeout=30).content == b"hello"
    owner.put_public_access_block(Bucket=open_bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert requests.get(url, timeout=30).status_code == 403
    assert code(bob.get_object, Bucket=open_bucket, Key="doc.txt") == "AccessDenied"  # cross-account too
    assert owner.get_object(Bucket=open_bucket, Key="doc.txt")["Body"].read() == b"hello"
    owner.put_public_access_block(Bucket=open_bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert code(put_policy, owner, open_bucket, public) == "AccessDenied"
    owner.delete_public_access_block(Bucket=open_bucket)


@pytest.mark.parametrize(("policy", "message"), [
    ("not json", "Policies must be valid JSON and the first byte must be '{'"),
    ("{}", "Missing required field Statement"),
    ('{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"}]}',
     "Missing required field Principal"),
    ('{"Statement": [{"Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"}]}',
     "Missing required field Effect"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:Fly", "Resource": "arn:aws:s3:::B/*"}]}',
     "Policy has invalid action"),
    ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", '
     '"Resource": "arn:aws:s3:::elsewhere/*"}]}', "Policy has invalid resource"),
])
def test_malformed_policies(owner: Any, open_bucket: str, policy: str, message: str) -> None:
    with pytest.raises(ClientError) as e:
        owner.put_bucket_policy(Bucket=open_bucket,
                                Policy=policy.replace("arn:aws:s3:::B", f"arn:aws:s3:::{open_bucket}"))
    assert e.value.response["Error"] == {"Code": "MalformedPolicy", "Message": message}


def test_legacy_permissions(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--legacy-permissions", "--durability", "fast", "--no-access-log").start()
    try:
        client = server.client()
        client.create_bucket(Bucket="legacy")
        assert code(client.get_bucket_ownership_controls, Bucket="legacy") == "OwnershipControlsNotFoundError"
        assert code(client.get_public_access_block, Bucket="legacy") == "NoSuchPublicAccessBlockConfiguration"
        client.put_object(Bucket="legacy", Key="k", Body=b"public", ACL="public-read")
        assert requests.get(f"{server.endpoint}/legacy/k", timeout=30).content == b"public"
    finally:
        server.stop()
