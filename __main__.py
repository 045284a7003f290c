"""trial-imaging: one stack per AWS region keeps patient data inside its jurisdiction.

A `regional` stack deploys the de-identification platform of one region (KMS keys, raw,
quarantine, de-identified and access-log buckets, the intake queue, the de-identification
Lambda and a CloudTrail trail). An `audit` stack deploys a jurisdiction's CloudTrail archive in
the central logging account. The stack's `kind` config chooses which.
"""

import pulumi
import pulumi_aws as aws

from components import lambda_package
from components.audit_archive import AuditArchive, AuditArchiveArgs
from components.regional_platform import RegionalPlatform, RegionalPlatformArgs
from components.settings import AuditSettings, load_settings

settings = load_settings()

provider = aws.Provider(
    f"aws-{settings.region}",
    region=settings.region,
    allowed_account_ids=list(settings.account_ids),
    default_tags=aws.ProviderDefaultTagsArgs(tags=settings.tags()),
)
opts = pulumi.ResourceOptions(providers=[provider])

if isinstance(settings, AuditSettings):
    archive = AuditArchive("audit", AuditArchiveArgs(settings=settings), opts=opts)
    pulumi.export("jurisdiction", settings.jurisdiction)
    pulumi.export("archiveBucketName", archive.archive_bucket.name)
    pulumi.export("archiveKeyArn", archive.key.arn)
else:
    platform = RegionalPlatform(
        "platform",
        RegionalPlatformArgs(
            settings=settings,
            lambda_code=pulumi.FileArchive(str(lambda_package.build())),
        ),
        opts=opts,
    )
    pulumi.export("jurisdiction", settings.jurisdiction)
    pulumi.export("rawBucket", platform.raw_bucket.name)
    pulumi.export("deidentifiedBucket", platform.deidentified_bucket.name)
    pulumi.export("quarantineBucket", platform.quarantine_bucket.name)
    pulumi.export("intakeQueueUrl", platform.intake.queue.url)
    pulumi.export("deadLetterQueueUrl", platform.intake.dead_letter_queue.url)
    pulumi.export("deidFunctionName", platform.deid_function.function.name)
    pulumi.export("pseudonymisationKeySecretArn", platform.deid_function.key_secret.arn)
    pulumi.export("trailArn", platform.audit_trail.trail.arn)
    pulumi.export("processingRegionExceptions", settings.processing_regions)
