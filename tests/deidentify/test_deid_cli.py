"""``python -m deidentify run`` on a folder, and ``python -m deidentify demo``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from deidentify.cli import main
from deidentify.engine import Deidentifier
from deidentify.manifest import read_manifest
from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY, sample_files
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image

REPO = Path(__file__).resolve().parents[2]


REFERRAL = (
    "Referral letter (synthetic).\n"
    "Patient: Alice Synthetic, MRN SYN-PAT-000417, DOB 1951-09-23.\n"
    "Seen on 2024-02-29 by Dr. Madeup.\n"
)
# Device signatures only: fast, offline, and the same backend the moto Lambda runs.
SIGNATURES = ["--pixel-backend", "signatures"]


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    """A PACS-like export: folder names carry (synthetic) patient names."""
    root = tmp_path / "export"
    patient = root / "Synthetic^Alice" / "CT"
    patient.mkdir(parents=True)
    (patient / "001.dcm").write_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.1"))
    (patient / "002.dcm").write_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.2"))
    (root / "Synthetic^Alice" / "referral.txt").write_text(REFERRAL)
    (root / "Synthetic^Alice" / "referral.txt.meta.json").write_text(json.dumps({"patient-id": SYNTHETIC_PHI["PatientID"]}))
    (root / "Synthetic^Alice" / "scan.pdf").write_bytes(b"%PDF-1.7 synthetic")
    ct_small = next(path for path in sample_files() if path.name == "CT_small.dcm")
    (root / "CT_small.dcm").write_bytes(ct_small.read_bytes())
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_run_refuses_without_key(input_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", str(input_dir), str(tmp_path / "out")])
    assert status == 2
    assert "no de-identification key" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_run_refuses_short_key(input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KEY", "short")
    assert main(["run", str(input_dir), str(tmp_path / "out")]) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{tmp}/missing", "{tmp}/out"], "does not exist"),
        (["{in}", "{in}/out"], "must be separate folders"),
        (["{in}", "{tmp}/out", "--quarantine", "{tmp}/out/q"], "must be separate folders"),
        (["{in}", "{tmp}/out", "--manifest", "{tmp}/out/m.jsonl"], "must not be inside OUT"),
        (["{in}/CT_small.dcm", "{tmp}/out"], "is not a directory"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    arguments: list[str], message: str, input_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    filled = [argument.format(tmp=tmp_path, **{"in": input_dir}) for argument in arguments]
    assert main(["run", *filled]) == 2
    assert message in capsys.readouterr().err


def test_argparse_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run"])
    assert caught.value.code == 2


def test_manifest_accounts_for_every_input_and_quarantine_is_apart(
    input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "trial.key"
    key_file.write_bytes(TEST_KEY)
    out = tmp_path / "out"

    assert main(["run", str(input_dir), str(out), "--key-file", str(key_file), *SIGNATURES, "--workers", "2"]) == 0

    entries = read_manifest(tmp_path / "out.manifest.jsonl")
    sources = [entry.source for entry in entries]
    # Every input once, in input order; the sidecar is the record's metadata, not an input.
    assert sources == sorted(name for name in _tree(input_dir) if not name.endswith(".meta.json"))
    by_source = {entry.source: entry for entry in entries}
    assert by_source["Synthetic^Alice/scan.pdf"].outcome == "quarantined"
    assert by_source["Synthetic^Alice/scan.pdf"].reason.startswith("not-dicom")
    for entry in entries:
        if entry.outcome == "de-identified":
            assert Path(entry.output).is_relative_to(out) and Path(entry.output).is_file()
    assert {entry.outcome for entry in entries} == {"de-identified", "quarantined"}

    quarantine = tmp_path / "out.quarantine"
    assert (quarantine / "objects/Synthetic^Alice/scan.pdf").read_bytes() == b"%PDF-1.7 synthetic"
    assert '"reason": "not-dicom"' in (quarantine / "reasons/Synthetic^Alice/scan.pdf.json").read_text()

    outputs = _tree(out)
    dicom_outputs = {name: data for name, data in outputs.items() if name.endswith(".dcm")}
    assert len(dicom_outputs) == 3
    for name, data in dicom_outputs.items():
        assert all(part.startswith("2.25.") for part in name.split("/"))
        assert b"Synthetic" not in data
        dataset = pydicom.dcmread(out / name)
        assert dataset.PatientID.startswith("SUBJ-")
        for value in SYNTHETIC_PHI.values():
            assert value.encode() not in data

    # The text record: its patient (from the sidecar) has the same pseudonym as in the images.
    text_outputs = {name: data for name, data in outputs.items() if name.endswith(".txt")}
    assert len(text_outputs) == 1
    (name, data), = text_outputs.items()
    image_pseudonyms = {pydicom.dcmread(out / image).PatientID for image in dicom_outputs}
    assert name.split("/")[1] in image_pseudonyms and name.startswith("records/SUBJ-")
    text = data.decode()
    for value in ("Alice", "Synthetic", "SYN-PAT-000417", "1951-09-23", "2024-02-29", "Madeup"):
        assert value not in text
    assert name.split("/")[1] in text

    # Linkage records stay beside the quarantine (raw side), one per de-identified input.
    linkage = sorted((quarantine / "linkage").glob("*.json"))
    assert len(linkage) == 4
    records = [json.loads(path.read_text()) for path in linkage]
    assert {record["patient"]["original_id"] for record in records if record["kind"] == "text"} == {"SYN-PAT-000417"}
    for name in outputs:
        assert "linkage" not in name


def test_parallel_run_equals_serial_run(input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    for copy in range(6):  # enough files for several chunks per worker
        (input_dir / f"copy-{copy}.dcm").write_bytes(build_image(sop_uid=f"1.2.826.0.1.3680043.99.1.1.{200 + copy}"))
    # The same SOP instance as Synthetic^Alice/CT/001.dcm with other content, later in input order.
    (input_dir / "zz-conflict.dcm").write_bytes(build_image(patient_id="SYN-PAT-999999"))
    assert main(["run", str(input_dir), str(tmp_path / "serial"), *SIGNATURES, "--workers", "1"]) == 0
    assert main(["run", str(input_dir), str(tmp_path / "parallel"), *SIGNATURES, "--workers", "3"]) == 0

    assert _tree(tmp_path / "serial") == _tree(tmp_path / "parallel")
    serial = read_manifest(tmp_path / "serial.manifest.jsonl")
    parallel = read_manifest(tmp_path / "parallel.manifest.jsonl")
    assert [(e.source, e.outcome, e.reason) for e in serial] == [(e.source, e.outcome, e.reason) for e in parallel]
    conflict = next(entry for entry in parallel if entry.source == "zz-conflict.dcm")
    assert (conflict.outcome, conflict.reason.split(":")[0]) == ("quarantined", "conflicting-instance")
    assert _tree(tmp_path / "serial.quarantine") == _tree(tmp_path / "parallel.quarantine")


def test_options_and_backend_change_the_output(input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(input_dir), str(tmp_path / "basic"), *SIGNATURES]) == 0
    assert main(["run", str(input_dir), str(tmp_path / "dates"), *SIGNATURES,
                 "--options", "retain-longitudinal-modified-dates, retain-patient-characteristics"]) == 0
    basic, dates = _tree(tmp_path / "basic"), _tree(tmp_path / "dates")
    assert set(basic) == set(dates)  # keyed names do not depend on options
    changed = [name for name in basic if name.endswith(".dcm") and basic[name] != dates[name]]
    assert changed
    dataset = pydicom.dcmread(tmp_path / "dates" / changed[0])
    assert dataset.LongitudinalTemporalInformationModified == "MODIFIED"


def test_unknown_option_is_refused_by_name(input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(input_dir), str(tmp_path / "out"), "--options", "retain-uids,retain-everything"]) == 2
    assert "retain-everything" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("arguments", [["--workers", "0"], ["--pixel-backend", "tesseract"],
                                       ["--text-backend", "presidio"]])
def test_bad_run_choices_exit_2(arguments: list[str], input_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", str(input_dir), str(tmp_path / "out"), *arguments])
    assert caught.value.code == 2


def test_text_record_without_sidecar_gets_placeholders_and_bad_sidecar_is_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    root = tmp_path / "records"
    root.mkdir()
    (root / "unlinked.txt").write_text(REFERRAL)
    (root / "broken.txt").write_text(REFERRAL)
    (root / "broken.txt.meta.json").write_text("{not json")
    (root / "latin1.txt").write_bytes("Patient: Zoë Synthetic\n".encode("latin-1"))
    assert main(["run", str(root), str(tmp_path / "out"), *SIGNATURES]) == 0
    entries = {entry.source: entry for entry in read_manifest(tmp_path / "out.manifest.jsonl")}
    assert entries["broken.txt"].outcome == "quarantined"
    assert entries["broken.txt"].reason.startswith("record-metadata-invalid")
    assert entries["latin1.txt"].reason.startswith("text-not-utf8")
    assert entries["unlinked.txt"].outcome == "de-identified"
    (name,) = _tree(tmp_path / "out")
    assert name.startswith("records/unlinked/")
    assert "SYN-PAT-000417" not in (tmp_path / "out" / name).read_text()


def test_same_key_same_output_across_separate_runs(input_dir: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "DEID_KEY": TEST_KEY.decode(), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "deidentify", "run", str(input_dir), *SIGNATURES]
    subprocess.run([*command, str(tmp_path / "first")], env=environment, check=True, capture_output=True, cwd=REPO)
    subprocess.run([*command, str(tmp_path / "second")], env=environment, check=True, capture_output=True, cwd=REPO)
    other = {**environment, "DEID_KEY": OTHER_KEY.decode()}
    subprocess.run([*command, str(tmp_path / "other")], env=other, check=True, capture_output=True, cwd=REPO)

    first, second, different = _tree(tmp_path / "first"), _tree(tmp_path / "second"), _tree(tmp_path / "other")
    assert first == second
    assert len(first) == len(different) == 4
    assert not set(first) & set(different)


def test_unexpected_error_is_recorded_as_failed_and_writes_nothing(
    input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    original = Deidentifier.deidentify_bytes

    def flaky(self: Deidentifier, data: bytes):  # type: ignore[no-untyped-def]
        if b"1.2.826.0.1.3680043.99.1.1.2" in data:
            raise RuntimeError("simulated bug")
        return original(self, data)

    monkeypatch.setattr(Deidentifier, "deidentify_bytes", flaky)
    assert main(["run", str(input_dir), str(tmp_path / "out"), *SIGNATURES, "--workers", "1"]) == 1
    entries = {entry.source: entry for entry in read_manifest(tmp_path / "out.manifest.jsonl")}
    failed = entries["Synthetic^Alice/CT/002.dcm"]
    assert (failed.outcome, failed.reason, failed.output) == ("failed", "internal-error:RuntimeError", "")
    assert len([name for name in _tree(tmp_path / "out") if name.endswith(".dcm")]) == 2


def test_demo_runs_offline_and_accounts_for_every_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    output = capsys.readouterr().out
    assert "Throwaway key" in output
    assert "scan-request.pdf" in output and "not-dicom" in output
    summary = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in output.splitlines()
               if line.count("│") == 3}
    assert summary["raw objects without an outcome record (quarantine bucket, outcomes/)"] == "0"
    assert summary["messages failed (would be retried, then dead-lettered)"] == "0"
    assert int(summary["text records de-identified (records/...; the demo's note and pydicom's *.txt files)"]) >= 1
    assert summary["replayed notification left the output unchanged"] == "yes"
    assert "DEID_KEY_SECRET_ARN" not in os.environ


def test_a_second_run_into_a_used_output_folder_is_refused_and_changes_nothing(
    input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(input_dir), str(out), "--pixel-backend", "none", "--workers", "1"]) in (0, 1)
    before = _tree(out), _tree(tmp_path / "out.quarantine"), (tmp_path / "out.manifest.jsonl").read_bytes()
    capsys.readouterr()

    monkeypatch.setenv("DEID_KEY", OTHER_KEY.decode())
    assert main(["run", str(input_dir), str(out), "--pixel-backend", "none", "--workers", "1"]) == 2
    assert "already holds files from an earlier run" in capsys.readouterr().err
    after = _tree(out), _tree(tmp_path / "out.quarantine"), (tmp_path / "out.manifest.jsonl").read_bytes()
    assert after == before


def test_an_existing_manifest_is_never_overwritten(
    input_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "kept.jsonl"
    manifest.write_text("earlier run\n")
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(input_dir), str(tmp_path / "out"), "--manifest", str(manifest)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert manifest.read_text() == "earlier run\n"


@pytest.mark.parametrize(
    "sidecar",
    ['{"patientid": "SYN-1"}', '{"patient-id": ""}', '{"patient-id": 17}', '["SYN-1"]'],
    ids=["misspelled-field", "empty-id", "number", "not-an-object"],
)
def test_a_faulty_sidecar_quarantines_its_record_rather_than_unlinking_it(
    sidecar: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "note.txt").write_text("Patient: Alice Synthetic, seen 2024-03-14.\n", encoding="utf-8")
    (source / "note.txt.meta.json").write_text(sidecar, encoding="utf-8")
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(source), str(tmp_path / "out"), "--workers", "1"]) == 0
    [entry] = read_manifest(tmp_path / "out.manifest.jsonl")
    assert entry.outcome == "quarantined" and entry.reason.startswith("record-metadata-invalid")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.txt"))


def test_a_sidecar_patient_name_reaches_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "note.txt").write_text("Alice Synthetic was reviewed today.\n", encoding="utf-8")
    (source / "note.txt.meta.json").write_text('{"patient-id": "SYN-1", "patient-name": "SYNTHETIC^ALICE"}')
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(source), str(tmp_path / "out"), "--workers", "1"]) == 0
    [output] = list((tmp_path / "out").rglob("*.txt"))
    text = output.read_text(encoding="utf-8")
    assert "Alice" not in text and "Synthetic" not in text and "SUBJ-" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--text-backend", "comprehendmedical"], "--comprehend-medical-region is required"),
        (["--text-backend", "comprehendmedical", "--comprehend-medical-region", "eu-central-1"], "not offered there"),
        (["--pixel-backend", "rekognition"], "--rekognition-region is required"),
        (["--pixel-backend", "rekognition", "--rekognition-region", "eu-west-3"], "not offered there"),
    ],
)
def test_aws_detectors_need_a_region_that_offers_them(
    arguments: list[str], message: str, input_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEID_KEY", TEST_KEY.decode())
    assert main(["run", str(input_dir), str(tmp_path / "out"), *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_aws_text_detector_is_configured_for_its_region(input_dir: Path) -> None:
    from deidentify.cli import _service_region, build_parser

    arguments = build_parser().parse_args(
        ["run", str(input_dir), "/tmp/unused-out", "--text-backend", "comprehendmedical",
         "--comprehend-medical-region", "eu-west-1"]
    )
    assert _service_region(arguments, "comprehendmedical", "--comprehend-medical-region") == "eu-west-1"
    assert _service_region(arguments, "rekognition", "--rekognition-region") is None
