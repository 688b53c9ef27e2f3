"""`--workers 2`: two processes on one port share one store consistently."""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import platform
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

import s3emu
from rawhttp import signed_headers
from s3emu.embedded import Endpoint
from server import ServerProcess


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("workers"), "--workers", "2", "--durability", "fast",
                        "--min-part-size", "1024", "--no-access-log").start()
    yield srv
    assert srv.stop() == 0  # both workers shut down cleanly


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


def test_two_processes_serve(two_workers: ServerProcess) -> None:
    assert two_workers.proc is not None
    assert len(_children(two_workers.proc.pid)) == 2


def test_concurrent_writes_from_many_connections_agree(two_workers: ServerProcess) -> None:
    s3 = two_workers.client(max_pool_connections=16)
    s3.create_bucket(Bucket="workers")
    bodies = {f"k{i:03d}": hashlib.sha256(str(i).encode()).digest() * (i + 1) for i in range(120)}
    with cf.ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket="workers", Key=kv[0], Body=kv[1]), bodies.items()))
    listed = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="workers", PaginationConfig={
        "PageSize": 50}) for o in p.get("Contents", [])]
    assert listed == sorted(bodies)
    with cf.ThreadPoolExecutor(12) as pool:
        got = dict(pool.map(lambda k: (k, s3.get_object(Bucket="workers", Key=k)["Body"].read()), bodies))
    assert got == bodies


def test_multipart_parts_through_both_workers(two_workers: ServerProcess) -> None:
    # fresh clients open fresh connections, which the kernel spreads over the workers
    s3 = two_workers.client()
    s3.create_bucket(Bucket="workers-mpu")
    upload = s3.create_multipart_upload(Bucket="workers-mpu", Key="obj")["UploadId"]
    parts = {n: bytes([n]) * 2048 for n in range(1, 21)}

    def send(n: int) -> dict[str, Any]:
        c = two_workers.client()
        etag = c.upload_part(Bucket="workers-mpu", Key="obj", UploadId=upload, PartNumber=n, Body=parts[n])["ETag"]
        return {"PartNumber": n, "ETag": etag}

    with cf.ThreadPoolExecutor(8) as pool:
        done = sorted(pool.map(send, parts), key=lambda p: p["PartNumber"])
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="workers-mpu", Key="obj", UploadId=upload)["Parts"]] \
        == list(parts)
    s3.complete_multipart_upload(Bucket="workers-mpu", Key="obj", UploadId=upload,
                                 MultipartUpload={"Parts": done})
    body = s3.get_object(Bucket="workers-mpu", Key="obj")["Body"].read()
    assert body == b"".join(parts[n] for n in sorted(parts))


def test_conditional_create_has_one_winner_across_workers(two_workers: ServerProcess) -> None:
    s3 = two_workers.client()
    s3.create_bucket(Bucket="workers-cond")

    def attempt(i: int) -> str:
        c = two_workers.client()
        try:
            c.put_object(Bucket="workers-cond", Key="once", Body=str(i).encode(), IfNoneMatch="*")
            return "won"
        except c.exceptions.ClientError as e:
            return e.response["Error"]["Code"]

    with cf.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count("won") == 1
    assert set(outcomes) - {"won"} <= {"PreconditionFailed", "ConditionalRequestConflict"}


def test_metrics_count_every_workers_requests(two_workers: ServerProcess) -> None:
    def scrape() -> dict[str, float]:
        with requests.Session() as fresh:  # a new connection: any worker may answer
            text = fresh.get(f"{two_workers.endpoint}/_s3emu/metrics", timeout=30).text
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line and not line.startswith("#")}

    put = 's3emu_requests_total{operation="PutObject",status="200"}'
    before = scrape().get(put, 0)
    two_workers.client().create_bucket(Bucket="workers-metrics")
    for i in range(12):  # fresh clients, fresh connections, spread over the workers
        two_workers.client().put_object(Bucket="workers-metrics", Key=f"k{i}", Body=b"x" * 10)
    scrapes = [scrape() for _ in range(6)]
    assert {s[put] - before for s in scrapes} == {12}  # whichever worker answered, it counted all
    assert {s["s3emu_stored_objects"] for s in scrapes} == {s["s3emu_stored_objects"] for s in scrapes[:1]}
    assert all(s['s3emu_build_info{platform="linux",python="%s",version="%s"}' % (
        platform.python_version(), s3emu.__version__)] == 1 for s in scrapes)
    assert two_workers.proc is not None
    own = [ProcessCollectorSample(pid) for pid in [two_workers.proc.pid, *_children(two_workers.proc.pid)]]
    assert all(s["process_resident_memory_bytes"] >= sum(own) * 0.5 for s in scrapes)  # the whole server's
    assert all(s["process_start_time_seconds"] > 0 for s in scrapes)


