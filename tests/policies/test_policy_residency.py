"""RES-01 aws-any-provider-configure-home-region and RES-02 aws-any-resource-disallow-region-override."""

from __future__ import annotations

from dataclasses import replace

from compliance.analyzer import PackAnalyzer
from compliance.model import Status
from tests.policies.conftest import PACK_DIR
from tests.policies.pack_fixtures import (
    analyze_stack, compliant_stack, key, provider, row_for, rows_for, unknown, with_inputs,
)

RES_01 = "aws-any-provider-configure-home-region"
RES_02 = "aws-any-resource-disallow-region-override"


def test_res01_passes_for_provider_and_every_aws_resource(analyzer):
    stack = compliant_stack()
    rows = rows_for(analyze_stack(analyzer, stack), RES_01)
    assert {row.urn for row in rows} == {resource.urn for resource in stack.values()}
    assert all(row.status is Status.PASS and row.control_ids == ("RES-01",) for row in rows)
    assert all(row.severity == "critical" for row in rows)


def test_res01_fails_provider_and_its_resources_outside_the_jurisdiction(analyzer):
    stack = compliant_stack()
    stack["provider"] = provider(region="us-east-1")
    rows = analyze_stack(analyzer, stack)
    provider_row = row_for(rows, RES_01, stack["provider"].urn)
    assert provider_row.status is Status.FAIL
    assert "region us-east-1 is outside the allowed regions" in provider_row.message
    key_row = row_for(rows, RES_01, stack["raw_key"].urn)
    assert key_row.status is Status.FAIL and stack["provider"].urn in key_row.message


def test_res01_fails_in_jurisdiction_region_that_is_not_home(analyzer):
    stack = compliant_stack()
    frankfurt = provider("frankfurt", region="eu-central-1")
    stack["frankfurt"] = frankfurt
    stack["raw_key"] = replace(stack["raw_key"], provider=frankfurt.urn)
    rows = analyze_stack(analyzer, stack)
    row = row_for(rows, RES_01, stack["raw_key"].urn)
    assert row.status is Status.FAIL
    assert "region eu-central-1 is not the stack's home region eu-west-1" in row.message
    assert row_for(rows, RES_01, stack["deid_key"].urn).status is Status.PASS


def test_res01_checks_global_service_resources_on_their_provider(analyzer):
    stack = compliant_stack()
    global_provider = provider("global", region="us-east-1")
    stack["global"] = global_provider
    stack["role"] = replace(stack["role"], provider=global_provider.urn)
    assert row_for(analyze_stack(analyzer, stack), RES_01, stack["role"].urn).status is Status.FAIL


def test_res01_fails_when_provider_has_no_region(analyzer):
    stack = compliant_stack()
    stack["provider"] = provider(region=None)
    row = row_for(analyze_stack(analyzer, stack), RES_01, stack["provider"].urn)
    assert row.status is Status.FAIL and "explicit region" in row.message


def test_res01_fails_when_resource_has_no_provider(analyzer):
    stack = compliant_stack()
    stack["raw_key"] = replace(stack["raw_key"], provider=None)
    row = row_for(analyze_stack(analyzer, stack), RES_01, stack["raw_key"].urn)
    assert row.status is Status.FAIL and "none was given" in row.message


def test_res01_fails_closed_without_jurisdiction_tags(analyzer):
    stack = compliant_stack()
    rows = rows_for(analyze_stack(analyzer, stack, tags={}), RES_01)
    assert rows and all(row.status is Status.FAIL for row in rows)
    assert "set the stack tag trial-imaging:jurisdiction" in rows[0].message


def test_res01_fails_closed_without_home_region(analyzer):
    rows = rows_for(analyze_stack(analyzer, compliant_stack(), tags={"trial-imaging:jurisdiction": "eu"}), RES_01)
    assert all(row.status is Status.FAIL for row in rows)
    assert "set the stack tag trial-imaging:homeRegion" in rows[0].message


def test_res01_fails_on_unknown_jurisdiction(analyzer):
    tags = {"trial-imaging:jurisdiction": "apac", "trial-imaging:homeRegion": "eu-west-1"}
    rows = rows_for(analyze_stack(analyzer, compliant_stack(), tags=tags), RES_01)
    assert all(row.status is Status.FAIL for row in rows)
    assert "'apac' names no jurisdiction" in rows[0].message


def test_res01_uses_config_overrides_instead_of_tags():
    analyzer = PackAnalyzer(PACK_DIR, {RES_01: {"allowedRegions": ["eu-west-1"], "homeRegion": "eu-west-1"}})
    rows = rows_for(analyze_stack(analyzer, compliant_stack(), tags={}), RES_01)
    assert rows and all(row.status is Status.PASS for row in rows)


def test_res01_us_stack_passes_in_us_home_region(analyzer):
    stack = compliant_stack()
    stack["provider"] = provider(region="us-east-1")
    tags = {"trial-imaging:jurisdiction": "us", "trial-imaging:homeRegion": "us-east-1"}
    assert all(row.status is Status.PASS for row in rows_for(analyze_stack(analyzer, stack, tags=tags), RES_01))


def test_res01_unknown_provider_region_is_indeterminate(analyzer):
    stack = compliant_stack()
    stack["provider"] = with_inputs(stack["provider"], region=unknown())
    assert row_for(analyze_stack(analyzer, stack), RES_01, stack["raw_key"].urn).status is Status.INDETERMINATE


def test_res02_passes_without_region_inputs_and_skips_global_services(analyzer):
    stack = compliant_stack()
    rows = analyze_stack(analyzer, stack)
    assert row_for(rows, RES_02, stack["raw"].urn).status is Status.PASS
    role_row = row_for(rows, RES_02, stack["role"].urn)
    assert role_row.status is Status.NOT_APPLICABLE and "Global-service" in role_row.message
    assert all(row.urn != stack["provider"].urn for row in rows_for(rows, RES_02))


def test_res02_passes_when_region_equals_home(analyzer):
    stack = compliant_stack()
    stack["raw"] = with_inputs(stack["raw"], region="eu-west-1")
    assert row_for(analyze_stack(analyzer, stack), RES_02, stack["raw"].urn).status is Status.PASS


def test_res02_fails_on_region_override(analyzer):
    stack = compliant_stack()
    stack["raw"] = with_inputs(stack["raw"], region="eu-central-1")
    row = row_for(analyze_stack(analyzer, stack), RES_02, stack["raw"].urn)
    assert row.status is Status.FAIL and row.control_ids == ("RES-02",)
    assert "region input eu-central-1 differs from the stack's home region eu-west-1" in row.message


def test_res02_fails_closed_when_override_cannot_be_checked(analyzer):
    stack = compliant_stack()
    stack["raw"] = with_inputs(stack["raw"], region="eu-west-1")
    row = row_for(analyze_stack(analyzer, stack, tags={}), RES_02, stack["raw"].urn)
    assert row.status is Status.FAIL and "fails closed" in row.message


def test_res02_unknown_region_is_indeterminate(analyzer):
    stack = compliant_stack()
    stack["extra"] = key("extra-key", stack["provider"].urn, region=unknown())
    assert row_for(analyze_stack(analyzer, stack), RES_02, stack["extra"].urn).status is Status.INDETERMINATE
