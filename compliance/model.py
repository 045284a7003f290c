"""The result model shared by the program runner, the analyzer and the report writers.

One `StackReport` per checked stack. Its rows are one per policy x resource in scope, so a
compliance officer can go from a clause to a control to a policy to a resource and back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# Bump on any incompatible change to the JSON view (`out/<stack>.json`).
SCHEMA_VERSION = "1.0"

# Wire sentinel the Pulumi engine uses for a value not known until deployment.
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class CapturedResource:
    """One resource registration as the engine would hand it to a policy pack.

    `inputs` and `outputs` are plain JSON-like values with engine (camelCase) property names,
    exactly as on the wire: unknown values are `UNKNOWN_SENTINEL` strings and secrets keep their
    wire wrapper, so they can be turned back into protobuf Structs without loss.
    """

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None = None
    provider: str | None = None  # provider resource URN (the "::<id>" suffix removed)
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class StackIdentity:
    project: str
    stack: str
    organization: str = "organization"
    tags: dict[str, str] = field(default_factory=dict)  # stack tags, as `pulumi:tags` gives them


@dataclass(frozen=True)
class PolicyRow:
    """The result of one policy on one resource (or on the stack as a whole)."""

    policy: str
    policy_pack: str
    control_ids: tuple[str, ...]
    severity: str  # low | medium | high | critical | unspecified
    enforcement_level: str  # advisory | mandatory | remediate | disabled
    status: Status
    message: str
    urn: str
    resource_type: str
    frameworks: tuple[str, ...] = ()  # e.g. "21 CFR Part 11 11.10(e)"
    remediation: str = ""

    @property
    def blocks(self) -> bool:
        """A failed mandatory (or remediate) policy fails the run, as under the CLI."""
        return self.status is Status.FAIL and self.enforcement_level in ("mandatory", "remediate")


@dataclass(frozen=True)
class StackReport:
    identity: StackIdentity
    source: str  # "plan" (program under mocks) | "state" (stack export) | "events" (CLI event log)
    rows: tuple[PolicyRow, ...]
    resource_count: int
    generated_at: str  # ISO 8601 UTC
    versions: dict[str, str] = field(default_factory=dict)  # tool, pack, pulumi, pulumi-aws ...
    notes: tuple[str, ...] = ()  # e.g. declared processing-region exceptions
    # Which policy config the run used: {"source": path | "pack defaults", "sha256": ...,
    # "levels": {policy: enforcement level}}, so a PASS under advisory levels is never mistaken
    # for a PASS under mandatory ones.
    policy_config: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(row.blocks for row in self.rows)

    def count(self, status: Status) -> int:
        return sum(1 for row in self.rows if row.status is status)
