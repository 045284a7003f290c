"""The pack directory is a real Pulumi policy pack whose __main__.py builds the PolicyPack from the registry."""

from __future__ import annotations

import runpy

import pulumi_policy
import yaml
from pulumi_policy import EnforcementLevel

from policies.registry import PACK_NAME, POLICIES
from tests.policies.conftest import PACK_DIR


def test_main_builds_one_policy_pack_from_the_registry(monkeypatch):
    built = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    runpy.run_path(str(PACK_DIR), run_name="__main__")
    assert len(built) == 1
    assert built[0]["name"] == PACK_NAME
    assert built[0]["policies"] == list(POLICIES)
    assert built[0]["enforcement_level"] is EnforcementLevel.MANDATORY


def test_pulumipolicy_yaml_declares_python_venv_and_version():
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert project["version"] == "0.1.0"
    assert project["description"]


def test_pack_requirements_pin_the_same_sdk_as_the_project():
    def pins(path):
        return {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
                for line in path.read_text().splitlines() if "==" in line and not line.startswith("#")}

    pack, project = pins(PACK_DIR / "requirements.txt"), pins(PACK_DIR.parent / "requirements.txt")
    assert pack["pulumi-policy"] == "1.21.0" and pack["pulumi"] == "3.272.0"
    assert all(project[name] == version for name, version in pack.items())
