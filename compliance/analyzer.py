"""Runs a Pulumi policy pack in process through pulumi-policy's own analyzer servicer.

`PackAnalyzer` loads a pack directory the way the CLI does (its `__main__.py`, with `PolicyPack`
patched so it does not start a gRPC server and block), reconciles the policy config like the CLI
(schema defaults -> pack `initial_config` -> config file, "all" included -> JSON-schema
validation -> `Configure` with every policy and an explicit level), and then drives
`_PolicyAnalyzerServicer.Analyze` per resource and `AnalyzeStack` once. Policy semantics (levels,
not-applicable, unknown values) therefore stay the SDK's own.

Rows (`PolicyRow`), one per policy x resource in scope:
- resource policies: every resource whose type matches the policy's `resource_types` (exact tokens
  or fnmatch patterns; a policy without them covers every resource) gets one row: fail when it
  reported a violation, not-applicable when it called `not_applicable`, indeterminate when the SDK
  reported "can't run policy ... during preview", else pass. A violation on a resource outside
  `resource_types` still gets a fail row.
- stack policies: one fail row per URN named in a violation (violations without a URN go to the
  root stack URN), one indeterminate / not-applicable row for the stack when the SDK says so, and
  one pass row for the stack when the policy ran and nothing failed.
Several violations of one policy on one URN are joined into one message. The enforcement level of
every row is the policy's configured level; disabled policies produce no rows.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import jsonschema
import pulumi_policy
import pulumi_policy.policy as policy_module
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Policy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from compliance.model import CapturedResource, PolicyRow, StackIdentity, Status

_SDK_POLICY_PACK = policy_module.PolicyPack
SDK_DEFAULT_VERSION = "0.0.1"  # what the SDK reports when PulumiPolicy.yaml has no version
ALL_POLICIES_KEY = "all"
ENFORCEMENT_LEVEL_KEY = "enforcementLevel"
# Set by the CLI for a pack process; in this process they would make Analyze replace the global
# Pulumi settings (and with them a mock monitor) and merge stack config into the runtime.
_RUNTIME_ENV_VARS = ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_CONFIG", "PULUMI_ORGANIZATION")

_LEVEL_TO_PROTO = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}
_PROTO_TO_LEVEL = {value: key for key, value in _LEVEL_TO_PROTO.items()}


class PolicyConfigError(ValueError):
    """The policy pack configuration is invalid; the message names the policy and the key."""


class PolicyPackLoadError(ValueError):
    """The directory is not a loadable policy pack."""


class PolicyExecutionError(RuntimeError):
    """A policy raised while validating; the original exception is the cause."""


@dataclass
class _PolicyConfig:
    enforcement_level: str
    properties: dict[str, Any] = field(default_factory=dict)


class _CapturedPolicyPack:
    """Stands in for `pulumi_policy.PolicyPack` while the pack's `__main__.py` runs."""

    captured: list[dict[str, Any]] = []

    def __init__(self, name: str, policies: list[Policy], enforcement_level: EnforcementLevel | None = None,
                 initial_config: dict[str, Any] | None = None, description: str | None = None,
                 display_name: str | None = None, readme: str | None = None, provider: str | None = None,
                 tags: list[str] | None = None, repository: str | None = None) -> None:
        _CapturedPolicyPack.captured.append(dict(
            name=name, policies=policies, enforcement_level=enforcement_level, initial_config=initial_config,
            description=description, display_name=display_name, readme=readme, provider=provider, tags=tags,
            repository=repository,
        ))


