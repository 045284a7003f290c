"""Planned stacks through the real policy pack, in process: what only the glue can get wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.analyzer import PackAnalyzer
from compliance.check import check_stacks
from compliance.model import Status
from compliance.project import load_project
from tests.compliance.projects import REPO_ROOT, write_project

EU_TAGS = {"trial-imaging:jurisdiction": "eu", "trial-imaging:homeRegion": "eu-west-1"}
HOME_REGION_POLICY = "aws-any-provider-configure-home-region"
KEY_ROTATION_POLICY = "aws-kms-key-enable-key-rotation"


@pytest.fixture(scope="module")
def analyzer() -> PackAnalyzer:
    return PackAnalyzer(REPO_ROOT / "policies")


def test_default_provider_carries_aws_region_to_the_residency_policy(tmp_path: Path, analyzer: PackAnalyzer) -> None:
    program = """
        import pulumi_aws as aws
        aws.kms.Key("key", enable_key_rotation=True)
    """
    project = write_project(
        tmp_path / "p",
        "p",
        program,
        {
            "home": {"aws:region": "eu-west-1", "pulumi:tags": EU_TAGS},
            "abroad": {"aws:region": "us-east-1", "pulumi:tags": EU_TAGS},
        },
    )

    outcome = check_stacks(load_project(project), ["abroad", "home"], analyzer)

    assert outcome.failures == []
    abroad, home = outcome.reports
    default_provider = "urn:pulumi:abroad::p::pulumi:providers:aws::default"
    failed = {row.urn for row in abroad.rows if row.policy == HOME_REGION_POLICY and row.status is Status.FAIL}
    assert default_provider in failed
    assert not abroad.passed
    assert home.passed
    assert all(row.status is not Status.FAIL for row in home.rows if row.policy == HOME_REGION_POLICY)


def test_value_unknown_in_preview_is_indeterminate_not_pass(tmp_path: Path, analyzer: PackAnalyzer) -> None:
    program = """
        import pulumi_aws as aws
        first = aws.kms.Key("first", enable_key_rotation=True)
        # An output the mocks do not compute: unknown during preview, as for a new resource.
        aws.kms.Key("second", enable_key_rotation=first.bypass_policy_lockout_safety_check)
    """
    project = write_project(tmp_path / "u", "u", program, {"eu": {"aws:region": "eu-west-1", "pulumi:tags": EU_TAGS}})

    (report,) = check_stacks(load_project(project), ["eu"], analyzer).reports

    rotation = {row.urn.rsplit("::", 1)[-1]: row.status for row in report.rows if row.policy == KEY_ROTATION_POLICY}
    assert rotation == {"first": Status.PASS, "second": Status.INDETERMINATE}
    assert report.passed
