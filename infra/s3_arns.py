"""S3 URIs from config as IAM resource ARNs."""

from __future__ import annotations

import aws_cdk as cdk


def objects_arn(s3_uri: str) -> str:
    """s3://bucket/prefix -> arn:<partition>:s3:::bucket/prefix/* (the objects under the prefix)."""
    path = s3_uri.removeprefix("s3://").rstrip("/")
    return f"arn:{cdk.Aws.PARTITION}:s3:::{path}/*"


def bucket_arn(s3_uri: str) -> str:
    """s3://bucket/prefix -> arn:<partition>:s3:::bucket."""
    return f"arn:{cdk.Aws.PARTITION}:s3:::{s3_uri.removeprefix('s3://').split('/', 1)[0]}"
