"""A jurisdiction's CloudTrail archive in the central logging account.

Object Lock in COMPLIANCE mode keeps every log file immutable for the retention period, even
for the root user; the bucket and key policies let only this product's regional trails, in this
jurisdiction's regions and the named workload accounts, write into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components import naming, policy_documents
from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.regions import JURISDICTION_REGIONS
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_bucket_args
from components.settings import AuditSettings


@dataclass
class AuditArchiveArgs:
    settings: AuditSettings


class AuditArchive(pulumi.ComponentResource):
    archive_bucket: SecureBucket
    access_log_bucket: SecureBucket
    key: EncryptionKey

    def __init__(
        self, name: str, args: AuditArchiveArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:audit:AuditArchive", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        trail_arns = sorted(
            naming.trail_arn(settings.trial_id, region, account)
            for region in JURISDICTION_REGIONS[settings.jurisdiction]
            for account in settings.workload_account_ids
        )
        from_trails = {"StringEquals": {"aws:SourceArn": trail_arns}}

        self.key = EncryptionKey(
            f"{name}-key",
            EncryptionKeyArgs(
                description=f"{settings.trial_id} audit archive ({settings.jurisdiction})",
                account_id=settings.account_id,
                alias=f"{settings.trial_id}-audit-{settings.jurisdiction}",
                tags=settings.tags("audit"),
                service_statements=[
                    policy_documents.service_may_use_key(
                        "CloudTrailEncryptsLogs", "cloudtrail.amazonaws.com", ["kms:GenerateDataKey*"],
                        {
                            **from_trails,
                            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": [
                                f"arn:aws:cloudtrail:*:{account}:trail/*"
                                for account in settings.workload_account_ids
                            ]},
                        },
                    ),
                    # CloudTrail checks the key, and with an S3 Bucket Key needs Decrypt too.
                    policy_documents.service_may_use_key(
                        "CloudTrailDescribesKey", "cloudtrail.amazonaws.com",
                        ["kms:DescribeKey", "kms:Decrypt"], from_trails,
                    ),
                    policy_documents.service_may_use_key(
                        "S3WritesAccessLogs", "logging.s3.amazonaws.com", ["kms:GenerateDataKey"],
                        {"StringEquals": {"aws:SourceAccount": settings.account_id}},
                    ),
                ],
            ),
            opts=child,
        )

        log_bucket_name = naming.bucket_name(
            settings.trial_id, settings.region, "audit-access-logs", settings.account_id
        )
        self.access_log_bucket = SecureBucket(
            f"{name}-access-logs",
            access_log_bucket_args(log_bucket_name, self.key.arn, settings.account_id, settings.tags("log")),
            opts=child,
        )

        bucket_name = naming.archive_bucket_name(settings.trial_id, settings.jurisdiction, settings.account_id)
        bucket_arn = f"arn:aws:s3:::{bucket_name}"
        self.archive_bucket = SecureBucket(
            f"{name}-archive",
            SecureBucketArgs(
                bucket_name=bucket_name,
                kms_key_arn=self.key.arn,
                tags=settings.tags("audit"),
                access_log_bucket=self.access_log_bucket.name,
                object_lock_enabled=True,
                extra_policy_statements=[
                    {
                        "Sid": "CloudTrailAclCheck",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": bucket_arn,
                        "Condition": from_trails,
                    },
                    {
                        "Sid": "CloudTrailWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": [
                            f"{bucket_arn}/AWSLogs/{account}/*" for account in settings.workload_account_ids
                        ],
                        "Condition": {
                            "StringEquals": {
                                "s3:x-amz-acl": "bucket-owner-full-control",
                                "aws:SourceArn": trail_arns,
                            }
                        },
                    },
                ],
            ),
            opts=child,
        )
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-archive-lock",
            bucket=self.archive_bucket.bucket.id,
            object_lock_enabled="Enabled",
            rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                    mode="COMPLIANCE",
                    days=settings.archive_retention_days,
                ),
            ),
            # Object Lock needs versioning switched on first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.archive_bucket.ready),
        )

        self.register_outputs({
            "archiveBucketName": self.archive_bucket.name,
            "archiveKeyArn": self.key.arn,
        })
