"""ENC-03 aws-kms-key-enable-key-rotation, through the PackAnalyzer."""

from __future__ import annotations

from compliance.model import Status
from tests.policies.pack_fixtures import analyze_stack, compliant_stack, row_for, rows_for, unknown, with_inputs

POLICY = "aws-kms-key-enable-key-rotation"


def test_passes_for_every_key_of_the_compliant_stack(analyzer):
    stack = compliant_stack()
    rows = rows_for(analyze_stack(analyzer, stack), POLICY)
    assert {row.urn for row in rows} == {stack[k].urn for k in ("raw_key", "deid_key", "log_key")}
    assert all(row.status is Status.PASS for row in rows)
    assert all(row.control_ids == ("ENC-03",) and row.severity == "medium" for row in rows)


def test_fails_when_rotation_disabled(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], enableKeyRotation=False)
    row = row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn)
    assert row.status is Status.FAIL
    assert "must enable automatic key rotation" in row.message
    assert row.enforcement_level == "mandatory" and row.blocks


def test_fails_when_rotation_unset(analyzer):
    stack = compliant_stack()
    stack["deid_key"] = with_inputs(stack["deid_key"], enableKeyRotation=None)
    row = row_for(analyze_stack(analyzer, stack), POLICY, stack["deid_key"].urn)
    assert row.status is Status.FAIL and "enableKeyRotation" in row.message


def test_fails_when_rotation_period_exceeds_a_year(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], rotationPeriodInDays=400.0)
    row = row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn)
    assert row.status is Status.FAIL
    assert "at least every 365 days: rotationPeriodInDays is 400" in row.message


def test_passes_when_rotation_period_within_a_year(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], rotationPeriodInDays=180.0)
    assert row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn).status is Status.PASS


def test_asymmetric_key_is_not_applicable(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY",
                                   enableKeyRotation=None)
    row = row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn)
    assert row.status is Status.NOT_APPLICABLE
    assert "RSA_2048" in row.message


def test_hmac_key_is_not_applicable(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], customerMasterKeySpec="HMAC_256",
                                   keyUsage="GENERATE_VERIFY_MAC", enableKeyRotation=None)
    assert row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn).status is Status.NOT_APPLICABLE


def test_unknown_rotation_flag_is_indeterminate_not_fail(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], enableKeyRotation=unknown())
    row = row_for(analyze_stack(analyzer, stack), POLICY, stack["raw_key"].urn)
    assert row.status is Status.INDETERMINATE
    assert "can't be known during preview" in row.message
    assert row.blocks is False
