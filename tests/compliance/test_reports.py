"""The JSON and Markdown views of StackReports."""

from __future__ import annotations

import json
from pathlib import Path

from compliance.model import SCHEMA_VERSION, PolicyRow, StackIdentity, StackReport, Status
from compliance.reports.files import write_atomic
from compliance.reports.json_report import render_json
from compliance.reports.markdown_report import render_markdown

BUCKET_URN = "urn:pulumi:eu::p::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::raw"
KEY_URN = "urn:pulumi:eu::p::pulumi:pulumi:Stack$aws:kms/key:Key::raw"


def _row(policy: str, status: Status, level: str = "mandatory", urn: str = BUCKET_URN, message: str = "") -> PolicyRow:
    return PolicyRow(
        policy=policy,
        policy_pack="pack",
        control_ids=(policy.upper(),),
        severity="high",
        enforcement_level=level,
        status=status,
        message=message or f"{policy} says {status.value}",
        urn=urn,
        resource_type=urn.split("::")[2].split("$")[-1],
        frameworks=("21 CFR Part 11 11.10(c)",),
        remediation="Fix it.",
    )


def _report(stack: str, rows: list[PolicyRow], notes: tuple[str, ...] = ()) -> StackReport:
    return StackReport(
        identity=StackIdentity("p", stack, tags={"trial-imaging:jurisdiction": "eu"}),
        source="plan",
        rows=tuple(rows),
        resource_count=4,
        generated_at="2026-12-03T12:00:00Z",
        versions={"tool": "0.1.0", "policyPack": "pack@0.1.0"},
        notes=notes,
    )


def test_json_view_carries_identity_summary_and_rows() -> None:
    report = _report(
        "eu",
        [
            _row("enc-01", Status.PASS),
            _row("enc-03", Status.FAIL, urn=KEY_URN),
            _row("aud-02", Status.FAIL, level="advisory"),
            _row("res-02", Status.INDETERMINATE),
            _row("aud-05", Status.NOT_APPLICABLE),
        ],
        notes=("config 'p:x' is encrypted",),
    )

    document = json.loads(render_json(report))

    assert document["schemaVersion"] == SCHEMA_VERSION
    assert document["identity"] == {
        "organization": "organization",
        "project": "p",
        "stack": "eu",
        "tags": {"trial-imaging:jurisdiction": "eu"},
    }
    assert (document["source"], document["generatedAt"], document["result"]) == ("plan", "2026-12-03T12:00:00Z", "fail")
    assert document["versions"]["policyPack"] == "pack@0.1.0"
    assert document["notes"] == ["config 'p:x' is encrypted"]
    assert document["summary"] == {
        "resources": 4,
        "rows": 5,
        "pass": 1,
        "fail": 2,
        "blocking": 1,
        "advisoryFailures": 1,
        "notApplicable": 1,
        "indeterminate": 1,
    }
    first = document["rows"][0]
    assert first == {
        "policy": "enc-03",
        "policyPack": "pack",
        "controlIds": ["ENC-03"],
        "severity": "high",
        "enforcementLevel": "mandatory",
        "status": "fail",
        "blocks": True,
        "message": "enc-03 says fail",
        "urn": KEY_URN,
        "resourceType": "aws:kms/key:Key",
        "frameworks": ["21 CFR Part 11 11.10(c)"],
        "remediation": "Fix it.",
    }
    assert [row["policy"] for row in document["rows"]] == ["enc-03", "aud-02", "res-02", "aud-05", "enc-01"]


def test_markdown_lists_blocking_failures_before_advisory_ones() -> None:
    reports = [
        _report("eu", [_row("aud-02", Status.FAIL, level="advisory", message="trail | no validation")]),
        _report("us", [_row("enc-03", Status.FAIL), _row("res-02", Status.INDETERMINATE)], notes=("a note",)),
    ]

    text = render_markdown(reports)

    assert text.startswith("# Offline policy check\n\n**FAIL**: 1 of 2 stack(s) violate a mandatory policy")
    assert "- `eu`: **PASS**: no mandatory violation (1 advisory failure(s))" in text
    assert "- `us`: **FAIL**: 1 mandatory violation(s) (1 indeterminate)" in text
    assert text.index("### Blocking (mandatory)") < text.index("`enc-03`") < text.index("### Advisory")
    assert text.index("### Advisory") < text.index("`aud-02`") < text.index("## Indeterminate")
    assert "trail \\| no validation" in text
    assert "- `us`: a note" in text


def test_markdown_names_stacks_that_could_not_be_planned() -> None:
    text = render_markdown([_report("eu", [_row("enc-01", Status.PASS)])], {"us": "stack 'us': the program raised"})

    assert text.startswith("# Offline policy check\n\n**ERROR**: 1 stack(s) could not be planned")
    assert "- `us`: **NOT PLANNED**" in text
    assert "## Stacks not planned" in text


def test_write_atomic_replaces_whole_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "out" / "eu.json"
    write_atomic(target, "old")
    write_atomic(target, "new")

    assert target.read_text(encoding="utf-8") == "new"
    assert [p.name for p in target.parent.iterdir()] == ["eu.json"]
