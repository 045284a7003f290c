"""Policy classes that carry the control IDs and resource types a report needs.

The SDK dispatches on `isinstance(policy, ResourceValidationPolicy | StackValidationPolicy)`, so these
subclasses run exactly like the base classes. The offline analyzer reads `control_ids` and
`resource_types` with `getattr`, so packs without them still work there.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidation,
    ResourceValidationPolicy,
    Severity,
    StackValidation,
    StackValidationPolicy,
)


class ControlledResourcePolicy(ResourceValidationPolicy):
    """A resource policy that names the controls it implements and the types it applies to.

    `resource_types` are type tokens or `fnmatch` patterns (`aws:*`).
    """

    def __init__(
        self,
        *,
        name: str,
        description: str,
        validate: ResourceValidation,
        control_ids: Sequence[str],
        resource_types: Sequence[str],
        severity: Severity,
        framework: PolicyComplianceFramework,
        remediation_steps: str,
        url: str,
        tags: Sequence[str] = (),
        display_name: str | None = None,
        config_schema: PolicyConfigSchema | None = None,
        enforcement_level: EnforcementLevel | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            validate=validate,
            enforcement_level=enforcement_level,
            config_schema=config_schema,
            display_name=display_name,
            severity=severity,
            framework=framework,
            tags=list(tags),
            remediation_steps=remediation_steps,
            url=url,
        )
        self.control_ids: tuple[str, ...] = tuple(control_ids)
        self.resource_types: tuple[str, ...] = tuple(resource_types)


class ControlledStackPolicy(StackValidationPolicy):
    """A stack policy that names the controls it implements and the types it joins.

    Violations name the offending resource's URN; a stack with nothing to check reports
    not-applicable rather than a silent pass.
    """

    def __init__(
        self,
        *,
        name: str,
        description: str,
        validate: StackValidation,
        control_ids: Sequence[str],
        resource_types: Sequence[str],
        severity: Severity,
        framework: PolicyComplianceFramework,
        remediation_steps: str,
        url: str,
        tags: Sequence[str] = (),
        display_name: str | None = None,
        config_schema: PolicyConfigSchema | None = None,
        enforcement_level: EnforcementLevel | None = None,
    ) -> None:
        super().__init__(
            name=name,
            description=description,
            validate=validate,
            enforcement_level=enforcement_level,
            config_schema=config_schema,
            display_name=display_name,
            severity=severity,
            framework=framework,
            tags=list(tags),
            remediation_steps=remediation_steps,
            url=url,
        )
        self.control_ids: tuple[str, ...] = tuple(control_ids)
        self.resource_types: tuple[str, ...] = tuple(resource_types)
