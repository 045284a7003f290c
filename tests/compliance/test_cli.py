"""`python -m compliance check` end to end, as CI runs it: exit status, reports, error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.model import SCHEMA_VERSION
from tests.compliance.projects import FIXTURE_PROJECT, REPO_ROOT, run_cli

ENC_01_POLICY = "aws-s3-bucket-configure-server-side-encryption-cmk"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_planted_violation_fails_the_check_and_lands_in_the_stack_report(tmp_path: Path) -> None:
    result = run_cli("check", "--project", str(FIXTURE_PROJECT), cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["archive.json", "compliant.json", "report.md", "sse-s3.json"]

    violating = _load(out / "sse-s3.json")
    assert violating["schemaVersion"] == SCHEMA_VERSION
    assert violating["source"] == "plan"
    assert violating["result"] == "fail"
    assert violating["identity"]["stack"] == "sse-s3"
    assert violating["identity"]["tags"]["trial-imaging:jurisdiction"] == "eu"
    assert violating["identity"]["tags"]["pulumi:project"] == "mini-imaging"
    failing = [row for row in violating["rows"] if row["status"] == "fail"]
    assert len(failing) == 1
    row = failing[0]
    assert row["policy"] == ENC_01_POLICY
    assert row["controlIds"] == ["ENC-01"]
    assert row["enforcementLevel"] == "mandatory"
    assert row["blocks"] is True
    assert row["urn"].endswith("$aws:s3/bucket:Bucket::raw")
    assert "AES256" in row["message"]
    assert violating["summary"]["blocking"] == 1
    assert set(violating["versions"]) >= {"tool", "policyPack", "pulumi", "pulumi-aws", "pulumi-policy"}

    compliant = _load(out / "compliant.json")
    assert compliant["result"] == "pass"
    assert compliant["summary"]["fail"] == 0
    assert compliant["summary"]["pass"] > 0

    summary = (out / "report.md").read_text(encoding="utf-8")
    assert "`sse-s3`: **FAIL**" in summary
    assert "`compliant`: **PASS**" in summary
    assert ENC_01_POLICY in summary.split("## Failures", 1)[1]
    assert "sse-s3" in result.stdout and "FAIL" in result.stdout


def test_only_the_named_stacks_are_reported(tmp_path: Path) -> None:
    result = run_cli("check", "compliant", "--project", str(FIXTURE_PROJECT), "--out", "reports", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    # `archive` is planned because `compliant` references it, but was not asked for.
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["compliant.json", "report.md"]


def test_unknown_stack_is_bad_input_listing_the_stacks(tmp_path: Path) -> None:
    result = run_cli("check", "nowhere-1", "--project", str(FIXTURE_PROJECT), cwd=tmp_path)

    assert result.returncode == 2
    assert "nowhere-1" in result.stderr
    assert "archive, compliant, sse-s3" in result.stderr
    assert not (tmp_path / "out").exists()


def test_broken_stack_yaml_is_bad_input_naming_the_file(tmp_path: Path, fixture_project: Path) -> None:
    broken = fixture_project / "stacks" / "Pulumi.sse-s3.yaml"
    broken.write_text("config:\n  aws:region: [eu-west-1\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sse-s3.json").write_text("{}", encoding="utf-8")  # a stale report from an earlier run

    result = run_cli("check", "--project", str(fixture_project), cwd=tmp_path)

    assert result.returncode == 2
    assert str(broken) in result.stderr
    assert not (out / "sse-s3.json").exists()
    assert (out / "compliant.json").exists()
    summary = (out / "report.md").read_text(encoding="utf-8")
    assert "**ERROR**" in summary and "`sse-s3`: **NOT PLANNED**" in summary


def test_broken_project_file_is_bad_input_naming_the_file(tmp_path: Path, fixture_project: Path) -> None:
    (fixture_project / "Pulumi.yaml").write_text("name: mini-imaging\nruntime: python\n  config: {\n", encoding="utf-8")

    result = run_cli("check", "--project", str(fixture_project), cwd=tmp_path)

    assert result.returncode == 2
    assert str(fixture_project / "Pulumi.yaml") in result.stderr
    assert not (tmp_path / "out").exists()


def test_program_that_raises_is_bad_input_naming_stack_and_error(tmp_path: Path, fixture_project: Path) -> None:
    (fixture_project / "stacks" / "Pulumi.odd.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ['111111111111']\n  mini-imaging:kind: odd\n",
        encoding="utf-8",
    )

    result = run_cli("check", "odd", "--project", str(fixture_project), cwd=tmp_path)

    assert result.returncode == 2
    assert "stack 'odd'" in result.stderr
    assert "ValueError" in result.stderr
    assert "config kind must be 'regional' or 'archive', not 'odd'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "odd.json").exists()

    verbose = run_cli("check", "odd", "--project", str(fixture_project), "--verbose", cwd=tmp_path)
    assert verbose.returncode == 2
    assert "Traceback" in verbose.stderr


def test_bad_policy_config_is_bad_input(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({ENC_01_POLICY: "sometimes"}), encoding="utf-8")

    result = run_cli("check", "--project", str(FIXTURE_PROJECT), "--policy-config", str(config), cwd=tmp_path)

    assert result.returncode == 2
    assert "policy config" in result.stderr
    assert not (tmp_path / "out").exists()


def test_policy_config_can_make_the_violation_advisory(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({ENC_01_POLICY: "advisory"}), encoding="utf-8")

    result = run_cli(
        "check", "sse-s3", "--project", str(FIXTURE_PROJECT), "--policy-config", str(config), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    report = _load(tmp_path / "out" / "sse-s3.json")
    assert report["summary"]["advisoryFailures"] == 1
    assert report["summary"]["blocking"] == 0
    # The reports say which config made the failure advisory, so this PASS is never mistaken
    # for a PASS under the pack's mandatory levels.
    assert report["policyConfig"]["source"] == str(config)
    assert report["policyConfig"]["levels"][ENC_01_POLICY] == "advisory"
    assert len(report["policyConfig"]["sha256"]) == 64
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "1 policy is not mandatory under this config" in markdown


def test_reports_record_pack_default_levels_without_policy_config(tmp_path: Path) -> None:
    result = run_cli("check", "compliant", "--project", str(FIXTURE_PROJECT), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    config = _load(tmp_path / "out" / "compliant.json")["policyConfig"]
    assert config["source"] == "pack defaults" and "sha256" not in config
    assert set(config["levels"].values()) == {"mandatory"}
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "Policy config: `pack defaults`" in markdown and "not mandatory" not in markdown


def test_shipped_stacks_pass(tmp_path: Path) -> None:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert {"audit-eu", "audit-us", "eu-west-1", "eu-central-1", "us-east-1"} <= set(stacks)

    result = run_cli("check", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([f"{s}.json" for s in stacks] + ["report.md"])
    # Frankfurt has no Comprehend Medical: the stack's declared exception shows in its report.
    frankfurt = _load(tmp_path / "out" / "eu-central-1.json")
    assert any("comprehendmedical in eu-west-1" in note for note in frankfurt["notes"])


def test_missing_policy_pack_and_unreadable_policy_config_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance.cli import main

    no_pack = main(["check", "--project", str(FIXTURE_PROJECT), "--policy-pack", str(tmp_path), "--out", str(tmp_path / "o")])
    assert no_pack == 2
    assert f"{tmp_path} is not a policy pack directory" in capsys.readouterr().err

    config = tmp_path / "config.json"
    config.write_text("{not json", encoding="utf-8")
    bad_json = main(["check", "--project", str(FIXTURE_PROJECT), "--policy-config", str(config), "--out", str(tmp_path / "o")])
    assert bad_json == 2
    assert f"policy config {config} is not valid JSON (line 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_broken_policy_pack_is_bad_input_not_a_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compliance.cli import main

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")  # no __main__.py
    status = main(["check", "--project", str(FIXTURE_PROJECT), "--policy-pack", str(pack), "--out", str(tmp_path / "o")])
    assert status == 2
    assert "policy pack:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
