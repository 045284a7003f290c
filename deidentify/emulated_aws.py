"""The AWS side of the pipeline, set up inside an emulator (moto) for the demo and tests.

Creates the raw, de-identified and quarantine buckets, the intake queue with the raw
bucket's ObjectCreated notifications wired to it, and the key secret; turns received SQS
messages into the event a Lambda SQS trigger delivers. It uses plain boto3 calls, so the
caller decides which emulator is active (``moto.mock_aws``); it never creates real resources
unless run against real credentials, which nothing here does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class EmulatedPipeline:
    region: str = "eu-west-1"
    raw_bucket: str = "trial-imaging-raw"
    deidentified_bucket: str = "trial-imaging-deidentified"
    quarantine_bucket: str = "trial-imaging-quarantine"
    queue_name: str = "trial-imaging-intake"
    queue_url: str = ""
    queue_arn: str = ""
    key_secret_arn: str = ""
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=self.region)
        return self.clients[service]

    def create(self, key: bytes) -> None:
        s3 = self.client("s3")
        for bucket in (self.raw_bucket, self.deidentified_bucket, self.quarantine_bucket):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
        sqs = self.client("sqs")
        self.queue_url = sqs.create_queue(QueueName=self.queue_name)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=self.raw_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": self.queue_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        secret = self.client("secretsmanager").create_secret(Name="trial-imaging/deid-key", SecretBinary=key)
        self.key_secret_arn = secret["ARN"]

    def handler_environment(self) -> dict[str, str]:
        return {
            "DEID_OUTPUT_BUCKET": self.deidentified_bucket,
            "DEID_QUARANTINE_BUCKET": self.quarantine_bucket,
            "DEID_KEY_SECRET_ARN": self.key_secret_arn,
        }

    def receive_batch(self, max_messages: int = 10) -> list[dict[str, Any]]:
        response = self.client("sqs").receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, AttributeNames=["All"], WaitTimeSeconds=0
        )
        return response.get("Messages", [])

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event shape of Lambda's SQS trigger."""
        return {"Records": [sqs_record(message, self.queue_arn, self.region) for message in messages]}

    def delete_succeeded(self, messages: list[dict[str, Any]], response: dict[str, Any]) -> None:
        """What the SQS trigger does after a partial-failure response."""
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self.client("sqs").delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def keys(self, bucket: str) -> list[str]:
        paginator = self.client("s3").get_paginator("list_objects_v2")
        return sorted(item["Key"] for page in paginator.paginate(Bucket=bucket) for item in page.get("Contents", []))


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", hashlib.md5(message["Body"].encode()).hexdigest()),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def s3_event_body(bucket: str, key: str, region: str) -> str:
    """An S3 ObjectCreated:Put notification body, as S3 would send it."""
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": {"key": quote_plus(key)}},
    }
    return json.dumps({"Records": [record]})


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes powertools' Logger reads from a Lambda context."""

    function_name: str = "trial-imaging-deidentify"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:trial-imaging-deidentify"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 900_000
