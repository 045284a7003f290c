"""ENC-03: symmetric KMS keys rotate automatically, at most every `maxRotationPeriodInDays` days.

Asymmetric and HMAC keys cannot rotate automatically in KMS: not applicable, not a failure.
"""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, Severity

from policies.clauses import GDPR, clause, part_11
from policies.controlled import ControlledResourcePolicy

KEY_TYPE = "aws:kms/key:Key"
SYMMETRIC_SPEC = "SYMMETRIC_DEFAULT"
SYMMETRIC_USAGE = "ENCRYPT_DECRYPT"
DEFAULT_MAX_ROTATION_DAYS = 365


def validate_key_rotation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != KEY_TYPE:
        return
    spec = args.props.get("customerMasterKeySpec") or SYMMETRIC_SPEC
    usage = args.props.get("keyUsage") or SYMMETRIC_USAGE
    if spec != SYMMETRIC_SPEC or usage != SYMMETRIC_USAGE:
        args.not_applicable(f"KMS cannot rotate {spec} keys for {usage} automatically.")

    if args.props.get("enableKeyRotation") is not True:
        report_violation(
            f"KMS key '{args.name}' must enable automatic key rotation: set enableKeyRotation to true.", None
        )
        return
    max_days = args.get_config().get("maxRotationPeriodInDays", DEFAULT_MAX_ROTATION_DAYS)
    period = args.props.get("rotationPeriodInDays")
    if period is not None and period > max_days:
        report_violation(
            f"KMS key '{args.name}' must rotate at least every {max_days:g} days: rotationPeriodInDays is "
            f"{period:g}.",
            None,
        )


aws_kms_key_enable_key_rotation = ControlledResourcePolicy(
    name="aws-kms-key-enable-key-rotation",
    display_name="ENC-03 KMS key rotation",
    description="Symmetric KMS keys must rotate their key material automatically at least once a year.",
    validate=validate_key_rotation,
    control_ids=("ENC-03",),
    resource_types=(KEY_TYPE,),
    severity=Severity.MEDIUM,
    framework=part_11("11.30"),
    tags=[clause(GDPR, "Art. 25"), clause(GDPR, "Art. 30")],
    remediation_steps=(
        "Set enable_key_rotation=True on the aws.kms.Key and set rotation_period_in_days to at most the "
        "configured maximum (policy config maxRotationPeriodInDays, default 365; AWS rotates yearly when unset)."
    ),
    url="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
    config_schema=PolicyConfigSchema(
        properties={
            "maxRotationPeriodInDays": {
                "type": "integer",
                "minimum": 90,
                "maximum": 2560,
                "default": DEFAULT_MAX_ROTATION_DAYS,
                "description": "Longest allowed rotationPeriodInDays.",
            },
        },
    ),
)
