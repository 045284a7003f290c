"""ENC-01: every PHI bucket is encrypted by default with a customer-managed KMS key of this stack.

pulumi-aws v7 keeps default encryption in a separate
`BucketServerSideEncryptionConfiguration`, so this is a stack policy that joins each PHI bucket to
its SSE configuration(s) and each rule's key to an `aws:kms/key:Key` in the stack.

Joins prefer the engine's property dependencies (SSE `bucket` -> the Bucket, SSE `rules` -> the
Key), which stay known in a preview where new IDs and ARNs are not; without a dependency the join
compares values (bucket `bucket`/`id`; key `arn`/`keyId`/`id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, ReportViolation, Severity, StackValidationArgs

from policies.clauses import ANNEX_11, GDPR, HIPAA, PART_11, clause, part_11
from policies.controlled import ControlledStackPolicy
from policies.phi import BUCKET_TYPE, PHI_CONFIG_PROPERTIES, bucket_identifiers, phi_buckets

SSE_TYPE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY_TYPE = "aws:kms/key:Key"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _linked(resource: PolicyResource, prop: str, resource_type: str) -> list[PolicyResource]:
    return [dep for dep in resource.property_dependencies.get(prop, ()) if dep.resource_type == resource_type]


def _sse_configs_by_bucket_urn(
    resources: Sequence[PolicyResource], buckets: Sequence[PolicyResource]
) -> dict[str, list[PolicyResource]]:
    by_urn: dict[str, list[PolicyResource]] = {bucket.urn: [] for bucket in buckets}
    buckets_by_identifier: dict[str, list[PolicyResource]] | None = None
    for sse in (r for r in resources if r.resource_type == SSE_TYPE):
        targets = _linked(sse, "bucket", BUCKET_TYPE)
        if not targets:
            if buckets_by_identifier is None:
                buckets_by_identifier = {}
                for bucket in buckets:
                    for identifier in bucket_identifiers(bucket):
                        buckets_by_identifier.setdefault(identifier, []).append(bucket)
            targets = buckets_by_identifier.get(str(sse.props.get("bucket")), [])
        for bucket in targets:
            if bucket.urn in by_urn:
                by_urn[bucket.urn].append(sse)
    return by_urn


def _stack_key_identifiers(resources: Sequence[PolicyResource]) -> set[str]:
    identifiers = set()
    for key in (r for r in resources if r.resource_type == KEY_TYPE):
        for prop in ("arn", "keyId", "id"):
            if prop in list(key.props) and key.props[prop]:
                identifiers.add(str(key.props[prop]))
    return identifiers


def _rule_problem(sse: PolicyResource, rule: Mapping[str, Any], resources: Sequence[PolicyResource]) -> str | None:
    default = rule.get("applyServerSideEncryptionByDefault")
    if not default:
        return f"its encryption configuration '{sse.name}' has a rule without applyServerSideEncryptionByDefault"
    algorithm = default.get("sseAlgorithm")
    if algorithm not in KMS_ALGORITHMS:
        return (
            f"its encryption configuration '{sse.name}' uses sseAlgorithm {algorithm}, which is S3-managed "
            "(SSE-S3), not a customer-managed KMS key"
        )
    if "kmsMasterKeyId" not in list(default):
        return f"its encryption configuration '{sse.name}' sets no kmsMasterKeyId, so S3 uses the AWS managed key aws/s3"
    if _linked(sse, "rules", KEY_TYPE):
        return None
    key_ref = default["kmsMasterKeyId"]
    if not key_ref:
        return f"its encryption configuration '{sse.name}' sets an empty kmsMasterKeyId (the AWS managed key aws/s3)"
    if str(key_ref).startswith("alias/aws/") or ":alias/aws/" in str(key_ref):
        return f"its encryption configuration '{sse.name}' uses the AWS managed key {key_ref}"
    if str(key_ref) not in _stack_key_identifiers(resources):
        return (
            f"its encryption configuration '{sse.name}' uses KMS key {key_ref}, which is not a customer-managed "
            "key of this stack"
        )
    return None


def validate_bucket_cmk_encryption(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = args.resources
    buckets = [bucket for bucket, _ in phi_buckets(resources, args.get_config())]
    if not buckets:
        args.not_applicable("The stack has no PHI buckets.")
    sse_by_bucket = _sse_configs_by_bucket_urn(resources, buckets)
    for bucket in buckets:
        configs = sse_by_bucket[bucket.urn]
        if not configs:
            report_violation(
                f"PHI bucket '{bucket.name}' must have a BucketServerSideEncryptionConfiguration with a "
                "customer-managed KMS key of this stack; it has none (S3 would use SSE-S3).",
                bucket.urn,
            )
            continue
        problems = []
        for sse in configs:
            rules = sse.props.get("rules") or []
            if not rules:
                problems.append(f"its encryption configuration '{sse.name}' has no rules")
            for rule in rules:
                problem = _rule_problem(sse, rule, resources)
                if problem:
                    problems.append(problem)
        if problems:
            report_violation(
                f"PHI bucket '{bucket.name}' must be encrypted with a customer-managed KMS key of this stack: "
                + "; ".join(problems)
                + ".",
                bucket.urn,
            )


aws_s3_bucket_configure_server_side_encryption_cmk = ControlledStackPolicy(
    name="aws-s3-bucket-configure-server-side-encryption-cmk",
    display_name="ENC-01 PHI buckets use a customer-managed KMS key",
    description=(
        "Buckets holding PHI or de-identified data must be encrypted by default with a customer-managed KMS key "
        "of this stack."
    ),
    validate=validate_bucket_cmk_encryption,
    control_ids=("ENC-01",),
    resource_types=(BUCKET_TYPE, SSE_TYPE, KEY_TYPE),
    severity=Severity.HIGH,
    framework=part_11("11.10(c)"),
    tags=[
        clause(PART_11, "11.30"),
        clause(HIPAA, "164.312(a)(2)(iv)"),
        clause(HIPAA, "164.312(c)(1)"),
        clause(HIPAA, "164.312(e)(2)(ii)"),
        clause(GDPR, "Art. 32(1)(a)"),
        clause(ANNEX_11, "§7.1"),
    ],
    remediation_steps=(
        "Give each PHI bucket an aws.s3.BucketServerSideEncryptionConfiguration whose rule sets "
        "sse_algorithm='aws:kms' and kms_master_key_id to the ARN of an aws.kms.Key created in this stack."
    ),
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
    config_schema=PolicyConfigSchema(properties=dict(PHI_CONFIG_PROPERTIES)),
)
