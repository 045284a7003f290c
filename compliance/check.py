"""`check`: plan stacks offline and evaluate them with the policy pack, one StackReport each."""

from __future__ import annotations

import datetime
import importlib.metadata
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import compliance
from compliance.errors import CheckInputError, ProgramFailedError
from compliance.model import CapturedResource, PolicyRow, StackIdentity, StackReport
from compliance.planner import Planner, StackPlan
from compliance.project import PulumiProject, stack_tags

SOURCE_PLAN = "plan"
# A stack export by which the program declares services processed outside the home region (inside
# the jurisdiction); reports show it, as DESIGN.md requires.
PROCESSING_REGIONS_EXPORT = "processingRegionExceptions"
_DISTRIBUTIONS = ("pulumi", "pulumi-aws", "pulumi-policy")


class Analyzer(Protocol):
    """What `compliance.analyzer.PackAnalyzer` offers (kept as a protocol so tests can swap it)."""

    name: str
    version: str

    def analyze(self, resources: Sequence[CapturedResource], identity: StackIdentity) -> list[PolicyRow]: ...


@dataclass(frozen=True)
class StackFailure:
    """A stack that could not be planned or checked: no report is written for it."""

    stack: str
    message: str
    detail: str = ""  # traceback, shown with --verbose only


@dataclass
class CheckOutcome:
    reports: list[StackReport] = field(default_factory=list)
    failures: list[StackFailure] = field(default_factory=list)


def tool_versions(analyzer: Analyzer) -> dict[str, str]:
    versions = {"tool": compliance.__version__, "policyPack": f"{analyzer.name}@{analyzer.version}"}
    for distribution in _DISTRIBUTIONS:
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[distribution] = "not installed"
    return versions


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def identity_of(plan: StackPlan) -> StackIdentity:
    return StackIdentity(project=plan.project.name, stack=plan.stack, tags=stack_tags(plan.project, plan.config))


def declared_exceptions(plan: StackPlan) -> tuple[str, ...]:
    exceptions = plan.exports.get(PROCESSING_REGIONS_EXPORT)
    if not isinstance(exceptions, dict) or not exceptions:
        return ()
    listed = ", ".join(f"{service} in {region}" for service, region in sorted(exceptions.items()))
    return (f"declared processing-region exception(s): {listed}",)


def report_for(
    plan: StackPlan,
    analyzer: Analyzer,
    versions: Mapping[str, str],
    policy_config: Mapping[str, Any] | None = None,
) -> StackReport:
    identity = identity_of(plan)
    rows = analyzer.analyze(plan.resources, identity)
    return StackReport(
        identity=identity,
        source=SOURCE_PLAN,
        rows=tuple(rows),
        resource_count=len(plan.resources),
        generated_at=utc_now(),
        versions=dict(versions),
        notes=declared_exceptions(plan) + plan.notes,
        policy_config=dict(policy_config or {}),
    )


def select_stacks(project: PulumiProject, requested: Sequence[str]) -> list[str]:
    """The stacks to check, in the order given (all of the project's, sorted, when none)."""
    available = project.stack_names()
    if not requested:
        if not available:
            raise CheckInputError(f"project '{project.name}' has no stack files in {project.stack_config_dir}")
        return available
    unknown = [stack for stack in requested if stack not in available]
    if unknown:
        raise CheckInputError(
            f"unknown stack(s) {', '.join(repr(s) for s in unknown)}; stacks of project "
            f"'{project.name}': {', '.join(available) or '(none)'}"
        )
    return list(dict.fromkeys(requested))


def check_stacks(
    project: PulumiProject,
    stacks: Sequence[str],
    analyzer: Analyzer,
    *,
    protected_dirs: tuple[Path, ...] = (),
    policy_config: Mapping[str, Any] | None = None,
    on_stack_start: Callable[[str], Any] | None = None,
    on_stack_done: Callable[[str, StackReport | StackFailure], Any] | None = None,
) -> CheckOutcome:
    """Plan and evaluate each stack; a stack that cannot be planned is a failure, not a report."""
    planner = Planner(project, protected_dirs=protected_dirs)
    versions = tool_versions(analyzer)
    outcome = CheckOutcome()
    for stack in stacks:
        if on_stack_start:
            on_stack_start(stack)
        result: StackReport | StackFailure
        try:
            plan = planner.plan(stack)
        except ProgramFailedError as error:
            detail = error.traceback_text
            message = str(error) if error.stack == stack else f"stack '{stack}': {error}"
            result = StackFailure(stack, message, detail)
        except CheckInputError as error:
            result = StackFailure(stack, str(error))
        else:
            try:
                result = report_for(plan, analyzer, versions, policy_config)
            except CheckInputError as error:
                result = StackFailure(stack, f"stack '{stack}': {error}")
            except Exception as error:  # noqa: BLE001 - a policy that crashes must not pass silently
                result = StackFailure(
                    stack,
                    f"stack '{stack}': policy evaluation failed: {type(error).__name__}: {error}",
                    traceback.format_exc(),
                )
        if isinstance(result, StackFailure):
            outcome.failures.append(result)
        else:
            outcome.reports.append(result)
        if on_stack_done:
            on_stack_done(stack, result)
    return outcome
