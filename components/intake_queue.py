"""The queue between the raw bucket and the de-identification Lambda, with its dead-letter queue.

S3 delivers object-created events here; a message that keeps failing moves to the dead-letter
queue after `max_receive_count` receives, so no raw object is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components import policy_documents

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to investigate failures
# AWS recommends a visibility timeout of six times the consumer's timeout for Lambda.
VISIBILITY_TIMEOUT_FACTOR = 6


@dataclass
class IntakeQueueArgs:
    kms_key_arn: pulumi.Input[str]
    source_bucket_arn: pulumi.Input[str]
    account_id: str
    consumer_timeout_seconds: int
    max_receive_count: int
    tags: dict[str, str]


class IntakeQueue(pulumi.ComponentResource):
    queue: aws.sqs.Queue
    dead_letter_queue: aws.sqs.Queue
    policy: aws.sqs.QueuePolicy

    def __init__(
        self, name: str, args: IntakeQueueArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:pipeline:IntakeQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            tags=args.tags,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            name,
            kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
            visibility_timeout_seconds=args.consumer_timeout_seconds * VISIBILITY_TIMEOUT_FACTOR,
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            redrive_policy=pulumi.Output.json_dumps({
                "deadLetterTargetArn": self.dead_letter_queue.arn,
                "maxReceiveCount": args.max_receive_count,
            }),
            tags=args.tags,
            opts=child,
        )
        self.policy = aws.sqs.QueuePolicy(
            f"{name}-policy",
            queue_url=self.queue.url,
            policy=policy_documents.document([
                {
                    "Sid": "RawBucketSendsObjectEvents",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": self.queue.arn,
                    "Condition": {
                        "ArnEquals": {"aws:SourceArn": args.source_bucket_arn},
                        "StringEquals": {"aws:SourceAccount": args.account_id},
                    },
                }
            ]),
            opts=child,
        )
        self.register_outputs({
            "queueArn": self.queue.arn,
            "deadLetterQueueArn": self.dead_letter_queue.arn,
        })