class PackAnalyzer:
    """One policy pack, loaded and configured, ready to analyze captured stacks."""

    name: str
    version: str

    def __init__(self, pack_dir: Path, policy_config: Mapping[str, Any] | None = None) -> None:
        self._pack_dir = Path(pack_dir).resolve()
        self.version = _read_pack_version(self._pack_dir)
        pack_args = _load_pack_arguments(self._pack_dir)
        self.name = pack_args["name"]
        self._pack_args = pack_args
        self._policies: list[Policy] = list(pack_args["policies"])
        info = self._new_servicer(self._policies).GetAnalyzerInfo(empty_pb2.Empty(), None)
        self._config = _reconcile_config(info, policy_config or {})
        self._servicers = {policy.name: self._new_servicer([policy]) for policy in self._policies}
        configure_request = _configure_request(self._config)
        for servicer in self._servicers.values():
            servicer.Configure(configure_request, None)

    @property
    def policies(self) -> tuple[Policy, ...]:
        return tuple(self._policies)

    def enforcement_level(self, policy_name: str) -> str:
        return self._config[policy_name].enforcement_level

    def analyze(self, resources: Sequence[CapturedResource], identity: StackIdentity) -> list[PolicyRow]:
        by_urn = {resource.urn: resource for resource in resources}
        stack_urn = next((r.urn for r in resources if r.type == "pulumi:pulumi:Stack"), _root_stack_urn(identity))
        stack_request = proto.AnalyzerStackConfigureRequest(
            stack=identity.stack, project=identity.project, organization=identity.organization, dry_run=True,
            tags=dict(identity.tags),
        )
        analyze_requests = [(resource, _analyze_request(resource, by_urn)) for resource in resources]
        stack_analyze_request = proto.AnalyzeStackRequest(
            resources=[_stack_resource(resource, by_urn) for resource in resources]
        )

        rows: list[PolicyRow] = []
        with _clean_runtime_env():
            for policy in self._policies:
                level = self.enforcement_level(policy.name)
                if level == "disabled":
                    continue
                servicer = self._servicers[policy.name]
                servicer.ConfigureStack(stack_request, None)
                if isinstance(policy, StackValidationPolicy):
                    response = _call(policy, "the stack", servicer.AnalyzeStack, stack_analyze_request)
                    rows.extend(self._stack_rows(policy, level, response, stack_urn, by_urn))
                else:
                    for resource, request in analyze_requests:
                        response = _call(policy, resource.urn, servicer.Analyze, request)
                        rows.extend(self._resource_rows(policy, level, response, resource, by_urn))
        return rows

    def _new_servicer(self, policies: list[Policy]) -> _PolicyAnalyzerServicer:
        args = self._pack_args
        return _PolicyAnalyzerServicer(
            args["name"], self.version, policies,
            args["enforcement_level"] or EnforcementLevel.ADVISORY,
            args["initial_config"], args["description"], args["display_name"], args["readme"],
            args["provider"], args["tags"], args["repository"],
        )

    def _resource_rows(self, policy: Policy, level: str, response: Any, resource: CapturedResource,
                       by_urn: Mapping[str, CapturedResource]) -> list[PolicyRow]:
        failures, indeterminate = _split_diagnostics(policy, response, default_urn=resource.urn)
        not_applicable = [na.reason for na in response.not_applicable if na.policy_name == policy.name]
        rows = [self._row(policy, level, Status.FAIL, "; ".join(messages), urn, by_urn)
                for urn, messages in failures.items()]
        if resource.urn in failures or not _in_scope(policy, resource.type):
            return rows
        if indeterminate:
            rows.append(self._row(policy, level, Status.INDETERMINATE, "; ".join(indeterminate), resource.urn, by_urn))
        elif not_applicable:
            rows.append(self._row(policy, level, Status.NOT_APPLICABLE, not_applicable[0], resource.urn, by_urn))
        else:
            rows.append(self._row(policy, level, Status.PASS, "", resource.urn, by_urn))
        return rows

    def _stack_rows(self, policy: Policy, level: str, response: Any, stack_urn: str,
                    by_urn: Mapping[str, CapturedResource]) -> list[PolicyRow]:
        failures, indeterminate = _split_diagnostics(policy, response, default_urn=stack_urn)
        failures = _attribute_unknown_urns(failures, by_urn, stack_urn)
        not_applicable = [na.reason for na in response.not_applicable if na.policy_name == policy.name]
        rows = [self._row(policy, level, Status.FAIL, "; ".join(messages), urn, by_urn)
                for urn, messages in failures.items()]
        if indeterminate:
            rows.append(self._row(policy, level, Status.INDETERMINATE, "; ".join(indeterminate), stack_urn, by_urn))
        elif not_applicable:
            rows.append(self._row(policy, level, Status.NOT_APPLICABLE, not_applicable[0], stack_urn, by_urn))
        elif not failures:
            rows.append(self._row(policy, level, Status.PASS, "", stack_urn, by_urn))
        return rows

    def _row(self, policy: Policy, level: str, status: Status, message: str, urn: str,
             by_urn: Mapping[str, CapturedResource]) -> PolicyRow:
        resource = by_urn.get(urn)
        return PolicyRow(
            policy=policy.name,
            policy_pack=self.name,
            control_ids=tuple(getattr(policy, "control_ids", ()) or ()),
            severity=policy.severity.value if policy.severity is not None else "unspecified",
            enforcement_level=level,
            status=status,
            message=message,
            urn=urn,
            resource_type=resource.type if resource is not None else _type_from_urn(urn),
            frameworks=_frameworks(policy),
            remediation=policy.remediation_steps or "",
        )


