"""An S3 bucket with the settings every bucket of this product needs.

SSE-KMS under a customer-managed key with an S3 Bucket Key, versioning, all public access
blocked, ACLs disabled, a TLS-only bucket policy and server access logging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components import policy_documents
from components.policy_documents import Statement


@dataclass
class SecureBucketArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    tags: dict[str, str]
    # Where server access logs go; None only for the access-log bucket itself.
    access_log_bucket: Optional[pulumi.Input[str]] = None
    object_lock_enabled: bool = False
    extra_policy_statements: Sequence[Statement] = field(default_factory=list)


def access_log_bucket_args(
    bucket_name: str, kms_key_arn: pulumi.Input[str], account_id: str, tags: dict[str, str]
) -> SecureBucketArgs:
    """A bucket that receives S3 server access logs from this account's buckets."""
    return SecureBucketArgs(
        bucket_name=bucket_name,
        kms_key_arn=kms_key_arn,
        tags=tags,
        # Logging the log bucket into itself would loop; its reads are in CloudTrail.
        access_log_bucket=None,
        extra_policy_statements=[policy_documents.server_access_log_delivery(bucket_name, account_id)],
    )


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    # Resources that must exist before others write into the bucket.
    ready: list[pulumi.Resource]

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            force_destroy=False,
            object_lock_enabled=args.object_lock_enabled or None,
            tags=args.tags,
            # Records and audit evidence must survive a mistaken `pulumi destroy` (REC-04).
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn

        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms",
                        kms_master_key_id=args.kms_key_arn,
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=policy_documents.document([
                *policy_documents.tls_only(self.bucket.arn),
                *args.extra_policy_statements,
            ]),
            # S3 rejects a bucket policy while the public-access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.ready = [encryption, versioning, public_access, ownership, policy]
        if args.access_log_bucket is not None:
            self.ready.append(aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{args.bucket_name}/",
                opts=child,
            ))
        self.register_outputs({"name": self.name, "arn": self.arn})
