"""Fixtures for the offline checker's tests: a clean environment and the fixture project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compliance.projects import FIXTURE_PROJECT


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in ("AWS_REGION", "AWS_DEFAULT_REGION") or name.startswith("PULUMI_"):
            monkeypatch.delenv(name)


@pytest.fixture()
def fixture_project(tmp_path: Path) -> Path:
    """A private copy of the fixture project, free to break."""
    import shutil

    copy = tmp_path / "mini_imaging"
    shutil.copytree(FIXTURE_PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy
