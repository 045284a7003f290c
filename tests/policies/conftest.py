"""Fixtures for the policy pack tests: one loaded PackAnalyzer, a clean environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance.analyzer import PackAnalyzer

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in ("AWS_REGION", "AWS_DEFAULT_REGION") or name.startswith("PULUMI_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def pack_dir() -> Path:
    return PACK_DIR


@pytest.fixture(scope="session")
def analyzer() -> PackAnalyzer:
    return PackAnalyzer(PACK_DIR)
