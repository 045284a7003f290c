"""Engine wire values as plain JSON-like data: `Struct` conversion, secret wrappers, provider refs.

Unknown values stay the engine's sentinel string (`model.UNKNOWN_SENTINEL`) and secrets keep
their `{"4dabf...": "1b47...", "value": ...}` wrapper, so nothing is lost on the way back to a Struct.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

SIG_KEY: str = rpc._special_sig_key  # noqa: SLF001 - the wire format's own constants
SECRET_SIG: str = rpc._special_secret_sig  # noqa: SLF001


def struct_to_plain(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    if struct is None:
        return {}
    return json_format.MessageToDict(struct)


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def wrap_secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def unwrap_secrets(value: Any) -> Any:
    """Strip secret wrappers from a wire value (where secretness is carried separately)."""
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def provider_urn(reference: str) -> str | None:
    """A provider reference is `<urn>::<id>`; match providers by URN (the id may be unknown)."""
    return reference.rsplit("::", 1)[0] if reference else None
