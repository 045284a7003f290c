"""Plan the stacks of one project offline: what each stack's program would register.

On top of a single program run (`runner`), the planner resolves StackReferences between stacks
of the same project (the referenced stack is planned first and its exports returned), rejects
duplicate URNs as the engine would, and adds the default `aws` provider the engine would create
(the mock monitor registers none).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compliance.capture import CapturedRun
from compliance.errors import CheckInputError, ProgramFailedError
from compliance.mocks import PlanMocks, StackReferenceOutputs
from compliance.model import CapturedResource
from compliance.project import PulumiProject, StackConfig, load_stack_config
from compliance.wire import is_secret, unwrap_secrets, wrap_secret

_DEFAULT_PROVIDER_NAME = "default"
# A program whose StackReferences keep naming new stacks is re-run once per newly planned stack;
# this bounds it (a project has far fewer stacks).
_MAX_RUNS_PER_STACK = 50


@dataclass(frozen=True)
class StackPlan:
    project: PulumiProject
    config: StackConfig
    resources: tuple[CapturedResource, ...]
    exports: dict[str, Any]  # wire form: unknown sentinels and secret wrappers kept
    notes: tuple[str, ...]

    @property
    def stack(self) -> str:
        return self.config.stack


def _first_allowed_account(config: StackConfig) -> str | None:
    raw = config.values.get("aws:allowedAccountIds")
    if raw is None or "aws:allowedAccountIds" in config.placeholder_keys:
        return None
    try:
        accounts = json.loads(raw)
    except ValueError:
        raise CheckInputError(
            f"stack file {config.file}: aws:allowedAccountIds must be a list of account IDs"
        ) from None
    if not isinstance(accounts, list) or not all(isinstance(a, str | int) for a in accounts):
        raise CheckInputError(f"stack file {config.file}: aws:allowedAccountIds must be a list of account IDs")
    return str(accounts[0]) if accounts else None


class Planner:
    """Plans stacks of one project, each at most once, in dependency order."""

    def __init__(self, project: PulumiProject, *, protected_dirs: tuple[Path, ...] = ()) -> None:
        self.project = project
        self._protected_dirs = protected_dirs
        self._stack_names = project.stack_names()
        self._plans: dict[str, StackPlan] = {}
        self._failures: dict[str, CheckInputError] = {}
        self._in_progress: list[str] = []

    @property
    def stack_names(self) -> list[str]:
        return list(self._stack_names)

    def plan(self, stack: str) -> StackPlan:
        if stack in self._plans:
            return self._plans[stack]
        if stack in self._failures:
            raise self._failures[stack]
        if stack in self._in_progress:
            chain = [*self._in_progress[self._in_progress.index(stack) :], stack]
            raise CheckInputError(f"StackReference cycle between stacks: {' -> '.join(chain)}")
        if stack not in self._stack_names:
            raise CheckInputError(
                f"unknown stack '{stack}'; stacks of project '{self.project.name}': "
                f"{', '.join(self._stack_names) or '(none)'}"
            )
        self._in_progress.append(stack)
        try:
            plan = self._plan_uncached(stack)
        except CheckInputError as error:
            self._failures[stack] = error
            raise
        finally:
            self._in_progress.pop()
        self._plans[stack] = plan
        return plan

    def _plan_uncached(self, stack: str) -> StackPlan:
        from compliance.runner import run_program  # the SDK runtime is imported only to plan

        config = load_stack_config(self.project, stack)
        default_account = _first_allowed_account(config)
        for _ in range(_MAX_RUNS_PER_STACK):
            pending: list[str] = []
            notes: set[str] = set()
            mocks = PlanMocks(
                project=self.project.name,
                stack=stack,
                default_region=config.values.get("aws:region"),
                default_account=default_account,
                resolve_stack_reference=lambda name, pending=pending, notes=notes: self._resolve_reference(
                    name, pending, notes
                ),
            )
            failure: ProgramFailedError | None = None
            captured = CapturedRun()
            try:
                captured = run_program(self.project, config, mocks, protected_dirs=self._protected_dirs)
            except ProgramFailedError as error:
                failure = error
            if pending:
                # The program read a sibling stack not planned yet: plan it, then run again so the
                # program sees its exports (a failure caused by the missing exports is moot).
                for target in dict.fromkeys(pending):
                    try:
                        self.plan(target)
                    except CheckInputError as error:
                        raise CheckInputError(
                            f"stack '{stack}': its StackReference to stack '{target}' cannot be resolved: {error}"
                        ) from None
                continue
            if failure is not None:
                raise failure
            return self._assemble(config, captured, notes)
        raise CheckInputError(f"stack '{stack}': StackReferences did not settle after {_MAX_RUNS_PER_STACK} runs")

    def _resolve_reference(self, name: str, pending: list[str], notes: set[str]) -> StackReferenceOutputs | None:
        parts = name.split("/")
        project = parts[-2] if len(parts) >= 2 else self.project.name
        target = parts[-1]
        if project != self.project.name:
            notes.add(
                f"StackReference '{name}' names another project; offline its outputs are not available "
                "and values read from it are unknown (as in a preview)"
            )
            return None
        if target not in self._stack_names:
            notes.add(
                f"StackReference '{name}' names stack '{target}', which has no stack file in this project; "
                "values read from it are unknown"
            )
            return None
        plan = self._plans.get(target)
        if plan is None:
            pending.append(target)  # planned after this run; a self/cyclic reference is caught there
            return None
        secret_names = tuple(sorted(key for key, value in plan.exports.items() if is_secret(value)))
        outputs = {key: unwrap_secrets(value) for key, value in plan.exports.items()}
        return StackReferenceOutputs(outputs=outputs, secret_output_names=secret_names)

    def _default_provider(self, config: StackConfig) -> CapturedResource:
        inputs: dict[str, Any] = {}
        for key, value in sorted(config.values.items()):
            namespace, _, name = key.partition(":")
            if namespace != "aws":
                continue
            if key in config.secret_keys:
                inputs[name] = wrap_secret(value)
            else:
                inputs[name] = value
        urn = f"urn:pulumi:{config.stack}::{self.project.name}::pulumi:providers:aws::{_DEFAULT_PROVIDER_NAME}"
        return CapturedResource(
            urn=urn,
            type="pulumi:providers:aws",
            name=_DEFAULT_PROVIDER_NAME,
            custom=True,
            inputs=inputs,
            outputs=dict(inputs),
        )

    def _assemble(self, config: StackConfig, captured: CapturedRun, run_notes: set[str]) -> StackPlan:
        stack = config.stack
        duplicates = sorted(urn for urn, count in Counter(r.urn for r in captured.registrations).items() if count > 1)
        if duplicates:
            raise CheckInputError(
                f"stack '{stack}': the program registers duplicate resource URN(s) "
                f"{', '.join(duplicates)} (the Pulumi engine rejects this: \"Duplicate resource URN\")"
            )

        resources: list[CapturedResource] = []
        default_provider: CapturedResource | None = None
        for registration in captured.registrations:
            provider = registration.provider
            if not provider and registration.custom and registration.type.startswith("aws:"):
                if default_provider is None:
                    default_provider = self._default_provider(config)
                provider = default_provider.urn
            outputs = registration.outputs
            if not registration.custom:
                # Components and the root stack: their outputs are what they registered (exports).
                outputs = captured.registered_outputs.get(registration.urn, {})
            resources.append(replace(registration, provider=provider, outputs=outputs))
        if default_provider is not None:
            resources.append(default_provider)
        resources.sort(key=lambda resource: resource.urn)

        notes = set(run_notes)
        for key in config.placeholder_keys:
            notes.add(
                f"config '{key}' is encrypted (secure:) and cannot be decrypted offline; "
                "the program got a placeholder marked secret"
            )
        if config.environments:
            notes.add(
                f"the stack file imports Pulumi ESC environment(s) {', '.join(config.environments)}; "
                "their values are not available offline"
            )
        if default_provider is not None and "region" not in default_provider.inputs:
            notes.add("aws:region is not set; the default aws provider has no region")
        return StackPlan(
            project=self.project,
            config=config,
            resources=tuple(resources),
            exports=captured.stack_outputs,
            notes=tuple(sorted(notes)),
        )
