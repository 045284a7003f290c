"""Happy-path CapturedResources for the policy pack tests, one factory per resource kind.

They mirror what the regional program registers (an explicit provider, CMKs, buckets tagged by
data classification, SSE configurations, a single-region trail with advanced event selectors),
with wire-form (camelCase) properties, float numbers and stringly typed provider inputs.
Identifiers are synthetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from compliance.analyzer import PackAnalyzer
from compliance.model import UNKNOWN_SENTINEL, CapturedResource, PolicyRow, StackIdentity, Status

PROJECT = "trial-imaging"
STACK = "eu-west-1"
HOME_REGION = "eu-west-1"
ACCOUNT_ID = "111111111111"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"

PROVIDER_TYPE = "pulumi:providers:aws"
KEY_TYPE = "aws:kms/key:Key"
BUCKET_TYPE = "aws:s3/bucket:Bucket"
SSE_TYPE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
TRAIL_TYPE = "aws:cloudtrail/trail:Trail"
ROLE_TYPE = "aws:iam/role:Role"


def identity(tags: dict[str, str] | None = None) -> StackIdentity:
    default_tags = {"trial-imaging:jurisdiction": "eu", "trial-imaging:homeRegion": HOME_REGION}
    return StackIdentity(project=PROJECT, stack=STACK, tags=default_tags if tags is None else tags)


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{resource_type}::{name}"


def provider(name: str = "regional", region: str | None = HOME_REGION) -> CapturedResource:
    inputs: dict[str, Any] = {
        "allowedAccountIds": f'["{ACCOUNT_ID}"]',
        "skipCredentialsValidation": "false",
    }
    if region is not None:
        inputs["region"] = region
    return CapturedResource(
        urn=urn(PROVIDER_TYPE, name), type=PROVIDER_TYPE, name=name, custom=True, inputs=inputs,
        outputs=dict(inputs),
    )


def _custom(resource_type: str, name: str, inputs: dict[str, Any], computed: dict[str, Any],
            provider_urn: str, **links: Any) -> CapturedResource:
    return CapturedResource(
        urn=urn(resource_type, name), type=resource_type, name=name, custom=True, inputs=inputs,
        outputs={**inputs, **computed}, provider=provider_urn, **links,
    )


def key_arn(name: str) -> str:
    return f"arn:aws:kms:{HOME_REGION}:{ACCOUNT_ID}:key/{name}-0000"


def key(name: str, provider_urn: str, **input_overrides: Any) -> CapturedResource:
    inputs: dict[str, Any] = {
        "description": f"{name} customer-managed key",
        "enableKeyRotation": True,
        "deletionWindowInDays": 30.0,
        "policy": "{}",
    }
    inputs.update(input_overrides)
    return _custom(KEY_TYPE, name, inputs, {"arn": key_arn(name), "keyId": f"{name}-0000", "id": f"{name}-0000"},
                   provider_urn)


def bucket(name: str, classification: str, provider_urn: str) -> CapturedResource:
    bucket_name = f"ti-{name}-synthetic"
    inputs = {"bucket": bucket_name, "tags": {"data-classification": classification, "trial-id": "TRIAL-0001"}}
    return _custom(BUCKET_TYPE, name, inputs, {"id": bucket_name, "arn": f"arn:aws:s3:::{bucket_name}"},
                   provider_urn)


def sse(target: CapturedResource, cmk: CapturedResource, provider_urn: str) -> CapturedResource:
    inputs = {
        "bucket": target.outputs["id"],
        "rules": [{
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": cmk.outputs["arn"]},
            "bucketKeyEnabled": True,
        }],
    }
    return _custom(SSE_TYPE, f"{target.name}-sse", inputs, {"id": target.outputs["id"]}, provider_urn,
                   dependencies=(target.urn, cmk.urn),
                   property_dependencies={"bucket": (target.urn,), "rules": (cmk.urn,)})


def data_event_selector(target: CapturedResource) -> dict[str, Any]:
    return {
        "name": f"s3-data-{target.name}",
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            {"field": "resources.ARN", "startsWiths": [f"arn:aws:s3:::{target.outputs['bucket']}/"]},
        ],
    }


def trail(buckets: Iterable[CapturedResource], archive_key: CapturedResource, provider_urn: str,
          **input_overrides: Any) -> CapturedResource:
    buckets = list(buckets)
    inputs: dict[str, Any] = {
        "s3BucketName": "ti-audit-eu-archive-synthetic",
        "kmsKeyId": archive_key.outputs["arn"],
        "enableLogFileValidation": True,
        "isMultiRegionTrail": False,
        "includeGlobalServiceEvents": False,
        "advancedEventSelectors": [
            {"name": "management", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
            *(data_event_selector(b) for b in buckets),
        ],
    }
    inputs.update(input_overrides)
    return _custom(TRAIL_TYPE, "trail", inputs,
                   {"arn": f"arn:aws:cloudtrail:{HOME_REGION}:{ACCOUNT_ID}:trail/trail"}, provider_urn,
                   dependencies=tuple(b.urn for b in buckets))


def role(provider_urn: str) -> CapturedResource:
    inputs = {"assumeRolePolicy": "{}", "name": "deid-lambda"}
    return _custom(ROLE_TYPE, "deid-role", inputs, {"arn": f"arn:aws:iam::{ACCOUNT_ID}:role/deid-lambda"},
                   provider_urn)


def compliant_stack() -> dict[str, CapturedResource]:
    """A compliant regional stack, keyed by role, so tests can swap exactly one resource."""
    regional = provider()
    p = regional.urn
    raw_key, deid_key, log_key = key("raw-key", p), key("deid-key", p), key("log-key", p)
    raw, deid, logs = bucket("raw", "phi", p), bucket("deid", "deid", p), bucket("access-logs", "log", p)
    return {
        "provider": regional,
        "raw_key": raw_key,
        "deid_key": deid_key,
        "log_key": log_key,
        "raw": raw,
        "deid": deid,
        "logs": logs,
        "raw_sse": sse(raw, raw_key, p),
        "deid_sse": sse(deid, deid_key, p),
        "logs_sse": sse(logs, log_key, p),
        "trail": trail([raw, deid], log_key, p),
        "role": role(p),
    }


def with_inputs(resource: CapturedResource, **changes: Any) -> CapturedResource:
    """The same resource with some inputs (and the matching outputs) changed; None removes a key."""
    inputs, outputs = dict(resource.inputs), dict(resource.outputs)
    for name, value in changes.items():
        for props in (inputs, outputs):
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
    return replace(resource, inputs=inputs, outputs=outputs)


def analyze_stack(analyzer: PackAnalyzer, stack: dict[str, CapturedResource],
                  tags: dict[str, str] | None = None) -> list[PolicyRow]:
    """The analyzer's rows for a stack built here (a `compliant_stack()`, possibly changed)."""
    return analyzer.analyze(list(stack.values()), identity(tags))


def unknown() -> str:
    return UNKNOWN_SENTINEL


def rows_for(rows: Iterable[PolicyRow], policy: str, status: Status | None = None) -> list[PolicyRow]:
    return [row for row in rows if row.policy == policy and (status is None or row.status is status)]


def row_for(rows: Iterable[PolicyRow], policy: str, resource_urn: str) -> PolicyRow:
    matches = [row for row in rows if row.policy == policy and row.urn == resource_urn]
    assert len(matches) == 1, f"expected one {policy} row for {resource_urn}, got {matches}"
    return matches[0]
