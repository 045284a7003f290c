"""Reading Pulumi.yaml and stack files into the config map the CLI would give the program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.errors import CheckInputError
from compliance.project import load_project, load_stack_config, stack_tags
from tests.compliance.projects import FIXTURE_PROJECT


def test_fixture_project_layout() -> None:
    project = load_project(FIXTURE_PROJECT)

    assert project.name == "mini-imaging"
    assert project.stack_config_dir == FIXTURE_PROJECT / "stacks"
    assert project.program_file == FIXTURE_PROJECT / "__main__.py"
    assert project.stack_names() == ["archive", "compliant", "sse-s3"]


def test_stack_config_is_namespaced_json_encoded_and_defaulted() -> None:
    project = load_project(FIXTURE_PROJECT)
    config = load_stack_config(project, "sse-s3")

    assert config.values["aws:region"] == "eu-west-1"
    assert json.loads(config.values["aws:allowedAccountIds"]) == ["111111111111"]
    assert config.values["mini-imaging:sseAlgorithm"] == "AES256"  # the stack overrides the default
    assert config.values["mini-imaging:keyRotation"] == "true"  # project default, JSON-encoded
    assert config.values["mini-imaging:kind"] == "regional"
    assert config.tags == {"trial-imaging:jurisdiction": "eu", "trial-imaging:homeRegion": "eu-west-1"}
    assert stack_tags(project, config) == {
        **config.tags,
        "pulumi:project": "mini-imaging",
        "pulumi:runtime": "python",
        "pulumi:description": project.description,
    }


def test_main_may_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__main__.py").write_text("", encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nmain: src\n", encoding="utf-8")

    project = load_project(tmp_path)

    assert project.program_file == tmp_path / "src" / "__main__.py"
    assert project.program_dir == tmp_path / "src"


def test_secure_values_become_typed_secret_placeholders(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text(
        "name: p\nruntime: python\nconfig:\n  port:\n    type: integer\n", encoding="utf-8"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  p:port:\n    secure: v1:AAAA\n  p:db:\n    user: u\n    password:\n      secure: v1:BBBB\n",
        encoding="utf-8",
    )

    config = load_stack_config(load_project(tmp_path), "dev")

    assert config.values["p:port"] == "0"
    assert json.loads(config.values["p:db"])["user"] == "u"
    assert config.secret_keys == {"p:port", "p:db"}
    assert config.placeholder_keys == ("p:db", "p:port")
    assert "v1:" not in json.dumps(config.values)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: p\nruntime: nodejs\n", "only 'python'"),
        ("runtime: python\n", "'name' is missing"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("name: p\nruntime: python\nmain: nowhere.py\n", "does not exist"),
    ],
)
def test_bad_project_files_name_the_file(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text(content, encoding="utf-8")

    with pytest.raises(CheckInputError, match=expected) as caught:
        load_project(tmp_path)
    assert str(tmp_path / "Pulumi.yaml") in str(caught.value)


def test_stack_tags_must_be_strings(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("", encoding="utf-8")
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  pulumi:tags: [eu]\n", encoding="utf-8")

    with pytest.raises(CheckInputError, match="pulumi:tags") as caught:
        load_stack_config(load_project(tmp_path), "dev")
    assert str(tmp_path / "Pulumi.dev.yaml") in str(caught.value)
