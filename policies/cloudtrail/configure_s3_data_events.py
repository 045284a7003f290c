"""AUD-05: CloudTrail records S3 data events, reads and writes, for every object of every PHI bucket.

A bucket is covered for an access kind (read, write) when some logging trail in the stack has
- a basic event selector with a `dataResources` entry of type `AWS::S3::Object` whose values
  include a prefix of `arn:aws:s3:::<bucket>/` and a `readWriteType` including that kind, or
- an advanced event selector with `eventCategory` Equals `Data`, `resources.type` Equals
  `AWS::S3::Object`, `resources.ARN` absent or StartsWith a prefix of `arn:aws:s3:::<bucket>/`, no
  other narrowing field, and `readOnly` absent or selecting that kind.
Read and write may come from different selectors. Trails with `enableLogging` false do not count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, ReportViolation, Severity, StackValidationArgs

from policies.clauses import ANNEX_11, GDPR, HIPAA, PART_11, clause, part_11
from policies.controlled import ControlledStackPolicy
from policies.phi import BUCKET_TYPE, PHI_CONFIG_PROPERTIES, phi_buckets

TRAIL_TYPE = "aws:cloudtrail/trail:Trail"
S3_OBJECT = "AWS::S3::Object"
READ, WRITE = "read", "write"
BOTH = frozenset({READ, WRITE})
_READ_WRITE_TYPES = {"All": BOTH, "ReadOnly": frozenset({READ}), "WriteOnly": frozenset({WRITE})}
_ARN_NARROWING_OPERATORS = ("equals", "notEquals", "endsWiths", "notEndsWiths")


def _object_arn_prefix(bucket_name: str) -> str:
    return f"arn:aws:s3:::{bucket_name}/"


def _covers(prefix: str, target: str) -> bool:
    return bool(prefix) and target.startswith(prefix)


def _basic_selector_kinds(selector: Mapping[str, Any], target: str) -> frozenset[str]:
    kinds = _READ_WRITE_TYPES.get(selector.get("readWriteType") or "All", frozenset())
    for data_resource in selector.get("dataResources") or ():
        if data_resource.get("type") != S3_OBJECT:
            continue
        if any(_covers(str(value), target) for value in data_resource.get("values") or ()):
            return kinds
    return frozenset()


def _field_values(field_selector: Mapping[str, Any], operator: str) -> list[str]:
    return [str(value) for value in field_selector.get(operator) or ()]


def _advanced_selector_kinds(selector: Mapping[str, Any], target: str) -> frozenset[str]:
    fields: dict[str, Mapping[str, Any]] = {}
    for field_selector in selector.get("fieldSelectors") or ():
        fields[str(field_selector.get("field"))] = field_selector
    if set(fields) - {"eventCategory", "resources.type", "resources.ARN", "readOnly"}:
        return frozenset()  # any other field (eventName, userIdentity...) records only part of the events
    category, resource_type = fields.get("eventCategory"), fields.get("resources.type")
    if category is None or "Data" not in _field_values(category, "equals"):
        return frozenset()
    if resource_type is None or S3_OBJECT not in _field_values(resource_type, "equals"):
        return frozenset()
    arn = fields.get("resources.ARN")
    if arn is not None:
        if any(_field_values(arn, operator) for operator in _ARN_NARROWING_OPERATORS):
            return frozenset()
        if any(target.startswith(p) or p.startswith(target) for p in _field_values(arn, "notStartsWiths")):
            return frozenset()
        if not any(_covers(prefix, target) for prefix in _field_values(arn, "startsWiths")):
            return frozenset()
    read_only = fields.get("readOnly")
    if read_only is None:
        return BOTH
    selected = set(_field_values(read_only, "equals"))
    if not selected:
        return frozenset()
    return frozenset(kind for flag, kind in (("true", READ), ("false", WRITE)) if flag in selected)


def _covered_kinds(trails: Sequence[PolicyResource], bucket_name: str) -> frozenset[str]:
    target = _object_arn_prefix(bucket_name)
    kinds: set[str] = set()
    for trail in trails:
        if trail.props.get("enableLogging") is False:
            continue
        for selector in trail.props.get("eventSelectors") or ():
            kinds |= _basic_selector_kinds(selector, target)
        for selector in trail.props.get("advancedEventSelectors") or ():
            kinds |= _advanced_selector_kinds(selector, target)
    return frozenset(kinds)


def validate_s3_data_events(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    buckets = phi_buckets(args.resources, args.get_config())
    if not buckets:
        args.not_applicable("The stack has no PHI buckets.")
    trails = [r for r in args.resources if r.resource_type == TRAIL_TYPE]
    for bucket, classification in buckets:
        if not trails:
            report_violation(
                f"PHI bucket '{bucket.name}' ({classification}) must have its S3 data events recorded by a "
                "CloudTrail trail, but the stack has no trail.",
                bucket.urn,
            )
            continue
        name = bucket.props.get("bucket") or bucket.props.get("id")
        if not name:
            report_violation(
                f"PHI bucket '{bucket.name}' ({classification}) must have a known name so that trail data event "
                "selectors can be checked against it; it has none.",
                bucket.urn,
            )
            continue
        missing = sorted(BOTH - _covered_kinds(trails, str(name)))
        if missing:
            report_violation(
                f"PHI bucket '{bucket.name}' ({classification}) must have S3 data events recorded for reads and "
                f"writes on all objects ({_object_arn_prefix(str(name))}); not recorded: {' and '.join(missing)}.",
                bucket.urn,
            )


aws_cloudtrail_trail_configure_s3_data_events = ControlledStackPolicy(
    name="aws-cloudtrail-trail-configure-s3-data-events",
    display_name="AUD-05 S3 data events on every PHI bucket",
    description="CloudTrail must record S3 data events for reads and writes on every object of every PHI bucket.",
    validate=validate_s3_data_events,
    control_ids=("AUD-05",),
    resource_types=(BUCKET_TYPE, TRAIL_TYPE),
    severity=Severity.HIGH,
    framework=part_11("11.10(e)"),
    tags=[
        clause(PART_11, "11.10(k)"),
        clause(HIPAA, "164.308(a)(1)(ii)(D)"),
        clause(HIPAA, "164.312(a)(2)(i)"),
        clause(HIPAA, "164.312(e)(2)(i)"),
        clause(GDPR, "Art. 30"),
        clause(ANNEX_11, "§9"),
        clause(ANNEX_11, "§12.4"),
    ],
    remediation_steps=(
        "Add to the stack's aws.cloudtrail.Trail an advanced event selector with eventCategory Equals Data, "
        "resources.type Equals AWS::S3::Object and resources.ARN StartsWith arn:aws:s3:::<bucket>/ for each PHI "
        "bucket, without a readOnly field."
    ),
    url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html",
    config_schema=PolicyConfigSchema(properties=dict(PHI_CONFIG_PROPERTIES)),
)
