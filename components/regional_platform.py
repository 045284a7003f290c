"""One region's de-identification platform: keys, buckets, intake queue, de-identification
Lambda and the audit trail to the jurisdiction's archive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components import naming, policy_documents
from components.audit_trail import AuditTrail, AuditTrailArgs
from components.deid_function import DeidFunction, DeidFunctionArgs
from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.intake_queue import IntakeQueue, IntakeQueueArgs
from components.regions import DEID_SERVICES
from components.secure_bucket import SecureBucket, SecureBucketArgs, access_log_bucket_args
from components.settings import RegionalSettings

import pulumi_aws as aws


class ArchiveMismatchError(ValueError):
    """The referenced audit stack serves another jurisdiction than this regional stack."""


@dataclass
class RegionalPlatformArgs:
    settings: RegionalSettings
    lambda_code: pulumi.Archive


class RegionalPlatform(pulumi.ComponentResource):
    raw_bucket: SecureBucket
    deidentified_bucket: SecureBucket
    quarantine_bucket: SecureBucket
    access_log_bucket: SecureBucket
    raw_key: EncryptionKey
    deid_key: EncryptionKey
    intake: IntakeQueue
    deid_function: DeidFunction
    audit_trail: AuditTrail

    def __init__(
        self, name: str, args: RegionalPlatformArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:platform:RegionalPlatform", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        self.raw_key = self._create_raw_key(name, settings, child)
        self.deid_key = EncryptionKey(
            f"{name}-deid-key",
            EncryptionKeyArgs(
                description=f"{settings.trial_id} {settings.region}: de-identified images and records",
                account_id=settings.account_id,
                alias=f"{settings.trial_id}-{settings.region}-deidentified",
                tags=settings.tags("deid"),
            ),
            opts=child,
        )

        self.access_log_bucket = self._create_access_log_bucket(name, settings, child)
        self.raw_bucket = self._bucket(name, "raw", "phi", self.raw_key, settings, child)
        self.quarantine_bucket = self._bucket(name, "quarantine", "phi", self.raw_key, settings, child)
        self.deidentified_bucket = self._bucket(name, "deidentified", "deid", self.deid_key, settings, child)

        self.intake = IntakeQueue(
            f"{name}-intake",
            IntakeQueueArgs(
                kms_key_arn=self.raw_key.arn,
                source_bucket_arn=self.raw_bucket.arn,
                account_id=settings.account_id,
                consumer_timeout_seconds=settings.deid.timeout_seconds,
                max_receive_count=settings.deid.max_receive_count,
                tags=settings.tags("phi"),
            ),
            opts=child,
        )
        aws.s3.BucketNotification(
            f"{name}-raw-events",
            bucket=self.raw_bucket.bucket.id,
            queues=[aws.s3.BucketNotificationQueueArgs(
                queue_arn=self.intake.queue.arn,
                events=["s3:ObjectCreated:*"],
            )],
            # S3 tests delivery when the notification is created: the queue policy must exist.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.intake.policy]),
        )

        self.deid_function = DeidFunction(
            f"{name}-deid",
            DeidFunctionArgs(
                function_name=naming.function_name(settings.trial_id, settings.region, "deidentify"),
                code=args.lambda_code,
                account_id=settings.account_id,
                raw_bucket_arn=self.raw_bucket.arn,
                deid_bucket_arn=self.deidentified_bucket.arn,
                deid_bucket_name=self.deidentified_bucket.name,
                quarantine_bucket_arn=self.quarantine_bucket.arn,
                quarantine_bucket_name=self.quarantine_bucket.name,
                raw_key_arn=self.raw_key.arn,
                deid_key_arn=self.deid_key.arn,
                queue_arn=self.intake.queue.arn,
                log_retention_days=settings.log_retention_days,
                memory_mb=settings.deid.memory_mb,
                timeout_seconds=settings.deid.timeout_seconds,
                batch_size=settings.deid.batch_size,
                reserved_concurrency=settings.deid.reserved_concurrency,
                service_regions={s: settings.processing_region(s) for s in DEID_SERVICES},
                profile_options=settings.deid.profile_options,
                pixel_backend=settings.deid.pixel_backend,
                tags=settings.tags("phi"),
            ),
            opts=child,
        )

        archive = pulumi.StackReference(settings.audit_stack, opts=child)
        archive_bucket = pulumi.Output.all(
            archive.require_output("jurisdiction"), archive.require_output("archiveBucketName")
        ).apply(lambda values: _same_jurisdiction(settings, values[0], values[1]))
        self.audit_trail = AuditTrail(
            f"{name}-trail",
            AuditTrailArgs(
                trail_name=naming.trail_name(settings.trial_id, settings.region),
                archive_bucket_name=archive_bucket,
                archive_key_arn=archive.require_output("archiveKeyArn"),
                data_event_bucket_names=[
                    self.raw_bucket.name,
                    self.quarantine_bucket.name,
                    self.deidentified_bucket.name,
                ],
                include_global_service_events=settings.record_global_events,
                tags=settings.tags(),
            ),
            opts=child,
        )
        self.register_outputs({
            "rawBucket": self.raw_bucket.name,
            "deidentifiedBucket": self.deidentified_bucket.name,
            "quarantineBucket": self.quarantine_bucket.name,
            "intakeQueueUrl": self.intake.queue.url,
            "deadLetterQueueUrl": self.intake.dead_letter_queue.url,
            "trailArn": self.audit_trail.trail.arn,
        })

    def _create_raw_key(
        self, name: str, settings: RegionalSettings, opts: pulumi.ResourceOptions
    ) -> EncryptionKey:
        account = {"StringEquals": {"aws:SourceAccount": settings.account_id}}
        log_groups = f"arn:aws:logs:{settings.region}:{settings.account_id}:log-group:*"
        return EncryptionKey(
            f"{name}-raw-key",
            EncryptionKeyArgs(
                description=f"{settings.trial_id} {settings.region}: raw images, records, quarantine, logs",
                account_id=settings.account_id,
                alias=f"{settings.trial_id}-{settings.region}-raw",
                tags=settings.tags("phi"),
                service_statements=[
                    # S3 encrypts event messages it sends to the KMS-encrypted intake queue.
                    policy_documents.service_may_use_key(
                        "S3SendsEncryptedEvents", "s3.amazonaws.com",
                        ["kms:GenerateDataKey", "kms:Decrypt"], account,
                    ),
                    # Server access logs are written by the S3 logging service.
                    policy_documents.service_may_use_key(
                        "S3WritesAccessLogs", "logging.s3.amazonaws.com",
                        ["kms:GenerateDataKey"], account,
                    ),
                    policy_documents.service_may_use_key(
                        "CloudWatchLogsEncryptsLogGroups", f"logs.{settings.region}.amazonaws.com",
                        ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                         "kms:Describe*"],
                        {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                    ),
                ],
            ),
            opts=opts,
        )

    def _create_access_log_bucket(
        self, name: str, settings: RegionalSettings, opts: pulumi.ResourceOptions
    ) -> SecureBucket:
        bucket_name = naming.bucket_name(settings.trial_id, settings.region, "access-logs", settings.account_id)
        return SecureBucket(
            f"{name}-access-logs",
            access_log_bucket_args(bucket_name, self.raw_key.arn, settings.account_id, settings.tags("log")),
            opts=opts,
        )

    def _bucket(
        self,
        name: str,
        role: str,
        classification: str,
        key: EncryptionKey,
        settings: RegionalSettings,
        opts: pulumi.ResourceOptions,
    ) -> SecureBucket:
        return SecureBucket(
            f"{name}-{role}",
            SecureBucketArgs(
                bucket_name=naming.bucket_name(settings.trial_id, settings.region, role, settings.account_id),
                kms_key_arn=key.arn,
                tags=settings.tags(classification),
                access_log_bucket=self.access_log_bucket.name,
            ),
            opts=opts,
        )


def _same_jurisdiction(settings: RegionalSettings, jurisdiction: str, bucket: str) -> str:
    if jurisdiction != settings.jurisdiction:
        raise ArchiveMismatchError(
            f"stacks/Pulumi.{settings.stack}.yaml: auditStack '{settings.audit_stack}' archives "
            f"jurisdiction '{jurisdiction}', but this stack is in '{settings.jurisdiction}': "
            "its trail must not leave the jurisdiction"
        )
    return bucket
