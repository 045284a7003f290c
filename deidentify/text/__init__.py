"""PHI in plain-text records: detectors (Comprehend Medical, local rules) and record de-identification."""

from __future__ import annotations

from typing import Any

from deidentify.text.detector import (
    PHI_TYPES,
    PhiDetector,
    PhiEntity,
    TextDetectorUnavailableError,
    detect_many,
)
from deidentify.text.record import RecordOutcome, deidentify_record, record_patient_identity

TEXT_BACKENDS = ("comprehendmedical", "local")

__all__ = [
    "PHI_TYPES",
    "TEXT_BACKENDS",
    "PhiDetector",
    "PhiEntity",
    "RecordOutcome",
    "TextDetectorUnavailableError",
    "build_detector",
    "deidentify_record",
    "detect_many",
    "record_patient_identity",
]


def build_detector(backend: str, **options: Any) -> PhiDetector:
    """A detector by name.

    "comprehendmedical": options `client` (a boto3 comprehendmedical client) or `region`, and
    the ComprehendMedicalDetector settings (min_score, max_attempts, overlap_chars, ...).
    "local": the offline rule-based detector; option `extra_names`.
    """
    if backend == "comprehendmedical":
        from deidentify.text.comprehend import ComprehendMedicalDetector, comprehend_medical_client

        client = options.pop("client", None)
        region = options.pop("region", None)
        if client is None:
            client = comprehend_medical_client(region)
        elif region is not None:
            raise ValueError("give either a Comprehend Medical client or a region, not both")
        return ComprehendMedicalDetector(client, **options)
    if backend == "local":
        from deidentify.text.local import LocalPhiDetector

        return LocalPhiDetector(**options)
    raise ValueError(f"unknown text PHI detector backend {backend!r}; choose one of {', '.join(TEXT_BACKENDS)}")
