"""The Lambda's whole runtime path (settings from env, engine with pixel cleaner, text
detector) imports and runs with only the Lambda runtime's modules and the pinned package."""

from __future__ import annotations

import json

from tests.deidentify.deid_samples import sample_files
from tests.deidentify.lambda_probe import run_in_lambda_package

# Builds the toolkit exactly as the handler does for the deployed settings (Rekognition and
# Comprehend Medical clients are created, never called), then processes a DICOM file and a
# text record with the offline backends.
_PROBE = """
import json, os, sys
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
    ct_small = next(path for path in sample_files() if path.name == "CT_small.dcm")
    result = run_in_lambda_package(_PROBE, str(ct_small))
    assert result.returncode == 0, result.stderr[-2000:]
    image_name, record_name = json.loads(result.stdout)
    assert image_name.startswith("2.25.") and record_name.startswith("records/SUBJ-")
