"""The Lambda deployment package: rebuilt exactly when its source or requirements change."""

from pathlib import Path

import pytest

from components import lambda_package
from components.lambda_package import LambdaPackageError


@pytest.fixture
def source(tmp_path: Path) -> Path:
    package = tmp_path / "src" / "handlerpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (package / "requirements-lambda.txt").write_text("")
    return package


def test_fingerprint_follows_source_and_requirements(source: Path):
    requirements = source / "requirements-lambda.txt"
    first = lambda_package.fingerprint(source, requirements)
    assert lambda_package.fingerprint(source, requirements) == first

    (source / "handler.py").write_text("def lambda_handler(event, context):\n    return {'changed': 1}\n")
    second = lambda_package.fingerprint(source, requirements)
    assert second != first

    requirements.write_text("pydicom==3.0.2\n")
    assert lambda_package.fingerprint(source, requirements) != second


def test_compiled_files_do_not_change_the_fingerprint(source: Path):
    requirements = source / "requirements-lambda.txt"
    before = lambda_package.fingerprint(source, requirements)
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00")
    assert lambda_package.fingerprint(source, requirements) == before


def test_build_copies_source_and_reuses_the_cache(source: Path, tmp_path: Path):
    requirements = source / "requirements-lambda.txt"
    build_root = tmp_path / "build"
    target = lambda_package.build(source, requirements, build_root)
    assert (target / "handlerpkg" / "handler.py").is_file()
    assert not any(p.name.endswith(".complete") for p in target.rglob("*")), "marker leaked into code"

    (target / "handlerpkg" / "sentinel").write_text("kept")
    assert lambda_package.build(source, requirements, build_root) == target
    assert (target / "handlerpkg" / "sentinel").exists(), "an up-to-date build is reused"


def test_changed_source_replaces_the_stale_build(source: Path, tmp_path: Path):
    requirements = source / "requirements-lambda.txt"
    build_root = tmp_path / "build"
    old = lambda_package.build(source, requirements, build_root)
    (source / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    new = lambda_package.build(source, requirements, build_root)
    assert new != old
    assert not old.exists()
    assert sorted(p.name for p in build_root.iterdir()) == sorted([new.name, f"{new.name}.complete"])


def test_missing_requirements_file_is_named(source: Path, tmp_path: Path):
    missing = source / "nope.txt"
    with pytest.raises(LambdaPackageError, match="nope.txt"):
        lambda_package.build(source, missing, tmp_path / "build")


def test_pip_failure_names_the_requirements_and_platform(source: Path, tmp_path: Path):
    requirements = source / "requirements-lambda.txt"
    requirements.write_text("this-package-does-not-exist-trial-imaging==0.0.1\n")
    with pytest.raises(LambdaPackageError, match="requirements-lambda.txt for manylinux2014_x86_64"):
        lambda_package.build(source, requirements, tmp_path / "build")
    assert not list((tmp_path / "build").glob(".staging-*")), "a failed build leaves no staging dir"
