"""The offline rule-based PHI detector: what it finds, and ordinary clinical text it leaves alone."""

from __future__ import annotations

import pytest

from deidentify.text import build_detector
from deidentify.text.local import LocalPhiDetector


def _found(text: str) -> set[tuple[str, str]]:
    return {(text[e.begin:e.end], e.type) for e in LocalPhiDetector().detect(text)}


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("Scan on 2024-03-12 showed", "2024-03-12", "DATE"),
        ("Scan on 2024-03-12T10:30 showed", "2024-03-12T10:30", "DATE"),
        ("Scan on 12/03/2024 showed", "12/03/2024", "DATE"),
        ("Scan on 3.12.24 showed", "3.12.24", "DATE"),
        ("StudyDate 20240312 copied", "20240312", "DATE"),
        ("Admitted 12th March 2024.", "12th March 2024", "DATE"),
        ("Admitted 12-Mar-2024.", "12-Mar-2024", "DATE"),
        ("Admitted March 12, 2024.", "March 12, 2024", "DATE"),
        ("Since June 2019 on therapy", "June 2019", "DATE"),
        ("Review on 5 May.", "5 May", "DATE"),
        ("Call 555-010-0199 today", "555-010-0199", "PHONE_OR_FAX"),
        ("Call (555) 010-0199 today", "(555) 010-0199", "PHONE_OR_FAX"),
        ("Ring +44 20 7946 0000 today", "+44 20 7946 0000", "PHONE_OR_FAX"),
        ("Fax: 020 7946 0001", "020 7946 0001", "PHONE_OR_FAX"),
        ("Mail ima.fakename@example.invalid now", "ima.fakename@example.invalid", "EMAIL"),
        ("See https://portal.example.invalid/p?id=417.", "https://portal.example.invalid/p?id=417", "URL"),
        ("See www.example.invalid/chart", "www.example.invalid/chart", "URL"),
        ("MRN: SYN-PAT-000417 on file", "SYN-PAT-000417", "ID"),
        ("Patient ID 99887766.", "99887766", "ID"),
        ("NHS number 943 476 5919", "943 476 5919", "ID"),
        ("accession ACCSYN98765.", "ACCSYN98765", "ID"),
        ("ref 4412789 pending", "4412789", "ID"),
        ("SSN 078-05-1120", "078-05-1120", "ID"),
        ("Patient: Jane Roe was seen", "Jane Roe", "NAME"),
        ("Name: ROE^JANE^Q", "ROE^JANE^Q", "NAME"),
        ("Name: Roe, Jane", "Roe, Jane", "NAME"),
        ("Reviewed by Dr. Ima Fakename today", "Ima Fakename", "NAME"),
        ("Discussed with Mrs O'Testy-Smith", "O'Testy-Smith", "NAME"),
        ("Referring physician: Ólafur Ñúñez", "Ólafur Ñúñez", "NAME"),
        ("Patient: 山田 太郎 (inpatient)", "山田 太郎", "NAME"),
        ("She is 93 years old", "93", "AGE"),
        ("a 101-year-old woman", "101", "AGE"),
        ("Age: 95", "95", "AGE"),
        ("Lives at 12 Imaginary Road, Faketown, ZZ1 9ZZ now", "12 Imaginary Road, Faketown, ZZ1 9ZZ", "ADDRESS"),
        ("Springfield, ZZ 00000 area", "ZZ 00000", "ADDRESS"),
        ("Address: 4 Nowhere Lane, Fakeville\nHistory", "4 Nowhere Lane, Fakeville", "ADDRESS"),
        ("Transferred from Imaginary General Hospital today", "Imaginary General Hospital", "ADDRESS"),
        ("Seen Thursday, March 14th, 2024 at noon", "Thursday, March 14th, 2024", "DATE"),
        ("Initials J. R. Roe: Name: J. R. Roe.", "J. R. Roe", "NAME"),
    ],
)
def test_finds(text: str, value: str, entity_type: str) -> None:
    assert (value, entity_type) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "CT CHEST W/O CONTRAST. Impression: no acute findings.",
        "Patient may march to clinic; 5 mg daily for 12 weeks.",
        "Lesion 12 mm, previously 9 mm. Ejection fraction 55%.",
        "She is 45 years old.",
        "Series 3, image 120 of 240, slice thickness 1.25 mm.",
    ],
)
def test_leaves_ordinary_clinical_text_alone(text: str) -> None:
    assert _found(text) == set()


def test_offsets_are_characters_in_multibyte_text() -> None:
    text = "東京の患者 — Patient: Zoë Ünal, MRN: 00412345, 12/03/2024"
    assert {("Zoë Ünal", "NAME"), ("00412345", "ID"), ("12/03/2024", "DATE")} <= _found(text)


def test_known_names_are_always_found() -> None:
    detector = build_detector("local", extra_names=["Ima Fakename"])
    text = "ima fakename called"
    assert [(text[e.begin:e.end], e.type) for e in detector.detect(text)] == [("ima fakename", "NAME")]