# --- loading ---------------------------------------------------------------------------------------

def _read_pack_version(pack_dir: Path) -> str:
    project_file = pack_dir / "PulumiPolicy.yaml"
    if not project_file.is_file():
        raise PolicyPackLoadError(f"{pack_dir}: no PulumiPolicy.yaml, so this is not a policy pack directory")
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise PolicyPackLoadError(f"{project_file}: not valid YAML: {error}") from error
    if not isinstance(project, dict):
        raise PolicyPackLoadError(f"{project_file}: expected a mapping at the top level")
    version = project.get("version")
    return str(version) if version else SDK_DEFAULT_VERSION


def _load_pack_arguments(pack_dir: Path) -> dict[str, Any]:
    if not (pack_dir / "__main__.py").is_file():
        raise PolicyPackLoadError(f"{pack_dir}: no __main__.py to build the PolicyPack")
    parent = str(pack_dir.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    _CapturedPolicyPack.captured = []
    pulumi_policy.PolicyPack = _CapturedPolicyPack  # type: ignore[misc]
    policy_module.PolicyPack = _CapturedPolicyPack  # type: ignore[misc]
    try:
        # A directory path, like the CLI: runpy puts the pack directory first on sys.path while it runs.
        runpy.run_path(str(pack_dir), run_name="__main__")
    finally:
        pulumi_policy.PolicyPack = _SDK_POLICY_PACK  # type: ignore[misc]
        policy_module.PolicyPack = _SDK_POLICY_PACK  # type: ignore[misc]
    if len(_CapturedPolicyPack.captured) != 1:
        raise PolicyPackLoadError(
            f"{pack_dir}/__main__.py must construct exactly one PolicyPack; it constructed "
            f"{len(_CapturedPolicyPack.captured)}"
        )
    args = _CapturedPolicyPack.captured[0]
    # Let the SDK's own constructor checks judge the arguments (name pattern, policy types, levels).
    _validate_with_sdk(args)
    return args


def _validate_with_sdk(args: dict[str, Any]) -> None:
    class _Validated(Exception):
        pass

    def _stop(*_a: Any, **_k: Any) -> None:
        raise _Validated

    original = policy_module._PolicyAnalyzerServicer
    policy_module._PolicyAnalyzerServicer = _stop  # type: ignore[assignment,misc]
    try:
        _SDK_POLICY_PACK(**args)
    except _Validated:
        pass
    except TypeError as error:
        raise PolicyPackLoadError(f"policy pack '{args.get('name')}': {error}") from error
    finally:
        policy_module._PolicyAnalyzerServicer = original  # type: ignore[misc]


# --- config reconciliation (pkg/resource/analyzer/config.go) ---------------------------------------

def _parse_level(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in _LEVEL_TO_PROTO:
        raise PolicyConfigError(
            f"{where}: {value!r} is not a valid enforcement level (advisory, mandatory, remediate, disabled)"
        )
    return value


def _parse_user_config(config: Mapping[str, Any], known: set[str]) -> dict[str, tuple[str | None, dict[str, Any]]]:
    parsed: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for key, value in config.items():
        if key != ALL_POLICIES_KEY and key not in known:
            raise PolicyConfigError(
                f"policy config key {key!r} names no policy of this pack (known: {', '.join(sorted(known))})"
            )
        if isinstance(value, str):
            parsed[key] = (_parse_level(value, f"policy config {key!r}"), {})
        elif isinstance(value, Mapping):
            properties = deepcopy(dict(value))
            level = None
            if ENFORCEMENT_LEVEL_KEY in properties:
                level = _parse_level(properties.pop(ENFORCEMENT_LEVEL_KEY), f"policy config {key!r}.enforcementLevel")
            parsed[key] = (level, properties)
        else:
            raise PolicyConfigError(f"policy config {key!r}: {value!r} is not valid; use a level string or an object")
    return parsed


def _apply(result: dict[str, _PolicyConfig], given: Mapping[str, tuple[str | None, dict[str, Any]]]) -> None:
    all_level = given.get(ALL_POLICIES_KEY, (None, {}))[0]
    if all_level is not None:
        for entry in result.values():
            entry.enforcement_level = all_level
    for name, (level, properties) in given.items():
        if name == ALL_POLICIES_KEY:
            continue
        entry = result[name]
        if level is not None:
            entry.enforcement_level = level
        entry.properties.update(deepcopy(properties))


def _reconcile_config(info: Any, user_config: Mapping[str, Any]) -> dict[str, _PolicyConfig]:
    schemas: dict[str, dict[str, Any]] = {}
    result: dict[str, _PolicyConfig] = {}
    for policy_info in info.policies:
        schema = json_format.MessageToDict(policy_info.configSchema) if policy_info.HasField("configSchema") else {}
        schemas[policy_info.name] = schema
        defaults = {key: deepcopy(prop["default"]) for key, prop in schema.get("properties", {}).items()
                    if "default" in prop}
        result[policy_info.name] = _PolicyConfig(_PROTO_TO_LEVEL[policy_info.enforcementLevel], defaults)

    known = set(result)
    initial: dict[str, tuple[str | None, dict[str, Any]]] = {}
    for key, value in info.initialConfig.items():
        if key != ALL_POLICIES_KEY and key not in known:
            continue
        # As the CLI: an initial-config entry always carries a level (proto default: advisory).
        initial[key] = (_PROTO_TO_LEVEL[value.enforcementLevel], json_format.MessageToDict(value.properties))
    _apply(result, initial)
    _apply(result, _parse_user_config(user_config, known))

    for name, entry in result.items():
        schema = schemas[name]
        if not schema:
            continue
        validator_schema: dict[str, Any] = {"type": "object"}
        if schema.get("properties"):
            validator_schema["properties"] = schema["properties"]
        if schema.get("required"):
            validator_schema["required"] = schema["required"]
        errors = sorted(jsonschema.Draft7Validator(validator_schema).iter_errors(entry.properties),
                        key=lambda e: list(e.absolute_path))
        if errors:
            details = "; ".join(
                f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}" for error in errors
            )
            raise PolicyConfigError(f"policy {name!r} config is invalid: {details}")
    return result


def _configure_request(config: Mapping[str, _PolicyConfig]) -> Any:
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        policy_config = proto.PolicyConfig(enforcementLevel=_LEVEL_TO_PROTO[entry.enforcement_level])
        if entry.properties:
            policy_config.properties.update(entry.properties)
        request.policyConfig[name].CopyFrom(policy_config)
    return request


# --- requests ----------------------------------------------------------------------------------------

def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def _options(resource: CapturedResource) -> Any:
    return proto.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent or "")


