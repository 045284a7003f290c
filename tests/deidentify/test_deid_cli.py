"""``python -m deidentify run`` on a folder, and ``python -m deidentify demo``."""

from __future__ import annotations

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


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    """A PACS-like export: folder names carry (synthetic) patient names."""
    root = tmp_path / "export"
    patient = root / "Synthetic^Alice" / "CT"
    patient.mkdir(parents=True)
    (patient / "001.dcm").write_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.1"))
    (patient / "002.dcm").write_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.2"))
    (root / "Synthetic^Alice" / "referral.txt").write_text("Synthetic referral letter\n")
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

    assert main(["run", str(input_dir), str(out), "--key-file", str(key_file)]) == 0

    entries = read_manifest(tmp_path / "out.manifest.jsonl")
    assert sorted(entry.source for entry in entries) == sorted(_tree(input_dir))
    by_source = {entry.source: entry for entry in entries}
    assert by_source["Synthetic^Alice/referral.txt"].outcome == "quarantined"
    assert by_source["Synthetic^Alice/referral.txt"].reason.startswith("not-dicom")
    for entry in entries:
        if entry.outcome == "de-identified":
            assert Path(entry.output).is_relative_to(out) and Path(entry.output).is_file()
    assert {entry.outcome for entry in entries} == {"de-identified", "quarantined"}

    quarantine = tmp_path / "out.quarantine"
    assert (quarantine / "objects/Synthetic^Alice/referral.txt").read_text() == "Synthetic referral letter\n"
    assert '"reason": "not-dicom"' in (quarantine / "reasons/Synthetic^Alice/referral.txt.json").read_text()

    outputs = _tree(out)
    assert len(outputs) == 3
    for name, data in outputs.items():
        assert all(part.startswith("2.25.") for part in name.split("/"))
        assert b"Synthetic" not in data
        dataset = pydicom.dcmread(out / name)
        assert dataset.PatientID.startswith("SUBJ-")
        for value in SYNTHETIC_PHI.values():
            assert value.encode() not in data


def test_same_key_same_output_across_separate_runs(input_dir: Path, tmp_path: Path) -> None:
    environment = {**os.environ, "DEID_KEY": TEST_KEY.decode(), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "deidentify", "run", str(input_dir)]
    subprocess.run([*command, str(tmp_path / "first")], env=environment, check=True, capture_output=True, cwd=REPO)
    subprocess.run([*command, str(tmp_path / "second")], env=environment, check=True, capture_output=True, cwd=REPO)
    other = {**environment, "DEID_KEY": OTHER_KEY.decode()}
    subprocess.run([*command, str(tmp_path / "other")], env=other, check=True, capture_output=True, cwd=REPO)

    first, second, different = _tree(tmp_path / "first"), _tree(tmp_path / "second"), _tree(tmp_path / "other")
    assert first == second
    assert len(first) == len(different) == 3
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
    assert main(["run", str(input_dir), str(tmp_path / "out")]) == 1
    entries = {entry.source: entry for entry in read_manifest(tmp_path / "out.manifest.jsonl")}
    failed = entries["Synthetic^Alice/CT/002.dcm"]
    assert (failed.outcome, failed.reason, failed.output) == ("failed", "internal-error:RuntimeError", "")
    assert len(_tree(tmp_path / "out")) == 2


def test_demo_runs_offline_and_accounts_for_every_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    output = capsys.readouterr().out
    assert "Throwaway key" in output
    assert "referral-letter.txt" in output and "not-dicom" in output
    assert "raw objects unaccounted for" in output
    assert "DEID_KEY_SECRET_ARN" not in os.environ
