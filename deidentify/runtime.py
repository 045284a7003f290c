"""Which engine runs: pixel and text backends, profile options, AWS retry behaviour.

The Lambda reads these from its environment, the CLI from its arguments; both end in the
same ``EngineSettings`` and build the same engine from it (``build_toolkit``), so a file
gives the same output in AWS and on a laptop when backends, options and key agree.
Configuration errors name the variable (or option) that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deidentify.errors import ProfileError
from deidentify.keyed import KeyedMapper

PIXEL_BACKEND_ENV_VAR = "DEID_PIXEL_BACKEND"
TEXT_BACKEND_ENV_VAR = "DEID_TEXT_BACKEND"
REKOGNITION_REGION_ENV_VAR = "DEID_REKOGNITION_REGION"
COMPREHEND_MEDICAL_REGION_ENV_VAR = "DEID_COMPREHEND_MEDICAL_REGION"
PROFILE_OPTIONS_ENV_VAR = "DEID_PROFILE_OPTIONS"
LINKAGE_PREFIX_ENV_VAR = "DEID_LINKAGE_PREFIX"

LAMBDA_PIXEL_BACKENDS = ("rekognition", "signatures", "none")
LAMBDA_TEXT_BACKENDS = ("comprehendmedical", "local")
# The CLI runs offline by default; with AWS credentials it can use the Lambda's detectors too.
CLI_PIXEL_BACKENDS = ("ocr", "signatures", "none", "rekognition")
CLI_TEXT_BACKENDS = ("local", "comprehendmedical")
DEFAULT_LINKAGE_PREFIX = "linkage/"

# Every AWS client retries throttling and transient errors itself, with client-side rate
# limiting ("adaptive"); what still fails after that fails the SQS message (see handler).
AWS_MAX_ATTEMPTS = 8
AWS_RETRY_CONFIG = {"mode": "adaptive", "max_attempts": AWS_MAX_ATTEMPTS}


class ConfigurationError(RuntimeError):
    """A setting is missing or invalid; the message names the variable or option."""


def aws_client(service: str, region: str | None = None) -> Any:
    """A boto3 client with the adaptive retry configuration."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=region, config=Config(retries=dict(AWS_RETRY_CONFIG)))


def parse_options(text: str, source: str) -> frozenset[str]:
    """'a, b,,c' -> {'a','b','c'}; names are checked by the engine (ProfileError)."""
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if name and not all(ch.isalnum() or ch == "-" for ch in name):
            raise ConfigurationError(f"{source}: option name {name!r} is not a word-and-hyphen name")
    return frozenset(name for name in names if name)


@dataclass(frozen=True)
class EngineSettings:
    """Everything that decides the bytes an object de-identifies to (besides the key)."""

    pixel_backend: str
    text_backend: str
    options: frozenset[str] = frozenset()
    rekognition_region: str | None = None
    comprehend_medical_region: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> EngineSettings:
        """The Lambda's settings; defaults: Rekognition pixels, Comprehend Medical text."""
        pixel_backend = _choice(environ, PIXEL_BACKEND_ENV_VAR, LAMBDA_PIXEL_BACKENDS, "rekognition")
        text_backend = _choice(environ, TEXT_BACKEND_ENV_VAR, LAMBDA_TEXT_BACKENDS, "comprehendmedical")
        rekognition_region = environ.get(REKOGNITION_REGION_ENV_VAR, "").strip() or None
        comprehend_region = environ.get(COMPREHEND_MEDICAL_REGION_ENV_VAR, "").strip() or None
        if pixel_backend == "rekognition" and not rekognition_region:
            raise ConfigurationError(
                f"{REKOGNITION_REGION_ENV_VAR} is not set; it is required when {PIXEL_BACKEND_ENV_VAR} is rekognition"
            )
        if text_backend == "comprehendmedical" and not comprehend_region:
            raise ConfigurationError(
                f"{COMPREHEND_MEDICAL_REGION_ENV_VAR} is not set; it is required when "
                f"{TEXT_BACKEND_ENV_VAR} is comprehendmedical"
            )
        options = parse_options(environ.get(PROFILE_OPTIONS_ENV_VAR, ""), PROFILE_OPTIONS_ENV_VAR)
        return cls(pixel_backend, text_backend, options, rekognition_region, comprehend_region)

    def describe(self) -> dict[str, Any]:
        """PHI-free description for outcome records and summaries."""
        return {
            "pixel_backend": self.pixel_backend,
            "text_backend": self.text_backend,
            "options": sorted(self.options),
        }


def linkage_prefix_from_environment(environ: Mapping[str, str]) -> str:
    """$DEID_LINKAGE_PREFIX (default 'linkage/'), always ending in '/'."""
    from deidentify.layout import RESERVED_QUARANTINE_PREFIXES

    prefix = environ.get(LINKAGE_PREFIX_ENV_VAR, DEFAULT_LINKAGE_PREFIX).strip()
    if not prefix or prefix.startswith("/"):
        raise ConfigurationError(f"{LINKAGE_PREFIX_ENV_VAR} must be a non-empty key prefix not starting with '/'")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    for reserved in RESERVED_QUARANTINE_PREFIXES:
        if prefix.startswith(reserved) or reserved.startswith(prefix):
            raise ConfigurationError(f"{LINKAGE_PREFIX_ENV_VAR}={prefix!r} overlaps the quarantine bucket's {reserved!r}")
    return prefix


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = environ.get(name, "").strip().lower() or default
    if value not in allowed:
        raise ConfigurationError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return value


@dataclass
class Toolkit:
    """The engine and detectors for one key and one set of settings (one per process)."""

    mapper: KeyedMapper
    settings: EngineSettings
    deidentifier: Any
    _text_detector_factory: Callable[[], Any]
    _text_detector: Any = field(default=None, init=False)

    @property
    def text_detector(self) -> Any:
        """Built on first use, so a deployment that never sees a text record never needs it."""
        if self._text_detector is None:
            self._text_detector = self._text_detector_factory()
        return self._text_detector

    @property
    def profile_edition(self) -> str:
        return str(self.deidentifier.profile.edition)


def build_toolkit(mapper: KeyedMapper, settings: EngineSettings) -> Toolkit:
    """The engine for these settings. Unknown options => ConfigurationError naming them.

    The Rekognition and Comprehend Medical backends build their own clients from the region
    and own their retry loops (throttling with backoff, then a quarantine reason), so their
    clients are not given the adaptive retry configuration on top.
    """
    from deidentify.engine import Deidentifier
    from deidentify.pixels import build_cleaner

    if settings.pixel_backend == "rekognition":
        cleaner = build_cleaner("rekognition", region=settings.rekognition_region)
    else:
        cleaner = build_cleaner(settings.pixel_backend)
    try:
        deidentifier = Deidentifier(mapper, options=settings.options, pixel_cleaner=cleaner)
    except ProfileError as error:
        raise ConfigurationError(f"profile options {sorted(settings.options)}: {error}") from None

    def text_detector() -> Any:
        from deidentify.text import build_detector

        if settings.text_backend == "comprehendmedical":
            return build_detector("comprehendmedical", region=settings.comprehend_medical_region)
        return build_detector(settings.text_backend)

    return Toolkit(mapper=mapper, settings=settings, deidentifier=deidentifier, _text_detector_factory=text_detector)
