"""IAM, bucket, queue and key policy statements used by several components.

Statements are plain dicts whose values may be Outputs; callers serialise a document with
`pulumi.Output.json_dumps`.
"""

from __future__ import annotations

from typing import Any, Sequence

import pulumi

from components.naming import account_root_arn

Statement = dict[str, Any]


def document(statements: Sequence[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def tls_only(bucket_arn: pulumi.Input[str]) -> list[Statement]:
    """ENC-02: refuse every request that is not TLS, and TLS older than 1.2."""
    everything = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    conditions = {
        "DenyInsecureTransport": {"Bool": {"aws:SecureTransport": "false"}},
        "DenyTlsBelow12": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }
    return [
        {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": everything,
         "Condition": condition}
        for sid, condition in conditions.items()
    ]


def server_access_log_delivery(bucket_name: str, account_id: str) -> Statement:
    """Lets S3's logging service write server access logs from this account's buckets."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket_name}/*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def key_administration(account_id: str) -> Statement:
    """The account keeps control of its key; IAM policies then grant use to principals."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(account_id)},
        "Action": "kms:*",
        "Resource": "*",
    }


def service_may_use_key(
    sid: str,
    service: str,
    actions: Sequence[str],
    conditions: dict[str, dict[str, Any]],
) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": list(actions),
        "Resource": "*",
        "Condition": conditions,
    }


def assume_role_by(service: str, account_id: str) -> pulumi.Output[str]:
    return document([
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    ])
