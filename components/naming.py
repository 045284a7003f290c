"""Physical names shared between stacks.

The audit stack must know the regional trails' ARNs before they exist (its bucket and key
policies name them), so both sides derive the names here.
"""

from __future__ import annotations

PARTITION = "aws"


def bucket_name(trial_id: str, region: str, role: str, account_id: str) -> str:
    # Bucket names are global: the account ID keeps them unique without a random suffix.
    return f"{trial_id}-{region}-{role}-{account_id}"


def archive_bucket_name(trial_id: str, jurisdiction: str, account_id: str) -> str:
    return f"{trial_id}-audit-{jurisdiction}-{account_id}"


def trail_name(trial_id: str, region: str) -> str:
    return f"{trial_id}-{region}-trail"


def trail_arn(trial_id: str, region: str, account_id: str) -> str:
    return f"arn:{PARTITION}:cloudtrail:{region}:{account_id}:trail/{trail_name(trial_id, region)}"


def function_name(trial_id: str, region: str, role: str) -> str:
    return f"{trial_id}-{region}-{role}"


def account_root_arn(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"
