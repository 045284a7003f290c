"""Typed, validated stack settings, read once when the program starts.

Every problem stops the program with one `SettingsError` naming the key and the stack file,
before a single resource is registered.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pulumi

from components import regions
from deidentify.errors import ProfileError
from deidentify.profile import load_basic_profile
from deidentify.runtime import LAMBDA_PIXEL_BACKENDS

PROJECT = "trial-imaging"
KINDS = ("regional", "audit")

# Every key this program reads from its own namespace (each is declared in Pulumi.yaml). Any
# other key in the namespace is a typo that would otherwise silently fall back to a default.
KNOWN_KEYS = (
    "kind", "trialId", "jurisdiction", "auditStack", "logRetentionDays", "processingRegions",
    "recordGlobalEvents", "deidMemoryMb", "deidTimeoutSeconds", "deidBatchSize",
    "deidReservedConcurrency", "intakeMaxReceiveCount", "workloadAccountIds", "archiveRetentionDays",
    "deidOptions", "pixelBackend",
)

DEFAULT_PROFILE_OPTIONS = ("retain-longitudinal-modified-dates",)


# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)
DEFAULT_LOG_RETENTION_DAYS = 3653
DEFAULT_ARCHIVE_RETENTION_DAYS = 3653

_TRIAL_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_STACK_REFERENCE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class SettingsError(ValueError):
    """A stack configuration value is missing or invalid."""

    def __init__(self, key: str, problem: str, stack: str) -> None:
        self.key = key
        self.stack = stack
        super().__init__(
            f"stacks/Pulumi.{self.stack}.yaml: config key '{key}' {problem}"
        )


@dataclass(frozen=True)
class DeidFunctionSettings:
    memory_mb: int = 2048
    timeout_seconds: int = 300
    batch_size: int = 5
    reserved_concurrency: int = 10
    max_receive_count: int = 5
    profile_options: tuple[str, ...] = DEFAULT_PROFILE_OPTIONS
    pixel_backend: str = "rekognition"


@dataclass(frozen=True)
class StackSettings:
    """Settings common to every stack."""

    stack: str
    kind: str
    region: str
    jurisdiction: str
    trial_id: str
    account_ids: tuple[str, ...]

    @property
    def account_id(self) -> str:
        """The account this stack deploys into (the first allowed one)."""
        return self.account_ids[0]

    def tags(self, classification: str | None = None) -> dict[str, str]:
        tags = {
            "trial-id": self.trial_id,
            "data-residency": self.jurisdiction,
            "managed-by": f"pulumi/{PROJECT}/{self.stack}",
        }
        if classification:
            tags["data-classification"] = classification
        return tags


@dataclass(frozen=True)
class RegionalSettings(StackSettings):
    audit_stack: str = ""
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    processing_regions: dict[str, str] = field(default_factory=dict)
    record_global_events: bool = False
    deid: DeidFunctionSettings = field(default_factory=DeidFunctionSettings)

    def processing_region(self, service: str) -> str:
        """Where the Lambdas call `service`: the home region unless an exception is declared."""
        return self.processing_regions.get(service, self.region)


@dataclass(frozen=True)
class AuditSettings(StackSettings):
    workload_account_ids: tuple[str, ...] = ()
    archive_retention_days: int = DEFAULT_ARCHIVE_RETENTION_DAYS


def load_settings() -> RegionalSettings | AuditSettings:
    """Read and validate this stack's configuration from the Pulumi runtime."""

    def lookup(key: str) -> str | None:
        namespace, name = key.split(":", 1)
        return pulumi.Config(namespace).get(name)

    present = tuple(pulumi.runtime.config.CONFIG.get())
    return parse_settings(pulumi.get_stack(), lookup, present)


def parse_settings(
    stack: str, lookup: Callable[[str], str | None], present_keys: Iterable[str] = ()
) -> RegionalSettings | AuditSettings:
    """Validate settings given `lookup('<namespace>:<key>')` returning the raw config string,
    and the names of every config key the stack sets (`present_keys`)."""
    _refuse_unknown_keys(stack, present_keys)
    return _Reader(stack, lookup).read()


def _refuse_unknown_keys(stack: str, present_keys: Iterable[str]) -> None:
    for key in sorted(present_keys):
        namespace, _, name = key.partition(":")
        if namespace != PROJECT or name in KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(name, KNOWN_KEYS, n=1)
        hint = f"did you mean '{PROJECT}:{close[0]}'?" if close else f"known keys: {', '.join(KNOWN_KEYS)}"
        raise SettingsError(key, f"is not a setting of this program; {hint}", stack)


