"""Key sources and the rules data file's validation."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from deidentify.errors import KeyConfigurationError, ProfileError
from deidentify.keyed import KeyedMapper
from deidentify.keys import key_for_cli, key_for_lambda
from deidentify.profile import Action, load_basic_profile, parse_profile

LONG_KEY = "k" * 40


def test_cli_key_file_wins_over_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "trial.key"
    key_file.write_bytes(b"f" * 32 + b"\n")
    assert key_for_cli(key_file, {"DEID_KEY": LONG_KEY}) == b"f" * 32


def test_cli_key_from_environment() -> None:
    assert key_for_cli(None, {"DEID_KEY": LONG_KEY}) == LONG_KEY.encode()


def test_cli_without_key_refuses_with_guidance() -> None:
    with pytest.raises(KeyConfigurationError, match="--key-file PATH or set \\$DEID_KEY"):
        key_for_cli(None, {})


def test_short_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="at least 32") as caught:
        key_for_cli(None, {"DEID_KEY": "short-secret"})
    assert "short-secret" not in str(caught.value)
    with pytest.raises(ValueError):
        KeyedMapper(b"x" * 31)


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="absent.key"):
        key_for_cli(tmp_path / "absent.key", {})


def test_lambda_key_from_secrets_manager() -> None:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(Name="deid", SecretString=LONG_KEY)["ARN"]
        assert key_for_lambda({"DEID_KEY_SECRET_ARN": arn}, boto3.client) == LONG_KEY.encode()
        with pytest.raises(KeyConfigurationError, match="DEID_KEY_SECRET_ARN"):
            key_for_lambda({}, boto3.client)


def test_keyed_uid_shape_and_determinism() -> None:
    mapper, same, other = KeyedMapper(b"a" * 32), KeyedMapper(b"a" * 32), KeyedMapper(b"b" * 32)
    uid = mapper.uid("1.2.3.4")
    assert uid.startswith("2.25.") and len(uid) <= 64 and uid[5:].isdigit()
    assert uid == same.uid("1.2.3.4") != other.uid("1.2.3.4")
    assert mapper.uid("1.2.3.4") != mapper.uid("1.2.3.5")


def test_shipped_profile_is_pinned_and_complete() -> None:
    profile = load_basic_profile()
    assert profile.edition == "DICOM PS3.15 2024b Annex E"
    assert len(profile.exact) > 600
    assert profile.rule_for(0x00100010).action is Action.EMPTY  # PatientName
    assert profile.rule_for(0x00080018).action is Action.REPLACE_UID  # SOPInstanceUID
    assert profile.rule_for(0x00020003).action is Action.REPLACE_UID  # MediaStorageSOPInstanceUID
    assert profile.rule_for(0x60043000).action is Action.REMOVE  # any overlay group
    assert profile.rule_for(0x501E0010).action is Action.REMOVE  # any curve group
    assert profile.rule_for(0x00280010) is None  # Rows: kept


def _document(*rules: dict) -> str:
    return json.dumps({
        "profile": "p", "edition": "e", "method_code": "BasicApplicationConfidentialityProfile",
        "private_attributes": "X", "unlisted_instance_uids": "U", "rules": list(rules),
    })


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"tag": "(0010,0010)", "keyword": "PatientID", "action": "Z"}, "rule 2: keyword 'PatientID' does not match"),
        ({"tag": "(0010,9999)", "action": "Z"}, "rule 2: tag (0010,9999) is not in the DICOM dictionary"),
        ({"tag": "0010,0010", "action": "Z"}, "rule 2: tag '0010,0010' is not of the form"),
        ({"tag": "(0010,0020)", "action": "Q"}, "rule 2: unknown action 'Q'"),
        ({"tag": "(0009,0010)", "action": "X"}, "rule 2: tag (0009,0010) is private"),
        ({"tag": "(0008,0050)", "action": "Z"}, "rule 2: tag (0008,0050) is listed twice"),
    ],
)
def test_bad_rule_row_is_named(rule: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=message.replace("(", "\\(").replace(")", "\\)")):
        parse_profile(_document({"tag": "(0008,0050)", "action": "Z"}, rule), source="test.json")


def test_bad_document_is_named() -> None:
    with pytest.raises(ProfileError, match="test.json: not valid JSON"):
        parse_profile("{", source="test.json")
    with pytest.raises(ProfileError, match="missing field 'edition'"):
        parse_profile(json.dumps({"profile": "p"}), source="test.json")
