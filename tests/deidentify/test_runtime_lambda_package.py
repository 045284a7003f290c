"""The Lambda's whole runtime path (settings from env, engine with pixel cleaner, text
detector) imports and runs with only the Lambda runtime's modules and the pinned package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.deidentify.deid_samples import sample_files
from tests.deidentify.test_deid_lambda_contract import (
    LAMBDA_RUNTIME_MODULES,
    _import_names,
    _pinned_distributions,
)

REPO = Path(__file__).resolve().parents[2]

# Builds the toolkit exactly as the handler does for the deployed settings (Rekognition and
# Comprehend Medical clients are created, never called), then processes a DICOM file and a
# text record with the offline backends.
_PROBE = """
import importlib.abc, json, os, sys
allowed = set(json.loads(sys.argv[1]))

class LambdaPackageOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"not in the Lambda package: {top}", name=name)

sys.meta_path.insert(0, LambdaPackageOnly())
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"})
import deidentify.handler
from deidentify.keyed import KeyedMapper
from deidentify.processing import RawObject, process
from deidentify.runtime import EngineSettings, build_toolkit

mapper = KeyedMapper(b"k" * 32)
deployed = EngineSettings.from_environment({
    "DEID_PIXEL_BACKEND": "rekognition", "DEID_REKOGNITION_REGION": "eu-west-1",
    "DEID_TEXT_BACKEND": "comprehendmedical", "DEID_COMPREHEND_MEDICAL_REGION": "eu-west-1",
    "DEID_PROFILE_OPTIONS": "retain-longitudinal-modified-dates,clean-descriptors",
})
assert build_toolkit(mapper, deployed).text_detector is not None
offline = build_toolkit(mapper, EngineSettings("signatures", "local", deployed.options))
image = process(RawObject("scan.dcm", open(sys.argv[2], "rb").read()), offline)
record = process(RawObject("note.txt", b"Patient: Alice Synthetic, seen 2024-02-29.", patient_id="SYN-1"), offline)
print(json.dumps([image.output_name, record.output_name]))
"""


def test_lambda_runtime_path_needs_only_the_package() -> None:
    allowed = sorted({"deidentify"} | LAMBDA_RUNTIME_MODULES | _import_names(_pinned_distributions()))
    ct_small = next(path for path in sample_files() if path.name == "CT_small.dcm")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(allowed), str(ct_small)], capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    image_name, record_name = json.loads(result.stdout)
    assert image_name.startswith("2.25.") and record_name.startswith("records/SUBJ-")
