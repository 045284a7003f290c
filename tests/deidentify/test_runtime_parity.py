"""The Lambda (under moto) and the CLI give the same outputs and outcomes for the same inputs and key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from deidentify import handler
from deidentify.cli import main
from deidentify.emulated_aws import EmulatedPipeline, FakeLambdaContext
from deidentify.keyed import KeyedMapper
from deidentify.manifest import read_manifest
from tests.deidentify.deid_samples import TEST_KEY, sample_files
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image

OPTIONS = "retain-longitudinal-modified-dates,clean-descriptors"
SAMPLES = ("CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm", "SC_rgb.dcm", "examples_overlay.dcm")
REFERRAL = "Referral (synthetic): Alice Synthetic, MRN SYN-PAT-000417, seen 2024-02-29.\n"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, tuple[bytes, str | None]]:
    """Relative name -> (bytes, patient-id of a text record)."""
    chosen = {path.name: path for path in sample_files() if path.name in SAMPLES}
    found: dict[str, tuple[bytes, str | None]] = {
        f"pydicom/{name}": (path.read_bytes(), None) for name, path in chosen.items()
    }
    found["site-01/Synthetic^Alice/001.dcm"] = (build_image(), None)
    found["site-01/Synthetic^Alice/referral.txt"] = (REFERRAL.encode(), SYNTHETIC_PHI["PatientID"])
    found["site-01/unlinked-note.txt"] = (REFERRAL.encode(), None)
    found["site-01/request.pdf"] = (b"%PDF-1.7 synthetic", None)
    return found


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedPipeline]:
    with mock_aws():
        pipeline = EmulatedPipeline()
        pipeline.create(TEST_KEY)
        for name, value in pipeline.handler_environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DEID_PROFILE_OPTIONS", OPTIONS)
        handler._runtimes.clear()
        yield pipeline
        handler._runtimes.clear()


def _tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_lambda_and_cli_write_identical_outputs_and_outcomes(
    inputs: dict[str, tuple[bytes, str | None]], lambda_environment: EmulatedPipeline, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = lambda_environment
    for name, (data, patient_id) in inputs.items():
        pipeline.upload("incoming/" + name, data, metadata={"patient-id": patient_id} if patient_id else None)
    while messages := pipeline.receive_batch():
        response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
        assert response == {"batchItemFailures": []}
        pipeline.delete_succeeded(messages, response)
    s3 = pipeline.client("s3")
    lambda_outputs = {
        key: s3.get_object(Bucket=pipeline.deidentified_bucket, Key=key)["Body"].read()
        for key in pipeline.keys(pipeline.deidentified_bucket)
    }
    mapper = KeyedMapper(TEST_KEY)
    lambda_outcomes = {
        name: pipeline.read_json(
            pipeline.quarantine_bucket, f"outcomes/{mapper.reference(f'{pipeline.raw_bucket}/incoming/{name}')}.json"
        )
        for name in inputs
    }

    root = tmp_path / "in"
    for name, (data, patient_id) in inputs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if patient_id:
            path.with_name(path.name + ".meta.json").write_text(json.dumps({"patient-id": patient_id}))
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    status = main(["run", str(root), str(tmp_path / "out"), "--pixel-backend", pipeline.pixel_backend,
                   "--text-backend", pipeline.text_backend, "--options", OPTIONS, "--workers", "2"])
    assert status == 0

    cli_outputs = _tree(tmp_path / "out")
    assert len(lambda_outputs) >= 5  # DICOM and text outputs, not just quarantines
    assert any(name.startswith("records/SUBJ-") for name in cli_outputs)
    assert cli_outputs == lambda_outputs
    manifest = {entry.source: entry for entry in read_manifest(tmp_path / "out.manifest.jsonl")}
    assert set(manifest) == set(inputs)
    for name, outcome in lambda_outcomes.items():
        entry = manifest[name]
        assert (entry.outcome, entry.reason.split(":")[0]) == (outcome["outcome"], outcome["reason"]), name
        if entry.outcome == "de-identified":
            assert Path(entry.output).relative_to(tmp_path / "out").as_posix() == outcome["output_key"]
    assert {outcome["outcome"] for outcome in lambda_outcomes.values()} >= {"de-identified", "quarantined"}
