"""The audit archive under mocks: immutable, encrypted, writable only by this product's trails."""

import shutil
from pathlib import Path

import pytest
import yaml

from compliance.errors import CheckInputError
from compliance.planner import Planner
from compliance.project import load_project
from tests.components.conftest import REPO
from tests.components.plans import as_list, policy_statements

EU_REGIONS = ("eu-west-1", "eu-west-3", "eu-central-1", "eu-south-1", "eu-south-2", "eu-north-1")


def test_archive_bucket_has_compliance_mode_object_lock(plan_of):
    plan = plan_of("audit-eu")
    bucket = plan.one("aws:s3/bucket:Bucket", "audit-archive")
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.inputs["tags"]["data-classification"] == "audit"
    lock = plan.bucket_config(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", bucket.inputs["bucket"]
    )
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 3653}
    versioning = plan.one("aws:s3/bucketVersioning:BucketVersioning", "audit-archive-versioning")
    assert versioning.urn in lock.dependencies, "Object Lock is configured after versioning"


def test_archive_is_encrypted_with_its_own_rotating_key(plan_of):
    plan = plan_of("audit-eu")
    key = plan.one("aws:kms/key:Key", "audit-key")
    assert key.inputs["enableKeyRotation"] is True and key.protect
    sse = plan.bucket_config(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        plan.exports["archiveBucketName"],
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.outputs["arn"]
    assert plan.exports["archiveKeyArn"] == key.outputs["arn"]
    assert ":eu-west-1:999999999999:" in key.outputs["arn"]


def trail_arns(jurisdiction_regions, account="111111111111"):
    return sorted(f"arn:aws:cloudtrail:{r}:{account}:trail/ti-demo-{r}-trail" for r in jurisdiction_regions)


def test_bucket_policy_lets_only_the_jurisdictions_trails_write(plan_of):
    plan = plan_of("audit-eu")
    name = plan.exports["archiveBucketName"]
    statements = policy_statements(plan.bucket_config("aws:s3/bucketPolicy:BucketPolicy", name).inputs["policy"])
    write = next(s for s in statements if s.get("Sid") == "CloudTrailWrite")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert as_list(write["Resource"]) == [f"arn:aws:s3:::{name}/AWSLogs/111111111111/*"]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arns(EU_REGIONS)
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    acl = next(s for s in statements if s.get("Sid") == "CloudTrailAclCheck")
    assert acl["Action"] == "s3:GetBucketAcl"
    assert acl["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arns(EU_REGIONS)
    # No US trail may write into the EU archive.
    assert not any(":us-" in arn for arn in write["Condition"]["StringEquals"]["aws:SourceArn"])


def test_key_policy_lets_cloudtrail_encrypt_only_for_workload_trails(plan_of):
    key = plan_of("audit-us").one("aws:kms/key:Key", "audit-key")
    statements = policy_statements(key.inputs["policy"])
    encrypt = next(s for s in statements if s.get("Sid") == "CloudTrailEncryptsLogs")
    assert encrypt["Action"] == ["kms:GenerateDataKey*"]
    assert encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"] == [
        "arn:aws:cloudtrail:*:222222222222:trail/*"
    ]
    assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arns(
        ("us-east-1", "us-east-2", "us-west-1", "us-west-2"), "222222222222"
    )
    for statement in statements:
        if statement["Principal"] == "*" or statement["Principal"].get("AWS") == "*":
            pytest.fail(f"key policy statement {statement.get('Sid')} is open to everyone")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """This project's program and stacks in a scratch directory, sharing the Lambda build cache."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO / name, copy / name)
    for name in ("components", "deidentify", "stacks"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (REPO / "build").mkdir(exist_ok=True)
    (copy / "build").symlink_to(REPO / "build")
    return copy


def test_regional_stack_refuses_an_archive_of_another_jurisdiction(project_copy: Path):
    stack_file = project_copy / "stacks" / "Pulumi.eu-west-1.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["trial-imaging:auditStack"] = "organization/trial-imaging/audit-us"
    stack_file.write_text(yaml.safe_dump(config))

    planner = Planner(load_project(project_copy))
    with pytest.raises(CheckInputError) as caught:
        planner.plan("eu-west-1")
    message = str(caught.value)
    assert "archives jurisdiction 'us'" in message and "this stack is in 'eu'" in message


def test_bad_stack_config_stops_the_program_naming_the_key(project_copy: Path):
    stack_file = project_copy / "stacks" / "Pulumi.eu-central-1.yaml"
    config = yaml.safe_load(stack_file.read_text())
    del config["config"]["trial-imaging:processingRegions"]
    stack_file.write_text(yaml.safe_dump(config))

    with pytest.raises(CheckInputError) as caught:
        Planner(load_project(project_copy)).plan("eu-central-1")
    message = str(caught.value)
    assert "stacks/Pulumi.eu-central-1.yaml: config key 'trial-imaging:processingRegions'" in message


def test_planning_a_copy_of_the_project_leaves_this_process_modules_in_place(project_copy: Path):
    import sys

    import components.settings as settings_before
    import deidentify.errors as errors_before

    Planner(load_project(project_copy)).plan("audit-eu")
    assert sys.modules["components.settings"] is settings_before
    assert sys.modules["deidentify.errors"] is errors_before


def test_a_misspelled_key_in_a_stack_file_stops_the_program(project_copy: Path):
    stack_file = project_copy / "stacks" / "Pulumi.us-east-1.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["trial-imaging:recordGlobalEvent"] = True
    stack_file.write_text(yaml.safe_dump(config))

    with pytest.raises(CheckInputError) as caught:
        Planner(load_project(project_copy)).plan("us-east-1")
    assert "config key 'trial-imaging:recordGlobalEvent' is not a setting" in str(caught.value)
    assert "did you mean 'trial-imaging:recordGlobalEvents'?" in str(caught.value)
