"""Planning programs in-process: isolation between stacks and projects, StackReferences, providers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance.wire import is_secret
from compliance.errors import CheckInputError, ProgramFailedError
from compliance.model import UNKNOWN_SENTINEL, CapturedResource
from compliance.planner import Planner, StackPlan
from compliance.project import load_project
from tests.compliance.projects import FIXTURE_PROJECT, write_project

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"
TRAIL = "aws:cloudtrail/trail:Trail"


def _one(plan: StackPlan, type_: str) -> CapturedResource:
    matches = [r for r in plan.resources if r.type == type_]
    assert len(matches) == 1, [r.urn for r in plan.resources]
    return matches[0]


def _by_urn(plan: StackPlan) -> dict[str, CapturedResource]:
    return {r.urn: r for r in plan.resources}


@pytest.fixture()
def planner() -> Planner:
    return Planner(load_project(FIXTURE_PROJECT))


def test_two_stacks_back_to_back_do_not_leak_resources_or_config(planner: Planner) -> None:
    central = planner.plan("compliant")  # eu-central-1, SSE-KMS
    west = planner.plan("sse-s3")  # eu-west-1, SSE-S3

    for plan, region in ((central, "eu-central-1"), (west, "eu-west-1")):
        assert all(f"urn:pulumi:{plan.stack}::mini-imaging::" in r.urn for r in plan.resources)
        key = _one(plan, KEY)
        assert key.outputs["arn"].startswith(f"arn:aws:kms:{region}:111111111111:key/")
        provider = _by_urn(plan)[key.provider]
        assert provider.inputs["region"] == region
        assert plan.exports["keyArn"] == key.outputs["arn"]

    central_rule = _one(central, SSE).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    west_rule = _one(west, SSE).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert central_rule == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": _one(central, KEY).outputs["arn"]}
    assert west_rule == {"sseAlgorithm": "AES256"}
    assert len(central.resources) == len(west.resources)


def test_planning_is_deterministic_across_planners() -> None:
    project = load_project(FIXTURE_PROJECT)
    first = Planner(project).plan("compliant")
    second = Planner(project).plan("compliant")

    assert first.resources == second.resources
    assert first.exports == second.exports


def test_stack_reference_to_a_sibling_stack_gets_its_exports(planner: Planner) -> None:
    plan = planner.plan("compliant")
    archive = planner.plan("archive")

    trail = _one(plan, TRAIL)
    assert trail.inputs["s3BucketName"] == archive.exports["archiveBucketName"] == "mini-archive-eu-west-1"
    reference = _one(plan, "pulumi:pulumi:StackReference")
    assert reference.inputs == {"name": "organization/mini-imaging/archive"}
    assert reference.outputs["secretOutputNames"] == ["archiveBucketArn"]
    assert is_secret(archive.exports["archiveBucketArn"])


def test_resources_are_captured_with_parent_provider_and_dependencies(planner: Planner) -> None:
    plan = planner.plan("compliant")
    stack = _one(plan, "pulumi:pulumi:Stack")
    bucket = _one(plan, BUCKET)
    sse = _one(plan, SSE)

    assert stack.outputs == plan.exports
    assert bucket.parent == stack.urn
    assert bucket.provider == sse.provider and _by_urn(plan)[bucket.provider].type == "pulumi:providers:aws"
    assert bucket.urn in sse.dependencies
    assert sse.property_dependencies["bucket"] == (bucket.urn,)
    assert sse.inputs["bucket"] == bucket.outputs["bucket"] == bucket.outputs["id"]
    assert bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"


def test_stack_reference_cycle_is_bad_input(tmp_path: Path) -> None:
    program = """
        import pulumi
        other = pulumi.Config().require("other")
        pulumi.export("seen", pulumi.StackReference(f"organization/loop/{other}").get_output("seen"))
    """
    project = write_project(
        tmp_path / "loop", "loop", program, {"a": {"loop:other": "b"}, "b": {"loop:other": "a"}}
    )

    with pytest.raises(CheckInputError, match=r"cycle between stacks: a -> b -> a"):
        Planner(load_project(project)).plan("a")


def test_default_provider_is_synthesized_from_aws_region(tmp_path: Path) -> None:
    program = """
        import pulumi_aws as aws
        aws.kms.Key("key", enable_key_rotation=True)
        aws.kms.Key("elsewhere", enable_key_rotation=True, region="eu-central-1")
    """
    project = write_project(
        tmp_path / "plain", "plain", program, {"dev": {"aws:region": "eu-west-1", "aws:allowedAccountIds": ["333333333333"]}}
    )

    plan = Planner(load_project(project)).plan("dev")

    default = _by_urn(plan)["urn:pulumi:dev::plain::pulumi:providers:aws::default"]
    assert default.inputs["region"] == "eu-west-1"
    keys = {r.name: r for r in plan.resources if r.type == KEY}
    assert {k.provider for k in keys.values()} == {default.urn}
    assert keys["key"].outputs["arn"].startswith("arn:aws:kms:eu-west-1:333333333333:key/")
    assert keys["elsewhere"].outputs["arn"].startswith("arn:aws:kms:eu-central-1:333333333333:key/")


def test_duplicate_urns_are_a_program_error(tmp_path: Path) -> None:
    program = """
        import pulumi_aws as aws
        aws.s3.Bucket("dup")
        aws.s3.Bucket("dup")
    """
    project = write_project(tmp_path / "dup", "dup", program, {"dev": {"aws:region": "eu-west-1"}})

    with pytest.raises(CheckInputError, match=r"duplicate resource URN.*aws:s3/bucket:Bucket::dup"):
        Planner(load_project(project)).plan("dev")


def test_program_error_names_stack_and_error(tmp_path: Path) -> None:
    program = """
        import pulumi
        raise RuntimeError("trialId is missing")
    """
    project = write_project(tmp_path / "bad", "bad", program, {"dev": {}})

    with pytest.raises(ProgramFailedError) as caught:
        Planner(load_project(project)).plan("dev")
    assert (caught.value.stack, caught.value.error_type, caught.value.error_text) == (
        "dev",
        "RuntimeError",
        "trialId is missing",
    )


def test_two_projects_each_import_their_own_modules(tmp_path: Path) -> None:
    program = """
        import pulumi
        import helpers
        pulumi.export("origin", helpers.ORIGIN)
        pulumi.export("region", pulumi.Config("aws").get("region"))
    """
    first = write_project(tmp_path / "first", "first", program, {"dev": {"aws:region": "eu-west-1"}})
    second = write_project(tmp_path / "second", "second", program, {"dev": {}})
    (first / "helpers.py").write_text('ORIGIN = "first"\n', encoding="utf-8")
    (second / "helpers.py").write_text('ORIGIN = "second"\n', encoding="utf-8")

    first_plan = Planner(load_project(first)).plan("dev")
    second_plan = Planner(load_project(second)).plan("dev")

    assert first_plan.exports == {"origin": "first", "region": "eu-west-1"}
    assert second_plan.exports == {"origin": "second"}


def test_environment_is_cleared_for_the_run_and_restored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = """
        import os
        import pulumi
        import pulumi_aws as aws
        aws.Provider("explicit")
        pulumi.export("cwd", os.getcwd())
        pulumi.export("leaked", sorted(k for k in os.environ if k.startswith(("AWS_REGION", "AWS_DEFAULT", "PULUMI_"))))
    """
    project = write_project(tmp_path / "env", "env", program, {"dev": {}})
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("PULUMI_CONFIG", '{"env:x": "1"}')
    before = os.getcwd()

    plan = Planner(load_project(project)).plan("dev")

    provider = next(r for r in plan.resources if r.type == "pulumi:providers:aws")
    assert "region" not in provider.inputs
    assert plan.exports == {"cwd": str(project), "leaked": []}
    assert os.environ["AWS_REGION"] == "us-west-2" and os.getcwd() == before


def test_encrypted_config_gets_a_secret_placeholder_and_a_note(tmp_path: Path) -> None:
    program = """
        import pulumi
        config = pulumi.Config()
        pulumi.export("password", config.require_secret("password"))
        pulumi.export("size", config.require_int("size"))
    """
    project = write_project(
        tmp_path / "sec", "sec", program, {"dev": {"sec:password": {"secure": "v1:AAAA"}, "sec:size": 3}}
    )

    plan = Planner(load_project(project)).plan("dev")

    assert is_secret(plan.exports["password"])
    assert plan.exports["size"] == 3
    assert any("sec:password" in note and "placeholder" in note for note in plan.notes)


def test_stack_reference_outside_the_project_is_a_note_not_an_error(tmp_path: Path) -> None:
    program = """
        import pulumi
        archive = pulumi.StackReference("acme/central-logging/prod")
        pulumi.export("bucket", archive.get_output("bucketName"))
    """
    project = write_project(tmp_path / "ext", "ext", program, {"dev": {}})

    plan = Planner(load_project(project)).plan("dev")

    assert plan.exports["bucket"] == UNKNOWN_SENTINEL  # unknown, as in a preview, not a made-up value
    assert any("acme/central-logging/prod" in note and "another project" in note for note in plan.notes)


def test_program_calling_sys_exit_is_a_program_error(tmp_path: Path) -> None:
    project = write_project(tmp_path / "ex", "ex", "import sys\nsys.exit(3)\n", {"dev": {}})

    with pytest.raises(ProgramFailedError, match="SystemExit"):
        Planner(load_project(project)).plan("dev")
