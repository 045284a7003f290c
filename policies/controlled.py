"""Policy classes that carry the control IDs and resource types a report needs.

The SDK dispatches on `isinstance(policy, ResourceValidationPolicy | StackValidationPolicy)`, so these
subclasses run exactly like the base classes. The offline analyzer reads `control_ids` and
`resource_types` with `getattr`, so packs without them still work there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

# Every policy of this pack must say how bad a failure is, which clause it serves and how to fix
# it (control OPS-02); the SDK itself leaves these optional.
REQUIRED_METADATA = ("severity", "framework", "remediation_steps", "url")


def _with_required_metadata(policy: dict[str, Any]) -> dict[str, Any]:
    missing = [key for key in REQUIRED_METADATA if policy.get(key) is None]
    if missing:
        raise TypeError(f"policy {policy.get('name')!r} lacks {', '.join(missing)}")
    return {**policy, "tags": list(policy.get("tags", ()))}


class ControlledResourcePolicy(ResourceValidationPolicy):
    """A resource policy that names the controls it implements and the types it applies to.

    `resource_types` are type tokens or `fnmatch` patterns (`aws:*`). The other keyword
    arguments are `ResourceValidationPolicy`'s; `REQUIRED_METADATA` must be among them.
    """

    def __init__(self, *, control_ids: Sequence[str], resource_types: Sequence[str], **policy: Any) -> None:
        super().__init__(**_with_required_metadata(policy))
        self.control_ids: tuple[str, ...] = tuple(control_ids)
        self.resource_types: tuple[str, ...] = tuple(resource_types)


class ControlledStackPolicy(StackValidationPolicy):
    """A stack policy that names the controls it implements and the types it joins.

    Violations name the offending resource's URN; a stack with nothing to check reports
    not-applicable rather than a silent pass.
    """

    def __init__(self, *, control_ids: Sequence[str], resource_types: Sequence[str], **policy: Any) -> None:
        super().__init__(**_with_required_metadata(policy))
        self.control_ids: tuple[str, ...] = tuple(control_ids)
        self.resource_types: tuple[str, ...] = tuple(resource_types)
