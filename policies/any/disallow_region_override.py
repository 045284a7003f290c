"""RES-02: no per-resource `region` input (pulumi-aws v7) other than the home region.

Without this, one provider in the home region could still place a resource anywhere. IAM and
Organizations resources are global and have no `region` input: not applicable.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from policies.clauses import GDPR, clause, gdpr
from policies.controlled import ControlledResourcePolicy
from policies.residency import AWS_RESOURCE_PATTERN, RESIDENCY_CONFIG_SCHEMA, ResidencyNotConfigured, resolve_residency

GLOBAL_SERVICE_PATTERNS = ("aws:iam/*", "aws:organizations/*")


def validate_region_override(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not fnmatchcase(args.resource_type, AWS_RESOURCE_PATTERN):
        return
    if any(fnmatchcase(args.resource_type, pattern) for pattern in GLOBAL_SERVICE_PATTERNS):
        args.not_applicable("Global-service resources have no region input.")
    if "region" not in list(args.props):
        return
    region = args.props["region"]
    if region is None:
        return
    try:
        scope = resolve_residency(args.get_config(), args.stack_tags)
    except ResidencyNotConfigured as problem:
        report_violation(
            f"Resource '{args.name}' sets region {region}, which cannot be checked, so it fails closed: {problem}.",
            None,
        )
        return
    if region != scope.home_region:
        report_violation(
            f"Resource '{args.name}' must not override its region: region input {region} differs from the "
            f"stack's home region {scope.home_region}. Remove the region input so the stack's provider decides.",
            None,
        )


aws_any_resource_disallow_region_override = ControlledResourcePolicy(
    name="aws-any-resource-disallow-region-override",
    display_name="RES-02 no per-resource region override",
    description="An AWS resource must not set a region input other than the stack's home region.",
    validate=validate_region_override,
    control_ids=("RES-02",),
    resource_types=(AWS_RESOURCE_PATTERN,),
    severity=Severity.CRITICAL,
    framework=gdpr("Art. 44-46 (Chapter V)"),
    tags=[clause(GDPR, "Art. 5(1)(f)"), clause(GDPR, "Art. 25")],
    remediation_steps=(
        "Remove the resource's region argument; components take their region only from the provider passed "
        "in through resource options."
    ),
    url="https://www.pulumi.com/registry/packages/aws/how-to-guides/enhanced-region-support/",
    config_schema=RESIDENCY_CONFIG_SCHEMA,
)
