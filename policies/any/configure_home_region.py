"""RES-01: every AWS resource is deployed through a provider whose region is the stack's home region.

Applies to each `pulumi:providers:aws` (its own `region` input) and to every `aws:*` resource (the
`region` of the provider it uses). Global-service resources (IAM, Organizations) are checked too:
in this product a stack has one regional provider, so a passing stack never flags them, and a
foreign-region provider is a residency breach whatever it is first used for.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from policies.clauses import GDPR, clause, gdpr
from policies.controlled import ControlledResourcePolicy
from policies.residency import (
    AWS_PROVIDER_TYPE, AWS_RESOURCE_PATTERN, RESIDENCY_CONFIG_SCHEMA, ResidencyNotConfigured, resolve_residency,
)


def validate_provider_region(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    is_provider = args.resource_type == AWS_PROVIDER_TYPE
    if not is_provider and not fnmatchcase(args.resource_type, AWS_RESOURCE_PATTERN):
        return
    try:
        scope = resolve_residency(args.get_config(), args.stack_tags)
    except ResidencyNotConfigured as problem:
        report_violation(f"Residency cannot be checked, so it fails closed: {problem}.", None)
        return

    if is_provider:
        provider_urn, region = args.urn, args.props.get("region")
        subject = f"AWS provider '{args.name}'"
    elif args.provider is None:
        report_violation(
            f"Resource '{args.name}' must be deployed through an AWS provider whose region is known; "
            f"none was given, so its region cannot be checked against home region {scope.home_region}.",
            None,
        )
        return
    else:
        provider_urn, region = args.provider.urn, args.provider.props.get("region")
        subject = f"Resource '{args.name}' (provider {provider_urn})"

    if not region:
        report_violation(
            f"{subject} must use a provider with an explicit region; set region {scope.home_region} on the "
            f"provider {provider_urn}.",
            None,
        )
        return
    problem = scope.check(str(region))
    if problem:
        report_violation(
            f"{subject} must be deployed in home region {scope.home_region}: {problem}. Evidence: provider "
            f"{provider_urn}.",
            None,
        )


aws_any_provider_configure_home_region = ControlledResourcePolicy(
    name="aws-any-provider-configure-home-region",
    display_name="RES-01 provider region is the home region",
    description=(
        "Every AWS resource must be deployed through a provider whose region is the stack's home region, "
        "inside the jurisdiction's allowed regions."
    ),
    validate=validate_provider_region,
    control_ids=("RES-01",),
    resource_types=(AWS_PROVIDER_TYPE, AWS_RESOURCE_PATTERN),
    severity=Severity.CRITICAL,
    framework=gdpr("Art. 44-46 (Chapter V)"),
    tags=[clause(GDPR, "Art. 5(1)(f)"), clause(GDPR, "Art. 25")],
    remediation_steps=(
        "Create resources only through the stack's regional aws.Provider and set its region to the stack's "
        "home region (stack tag trial-imaging:homeRegion, within trial-imaging:jurisdiction)."
    ),
    url="https://www.pulumi.com/registry/packages/aws/api-docs/provider/",
    config_schema=RESIDENCY_CONFIG_SCHEMA,
)
