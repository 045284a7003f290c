"""Fixtures for the de-identification tests: keys, the engine, pydicom's sample files."""

from __future__ import annotations

import os

import pytest

from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY
from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper


@pytest.fixture(scope="session")
def deidentifier() -> Deidentifier:
    return Deidentifier(KeyedMapper(TEST_KEY))


@pytest.fixture(scope="session")
def other_deidentifier() -> Deidentifier:
    return Deidentifier(KeyedMapper(OTHER_KEY))


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach AWS: fake credentials and a fixed region for moto."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "PULUMI_", "DEID_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
