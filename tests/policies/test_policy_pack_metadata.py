"""OPS-02: the pack self-test. Every policy carries complete metadata and follows the naming rules."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policies.controlled import ControlledResourcePolicy, ControlledStackPolicy
from policies.registry import PACK_ENFORCEMENT_LEVEL, POLICIES

CONTROL_ID = re.compile(r"^[A-Z]+-\d{2}$")
NAME = re.compile(r"^aws-(?P<service>[a-z0-9]+)-[a-z0-9]+-(?P<verb>enable|configure|disallow|missing)-[a-z0-9-]+$")
VERBS = ("enable", "configure", "disallow", "missing")


def test_pack_is_mandatory_and_names_are_unique():
    assert PACK_ENFORCEMENT_LEVEL is EnforcementLevel.MANDATORY
    names = [policy.name for policy in POLICIES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_metadata_is_complete(policy):
    assert isinstance(policy, ControlledResourcePolicy | ControlledStackPolicy)
    assert policy.control_ids and all(CONTROL_ID.match(control) for control in policy.control_ids)
    assert policy.resource_types
    assert policy.severity is not None
    assert policy.framework is not None and policy.framework.name and policy.framework.reference
    assert policy.tags is not None and all(isinstance(tag, str) and tag for tag in policy.tags)
    assert policy.remediation_steps and len(policy.remediation_steps.split()) >= 5
    assert policy.url and policy.url.startswith("https://")
    assert policy.description[0].isupper() and policy.description.endswith(".")
    assert len(policy.description.split()) >= 6
    assert policy.display_name and policy.display_name.startswith(policy.control_ids[0])
    # Hygiene checks may be advisory; nothing may be weaker than that by default.
    assert policy.enforcement_level in (None, EnforcementLevel.ADVISORY)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_policy_lives_in_its_service_module(policy):
    match = NAME.match(policy.name)
    assert match, f"{policy.name} is not aws-<service>-<resource>-<verb>-<object>"
    owners = [module for module in list(sys.modules.values())
              if getattr(module, "__name__", "").startswith("policies.")
              and any(value is policy for value in vars(module).values())
              and getattr(module, "__name__") != "policies.registry"]
    assert len(owners) == 1, f"{policy.name} should be defined in exactly one policy module"
    parts = owners[0].__name__.split(".")
    assert parts[1] == match["service"]
    assert Path(owners[0].__file__).stem.split("_")[0] == match["verb"]


def test_a_policy_without_required_metadata_is_refused():
    with pytest.raises(TypeError, match="lacks severity, framework"):
        ControlledResourcePolicy(
            name="aws-s3-bucket-missing-metadata",
            description="A policy that names no severity or framework.",
            validate=lambda args, report_violation: None,
            control_ids=("ENC-01",),
            resource_types=("aws:s3/bucket:Bucket",),
            remediation_steps="None.",
            url="https://example.invalid/",
        )
