"""Stack settings: every bad or missing key stops the program with one message naming it."""

import json
from pathlib import Path

import pytest
import yaml

from components.settings import (
    AuditSettings,
    RegionalSettings,
    SettingsError,
    parse_settings,
)

STACKS = Path(__file__).resolve().parents[2] / "stacks"

REGIONAL = {
    "aws:region": "eu-west-1",
    "aws:allowedAccountIds": '["111111111111"]',
    "trial-imaging:kind": "regional",
    "trial-imaging:trialId": "ti-test",
    "trial-imaging:auditStack": "organization/trial-imaging/audit-eu",
}
AUDIT = {
    "aws:region": "eu-west-1",
    "aws:allowedAccountIds": '["999999999999"]',
    "trial-imaging:kind": "audit",
    "trial-imaging:trialId": "ti-test",
    "trial-imaging:workloadAccountIds": '["111111111111"]',
}


def parse(values: dict, stack: str = "test-stack"):
    return parse_settings(stack, values.get)


def error_for(values: dict) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        parse(values)
    return caught.value


def test_regional_defaults():
    settings = parse(REGIONAL)
    assert isinstance(settings, RegionalSettings)
    assert settings.jurisdiction == "eu"
    assert settings.account_id == "111111111111"
    assert settings.log_retention_days == 3653
    assert settings.processing_region("comprehendmedical") == "eu-west-1"
    assert settings.deid.batch_size == 5


def test_audit_settings():
    settings = parse(AUDIT)
    assert isinstance(settings, AuditSettings)
    assert settings.workload_account_ids == ("111111111111",)


def test_error_names_key_and_stack_file():
    error = error_for({**REGIONAL, "trial-imaging:kind": "regionl"})
    assert error.key == "trial-imaging:kind"
    assert str(error).startswith("stacks/Pulumi.test-stack.yaml: config key 'trial-imaging:kind'")


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("aws:region", None, "is required"),
        ("aws:region", "eu-west-2", "no supported jurisdiction"),
        ("trial-imaging:trialId", "Trial_01", "lowercase"),
        ("trial-imaging:trialId", None, "is required"),
        ("trial-imaging:auditStack", "audit-eu", "stack reference"),
        ("trial-imaging:logRetentionDays", "100", "retention periods"),
        ("trial-imaging:deidMemoryMb", "lots", "whole number"),
        ("trial-imaging:deidTimeoutSeconds", "901", "between 30 and 900"),
        ("trial-imaging:recordGlobalEvents", "yes", "true or false"),
        ("trial-imaging:jurisdiction", "us", "is in jurisdiction 'eu'"),
        ("aws:allowedAccountIds", '["1234"]', "12-digit"),
        ("aws:allowedAccountIds", "[]", "non-empty"),
        ("aws:allowedAccountIds", None, "is required"),
    ],
)
def test_bad_regional_values(key, value, problem):
    values = {**REGIONAL, key: value}
    error = error_for(values)
    assert error.key == key
    assert problem in str(error)


def test_audit_needs_workload_accounts():
    error = error_for({**AUDIT, "trial-imaging:workloadAccountIds": None})
    assert error.key == "trial-imaging:workloadAccountIds"


def test_home_region_without_comprehend_medical_needs_an_exception():
    error = error_for({**REGIONAL, "aws:region": "eu-central-1"})
    assert error.key == "trial-imaging:processingRegions"
    assert "Comprehend Medical" in str(error)
    assert "comprehendmedical: eu-west-1" in str(error)


def test_processing_region_exception_inside_jurisdiction_is_accepted():
    settings = parse({
        **REGIONAL,
        "aws:region": "eu-central-1",
        "trial-imaging:processingRegions": json.dumps({"comprehendmedical": "eu-west-1"}),
    })
    assert settings.processing_region("comprehendmedical") == "eu-west-1"
    assert settings.processing_region("rekognition") == "eu-central-1"


@pytest.mark.parametrize(
    ("exception", "problem"),
    [
        ({"comprehendmedical": "us-east-1"}, "outside jurisdiction 'eu'"),
        ({"comprehendmedical": "eu-west-3"}, "does not offer it"),
        ({"textract": "eu-west-1"}, "unknown service"),
    ],
)
def test_bad_processing_region_exceptions(exception, problem):
    error = error_for({
        **REGIONAL,
        "aws:region": "eu-central-1",
        "trial-imaging:processingRegions": json.dumps(exception),
    })
    assert problem in str(error)


def test_exception_where_home_region_offers_the_service_is_refused():
    error = error_for({**REGIONAL, "trial-imaging:processingRegions": '{"rekognition": "eu-central-1"}'})
    assert "remove the entry" in str(error)


def flattened_stack_config(path: Path) -> dict[str, str]:
    config = yaml.safe_load(path.read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


@pytest.mark.parametrize("path", sorted(STACKS.glob("Pulumi.*.yaml")), ids=lambda p: p.stem)
def test_shipped_stacks_are_valid(path):
    stack = path.stem.removeprefix("Pulumi.")
    settings = parse(flattened_stack_config(path), stack)
    assert settings.kind == ("audit" if stack.startswith("audit-") else "regional")
    if settings.kind == "regional":
        assert settings.region == stack, "a regional stack is named after its region"
        assert settings.audit_stack.endswith(f"/audit-{settings.jurisdiction}")


def test_misspelled_key_is_refused_with_a_suggestion():
    with pytest.raises(SettingsError) as caught:
        parse_settings("eu-west-1", REGIONAL.get, [*REGIONAL, "trial-imaging:logRetentionDay"])
    assert caught.value.key == "trial-imaging:logRetentionDay"
    assert "did you mean 'trial-imaging:logRetentionDays'?" in str(caught.value)


def test_keys_of_other_namespaces_are_not_ours_to_judge():
    settings = parse_settings("eu-west-1", REGIONAL.get, [*REGIONAL, "aws:profile", "pulumi:tags"])
    assert settings.region == "eu-west-1"


def test_known_keys_are_exactly_those_declared_in_pulumi_yaml():
    from components.settings import KNOWN_KEYS

    declared = yaml.safe_load((STACKS.parent / "Pulumi.yaml").read_text())["config"]
    assert sorted(declared) == sorted(KNOWN_KEYS)
    assert all(entry.get("description") for entry in declared.values())


def test_profile_options_and_pixel_backend():
    settings = parse({
        **REGIONAL,
        "trial-imaging:deidOptions": '["retain-uids", "clean-descriptors", "retain-uids"]',
        "trial-imaging:pixelBackend": "signatures",
    })
    assert settings.deid.profile_options == ("retain-uids", "clean-descriptors")
    assert settings.deid.pixel_backend == "signatures"
    defaults = parse(REGIONAL).deid
    assert defaults.profile_options == ("retain-longitudinal-modified-dates",)
    assert defaults.pixel_backend == "rekognition"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("trial-imaging:deidOptions", '["retain-everything"]', "unknown profile option 'retain-everything'"),
        ("trial-imaging:deidOptions", '["retain-longitudinal-modified-dates", "retain-longitudinal-full-dates"]',
         "is not a valid profile"),
        ("trial-imaging:deidOptions", '"retain-uids"', "list of option names"),
        ("trial-imaging:pixelBackend", "tesseract", "must be one of rekognition, signatures, none"),
    ],
)
def test_bad_deidentification_choices(key, value, problem):
    error = error_for({**REGIONAL, key: value})
    assert error.key == key and problem in str(error)
