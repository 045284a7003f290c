"""PackAnalyzer behaviour that does not depend on our policies: loading, rows, errors, environment."""

from __future__ import annotations

import os
import textwrap

import pulumi.runtime.config as runtime_config
import pulumi.runtime.settings as runtime_settings
import pytest

from compliance.analyzer import PackAnalyzer, PolicyExecutionError, PolicyPackLoadError
from compliance.model import Status
from tests.policies.pack_fixtures import STACK_URN, analyze_stack, compliant_stack, rows_for, unknown, with_inputs

FOREIGN_PACK = '''
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

def no_trails(args, report_violation):
    if args.resource_type == "aws:cloudtrail/trail:Trail":
        report_violation("no trails allowed")

def stack_wide(args, report_violation):
    report_violation("the whole stack is wrong")
    report_violation("so is something elsewhere", "urn:pulumi:other::other::aws:s3/bucket:Bucket::elsewhere")

def explode(args, report_violation):
    if args.resource_type == "aws:kms/key:Key":
        raise KeyError("boom")

PolicyPack(
    name="foreign",
    policies=[
        ResourceValidationPolicy(name="no-trails", description="No trails.", validate=no_trails),
        StackValidationPolicy(name="stack-wide", description="Stack wide.", validate=stack_wide),
        ResourceValidationPolicy(name="explode", description="Explodes.", validate=explode),
    ],
    initial_config=INITIAL_CONFIG,
)
'''


def _write_pack(directory, initial_config="None", version_line="version: 2.3.4\n"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "PulumiPolicy.yaml").write_text("runtime: python\n" + version_line)
    (directory / "__main__.py").write_text(textwrap.dedent(FOREIGN_PACK).replace("INITIAL_CONFIG", initial_config))
    return directory


def test_loads_name_and_version_from_the_pack(analyzer):
    assert (analyzer.name, analyzer.version) == ("trial-imaging-compliance", "0.1.0")


def test_version_defaults_like_the_sdk_when_yaml_has_none(tmp_path):
    pack = _write_pack(tmp_path / "pack", initial_config='{"explode": EnforcementLevel.DISABLED}', version_line="")
    assert PackAnalyzer(pack).version == "0.0.1"


def test_directory_without_pulumipolicy_yaml_is_rejected(tmp_path):
    with pytest.raises(PolicyPackLoadError, match="no PulumiPolicy.yaml"):
        PackAnalyzer(tmp_path)


def test_foreign_pack_rows_cover_every_resource_and_default_to_advisory(tmp_path):
    pack = _write_pack(tmp_path / "pack", initial_config='{"explode": EnforcementLevel.DISABLED}')
    analyzer = PackAnalyzer(pack)
    stack = compliant_stack()
    rows = analyze_stack(analyzer, stack)
    trail_rows = rows_for(rows, "no-trails")
    assert len(trail_rows) == len(stack)  # no resource_types: every resource is in scope
    failed = [row for row in trail_rows if row.status is Status.FAIL]
    assert [(row.urn, row.message, row.enforcement_level) for row in failed] == [
        (stack["trail"].urn, "no trails allowed", "advisory")]
    assert all(row.control_ids == () and row.severity == "unspecified" for row in trail_rows)
    assert rows_for(rows, "explode") == []  # disabled through the pack's initial_config


def test_stack_violations_without_a_stack_urn_go_to_the_root_stack(tmp_path):
    pack = _write_pack(tmp_path / "pack", initial_config='{"explode": EnforcementLevel.DISABLED}')
    rows = rows_for(analyze_stack(PackAnalyzer(pack), compliant_stack()), "stack-wide")
    assert [(row.status, row.urn, row.resource_type, row.message) for row in rows] == [
        (Status.FAIL, STACK_URN, "pulumi:pulumi:Stack", "the whole stack is wrong; so is something elsewhere")]


def test_policy_exception_propagates_with_the_policy_name(tmp_path):
    pack = _write_pack(tmp_path / "pack")
    stack = compliant_stack()
    with pytest.raises(PolicyExecutionError, match=r"policy 'explode' raised KeyError on .*raw-key") as caught:
        analyze_stack(PackAnalyzer(pack), stack)
    assert isinstance(caught.value.__cause__, KeyError)


def test_indeterminate_message_names_pack_and_yaml_version(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], enableLogFileValidation=unknown())
    rows = rows_for(analyze_stack(analyzer, stack),
                    "aws-cloudtrail-trail-enable-log-file-validation", Status.INDETERMINATE)
    assert "from policy pack 'trial-imaging-compliance@v0.1.0' during preview" in rows[0].message


def test_runtime_environment_is_kept_out_of_analyze_and_restored(analyzer, monkeypatch):
    monkeypatch.setenv("PULUMI_PROJECT", "other-project")
    monkeypatch.setenv("PULUMI_STACK", "other-stack")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    monkeypatch.setenv("PULUMI_CONFIG", '{"leak:key": "leaked"}')
    project_before = runtime_settings.SETTINGS.project
    rows = analyze_stack(analyzer, compliant_stack())
    assert rows and not [row for row in rows if row.status is Status.FAIL]
    assert runtime_settings.SETTINGS.project == project_before
    assert "leak:key" not in runtime_config.CONFIG.get()
    assert os.environ["PULUMI_PROJECT"] == "other-project" and os.environ["PULUMI_CONFIG"]
