"""AUD-02: CloudTrail log file integrity validation is on, so the digest chain is never broken."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from policies.clauses import GDPR, HIPAA, PART_11, clause, part_11
from policies.controlled import ControlledResourcePolicy

TRAIL_TYPE = "aws:cloudtrail/trail:Trail"


def validate_log_file_validation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != TRAIL_TYPE:
        return
    if args.props.get("enableLogFileValidation") is not True:
        report_violation(
            f"CloudTrail trail '{args.name}' must enable log file validation: set enableLogFileValidation to true "
            "(a gap in the digest chain is never back-filled).",
            None,
        )


aws_cloudtrail_trail_enable_log_file_validation = ControlledResourcePolicy(
    name="aws-cloudtrail-trail-enable-log-file-validation",
    display_name="AUD-02 CloudTrail log file validation",
    description="CloudTrail trails must enable log file integrity validation.",
    validate=validate_log_file_validation,
    control_ids=("AUD-02",),
    resource_types=(TRAIL_TYPE,),
    severity=Severity.HIGH,
    framework=part_11("11.10(a)"),
    tags=[
        clause(PART_11, "11.10(c)"),
        clause(PART_11, "11.30"),
        clause(HIPAA, "164.312(b)"),
        clause(HIPAA, "164.312(c)(1)"),
        clause(HIPAA, "164.312(c)(2)"),
        clause(GDPR, "Art. 25"),
        clause(GDPR, "Art. 32"),
    ],
    remediation_steps="Set enable_log_file_validation=True on the aws.cloudtrail.Trail.",
    url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",
)
