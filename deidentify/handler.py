"""AWS Lambda entry point: ``deidentify.handler.lambda_handler``.

SQS batches of S3 ObjectCreated notifications from the raw bucket. Each message is one
batch item: a failure (AWS error after the client's own retries, malformed message, missing
configuration, unexpected error) is reported in ``batchItemFailures`` every time, so only
that message is retried, and after maxReceiveCount it goes to the dead-letter queue. A
message that failed on throttling is also hidden for longer on each attempt (exponential
backoff through its visibility timeout). Logs carry outcomes, reason codes and keyed object
references only.

Environment: DEID_OUTPUT_BUCKET, DEID_QUARANTINE_BUCKET, DEID_KEY_SECRET_ARN,
DEID_PIXEL_BACKEND, DEID_TEXT_BACKEND, DEID_REKOGNITION_REGION, DEID_COMPREHEND_MEDICAL_REGION,
DEID_PROFILE_OPTIONS, DEID_LINKAGE_PREFIX, POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from deidentify.errors import DeidentificationError, KeyConfigurationError
from deidentify.intake import ObjectProcessor, failure_reason, object_refs_from_sqs_body
from deidentify.keyed import KeyedMapper
from deidentify.keys import KEY_SECRET_ARN_ENV_VAR, key_for_lambda
from deidentify.runtime import (
    ConfigurationError,
    EngineSettings,
    aws_client,
    build_toolkit,
    linkage_prefix_from_environment,
)

OUTPUT_BUCKET_ENV_VAR = "DEID_OUTPUT_BUCKET"
QUARANTINE_BUCKET_ENV_VAR = "DEID_QUARANTINE_BUCKET"

THROTTLING_ERROR_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "SlowDown",
    "RequestLimitExceeded", "ProvisionedThroughputExceededException", "RequestThrottled",
    "RequestThrottledException", "LimitExceededException",
})
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 900

logger = Logger()
# Report every failed message instead of raising when a whole batch fails, so SQS
# retries exactly the failed messages either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class HandlerConfigurationError(ConfigurationError):
    """A required environment variable is missing or invalid."""


@dataclass(frozen=True)
class HandlerSettings:
    output_bucket: str
    quarantine_bucket: str
    key_secret_arn: str
    engine: EngineSettings
    linkage_prefix: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> HandlerSettings:
        names = (OUTPUT_BUCKET_ENV_VAR, QUARANTINE_BUCKET_ENV_VAR, KEY_SECRET_ARN_ENV_VAR)
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise HandlerConfigurationError("missing environment variables: " + ", ".join(missing))
        return cls(
            *(environ[name] for name in names),
            engine=EngineSettings.from_environment(environ),
            linkage_prefix=linkage_prefix_from_environment(environ),
        )


@dataclass(frozen=True)
class Runtime:
    processor: ObjectProcessor


_runtimes: dict[HandlerSettings, Runtime] = {}


def runtime_for(settings: HandlerSettings) -> Runtime:
    """One key fetch and one engine per container (and per configuration)."""
    runtime = _runtimes.get(settings)
    if runtime is None:
        key = key_for_lambda({KEY_SECRET_ARN_ENV_VAR: settings.key_secret_arn}, lambda service: aws_client(service))
        object_processor = ObjectProcessor(
            s3=aws_client("s3"), toolkit=build_toolkit(KeyedMapper(key), settings.engine),
            output_bucket=settings.output_bucket, quarantine_bucket=settings.quarantine_bucket,
            linkage_prefix=settings.linkage_prefix,
        )
        runtime = _runtimes[settings] = Runtime(processor=object_processor)
    return runtime


def record_handler(record: SQSRecord) -> None:
    try:
        runtime = runtime_for(HandlerSettings.from_environment(os.environ))
        refs = object_refs_from_sqs_body(record.body)
        if not refs:
            logger.info("message ignored", extra={"message_id": record.message_id, "why": "no created object"})
        for ref in refs:
            outcome = runtime.processor.process(ref)
            logger.info(
                "object skipped" if outcome.outcome == "skipped" else "object processed",
                extra={
                    "message_id": record.message_id,
                    "object_ref": outcome.object_ref,
                    "outcome": outcome.outcome,
                    "reason": outcome.reason,
                },
            )
    except Exception as error:
        # Only the type and, for AWS errors, the error code: never a message that could
        # quote an object key or a header value.
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        reason = error.reason if isinstance(error, DeidentificationError) else failure_reason(error)
        # Configuration messages are written by this package and name only settings.
        detail = str(error) if isinstance(error, (ConfigurationError, KeyConfigurationError)) else ""
        throttled = code in THROTTLING_ERROR_CODES
        logger.error(
            "message failed; it will be retried",
            extra={"message_id": record.message_id, "error_type": type(error).__name__,
                   "aws_error_code": code, "reason": reason, "detail": detail, "throttled": throttled,
                   "receive_count": _receive_count(record)},
        )
        if throttled:
            _back_off(record)
        raise


def backoff_seconds(receive_count: int, jitter: float) -> int:
    """Exponential in the number of receives, capped, with jitter in [0, 1) of one base step."""
    exponent = max(receive_count - 1, 0)
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(exponent, 10) + int(jitter * BACKOFF_BASE_SECONDS))


def queue_url_from_arn(queue_arn: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> -> the queue URL."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError("not an SQS queue ARN")
    _, partition, _, region, account, name = parts
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def _receive_count(record: SQSRecord) -> int:
    try:
        return int(record.attributes.approximate_receive_count or 1)
    except (TypeError, ValueError):
        return 1


def _back_off(record: SQSRecord) -> None:
    """Hide a throttled message for longer on each receive. Best effort: the message is
    reported failed either way."""
    try:
        seconds = backoff_seconds(_receive_count(record), random.random())
        # A client per backoff: rare (throttled messages only).
        aws_client("sqs", record.aws_region).change_message_visibility(
            QueueUrl=queue_url_from_arn(record.event_source_arn), ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=seconds,
        )
        logger.info("throttled message backed off", extra={"message_id": record.message_id, "seconds": seconds})
    except Exception as error:  # noqa: BLE001 - best effort; the message fails either way
        logger.warning("backoff not applied", extra={"message_id": record.message_id,
                                                     "error_type": type(error).__name__})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
