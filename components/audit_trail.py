"""The regional CloudTrail trail: management events and S3 data events on every PHI bucket,
delivered with log file validation to the jurisdiction's archive in the central logging account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

Selector = aws.cloudtrail.TrailAdvancedEventSelectorArgs
Field = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs


@dataclass
class AuditTrailArgs:
    trail_name: str
    archive_bucket_name: pulumi.Input[str]
    archive_key_arn: pulumi.Input[str]
    # Buckets whose object-level reads and writes are recorded (AUD-05).
    data_event_bucket_names: Sequence[pulumi.Input[str]]
    # Global service events (IAM, STS) are recorded by one designated stack per account.
    include_global_service_events: bool
    tags: dict[str, str]


class AuditTrail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail

    def __init__(
        self, name: str, args: AuditTrailArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:audit:AuditTrail", name, None, opts)

        object_prefixes = [
            pulumi.Output.concat("arn:aws:s3:::", bucket, "/") for bucket in args.data_event_bucket_names
        ]
        self.trail = aws.cloudtrail.Trail(
            name,
            name=args.trail_name,
            s3_bucket_name=args.archive_bucket_name,
            kms_key_id=args.archive_key_arn,
            enable_log_file_validation=True,
            enable_logging=True,
            is_multi_region_trail=False,
            include_global_service_events=args.include_global_service_events,
            advanced_event_selectors=[
                Selector(
                    name="Management events",
                    field_selectors=[Field(field="eventCategory", equals=["Management"])],
                ),
                Selector(
                    name="S3 object reads and writes on PHI buckets",
                    field_selectors=[
                        Field(field="eventCategory", equals=["Data"]),
                        Field(field="resources.type", equals=["AWS::S3::Object"]),
                        Field(field="resources.ARN", starts_withs=object_prefixes),
                    ],
                ),
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"trailArn": self.trail.arn})
