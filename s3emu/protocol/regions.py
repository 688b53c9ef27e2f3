"""Regions: which names S3 takes as a bucket's LocationConstraint or a
ListBuckets bucket-region filter, and what a bucket reports."""
from __future__ import annotations

from typing import Final

US_EAST_1: Final = "us-east-1"

# The commercial, GovCloud and China regions S3 serves (AWS General Reference, "Service endpoints").
AWS_REGIONS: Final = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1",
    "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1",
    "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
})

# LocationConstraint aliases S3 still takes: "EU" is eu-west-1 (and GetBucketLocation answers "EU" again).
ALIASES: Final = {"EU": "eu-west-1"}


def region_of(constraint: str) -> str:
    """The region a LocationConstraint names (EU -> eu-west-1)."""
    return ALIASES.get(constraint, constraint)


def is_region(name: str, own: str) -> bool:
    """True for an AWS region, or the region the server itself is configured with."""
    return name in AWS_REGIONS or name == own


def bucket_arn(bucket: str) -> str:
    """A general-purpose bucket's ARN: it names no region and no account."""
    return f"arn:aws:s3:::{bucket}"