def _provider(resource: CapturedResource, by_urn: Mapping[str, CapturedResource]) -> Any | None:
    if not resource.provider:
        return None
    provider = by_urn.get(resource.provider)
    if provider is None:
        return None
    return proto.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs)
    )


def _analyze_request(resource: CapturedResource, by_urn: Mapping[str, CapturedResource]) -> Any:
    request = proto.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=resource.name, properties=_struct(resource.inputs),
        options=_options(resource),
    )
    provider = _provider(resource, by_urn)
    if provider is not None:
        request.provider.CopyFrom(provider)
    return request


def _stack_resource(resource: CapturedResource, by_urn: Mapping[str, CapturedResource]) -> Any:
    entry = proto.AnalyzerResource(
        type=resource.type, urn=resource.urn, name=resource.name, properties=_struct(resource.outputs),
        options=_options(resource), parent=resource.parent or "", dependencies=list(resource.dependencies),
    )
    for prop, urns in resource.property_dependencies.items():
        entry.propertyDependencies[prop].urns.extend(urns)
    provider = _provider(resource, by_urn)
    if provider is not None:
        entry.provider.CopyFrom(provider)
    return entry


# --- responses ---------------------------------------------------------------------------------------

def _call(policy: Policy, subject: str, method: Callable[[Any, Any], Any], request: Any) -> Any:
    try:
        return method(request, None)
    except Exception as error:  # noqa: BLE001 - re-raised with the policy named
        raise PolicyExecutionError(
            f"policy '{policy.name}' raised {type(error).__name__} on {subject}: {error}"
        ) from error


