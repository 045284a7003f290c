"""When burned-in text is suspected, and what each backend reports or refuses."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from deidentify.errors import BurnedInTextError, DeidentificationError
from deidentify.pixels import HeaderContext, build_cleaner
from deidentify.pixels.cleaner import DetectingCleaner, suspicion
from deidentify.pixels.detection import DetectorUnavailableError, TextBox
from deidentify.pixels.identifying import is_identifying
from deidentify.pixels.signatures import load_signatures
from tests.deidentify.pixel_fixtures import FixedDetector, context_of, read

PLAIN = HeaderContext(identifying_text=(), modality="CT", manufacturer=None, model=None, image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
                      burned_in_annotation=None, sop_class_uid="1.2.840.10008.5.1.4.1.1.2")


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"burned_in_annotation": "YES"}, "flagged-yes"),
    ({"burned_in_annotation": "NO"}, None),
    ({"modality": "US"}, "modality"),
    ({"modality": "ot"}, "modality"),
    ({"modality": "XC"}, "modality"),
    ({"sop_class_uid": "1.2.840.10008.5.1.4.1.1.7.4"}, "secondary-capture"),
    ({"image_type": ("DERIVED", "SECONDARY", "SCREEN SAVE")}, "image-type"),
    ({"image_type": ("DERIVED", "PRIMARY", "SCREEN")}, "image-type"),
    ({"image_type": ("DERIVED", "PRIMARY", "MPR")}, None),
])
def test_suspicion_from_the_header(changes: dict, reason: str | None) -> None:
    assert suspicion(HeaderContext(**{**PLAIN.__dict__, **changes})) == reason


def test_backend_none_refuses_suspected_and_reports_header_only_otherwise() -> None:
    cleaner = build_cleaner("none")
    ultrasound = read("examples_rgb_color.dcm")
    with pytest.raises(BurnedInTextError) as raised:
        cleaner.clean(ultrasound, context_of(ultrasound))
    assert raised.value.reason == "burned-in-text" and isinstance(raised.value, DeidentificationError)
    ct = read("CT_small.dcm")
    outcome = cleaner.clean(ct, context_of(ct))
    assert (outcome.cleaned, outcome.redacted_regions) == (False, 0)


def test_no_pixel_data_is_clean_for_every_backend() -> None:
    report = Dataset()
    report.Modality = "SR"
    context = HeaderContext((), "SR", None, None, (), None, None)
    for backend in ("none", "signatures"):
        assert build_cleaner(backend).clean(report, context).cleaned
    assert DetectingCleaner(FixedDetector(), load_signatures()).clean(report, context).cleaned


def test_a_detector_that_ran_and_found_nothing_cleans_an_unsuspected_image() -> None:
    ct = read("CT_small.dcm")
    before = ct.PixelData
    detector = FixedDetector()
    outcome = DetectingCleaner(detector, load_signatures()).clean(ct, context_of(ct))
    assert (outcome.cleaned, outcome.redacted_regions, detector.calls) == (True, 0, 1)
    assert ct.PixelData == before


class _Unavailable:
    name = "broken"

    def detect(self, image):
        raise DetectorUnavailableError("service down")


def test_an_unavailable_detector_quarantines_suspected_and_reports_header_only_otherwise() -> None:
    cleaner = DetectingCleaner(_Unavailable(), load_signatures())
    ultrasound = read("examples_rgb_color.dcm")
    with pytest.raises(BurnedInTextError, match="service down"):
        cleaner.clean(ultrasound, context_of(ultrasound))
    ct = read("CT_small.dcm")
    assert not cleaner.clean(ct, context_of(ct)).cleaned


def test_undecodable_pixel_data_quarantines_a_suspected_object() -> None:
    ultrasound = read("examples_rgb_color.dcm")
    ultrasound.PixelData = ultrasound.PixelData[:100]  # truncated
    with pytest.raises(BurnedInTextError, match="not inspected: pixel data cannot be decoded"):
        DetectingCleaner(FixedDetector(), load_signatures()).clean(ultrasound, context_of(ultrasound))


def test_text_found_on_an_unsuspected_image_is_still_blanked() -> None:
    ct = read("CT_small.dcm")
    line = TextBox(2, 2, 60, 12, "JFK IMAGING CENTER", 95.0)
    outcome = DetectingCleaner(FixedDetector(line), load_signatures()).clean(ct, context_of(ct))
    assert outcome.cleaned and outcome.redacted_regions == 1


@pytest.mark.parametrize(("text", "identifying"), [
    ("L", False), ("R", False), ("TIS 0.4  MI 0.9", False), ("Gen THI", False), ("12 cm", False),
    ("CINE 0118", False), ("", False), ("--", False),
    ("DOE^JANE", True),  # a name: not an annotation word
    ("12/03/2024", True), ("2024-03-12", True), ("20240312", True), ("3 MAR", True), ("+2:09:04", True),
    ("MI 123456", True),  # a long number
    ("630P630", True),  # mixed code
    ("Synthetic Hospital", True),
])
def test_identifying_text_rule(text: str, identifying: bool) -> None:
    assert is_identifying(text, ()) is identifying


def test_header_values_make_otherwise_harmless_words_identifying() -> None:
    assert not is_identifying("GAIN 12", ())
    assert is_identifying("GAIN 12", ("Gain^Ann",))  # a patient called Gain
    assert is_identifying("PID 4711", ("4711",))  # a short patient ID
    assert is_identifying("BAPTISTMEDCTR", ("Baptist Med Ctr",))


@pytest.mark.parametrize(("backend", "options", "message"), [
    ("tesseract", {}, "unknown pixel backend 'tesseract'"),
    ("none", {"region": "eu-west-1"}, "takes no options: region"),
    ("signatures", {"client": object()}, "takes no options: client"),
])
def test_build_cleaner_refuses_bad_configuration(backend: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_cleaner(backend, **options)


def test_flagged_yes_without_identifying_text_found_is_quarantined() -> None:
    ct = read("CT_small.dcm")
    cleaner = DetectingCleaner(FixedDetector(TextBox(2, 2, 10, 10, "L", 90.0)), load_signatures())
    with pytest.raises(BurnedInTextError, match="flagged YES"):
        cleaner.clean(ct, context_of(ct, burned_in_annotation="YES"))
    found = DetectingCleaner(FixedDetector(TextBox(2, 2, 60, 10, "DOE^JANE", 90.0)), load_signatures())
    assert found.clean(ct, context_of(ct, burned_in_annotation="YES")).redacted_regions == 1
