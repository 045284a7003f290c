"""The stack's home region and allowed regions, from policy config and stack tags.

Precedence: policy config `allowedRegions` / `homeRegion` override; otherwise the stack tags
`trial-imaging:jurisdiction` (looked up in `jurisdictionRegions`) and `trial-imaging:homeRegion`.
Nothing set means the residency policies fail closed with a message saying what to set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyConfigSchema

JURISDICTION_TAG = "trial-imaging:jurisdiction"
HOME_REGION_TAG = "trial-imaging:homeRegion"
AWS_PROVIDER_TYPE = "pulumi:providers:aws"
AWS_RESOURCE_PATTERN = "aws:*"  # fnmatch pattern of every AWS resource type

# EU member-state regions only: eu-west-2 (UK) and eu-central-2 (Zurich) are outside the EU.
DEFAULT_JURISDICTION_REGIONS: dict[str, list[str]] = {
    "eu": ["eu-west-1", "eu-west-3", "eu-central-1", "eu-south-1", "eu-south-2", "eu-north-1"],
    "us": ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
}

_REGION_SCHEMA = {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$"}

RESIDENCY_CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        "jurisdictionRegions": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _REGION_SCHEMA, "minItems": 1},
            "default": DEFAULT_JURISDICTION_REGIONS,
            "description": "Allowed AWS regions per jurisdiction named by the stack tag trial-imaging:jurisdiction.",
        },
        "allowedRegions": {
            "type": "array",
            "items": _REGION_SCHEMA,
            "minItems": 1,
            "description": "Overrides the jurisdiction's allowed regions for this stack.",
        },
        "homeRegion": {
            **_REGION_SCHEMA,
            "description": "Overrides the stack tag trial-imaging:homeRegion.",
        },
    },
)


class ResidencyNotConfigured(ValueError):
    """Neither policy config nor stack tags determine the residency scope."""


@dataclass(frozen=True)
class ResidencyScope:
    home_region: str
    allowed_regions: frozenset[str]
    basis: str  # where the allowed regions came from, for messages

    def check(self, region: str) -> str | None:
        """Why `region` breaks residency, or None when it is the home region."""
        if region not in self.allowed_regions:
            allowed = ", ".join(sorted(self.allowed_regions))
            return f"region {region} is outside the allowed regions ({allowed}) of {self.basis}"
        if region != self.home_region:
            return f"region {region} is not the stack's home region {self.home_region}"
        return None


def resolve_residency(config: Mapping[str, Any], stack_tags: Mapping[str, str]) -> ResidencyScope:
    jurisdiction = (stack_tags.get(JURISDICTION_TAG) or "").strip().lower()
    allowed_override = config.get("allowedRegions")
    if allowed_override:
        allowed = frozenset(allowed_override)
        basis = "policy config allowedRegions"
    elif jurisdiction:
        regions_by_jurisdiction = config.get("jurisdictionRegions") or DEFAULT_JURISDICTION_REGIONS
        regions = regions_by_jurisdiction.get(jurisdiction)
        if not regions:
            known = ", ".join(sorted(regions_by_jurisdiction))
            raise ResidencyNotConfigured(
                f"stack tag {JURISDICTION_TAG}={jurisdiction!r} names no jurisdiction in policy config "
                f"jurisdictionRegions (known: {known})"
            )
        allowed = frozenset(regions)
        basis = f"jurisdiction '{jurisdiction}'"
    else:
        raise ResidencyNotConfigured(
            f"the allowed regions are unknown: set the stack tag {JURISDICTION_TAG} (pulumi:tags in the stack's "
            "config file) or the policy config allowedRegions"
        )

    home = config.get("homeRegion") or (stack_tags.get(HOME_REGION_TAG) or "").strip()
    if not home:
        raise ResidencyNotConfigured(
            f"the home region is unknown: set the stack tag {HOME_REGION_TAG} (pulumi:tags in the stack's config "
            "file) or the policy config homeRegion"
        )
    if home not in allowed:
        raise ResidencyNotConfigured(
            f"home region {home} is outside the allowed regions ({', '.join(sorted(allowed))}) of {basis}"
        )
    return ResidencyScope(home_region=home, allowed_regions=allowed, basis=basis)