def _is_indeterminate(policy: Policy, message: str) -> bool:
    return message.startswith(f"can't run policy '{policy.name}' from policy pack ") and " during preview: " in message


def _strip_description(policy: Policy, message: str) -> str:
    if message == policy.description:
        return ""
    prefix = policy.description + "\n"
    return message[len(prefix):] if message.startswith(prefix) else message


def _split_diagnostics(policy: Policy, response: Any, default_urn: str) -> tuple[dict[str, list[str]], list[str]]:
    failures: dict[str, list[str]] = {}
    indeterminate: list[str] = []
    for diagnostic in response.diagnostics:
        if diagnostic.policyName != policy.name:
            continue
        if _is_indeterminate(policy, diagnostic.message):
            indeterminate.append(diagnostic.message)
            continue
        failures.setdefault(diagnostic.urn or default_urn, []).append(_strip_description(policy, diagnostic.message))
    return failures, indeterminate


def _attribute_unknown_urns(failures: dict[str, list[str]], by_urn: Mapping[str, CapturedResource],
                            stack_urn: str) -> dict[str, list[str]]:
    """Like the engine, a stack violation naming no resource of the stack belongs to the root stack."""
    attributed: dict[str, list[str]] = {}
    for urn, messages in failures.items():
        attributed.setdefault(urn if urn in by_urn else stack_urn, []).extend(messages)
    return attributed


def _in_scope(policy: Policy, resource_type: str) -> bool:
    patterns = getattr(policy, "resource_types", None)
    if not patterns:
        return True
    return any(fnmatchcase(resource_type, pattern) for pattern in patterns)


def _frameworks(policy: Policy) -> tuple[str, ...]:
    clauses = []
    framework = policy.framework
    if framework is not None and (framework.name or framework.reference):
        clauses.append(" ".join(part for part in (framework.name, framework.reference) if part))
    clauses.extend(policy.tags or ())
    return tuple(clauses)


def _root_stack_urn(identity: StackIdentity) -> str:
    return f"urn:pulumi:{identity.stack}::{identity.project}::pulumi:pulumi:Stack::{identity.project}-{identity.stack}"


def _type_from_urn(urn: str) -> str:
    qualified_type = urn.split("::")[2] if urn.count("::") >= 3 else ""
    return qualified_type.rsplit("$", 1)[-1]


@contextmanager
def _clean_runtime_env() -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in _RUNTIME_ENV_VARS if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
