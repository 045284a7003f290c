"""One trial key gives one key, whether it comes from a key file or from Secrets Manager."""

from pathlib import Path

import boto3
from botocore.stub import Stubber

from deidentify.keys import key_from_file, key_from_secrets_manager

SYNTHETIC_KEY = "0123456789abcdef" * 4


def test_secret_string_set_from_a_key_file_gives_the_same_key(tmp_path: Path):
    key_file = tmp_path / "trial.key"
    key_file.write_text(SYNTHETIC_KEY + "\n")
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response(
            "get_secret_value",
            {"SecretString": SYNTHETIC_KEY + "\n", "Name": "trial-key"},
            {"SecretId": "trial-key"},
        )
        from_secret = key_from_secrets_manager("trial-key", client)
    assert from_secret == key_from_file(key_file) == SYNTHETIC_KEY.encode()