def ProcessCollectorSample(pid: int) -> int:
    """Resident bytes of one process, from /proc."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_fault_rules_are_the_servers_not_one_workers(two_workers: ServerProcess) -> None:
    s3 = two_workers.client()
    s3.create_bucket(Bucket="workers-faults")
    s3.put_object(Bucket="workers-faults", Key="k", Body=b"v")
    admin = Endpoint(two_workers.endpoint)  # signs its admin requests with the default credentials
    rule = admin.add_fault(operation="GetObject", bucket="workers-faults", error="SlowDown")
    url = f"{two_workers.endpoint}/workers-faults/k"
    statuses = []
    for _ in range(20):  # a new connection each time: the kernel spreads them over both workers
        headers = {**signed_headers("GET", url), "Connection": "close"}
        statuses.append(requests.get(url, headers=headers, timeout=30).status_code)
    assert statuses == [503] * 20
    [counted] = [r for r in admin.faults() if r["id"] == rule["id"]]
    assert (counted["matched"], counted["fired"]) == (20, 20)  # one count, whichever worker answered
    admin.clear_faults()
    assert requests.get(url, headers=signed_headers("GET", url), timeout=30).status_code == 200


def test_a_worker_that_dies_is_replaced(two_workers: ServerProcess) -> None:
    assert two_workers.proc is not None
    before = set(_children(two_workers.proc.pid))
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    after: set[int] = set()
    while time.monotonic() < deadline:  # polled, bounded: the parent notices and starts another
        after = set(_children(two_workers.proc.pid))
        if len(after) == 2 and victim not in after:
            break
        time.sleep(0.1)
    assert len(after) == 2 and victim not in after
    assert any(f"worker {victim} was killed by signal 9 (SIGKILL)" in line for line in two_workers.output)
    s3 = two_workers.client()
    s3.create_bucket(Bucket="workers-after-death")
    for i in range(10):  # fresh clients, fresh connections: whichever worker answers serves
        two_workers.client().put_object(Bucket="workers-after-death", Key=f"k{i}", Body=b"x")
    assert s3.list_objects_v2(Bucket="workers-after-death")["KeyCount"] == 10


A, B_PART = b"a" * 1000, b"b" * 1024  # one PutObject; a two-part upload of B_PART twice
B = B_PART * 2
ETAG_A = hashlib.md5(A).hexdigest()
ETAG_B = hashlib.md5(hashlib.md5(B_PART).digest() * 2).hexdigest() + "-2"


def test_readers_see_whole_versions_while_writers_replace_them(two_workers: ServerProcess) -> None:
    """Both workers: writers replace one key (a PutObject, then a two-part upload, then a
    delete) while GET, ?partNumber GET and HEAD, and CopyObject read it. Each answer is
    one version whole, with its own ETag; each copy stores one version whole."""
    s3 = two_workers.client()
    s3.create_bucket(Bucket="workers-race")
    url = f"{two_workers.endpoint}/workers-race/k"
    done = threading.Event()
    seen: list[str] = []

    def writer(_: int) -> None:
        c = two_workers.client()
        for _ in range(25):
            c.put_object(Bucket="workers-race", Key="k", Body=A)
            upload = c.create_multipart_upload(Bucket="workers-race", Key="k")["UploadId"]
            parts = [{"PartNumber": n, "ETag": c.upload_part(Bucket="workers-race", Key="k", UploadId=upload,
                                                             PartNumber=n, Body=B_PART)["ETag"]} for n in (1, 2)]
            c.complete_multipart_upload(Bucket="workers-race", Key="k", UploadId=upload,
                                        MultipartUpload={"Parts": parts})
            c.delete_object(Bucket="workers-race", Key="k")

    def check(method: str, query: str) -> str:
        r = requests.request(method, url + query, headers=signed_headers(method, url + query), timeout=30)
        etag = r.headers.get("ETag", "").strip('"')
        body = r.content if method == "GET" else b"?" * int(r.headers.get("Content-Length", 0))
        answers = {  # every answer a whole version gives (404: between a delete and the next write)
            ("GET", ""): {(200, ETAG_A, len(A)), (200, ETAG_B, len(B)), (404, "", None)},
            ("GET", "?partNumber=1"): {(206, ETAG_A, len(A)), (206, ETAG_B, len(B_PART)), (404, "", None)},
            ("HEAD", "?partNumber=2"): {(416, "", None), (206, ETAG_B, len(B_PART)), (404, "", None)},
        }[(method, query)]
        got = (r.status_code, etag if r.status_code < 300 else "", len(body) if r.status_code < 300 else None)
        if got not in answers or (method == "GET" and r.status_code < 300 and body not in (A, B, B_PART)):
            return f"{method}{query}: {got} {body[:4]!r}"
        return "ok"

    def reader(i: int) -> None:
        n = 0
        while not done.is_set() or n < 5:
            seen.append(check(*[("GET", ""), ("GET", "?partNumber=1"), ("HEAD", "?partNumber=2")][(i + n) % 3]))
            n += 1

    def copier(i: int) -> None:
        c = two_workers.client()
        n = 0
        while not done.is_set() or n < 3:
            dst = f"copy-{i}-{n}"
            try:
                c.copy_object(Bucket="workers-race", Key=dst, CopySource={"Bucket": "workers-race", "Key": "k"})
            except c.exceptions.ClientError as e:
                seen.append("ok" if e.response["Error"]["Code"] == "NoSuchKey" else f"copy: {e.response['Error']}")
            else:
                got = c.get_object(Bucket="workers-race", Key=dst)
                body = got["Body"].read()
                whole = body in (A, B) and got["ETag"].strip('"') == hashlib.md5(body).hexdigest()
                seen.append("ok" if whole else f"copy stored {len(body)} bytes, ETag {got['ETag']}")
            n += 1

    with cf.ThreadPoolExecutor(10) as pool:
        readers = [pool.submit(reader, i) for i in range(4)] + [pool.submit(copier, i) for i in range(2)]
        for w in [pool.submit(writer, i) for i in range(3)]:
            w.result()
        done.set()
        for r in readers:
            r.result()
    assert len(seen) > 50
    assert [s for s in seen if s != "ok"] == []