class _Namespace:
    def __init__(self, namespace: str, lookup: Callable[[str], str | None]) -> None:
        self.namespace = namespace
        self.lookup = lookup

    def get(self, name: str) -> str | None:
        return self.lookup(f"{self.namespace}:{name}")


class _Reader:
    def __init__(self, stack: str, lookup: Callable[[str], str | None]) -> None:
        self.stack = stack
        self.config = _Namespace(PROJECT, lookup)
        self.aws = _Namespace("aws", lookup)

    def fail(self, key: str, problem: str) -> SettingsError:
        return SettingsError(key, problem, self.stack)

    def read(self) -> RegionalSettings | AuditSettings:
        common = self._common()
        if common["kind"] == "audit":
            return self._audit(common)
        return self._regional(common)

    def _common(self) -> dict[str, Any]:
        kind = self._require("kind")
        if kind not in KINDS:
            raise self.fail(f"{PROJECT}:kind", f"must be one of {', '.join(KINDS)}, not '{kind}'")

        region = self.aws.get("region")
        if not region:
            raise self.fail("aws:region", "is required: the region this stack deploys into")
        jurisdiction = regions.jurisdiction_of(region)
        if jurisdiction is None:
            known = "; ".join(f"{j}: {', '.join(r)}" for j, r in regions.JURISDICTION_REGIONS.items())
            raise self.fail("aws:region", f"'{region}' is in no supported jurisdiction ({known})")
        declared = self.config.get("jurisdiction")
        if declared and declared != jurisdiction:
            raise self.fail(
                f"{PROJECT}:jurisdiction",
                f"says '{declared}' but aws:region '{region}' is in jurisdiction '{jurisdiction}'",
            )

        trial_id = self._require("trialId")
        if not _TRIAL_ID.match(trial_id):
            raise self.fail(
                f"{PROJECT}:trialId",
                "must be 1-20 lowercase letters, digits or inner hyphens (it is part of bucket names)",
            )

        return {
            "stack": self.stack,
            "kind": kind,
            "region": region,
            "jurisdiction": jurisdiction,
            "trial_id": trial_id,
            "account_ids": self._account_list("aws:allowedAccountIds", self.aws, "allowedAccountIds"),
        }

    def _regional(self, common: dict[str, Any]) -> RegionalSettings:
        audit_stack = self._require("auditStack")
        if not _STACK_REFERENCE.match(audit_stack):
            raise self.fail(
                f"{PROJECT}:auditStack",
                f"must be a stack reference '<org>/<project>/<stack>', not '{audit_stack}'",
            )

        retention = self._int("logRetentionDays", DEFAULT_LOG_RETENTION_DAYS)
        if retention not in LOG_RETENTION_DAYS:
            raise self.fail(
                f"{PROJECT}:logRetentionDays",
                f"must be one of CloudWatch's retention periods {LOG_RETENTION_DAYS}, not {retention}",
            )

        processing_regions = self._processing_regions(common["region"], common["jurisdiction"])
        deid = DeidFunctionSettings(
            memory_mb=self._int("deidMemoryMb", DeidFunctionSettings.memory_mb, 512, 10240),
            timeout_seconds=self._int("deidTimeoutSeconds", DeidFunctionSettings.timeout_seconds, 30, 900),
            batch_size=self._int("deidBatchSize", DeidFunctionSettings.batch_size, 1, 10),
            reserved_concurrency=self._int(
                "deidReservedConcurrency", DeidFunctionSettings.reserved_concurrency, 1, 1000
            ),
            max_receive_count=self._int("intakeMaxReceiveCount", DeidFunctionSettings.max_receive_count, 1, 1000),
            profile_options=self._profile_options(),
            pixel_backend=self._choice("pixelBackend", LAMBDA_PIXEL_BACKENDS, "rekognition"),
        )
        return RegionalSettings(
            **common,
            audit_stack=audit_stack,
            log_retention_days=retention,
            processing_regions=processing_regions,
            record_global_events=self._bool("recordGlobalEvents", False),
            deid=deid,
        )

    def _audit(self, common: dict[str, Any]) -> AuditSettings:
        workloads = self._account_list(f"{PROJECT}:workloadAccountIds", self.config, "workloadAccountIds")
        return AuditSettings(
            **common,
            workload_account_ids=workloads,
            archive_retention_days=self._int(
                "archiveRetentionDays", DEFAULT_ARCHIVE_RETENTION_DAYS, 1, 36500
            ),
        )

    def _processing_regions(self, home: str, jurisdiction: str) -> dict[str, str]:
        key = f"{PROJECT}:processingRegions"
        declared = self._object("processingRegions")
        resolved: dict[str, str] = {}
        for service, region in declared.items():
            if service not in regions.DEID_SERVICES:
                raise self.fail(
                    key, f"names unknown service '{service}' (known: {', '.join(regions.DEID_SERVICES)})"
                )
            if not isinstance(region, str) or regions.jurisdiction_of(region) != jurisdiction:
                raise self.fail(
                    key,
                    f"sends {service} to '{region}', outside jurisdiction '{jurisdiction}' of {home}",
                )
            if not regions.offers(region, service):
                raise self.fail(key, f"sends {service} to '{region}', which does not offer it")
            if regions.offers(home, service):
                raise self.fail(
                    key, f"declares an exception for {service}, but {home} offers it: remove the entry"
                )
            resolved[service] = region

        for service, display in regions.DEID_SERVICES.items():
            if not regions.offers(home, service) and service not in resolved:
                in_jurisdiction = sorted(
                    r for r in regions.JURISDICTION_REGIONS[jurisdiction] if regions.offers(r, service)
                )
                hint = (
                    f"declare an exception, e.g. processingRegions: {{{service}: {in_jurisdiction[0]}}}"
                    if in_jurisdiction
                    else f"no region of jurisdiction '{jurisdiction}' offers it"
                )
                raise self.fail(key, f"is missing: {home} does not offer {display}; {hint}")
        return resolved

    def _profile_options(self) -> tuple[str, ...]:
        key = f"{PROJECT}:deidOptions"
        raw = self.config.get("deidOptions")
        if raw is None:
            return DEFAULT_PROFILE_OPTIONS
        try:
            options = json.loads(raw)
        except json.JSONDecodeError:
            raise self.fail(key, "must be a list of option names") from None
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise self.fail(key, "must be a list of option names")
        # The engine's own loader judges the names and combinations, so the stack can never ask
        # the Lambda for a profile it would refuse.
        try:
            load_basic_profile().with_options(options)
        except ProfileError as error:
            raise self.fail(key, f"is not a valid profile: {error}") from None
        return tuple(dict.fromkeys(options))

    # -- typed getters ------------------------------------------------------------------------

    def _choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.config.get(name) or default
        if value not in allowed:
            raise self.fail(f"{PROJECT}:{name}", f"must be one of {', '.join(allowed)}, not '{value}'")
        return value

    def _require(self, name: str) -> str:
        value = self.config.get(name)
        if value is None or value == "":
            raise self.fail(f"{PROJECT}:{name}", "is required")
        return value

    def _int(self, name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        raw = self.config.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.fail(f"{PROJECT}:{name}", f"must be a whole number, not '{raw}'") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(f"{PROJECT}:{name}", f"must be between {low} and {high}, not {value}")
        return value

    def _bool(self, name: str, default: bool) -> bool:
        raw = self.config.get(name)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false"):
            raise self.fail(f"{PROJECT}:{name}", f"must be true or false, not '{raw}'")
        return raw.lower() == "true"

    def _object(self, name: str) -> dict[str, Any]:
        raw = self.config.get(name)
        if raw is None:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.fail(f"{PROJECT}:{name}", "must be a mapping") from None
        if not isinstance(value, dict):
            raise self.fail(f"{PROJECT}:{name}", "must be a mapping")
        return value

    def _account_list(self, key: str, config: _Namespace, name: str) -> tuple[str, ...]:
        raw = config.get(name)
        if raw is None:
            raise self.fail(key, "is required: the AWS account IDs this stack may use")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.fail(key, "must be a list of 12-digit account IDs") from None
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of 12-digit account IDs")
        accounts = tuple(str(item) for item in value)
        bad = [a for a in accounts if not _ACCOUNT_ID.match(a)]
        if bad:
            raise self.fail(key, f"has entries that are not 12-digit account IDs: {', '.join(bad)}")
        return accounts
