"""AWS Lambda entry point: ``deidentify.handler.lambda_handler``.

SQS batches of S3 ObjectCreated notifications from the raw bucket. Each message is one
batch item: a failure (AWS error, malformed message, missing configuration) is reported in
``batchItemFailures`` so only that message is retried, and after maxReceiveCount it goes to
the dead-letter queue. Logs carry outcomes, reason codes and keyed object references only.

Environment: DEID_OUTPUT_BUCKET, DEID_QUARANTINE_BUCKET, DEID_KEY_SECRET_ARN,
POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from deidentify.engine import Deidentifier
from deidentify.errors import DeidentificationError, KeyConfigurationError
from deidentify.intake import ObjectProcessor, object_refs_from_sqs_body
from deidentify.keyed import KeyedMapper
from deidentify.keys import KEY_SECRET_ARN_ENV_VAR, key_for_lambda

OUTPUT_BUCKET_ENV_VAR = "DEID_OUTPUT_BUCKET"
QUARANTINE_BUCKET_ENV_VAR = "DEID_QUARANTINE_BUCKET"

logger = Logger()
# Report every failed message instead of raising when a whole batch fails, so SQS
# retries exactly the failed messages either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class HandlerConfigurationError(RuntimeError):
    """A required environment variable is missing."""


@dataclass(frozen=True)
class HandlerSettings:
    output_bucket: str
    quarantine_bucket: str
    key_secret_arn: str

    @classmethod
    def from_environment(cls, environ: dict[str, str]) -> "HandlerSettings":
        names = (OUTPUT_BUCKET_ENV_VAR, QUARANTINE_BUCKET_ENV_VAR, KEY_SECRET_ARN_ENV_VAR)
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise HandlerConfigurationError("missing environment variables: " + ", ".join(missing))
        return cls(*(environ[name] for name in names))


@dataclass(frozen=True)
class Runtime:
    processor: ObjectProcessor
    mapper: KeyedMapper


_runtimes: dict[HandlerSettings, Runtime] = {}


def runtime_for(settings: HandlerSettings) -> Runtime:
    """One key fetch and one engine per container (and per configuration)."""
    runtime = _runtimes.get(settings)
    if runtime is None:
        key = key_for_lambda({KEY_SECRET_ARN_ENV_VAR: settings.key_secret_arn}, boto3.client)
        mapper = KeyedMapper(key)
        object_processor = ObjectProcessor(
            s3=boto3.client("s3"), deidentifier=Deidentifier(mapper),
            output_bucket=settings.output_bucket, quarantine_bucket=settings.quarantine_bucket,
        )
        runtime = _runtimes[settings] = Runtime(processor=object_processor, mapper=mapper)
    return runtime


def record_handler(record: SQSRecord) -> None:
    try:
        runtime = runtime_for(HandlerSettings.from_environment(dict(os.environ)))
        refs = object_refs_from_sqs_body(record.body)
        if not refs:
            logger.info("message ignored", extra={"message_id": record.message_id, "why": "no created object"})
        for ref in refs:
            outcome = runtime.processor.process(ref)
            logger.info(
                "object processed",
                extra={
                    "message_id": record.message_id,
                    "object_ref": runtime.mapper.reference(f"{ref.bucket}/{ref.key}"),
                    "outcome": outcome.outcome,
                    "reason": outcome.reason,
                },
            )
    except Exception as error:
        # Only the type and, for AWS errors, the error code: never a message that could
        # quote an object key or a header value.
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        reason = error.reason if isinstance(error, DeidentificationError) else ""
        # Configuration messages are written by this package and name only settings.
        detail = str(error) if isinstance(error, (HandlerConfigurationError, KeyConfigurationError)) else ""
        logger.error(
            "message failed; it will be retried",
            extra={"message_id": record.message_id, "error_type": type(error).__name__,
                   "aws_error_code": code, "reason": reason, "detail": detail},
        )
        raise


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
