"""Where the de-identification key comes from: a file or env var (CLI), Secrets Manager (Lambda).

The key never appears in a message. Too short or absent => KeyConfigurationError.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deidentify.errors import KeyConfigurationError
from deidentify.keyed import MINIMUM_KEY_BYTES

KEY_ENV_VAR = "DEID_KEY"
KEY_SECRET_ARN_ENV_VAR = "DEID_KEY_SECRET_ARN"


def _checked(key: bytes, origin: str) -> bytes:
    if len(key) < MINIMUM_KEY_BYTES:
        raise KeyConfigurationError(
            f"the de-identification key from {origin} is {len(key)} bytes; at least {MINIMUM_KEY_BYTES} are required"
        )
    return key


def key_from_file(path: Path) -> bytes:
    """The key file's bytes, without a trailing newline an editor may have added."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyConfigurationError(f"cannot read key file {path}: {error.strerror}") from None
    return _checked(data.rstrip(b"\r\n"), f"key file {path}")


def key_for_cli(key_file: Path | None, environ: dict[str, str] | None = None) -> bytes:
    """--key-file wins over $DEID_KEY; neither => KeyConfigurationError."""
    environ = os.environ if environ is None else environ
    if key_file is not None:
        return key_from_file(key_file)
    value = environ.get(KEY_ENV_VAR)
    if value:
        return _checked(value.encode("utf-8"), f"${KEY_ENV_VAR}")
    raise KeyConfigurationError(
        f"no de-identification key: pass --key-file PATH or set ${KEY_ENV_VAR} "
        f"(at least {MINIMUM_KEY_BYTES} bytes, the same key for every run of a trial)"
    )


def key_from_secrets_manager(secret_arn: str, client: Any) -> bytes:
    """The key stored in a Secrets Manager secret (SecretString or SecretBinary)."""
    response = client.get_secret_value(SecretId=secret_arn)
    if response.get("SecretBinary") is not None:
        key = bytes(response["SecretBinary"])
    else:
        # Stripped like a key file, so a secret set from the trial's key file gives the same key.
        key = str(response.get("SecretString") or "").encode("utf-8").rstrip(b"\r\n")
    return _checked(key, "the Secrets Manager secret")


def key_for_lambda(environ: dict[str, str], client_factory: Any) -> bytes:
    """The Lambda's key: $DEID_KEY_SECRET_ARN names the secret; absent => refuse to run."""
    secret_arn = environ.get(KEY_SECRET_ARN_ENV_VAR)
    if not secret_arn:
        raise KeyConfigurationError(f"${KEY_SECRET_ARN_ENV_VAR} is not set; the Lambda refuses to run without a key")
    return key_from_secrets_manager(secret_arn, client_factory("secretsmanager"))
