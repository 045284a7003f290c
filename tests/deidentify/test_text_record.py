"""Record de-identification: nothing identifying survives, replacements are keyed and match the images."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from io import BytesIO

import pydicom
import pytest

from deidentify.engine import Deidentifier
from deidentify.engine import patient_identity as engine_patient_identity
from deidentify.keyed import KeyedMapper
from deidentify.text import (
    PhiEntity,
    TextDetectorUnavailableError,
    build_detector,
    deidentify_record,
    record_patient_identity,
)
from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image

PATIENT_ID = SYNTHETIC_PHI["PatientID"]  # SYN-PAT-000417
RECORD = f"""DISCHARGE SUMMARY
Patient: Alice Synthetic          MRN: {PATIENT_ID}          DOB: 23/09/1951
Admitted 29 February 2024, discharged 2024-03-14 (Thursday, March 14th, 2024).
Seen by Dr. Madeup Doctor of Imaginary General Hospital; referring physician: Nobody Operator.
Contact: +44 20 7946 0000, fax (555) 010-0199, alice.synthetic@example.invalid, https://portal.example.invalid/p/417
Home address: 12 Imaginary Road, Faketown, ZZ1 9ZZ
The patient is 93 years old. Alice reports no pain; Ms Synthetic to return in 2 weeks.
Accession ACCSYN98765. Record {PATIENT_ID} closed.
Lesion 12 mm, previously 9 mm. CT CHEST W/O CONTRAST.
"""
IDENTIFYING = [
    "Alice", "Synthetic", PATIENT_ID, "23/09/1951", "1951", "29 February 2024", "2024-03-14", "March 14th",
    "Madeup", "Nobody Operator", "7946", "010-0199", "alice.synthetic", "portal.example", "Imaginary Road",
    "Faketown", "ZZ1 9ZZ", "93 years", "ACCSYN98765", "Imaginary General",
]


@pytest.fixture(scope="module")
def mapper() -> KeyedMapper:
    return KeyedMapper(TEST_KEY)


def _local(record: str, mapper: KeyedMapper, identity: str | None = record_patient_identity(PATIENT_ID), **kw):
    return deidentify_record(record, mapper=mapper, detector=build_detector("local"), patient_identity=identity, **kw)


def test_no_identifying_value_survives(mapper: KeyedMapper) -> None:
    outcome = _local(RECORD, mapper)
    survivors = [value for value in IDENTIFYING if value.casefold() in outcome.text.casefold()]
    assert survivors == []
    assert "Lesion 12 mm, previously 9 mm. CT CHEST W/O CONTRAST." in outcome.text  # clinical content kept
    assert outcome.replaced == 19  # every span counted once, overlaps merged


def test_the_patient_gets_the_pseudonym_of_their_images(mapper: KeyedMapper) -> None:
    image = Deidentifier(mapper).deidentify_bytes(build_image(patient_id=PATIENT_ID))
    image_pseudonym = str(pydicom.dcmread(BytesIO(image.data)).PatientID)
    outcome = _local(RECORD, mapper)
    assert outcome.patient_pseudonym == image_pseudonym
    first_lines = outcome.text.splitlines()[1]
    # the labelled name and the MRN both become the image pseudonym; other people do not
    assert first_lines.count(image_pseudonym) == 2
    assert re.search(r"Dr\. \[NAME-[0-9A-F]{8}\]", outcome.text)
    assert outcome.text.count(image_pseudonym) >= 5  # also 'Alice', 'Ms Synthetic' and the repeated ID


def test_record_dates_move_like_the_images_dates(mapper: KeyedMapper) -> None:
    engine = Deidentifier(mapper, options=frozenset({"retain-longitudinal-modified-dates"}))
    image = pydicom.dcmread(BytesIO(engine.deidentify_bytes(build_image(patient_id=PATIENT_ID)).data))
    study, birth = SYNTHETIC_PHI["StudyDate"], SYNTHETIC_PHI["PatientBirthDate"]  # 20240229, 19510923
    record = f"Study of {study[6:]}/{study[4:6]}/{study[:4]} (born {birth[:4]}-{birth[4:6]}-{birth[6:]})."
    outcome = _local(record, mapper, day_first=True)
    shifted_study, shifted_birth = str(image.StudyDate), str(image.PatientBirthDate)
    assert outcome.text == (f"Study of {shifted_study[6:]}/{shifted_study[4:6]}/{shifted_study[:4]} "
                            f"(born {shifted_birth[:4]}-{shifted_birth[4:6]}-{shifted_birth[6:]}).")
    assert shifted_study != study


@pytest.mark.parametrize(
    ("patient_id", "patient_name"),
    [(PATIENT_ID, None), (f" {PATIENT_ID}\x00", "Synthetic^Alice"), (None, "Synthetic^Alice^^"),
     (None, "Synthetic^Alice=ｼﾝｾﾃｨｯｸ^ｱﾘｽ"), ("", " synthetic^alice "), (None, None)],
)
def test_record_identity_is_the_engines_identity(patient_id: str | None, patient_name: str | None) -> None:
    header = pydicom.Dataset()
    if patient_id is not None:
        header.PatientID = patient_id
    if patient_name is not None:
        header.PatientName = patient_name
    assert record_patient_identity(patient_id, patient_name) == engine_patient_identity(header)


def test_a_bare_patient_id_is_normalised_like_the_engine(mapper: KeyedMapper) -> None:
    assert _local(RECORD, mapper, identity=f"  {PATIENT_ID} ").text == _local(RECORD, mapper).text


def test_dates_move_by_the_patients_offset_keeping_intervals(mapper: KeyedMapper) -> None:
    identity = record_patient_identity(PATIENT_ID)
    offset = mapper.date_offset_days(identity)
    outcome = _local(RECORD, mapper)
    admitted = date(2024, 2, 29) + timedelta(days=offset)
    discharged = date(2024, 3, 14) + timedelta(days=offset)
    born = date(1951, 9, 23) + timedelta(days=offset)
    assert f"Admitted {admitted.day} {admitted:%B %Y}, discharged {discharged.isoformat()}" in outcome.text
    assert f"({discharged:%A}, {discharged:%B} {discharged.day}" in outcome.text
    assert f"DOB: {born:%d/%m/%Y}" in outcome.text


def test_same_key_same_output_other_key_different(mapper: KeyedMapper) -> None:
    first, second = _local(RECORD, mapper), _local(RECORD, KeyedMapper(TEST_KEY))
    other = _local(RECORD, KeyedMapper(OTHER_KEY))
    assert first == second
    assert other.text != first.text and other.patient_pseudonym != first.patient_pseudonym
    placeholders = set(re.findall(r"\[(?:NAME|ID)-[0-9A-F]{8}\]", first.text))
    assert placeholders and placeholders.isdisjoint(re.findall(r"\[(?:NAME|ID)-[0-9A-F]{8}\]", other.text))


@pytest.mark.parametrize(
    ("record", "is_patient"),
    [("Patient: Jane Roe", True), ("Patient name: Jane Roe", True), ("Name: Jane Roe", True),
     ("Referring physician name: Jane Roe", False), ("Signed by: Jane Roe", False), ("Dr. Jane Roe", False)],
)
def test_only_names_labelled_as_the_patients_get_the_pseudonym(mapper: KeyedMapper, record: str,
                                                                is_patient: bool) -> None:
    outcome = _local(record, mapper)
    assert (outcome.patient_pseudonym in outcome.text) is is_patient
    assert "Jane" not in outcome.text and "Roe" not in outcome.text


def test_the_same_person_gets_the_same_placeholder_in_every_record(mapper: KeyedMapper) -> None:
    one = _local("Seen by Dr. Madeup Doctor.", mapper)
    two = _local("Letter to Dr Madeup Doctor about another patient.", mapper, identity=None)
    placeholder = re.search(r"\[NAME-[0-9A-F]{8}\]", one.text).group()
    assert placeholder in two.text


def test_without_a_patient_names_get_placeholders_and_dates_the_default_offset(mapper: KeyedMapper) -> None:
    outcome = _local(RECORD, mapper, identity=None)
    assert outcome.patient_pseudonym is None
    assert "SUBJ-" not in outcome.text
    assert all(value.casefold() not in outcome.text.casefold() for value in IDENTIFYING)
    discharged = date(2024, 3, 14) + timedelta(days=mapper.date_offset_days(""))
    assert discharged.isoformat() in outcome.text


def test_multibyte_text_is_replaced_at_the_right_characters(mapper: KeyedMapper) -> None:
    record = "東京 — Patient: Zoë Ünal, MRN: 00412345. Seen 12/03/2024 by Dr. Ólafur Ñúñez. 検査 OK."
    outcome = _local(record, mapper, identity=record_patient_identity("00412345"))
    for value in ("Zoë", "Ünal", "00412345", "12/03/2024", "Ólafur", "Ñúñez"):
        assert value not in outcome.text
    assert outcome.text.startswith("東京 — Patient: SUBJ-")
    assert outcome.text.endswith(". 検査 OK.")


class _FixedDetector:
    def __init__(self, *entities: PhiEntity) -> None:
        self.entities = list(entities)

    def detect(self, text: str) -> list[PhiEntity]:
        return self.entities


def test_overlapping_entities_become_one_replacement(mapper: KeyedMapper) -> None:
    text = "ref Jane Roe-4471 end"
    detector = _FixedDetector(PhiEntity(4, 12, "NAME", 0.9), PhiEntity(9, 17, "ID", 0.8), PhiEntity(4, 8, "NAME", 0.5))
    outcome = deidentify_record(text, mapper=mapper, detector=detector, patient_identity=None)
    assert re.fullmatch(r"ref \[NAME-[0-9A-F]{8}\] end", outcome.text)
    assert outcome.replaced == 1


def test_a_value_found_once_is_replaced_everywhere_and_the_patients_id_even_if_missed(mapper: KeyedMapper) -> None:
    text = f"Jane Roe called. Later jane roe and Roe again. Chart {PATIENT_ID}."
    detector = _FixedDetector(PhiEntity(0, 8, "NAME", 0.9))
    outcome = deidentify_record(text, mapper=mapper, detector=detector,
                                patient_identity=record_patient_identity(PATIENT_ID))
    assert "Roe" not in outcome.text and "roe" not in outcome.text and PATIENT_ID not in outcome.text
    assert outcome.text.endswith(f"Chart {outcome.patient_pseudonym}.")


def test_types_without_a_keyed_form_get_typed_placeholders_and_bad_dates_a_date_placeholder(mapper) -> None:
    text = "at 1 Some Street; radiographer; 31/02/2024"
    detector = _FixedDetector(PhiEntity(3, 16, "ADDRESS", 0.9), PhiEntity(18, 30, "PROFESSION", 0.9),
                              PhiEntity(32, 42, "DATE", 0.9))
    outcome = deidentify_record(text, mapper=mapper, detector=detector, patient_identity=None)
    assert outcome.text == "at [ADDRESS]; [PROFESSION]; [DATE]"


def test_a_failing_detector_quarantines_the_record(mapper: KeyedMapper) -> None:
    class Broken:
        def detect(self, text: str) -> list[PhiEntity]:
            raise RuntimeError(text)

    with pytest.raises(TextDetectorUnavailableError) as raised:
        deidentify_record("Jane Roe", mapper=mapper, detector=Broken(), patient_identity=None)
    assert raised.value.reason == "text-phi-detector-unavailable" and "Jane" not in str(raised.value)


def test_a_record_through_comprehend_medical(mapper: KeyedMapper) -> None:
    import boto3
    from botocore.stub import Stubber

    text = "Pätient Zoë Ünal seen 12/03/2024 by Dr. Ima Fakename."
    client = boto3.client("comprehendmedical", region_name="eu-west-1")
    entities = []
    for value, kind in (("Zoë Ünal", "NAME"), ("12/03/2024", "DATE"), ("Ima Fakename", "NAME")):
        begin = text.index(value)
        entities.append({"Id": begin, "BeginOffset": begin, "EndOffset": begin + len(value), "Score": 0.9,
                         "Text": value, "Category": "PROTECTED_HEALTH_INFORMATION", "Type": kind, "Traits": []})
    identity = record_patient_identity(patient_name="Ünal^Zoë")
    with Stubber(client) as stub:
        stub.add_response("detect_phi", {"Entities": entities, "ModelVersion": "0.1.0"}, {"Text": text})
        outcome = deidentify_record(text, mapper=mapper, detector=build_detector("comprehendmedical", client=client),
                                    patient_identity=identity)
    shifted = date(2024, 12, 3) + timedelta(days=mapper.date_offset_days(identity))
    assert outcome.text == (f"Pätient {mapper.patient_pseudonym(identity)} seen {shifted:%m/%d/%Y} by "
                            f"Dr. {re.search(r'Dr. (.*)[.]$', outcome.text).group(1)}.")
    assert "Ima" not in outcome.text and "Zoë" not in outcome.text


# Invented name parts: none is a real person's name on purpose, and none is an ordinary word.
_GIVEN = ["Zorbina", "Quellan", "Ysolde", "Brannick", "Oddveig", "Tamsinel", "Élodiane", "Jörgunn"]
_FAMILY = ["Fakenham-Roe", "Testwright", "O'Synthe", "Madeupson", "Nullbury", "Ñandúvez", "Placeholt"]
_TEMPLATES = [
    "Patient: {given} {family}\nMRN: {mrn}\nDOB: {dob:%d/%m/%Y}\n",
    "Name: {FAMILY}^{GIVEN}   Patient ID: {mrn}   seen {visit:%d %B %Y}\n",
    "{visit:%Y-%m-%d}: reviewed by Dr. {other_given} {other_family}; phone {phone}; mail {email}\n",
    "Referring physician: {other_family}, {other_given} ({visit:%B %d, %Y}).\n",
    "Address: {house} {street} Road, Faketown, {postcode}\nNext of kin: {kin_given} {family}\n",
    "Mr {family} is {age} years old; follow-up on {visit:%m/%d/%Y} at www.example.invalid/{mrn}.\n",
]


@pytest.mark.parametrize("seed", range(30))
def test_generated_records_leak_nothing_the_local_detector_covers(mapper: KeyedMapper, seed: int) -> None:
    rng = random.Random(seed)
    given, family, other_given, other_family, kin_given = (
        rng.choice(_GIVEN), rng.choice(_FAMILY), rng.choice(_GIVEN), rng.choice(_FAMILY), rng.choice(_GIVEN))
    values = {
        "given": given, "family": family, "GIVEN": given.upper(), "FAMILY": family.upper(),
        "other_given": other_given, "other_family": other_family, "kin_given": kin_given,
        "mrn": f"SYN{rng.randint(100000, 999999)}", "dob": date(1930, 1, 1) + timedelta(days=rng.randint(0, 25000)),
        "visit": date(2015, 1, 1) + timedelta(days=rng.randint(0, 3500)),
        "phone": f"555-01{rng.randint(0, 9)}-0{rng.randint(100, 999)}",
        "email": f"{given.lower()}.{rng.randint(1, 99)}@example.invalid", "house": rng.randint(1, 999),
        "street": rng.choice(["Nowhere", "Imaginary", "Fictive"]),
        "postcode": f"ZZ{rng.randint(1, 9)} {rng.randint(1, 9)}ZZ",
        "age": rng.randint(90, 104),
    }
    record = "".join(rng.sample(_TEMPLATES, k=4)) + "Lesion 14 mm, stable.\n"
    record = record.format(**values)
    outcome = _local(record, mapper, identity=record_patient_identity(values["mrn"]), day_first=True)
    originals = [given, family, other_given, other_family, kin_given, values["mrn"], values["phone"],
                 values["email"], values["postcode"], f"{values['house']} {values['street']}"]
    originals += [f"{values['dob']:%d/%m/%Y}", f"{values['visit']:%Y-%m-%d}", f"{values['visit']:%d %B %Y}",
                  f"{values['visit']:%B %d, %Y}", f"{values['visit']:%m/%d/%Y}", f"{values['age']} years"]
    text = outcome.text.casefold()
    assert [value for value in originals if str(value).casefold() in text] == []
    assert "Lesion 14 mm, stable." in outcome.text


UNLABELLED = "Clinic note. Alice Synthetic was reviewed today; Synthetic, Alice agreed to the plan. Alice's scan is due."


def test_a_known_patient_name_is_replaced_where_no_label_points_at_it(mapper: KeyedMapper) -> None:
    without = _local(UNLABELLED, mapper)
    assert "Alice" in without.text, "premise: the local rules alone miss an unlabelled name"

    outcome = _local(UNLABELLED, mapper, patient_name="SYNTHETIC^ALICE")
    assert "Alice" not in outcome.text and "Synthetic" not in outcome.text
    assert outcome.patient_pseudonym in outcome.text
    assert outcome.patient_pseudonym == mapper.patient_pseudonym(record_patient_identity(PATIENT_ID))


@pytest.mark.parametrize(("dates", "expected"), [("removed", "[DATE]"), ("kept", "2024-03-14")])
def test_record_dates_follow_the_trials_temporal_option(mapper: KeyedMapper, dates: str, expected: str) -> None:
    outcome = _local("Discharged 2024-03-14.", mapper, dates=dates)
    assert outcome.text == f"Discharged {expected}."


def test_an_unknown_date_policy_is_refused(mapper: KeyedMapper) -> None:
    with pytest.raises(ValueError, match="dates must be one of"):
        _local("Seen 2024-03-14.", mapper, dates="jittered")
