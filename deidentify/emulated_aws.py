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
    dead_letter_queue_name: str = "trial-imaging-intake-dlq"
    max_receive_count: int = 3
    queue_url: str = ""
    queue_arn: str = ""
    dead_letter_queue_url: str = ""
    key_secret_arn: str = ""
    # The engine the emulated Lambda runs: no Rekognition or Comprehend Medical in moto.
    pixel_backend: str = "signatures"
    text_backend: str = "local"
    clients: dict[str, Any] = field(default_factory=dict)
    _writes: int = 0

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=self.region)
        return self.clients[service]

    def create(self, key: bytes) -> None:
        s3 = self.client("s3")
        for bucket in (self.raw_bucket, self.deidentified_bucket, self.quarantine_bucket):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
            # As deployed (components/secure_bucket.py): events then carry object versions.
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        sqs = self.client("sqs")
        self.dead_letter_queue_url = sqs.create_queue(QueueName=self.dead_letter_queue_name)["QueueUrl"]
        dead_letter_arn = self._queue_arn(self.dead_letter_queue_url)
        self.queue_url = sqs.create_queue(
            QueueName=self.queue_name,
            Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": str(self.max_receive_count)}
            )},
        )["QueueUrl"]
        self.queue_arn = self._queue_arn(self.queue_url)
        s3.put_bucket_notification_configuration(
            Bucket=self.raw_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": self.queue_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        secret = self.client("secretsmanager").create_secret(Name="trial-imaging/deid-key", SecretBinary=key)
        self.key_secret_arn = secret["ARN"]

    def _queue_arn(self, queue_url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def handler_environment(self) -> dict[str, str]:
        from deidentify.handler import OUTPUT_BUCKET_ENV_VAR, QUARANTINE_BUCKET_ENV_VAR
        from deidentify.keys import KEY_SECRET_ARN_ENV_VAR
        from deidentify.runtime import PIXEL_BACKEND_ENV_VAR, TEXT_BACKEND_ENV_VAR

        return {
            OUTPUT_BUCKET_ENV_VAR: self.deidentified_bucket,
            QUARANTINE_BUCKET_ENV_VAR: self.quarantine_bucket,
            KEY_SECRET_ARN_ENV_VAR: self.key_secret_arn,
            PIXEL_BACKEND_ENV_VAR: self.pixel_backend,
            TEXT_BACKEND_ENV_VAR: self.text_backend,
        }

    def receive_batch(self, max_messages: int = 10, visibility_timeout: int | None = None) -> list[dict[str, Any]]:
        """A batch as Lambda's poller receives it. ``visibility_timeout=0`` makes failed
        messages visible again at once, to replay SQS retries without waiting."""
        request: dict[str, Any] = {
            "QueueUrl": self.queue_url, "MaxNumberOfMessages": max_messages, "AttributeNames": ["All"],
            "WaitTimeSeconds": 0,
        }
        if visibility_timeout is not None:
            request["VisibilityTimeout"] = visibility_timeout
        return self.client("sqs").receive_message(**request).get("Messages", [])

    def dead_letters(self) -> list[dict[str, Any]]:
        response = self.client("sqs").receive_message(
            QueueUrl=self.dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        )
        return response.get("Messages", [])

    def upload(self, key: str, body: bytes, metadata: dict[str, str] | None = None,
               content_type: str | None = None) -> dict[str, str]:
        """Put a raw object; returns what a real S3 event would carry about it (versionId,
        and a sequencer that grows with every write, as S3's does for one key)."""
        request: dict[str, Any] = {"Bucket": self.raw_bucket, "Key": key, "Body": body, "Metadata": metadata or {}}
        if content_type:
            request["ContentType"] = content_type
        response = self.client("s3").put_object(**request)
        self._writes += 1
        return {"versionId": response.get("VersionId", ""), "sequencer": f"{0x617F08299329D189 + self._writes:X}"}

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event shape of Lambda's SQS trigger."""
        return {"Records": [sqs_record(message, self.queue_arn, self.region) for message in messages]}

    def delete_succeeded(self, messages: list[dict[str, Any]], response: dict[str, Any]) -> None:
        """What the SQS trigger does after a partial-failure response."""
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self.client("sqs").delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def notify(self, key: str, event: dict[str, str]) -> None:
        """Send the S3 notification of one upload (as returned by ``upload``) to the queue again:
        a duplicate, or a late one when sent after a newer upload's."""
        body = s3_event_body(self.raw_bucket, key, self.region, event.get("versionId"), event.get("sequencer"))
        self.client("sqs").send_message(QueueUrl=self.queue_url, MessageBody=body)

    def read_json(self, bucket: str, key: str) -> dict[str, Any]:
        return json.loads(self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

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


def s3_event_body(bucket: str, key: str, region: str, version_id: str | None = None,
                  sequencer: str | None = None) -> str:
    """An S3 ObjectCreated:Put notification body, as S3 would send it."""
    from urllib.parse import quote_plus

    s3_object: dict[str, Any] = {"key": quote_plus(key)}
    if version_id:
        s3_object["versionId"] = version_id
    if sequencer:
        s3_object["sequencer"] = sequencer
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": s3_object},
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
