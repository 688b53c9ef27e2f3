"""Event notification configuration: Put/GetBucketNotificationConfiguration.
Saving a configuration sends s3:TestEvent to each mapped destination; the
events themselves are emitted by the write paths through common.notify."""
from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..ops.notifications import queue, wake_deliverer
from ..protocol import notifications
from .common import configuration_body

MAX_BODY = 256 * 1024


async def put_bucket_notification_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    body = await configuration_body(req, MAX_BODY, checksum_required=False)
    notification = notifications.parse_configuration(body)
    destinations = notifications.destinations(notification)
    targets = req.config.notification_targets
    if req.headers.get("x-amz-skip-destination-validation", "").lower() != "true":
        _check_destinations([(kind, arn) for kind, arn in destinations if arn not in targets])
    empty = not notification["configs"] and not notification["eventbridge"]
    await req.store.call(req.store.set_bucket_config, req.bucket, "notification", None if empty else notification)
    message = notifications.test_event(req.bucket, time.time(), req.request_id, req.host_id)
    tests = [(targets[arn], message) for _, arn in destinations if arn in targets]
    if tests and await queue(req.store, tests, 0.0, f"s3:TestEvent for {req.bucket}"):
        wake_deliverer(req.http.app)
    return empty_response()


def _check_destinations(missing: list[tuple[str, str]]) -> None:
    """S3's answer when destinations cannot be validated: here, ARNs that
    notification_targets does not map."""
    if not missing:
        return
    fields: dict[str, Any] = {}
    for n, (kind, arn) in enumerate(missing, 1):
        fields[f"ArgumentName{n}"] = f"{arn}, null" if kind == "CloudFunction" else arn
        fields[f"ArgumentValue{n}"] = notifications.unavailable(kind, arn)
    raise S3Error("InvalidArgument", "Unable to validate the following destination configurations", **fields)


async def get_bucket_notification_configuration(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    notification = req.store.get_bucket(req.bucket).config.get("notification")
    return xml_response("NotificationConfiguration", notifications.render_configuration(notification))
