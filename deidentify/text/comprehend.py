"""Amazon Comprehend Medical DetectPHI as a PhiDetector.

Long text is cut into requests under the 20,000-byte limit on whitespace with an overlap,
short texts are packed into one request, throttling is retried with capped exponential
backoff and full jitter, and any failure past that raises TextDetectorUnavailableError so
the record is quarantined rather than passed with PHI in it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from deidentify.aws_retry import backoff_ceiling, client_without_retries
from deidentify.text.chunking import chunk_spans, pack_batches
from deidentify.text.detector import PhiEntity, TextDetectorUnavailableError, without_contained_duplicates

# DetectPHI accepts "fewer than 20,000 bytes" of UTF-8 per request.
REQUEST_BYTE_LIMIT = 20_000
DEFAULT_MAX_REQUEST_BYTES = REQUEST_BYTE_LIMIT - 1
DEFAULT_OVERLAP_CHARS = 500
# AWS advises a low threshold for PHI: a false positive costs a placeholder, a miss leaks PHI.
DEFAULT_MIN_SCORE = 0.1
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BASE_DELAY_SECONDS = 0.2
DEFAULT_MAX_DELAY_SECONDS = 8.0
RETRYABLE_ERROR_CODES = frozenset({
    "TooManyRequestsException",
    "ThrottlingException",
    "ServiceUnavailableException",
    "InternalServerException",
})


class ComprehendMedicalDetector:
    """PHI entities from DetectPHI, with character offsets into the caller's text."""

    def __init__(
        self,
        client: Any,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        overlap_chars: int = DEFAULT_OVERLAP_CHARS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay_seconds: float = DEFAULT_BASE_DELAY_SECONDS,
        max_delay_seconds: float = DEFAULT_MAX_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
        if not 16 <= max_request_bytes < REQUEST_BYTE_LIMIT:
            raise ValueError(f"max_request_bytes must be in [16, {REQUEST_BYTE_LIMIT - 1}], got {max_request_bytes}")
        # A chunk holds at least max_request_bytes / 8 characters (4-byte characters, cut at
        # the last whitespace in its second half); the overlap must be shorter.
        if not 0 <= overlap_chars * 8 < max_request_bytes:
            raise ValueError(f"overlap_chars must be below max_request_bytes / 8, got {overlap_chars}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._client = client
        self.min_score = min_score
        self.max_request_bytes = max_request_bytes
        self.overlap_chars = overlap_chars
        self.max_attempts = max_attempts
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._sleep = sleep
        self._rng = rng or random.Random()

    def detect(self, text: str) -> list[PhiEntity]:
        if not text.strip():
            return []
        found: list[PhiEntity] = []
        for span in chunk_spans(text, self.max_request_bytes, self.overlap_chars):
            chunk = text[span.begin:span.end]
            if not chunk.strip():
                continue
            for begin, end, entity_type, score in self._detect_request(chunk):
                found.append(PhiEntity(span.begin + begin, span.begin + end, entity_type, score))
        return without_contained_duplicates(found)

    def detect_many(self, texts: Sequence[str]) -> list[list[PhiEntity]]:
        """Entities per text; short texts share requests through an offset map."""
        results: list[list[PhiEntity]] = [[] for _ in texts]
        batches, alone = pack_batches(texts, self.max_request_bytes)
        for batch in batches:
            detected = self._detect_request(batch.text)
            for member, start in zip(batch.members, batch.starts):
                stop = start + len(texts[member])
                for begin, end, entity_type, score in detected:
                    # An entity reaching across the separator is clipped to each text.
                    clipped_begin, clipped_end = max(begin, start), min(end, stop)
                    if clipped_begin < clipped_end and texts[member][clipped_begin - start:clipped_end - start].strip():
                        results[member].append(
                            PhiEntity(clipped_begin - start, clipped_end - start, entity_type, score))
            for member in batch.members:
                results[member] = without_contained_duplicates(results[member])
        for member in alone:
            results[member] = self.detect(texts[member])
        return results

    def _detect_request(self, chunk: str) -> list[tuple[int, int, str, float]]:
        response = self._call_with_retries(chunk)
        entities = []
        for entity in response.get("Entities", []):
            score = float(entity.get("Score", 1.0))
            if score < self.min_score:
                continue
            begin, end = _aligned(chunk, int(entity["BeginOffset"]), int(entity["EndOffset"]), entity.get("Text"))
            if begin < end:
                entities.append((begin, end, str(entity.get("Type", "PHI")), score))
        return entities

    def _call_with_retries(self, chunk: str) -> dict[str, Any]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._client.detect_phi(Text=chunk)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", "") or "UnknownError")
                if code not in RETRYABLE_ERROR_CODES:
                    # The service's message is not repeated: it may quote the text.
                    raise TextDetectorUnavailableError(f"DetectPHI refused the request ({code})") from None
                failure = code
            except (BotoConnectionError, HTTPClientError) as error:
                failure = type(error).__name__
            except BotoCoreError as error:  # no credentials, bad region, parameter validation...
                raise TextDetectorUnavailableError(f"DetectPHI could not be called ({type(error).__name__})") from None
            if attempt < self.max_attempts:
                self._sleep(self.backoff_seconds(attempt))
        raise TextDetectorUnavailableError(f"DetectPHI still failing after {self.max_attempts} attempts ({failure})")

    def backoff_seconds(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
        return self._rng.uniform(0.0, backoff_ceiling(attempt, self._base_delay, self._max_delay))


def _aligned(chunk: str, begin: int, end: int, reported: str | None) -> tuple[int, int]:
    """Offsets into `chunk`, checked against the entity's reported text.

    DetectPHI counts characters; should a count ever disagree with Python's (characters
    outside the Basic Multilingual Plane counted twice, say), the nearest occurrence of the
    reported text is used, and failing that the reported span is kept (clipped).
    """
    begin, end = max(0, min(begin, len(chunk))), max(0, min(end, len(chunk)))
    if not reported or chunk[begin:end] == reported:
        return begin, end
    occurrences = []
    position = chunk.find(reported)
    while position != -1:
        occurrences.append(position)
        position = chunk.find(reported, position + 1)
    if not occurrences:
        return begin, end
    nearest = min(occurrences, key=lambda start: abs(start - begin))
    return nearest, nearest + len(reported)


def comprehend_medical_client(region: str | None = None) -> Any:
    """A DetectPHI client whose own retries are off: the detector's retry loop is the only one."""
    return client_without_retries("comprehendmedical", region, connect_timeout=5, read_timeout=30)
