"""The de-identification Lambda: its role, log group, key secret and queue subscription.

The role is least privilege: read the raw bucket, write the de-identified and quarantine
buckets, consume the intake queue, read the de-identification key, write its own logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components import policy_documents
from deidentify import runtime
from deidentify.keys import KEY_SECRET_ARN_ENV_VAR
from deidentify.layout import CLAIMS_PREFIX, OUTCOMES_PREFIX

HANDLER = "deidentify.handler.lambda_handler"
RUNTIME = "python3.12"


@dataclass
class DeidFunctionArgs:
    function_name: str
    code: pulumi.Archive
    account_id: str
    raw_bucket_arn: pulumi.Input[str]
    deid_bucket_arn: pulumi.Input[str]
    deid_bucket_name: pulumi.Input[str]
    quarantine_bucket_arn: pulumi.Input[str]
    quarantine_bucket_name: pulumi.Input[str]
    raw_key_arn: pulumi.Input[str]
    deid_key_arn: pulumi.Input[str]
    queue_arn: pulumi.Input[str]
    log_retention_days: int
    memory_mb: int
    timeout_seconds: int
    batch_size: int
    reserved_concurrency: int
    # Where the function calls each de-identification service (botocore name -> region).
    service_regions: dict[str, str]
    profile_options: tuple[str, ...]
    pixel_backend: str
    tags: dict[str, str]


class DeidFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    key_secret: aws.secretsmanager.Secret

    def __init__(
        self, name: str, args: DeidFunctionArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:pipeline:DeidFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # The HMAC key that makes pseudonyms and UIDs consistent across invocations. Its value
        # is put in out of band (see README), so it never passes through Pulumi state.
        self.key_secret = aws.secretsmanager.Secret(
            f"{name}-pseudonym-key",
            name=f"{args.function_name}/pseudonymisation-key",
            description="HMAC key for keyed pseudonyms, UIDs and date offsets (set out of band).",
            kms_key_id=args.raw_key_arn,
            recovery_window_in_days=30,
            tags=args.tags,
            opts=child,
        )
        # Declared before the function so Lambda never auto-creates an unencrypted,
        # never-expiring group (AUD-07, ENC-05).
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.raw_key_arn,
            tags=args.tags,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=policy_documents.assume_role_by("lambda.amazonaws.com", args.account_id),
            tags=args.tags,
            opts=child,
        )
        permissions = aws.iam.RolePolicy(
            f"{name}-permissions",
            role=self.role.id,
            policy=policy_documents.document(self._statements(args)),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            name,
            name=args.function_name,
            role=self.role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            code=args.code,
            architectures=["x86_64"],
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            kms_key_arn=args.raw_key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "DEID_OUTPUT_BUCKET": args.deid_bucket_name,
                "DEID_QUARANTINE_BUCKET": args.quarantine_bucket_name,
                KEY_SECRET_ARN_ENV_VAR: self.key_secret.arn,
                runtime.COMPREHEND_MEDICAL_REGION_ENV_VAR: args.service_regions["comprehendmedical"],
                runtime.REKOGNITION_REGION_ENV_VAR: args.service_regions["rekognition"],
                runtime.PROFILE_OPTIONS_ENV_VAR: ",".join(args.profile_options),
                runtime.PIXEL_BACKEND_ENV_VAR: args.pixel_backend,
                runtime.TEXT_BACKEND_ENV_VAR: "comprehendmedical",
                # Linkage records (original identifiers -> pseudonyms) stay on the raw side.
                runtime.LINKAGE_PREFIX_ENV_VAR: runtime.DEFAULT_LINKAGE_PREFIX,
                "POWERTOOLS_SERVICE_NAME": "deidentify",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            }),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON",
                log_group=self.log_group.name,
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=args.tags,
            # The function must not start before it may read its queue and key.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permissions, self.log_group]),
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-intake",
            event_source_arn=args.queue_arn,
            function_name=self.function.arn,
            batch_size=args.batch_size,
            function_response_types=["ReportBatchItemFailures"],
            opts=child,
        )
        self.register_outputs({"functionArn": self.function.arn, "keySecretArn": self.key_secret.arn})

    def _detector_statements(self, args: DeidFunctionArgs) -> list[policy_documents.Statement]:
        """PHI detection calls. Neither API has resource ARNs, so the requested region is the
        only pin (RES-08): the home region or the declared in-jurisdiction exception."""
        detectors = [("DetectTextPhi", "comprehendmedical", "comprehendmedical:DetectPHI")]
        if args.pixel_backend == "rekognition":
            detectors.append(("DetectBurnedInText", "rekognition", "rekognition:DetectText"))
        return [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Action": [action],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": args.service_regions[service]}},
            }
            for sid, service, action in detectors
        ]

    def _statements(self, args: DeidFunctionArgs) -> list[policy_documents.Statement]:
        objects = lambda arn: pulumi.Output.concat(arn, "/*")  # noqa: E731
        return [
            {
                "Sid": "ReadRawObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": objects(args.raw_bucket_arn),
            },
            {
                "Sid": "WriteDeidentifiedAndQuarantine",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [objects(args.deid_bucket_arn), objects(args.quarantine_bucket_arn)],
            },
            {
                # Idempotency: the outcome already recorded for an object, and the claim on an
                # output name, both on the raw side. Never the de-identified bucket.
                "Sid": "ReadOwnOutcomesAndClaims",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [
                    pulumi.Output.concat(args.quarantine_bucket_arn, "/", OUTCOMES_PREFIX, "*"),
                    pulumi.Output.concat(args.quarantine_bucket_arn, "/", CLAIMS_PREFIX, "*"),
                ],
            },
            {
                # Without ListBucket a missing outcome record answers 403 instead of 404.
                "Sid": "ListQuarantineBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": args.quarantine_bucket_arn,
            },
            {
                "Sid": "ConsumeIntakeQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                "Resource": args.queue_arn,
            },
            {
                "Sid": "ReadPseudonymisationKey",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": self.key_secret.arn,
            },
            {
                # Raw side: decrypt raw objects and queue messages, encrypt quarantine copies.
                "Sid": "UseRawKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": args.raw_key_arn,
            },
            {
                # De-identified side. Decrypt is needed only because S3 multipart uploads under
                # SSE-KMS require it; without s3:GetObject there the function still cannot read.
                "Sid": "EncryptWithDeidKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": args.deid_key_arn,
            },
            *self._detector_statements(args),
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(self.log_group.arn, ":*"),
            },
            {
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ]
