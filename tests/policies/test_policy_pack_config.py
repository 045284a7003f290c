"""Policy config reconciliation in PackAnalyzer, as the CLI does it for --policy-pack-config."""

from __future__ import annotations

import json

import pytest

from compliance.analyzer import PackAnalyzer, PolicyConfigError
from compliance.model import Status
from tests.policies.conftest import PACK_DIR
from tests.policies.pack_fixtures import analyze_stack, compliant_stack, row_for, rows_for, with_inputs

ROTATION = "aws-kms-key-enable-key-rotation"
RES_01 = "aws-any-provider-configure-home-region"


def _stack_without_rotation():
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], enableKeyRotation=False)
    return stack


def _rotation_row(analyzer, stack):
    return row_for(analyze_stack(analyzer, stack), ROTATION, stack["raw_key"].urn)


def test_defaults_apply_without_config(analyzer):
    assert all(analyzer.enforcement_level(policy.name) == "mandatory" for policy in analyzer.policies)
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], rotationPeriodInDays=366.0)
    assert _rotation_row(analyzer, stack).status is Status.FAIL  # schema default 365 reached the policy


def test_all_advisory_from_config_file_makes_a_violation_non_blocking(tmp_path):
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps({"all": "advisory"}))
    analyzer = PackAnalyzer(PACK_DIR, json.loads(config_file.read_text()))
    row = _rotation_row(analyzer, _stack_without_rotation())
    assert row.status is Status.FAIL
    assert row.enforcement_level == "advisory" and not row.blocks


def test_policy_level_overrides_all():
    analyzer = PackAnalyzer(PACK_DIR, {"all": "advisory", ROTATION: {"enforcementLevel": "mandatory"}})
    assert analyzer.enforcement_level(ROTATION) == "mandatory"
    assert analyzer.enforcement_level(RES_01) == "advisory"
    assert _rotation_row(analyzer, _stack_without_rotation()).blocks


def test_disabled_policy_produces_no_rows():
    analyzer = PackAnalyzer(PACK_DIR, {ROTATION: "disabled"})
    rows = analyze_stack(analyzer, _stack_without_rotation())
    assert rows_for(rows, ROTATION) == []
    assert rows_for(rows, RES_01)


def test_config_properties_reach_the_policy():
    analyzer = PackAnalyzer(PACK_DIR, {ROTATION: {"maxRotationPeriodInDays": 400}})
    stack = compliant_stack()
    stack["raw_key"] = with_inputs(stack["raw_key"], rotationPeriodInDays=400.0)
    assert _rotation_row(analyzer, stack).status is Status.PASS


def test_bad_value_names_policy_and_key():
    with pytest.raises(PolicyConfigError, match=rf"{ROTATION}.*maxRotationPeriodInDays.*not of type 'integer'"):
        PackAnalyzer(PACK_DIR, {ROTATION: {"maxRotationPeriodInDays": "a year"}})


def test_value_below_schema_minimum_is_rejected():
    with pytest.raises(PolicyConfigError, match="maxRotationPeriodInDays"):
        PackAnalyzer(PACK_DIR, {ROTATION: {"maxRotationPeriodInDays": 30}})


def test_bad_region_in_list_names_the_index():
    with pytest.raises(PolicyConfigError, match=rf"{RES_01}.*allowedRegions\.0"):
        PackAnalyzer(PACK_DIR, {RES_01: {"allowedRegions": ["Ireland"]}})


def test_invalid_enforcement_level_is_rejected():
    with pytest.raises(PolicyConfigError, match=rf"{ROTATION}.*'sometimes' is not a valid enforcement level"):
        PackAnalyzer(PACK_DIR, {ROTATION: {"enforcementLevel": "sometimes"}})


def test_unknown_policy_name_is_rejected():
    with pytest.raises(PolicyConfigError, match="'aws-kms-key-rotate' names no policy"):
        PackAnalyzer(PACK_DIR, {"aws-kms-key-rotate": "advisory"})


def test_non_object_value_is_rejected():
    with pytest.raises(PolicyConfigError, match=ROTATION):
        PackAnalyzer(PACK_DIR, {ROTATION: 5})
