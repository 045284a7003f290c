"""ENC-01 aws-s3-bucket-configure-server-side-encryption-cmk (stack policy), through the PackAnalyzer."""

from __future__ import annotations

from dataclasses import replace

from compliance.model import Status
from tests.policies.pack_fixtures import (
    STACK_URN, analyze_stack, bucket, compliant_stack, row_for, rows_for, unknown, with_inputs,
)

POLICY = "aws-s3-bucket-configure-server-side-encryption-cmk"


def _with_rule(sse, default):
    return with_inputs(sse, rules=[{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}])


def _fail_row(analyzer, stack, key):
    rows = analyze_stack(analyzer, stack)
    assert not rows_for(rows, POLICY, Status.PASS)
    row = row_for(rows, POLICY, stack[key].urn)
    assert row.status is Status.FAIL and row.control_ids == ("ENC-01",)
    assert row.resource_type == "aws:s3/bucket:Bucket"
    return row


def test_passes_with_one_stack_row_when_every_phi_bucket_uses_a_stack_cmk(analyzer):
    rows = rows_for(analyze_stack(analyzer, compliant_stack()), POLICY)
    assert [(row.status, row.urn) for row in rows] == [(Status.PASS, STACK_URN)]
    assert rows[0].severity == "high" and rows[0].enforcement_level == "mandatory"
    assert "21 CFR Part 11 11.10(c)" in rows[0].frameworks


def test_fails_when_phi_bucket_has_no_encryption_configuration(analyzer):
    stack = compliant_stack()
    del stack["raw_sse"]
    row = _fail_row(analyzer, stack, "raw")
    assert "PHI bucket 'raw'" in row.message and "it has none" in row.message


def test_fails_on_sse_s3_aes256(analyzer):
    stack = compliant_stack()
    stack["deid_sse"] = _with_rule(stack["deid_sse"], {"sseAlgorithm": "AES256"})
    row = _fail_row(analyzer, stack, "deid")
    assert "sseAlgorithm AES256" in row.message and "SSE-S3" in row.message


def test_fails_on_aws_managed_key_alias(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = replace(
        _with_rule(stack["raw_sse"], {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/aws/s3"}),
        property_dependencies={"bucket": (stack["raw"].urn,)},
    )
    assert "AWS managed key alias/aws/s3" in _fail_row(analyzer, stack, "raw").message


def test_fails_when_kms_without_key_id(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = _with_rule(stack["raw_sse"], {"sseAlgorithm": "aws:kms"})
    assert "sets no kmsMasterKeyId" in _fail_row(analyzer, stack, "raw").message


def test_fails_on_a_key_that_is_not_in_the_stack(analyzer):
    stack = compliant_stack()
    foreign = "arn:aws:kms:eu-west-1:222222222222:key/external-0000"
    stack["raw_sse"] = replace(
        _with_rule(stack["raw_sse"], {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": foreign}),
        property_dependencies={"bucket": (stack["raw"].urn,)},
    )
    assert f"KMS key {foreign}, which is not a customer-managed key of this stack" in _fail_row(
        analyzer, stack, "raw").message


def test_joins_by_value_when_there_are_no_property_dependencies(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = replace(stack["raw_sse"], property_dependencies={})
    stack["deid_sse"] = replace(stack["deid_sse"], property_dependencies={})
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_value_join_fails_when_sse_names_another_bucket(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = replace(with_inputs(stack["raw_sse"], bucket="some-other-bucket"), property_dependencies={})
    assert "it has none" in _fail_row(analyzer, stack, "raw").message


def test_reports_every_failing_bucket_with_its_urn(analyzer):
    stack = compliant_stack()
    del stack["raw_sse"], stack["deid_sse"]
    rows = rows_for(analyze_stack(analyzer, stack), POLICY, Status.FAIL)
    assert {row.urn for row in rows} == {stack["raw"].urn, stack["deid"].urn}


def test_non_phi_bucket_is_out_of_scope(analyzer):
    stack = compliant_stack()
    del stack["logs_sse"]
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_configured_classification_brings_a_bucket_into_scope():
    from compliance.analyzer import PackAnalyzer
    from tests.policies.conftest import PACK_DIR

    analyzer = PackAnalyzer(PACK_DIR, {POLICY: {"additionalPhiClassifications": ["log"]}})
    stack = compliant_stack()
    del stack["logs_sse"]
    row = _fail_row(analyzer, stack, "logs")
    assert "PHI bucket 'access-logs'" in row.message


def test_not_applicable_without_phi_buckets(analyzer):
    stack = {k: v for k, v in compliant_stack().items() if k not in ("raw", "deid", "raw_sse", "deid_sse")}
    rows = rows_for(analyze_stack(analyzer, stack), POLICY)
    assert [(row.status, row.urn) for row in rows] == [(Status.NOT_APPLICABLE, STACK_URN)]


def test_unknown_key_without_dependency_is_indeterminate_not_fail(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = replace(
        _with_rule(stack["raw_sse"], {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": unknown()}),
        property_dependencies={"bucket": (stack["raw"].urn,)},
    )
    rows = rows_for(analyze_stack(analyzer, stack), POLICY)
    assert [(row.status, row.urn) for row in rows] == [(Status.INDETERMINATE, STACK_URN)]
    assert "kmsMasterKeyId can't be known during preview" in rows[0].message


def test_unknown_ids_joined_by_dependencies_are_still_checked(analyzer):
    stack = compliant_stack()
    stack["raw_sse"] = with_inputs(stack["raw_sse"], bucket=unknown(), rules=[{
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": unknown()},
    }])
    stack["deid"] = with_inputs(stack["deid"], id=unknown())
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_classification_from_provider_default_tags(analyzer):
    stack = compliant_stack()
    extra = bucket("scratch", "phi", stack["provider"].urn)
    stack["scratch"] = replace(extra, inputs={"bucket": extra.inputs["bucket"]},
                               outputs={**extra.outputs, "tags": {}, "tagsAll": {"data-classification": "phi"}})
    assert row_for(analyze_stack(analyzer, stack), POLICY, extra.urn).status is Status.FAIL
