"""De-identifies a local folder tree with the same engine as the Lambda.

IN is read, never changed. De-identified files go to OUT under the same names as in the
de-identified bucket; quarantined files and their reason records go to a separate folder
with the same layout as the quarantine bucket; the manifest accounts for every input.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deidentify.engine import Deidentifier
from deidentify.errors import DeidentificationError
from deidentify.layout import (
    DEIDENTIFIED,
    FAILED,
    QUARANTINED,
    QuarantineRecord,
    output_name,
    quarantine_object_name,
    quarantine_reason_name,
)
from deidentify.manifest import ManifestEntry, ManifestWriter


class RunArgumentError(ValueError):
    """The folders given to a run are unusable (missing, nested in each other...)."""


@dataclass(frozen=True)
class RunPaths:
    input_dir: Path
    output_dir: Path
    quarantine_dir: Path
    manifest: Path

    @classmethod
    def resolve(cls, input_dir: Path, output_dir: Path, quarantine_dir: Path | None, manifest: Path | None) -> "RunPaths":
        """Defaults: quarantine = sibling 'OUT.quarantine', manifest = sibling 'OUT.manifest.jsonl'."""
        if not input_dir.exists():
            raise RunArgumentError(f"IN {input_dir} does not exist")
        if not input_dir.is_dir():
            raise RunArgumentError(f"IN {input_dir} is not a directory")
        if output_dir.exists() and not output_dir.is_dir():
            raise RunArgumentError(f"OUT {output_dir} exists and is not a directory")
        quarantine_dir = quarantine_dir or output_dir.with_name(output_dir.name + ".quarantine")
        manifest = manifest or output_dir.with_name(output_dir.name + ".manifest.jsonl")
        paths = cls(input_dir, output_dir, quarantine_dir, manifest)
        paths._check_separation()
        return paths

    def _check_separation(self) -> None:
        folders = {"IN": self.input_dir, "OUT": self.output_dir, "the quarantine folder": self.quarantine_dir}
        resolved = {name: path.resolve() for name, path in folders.items()}
        names = list(resolved)
        for index, first in enumerate(names):
            for second in names[index + 1:]:
                a, b = resolved[first], resolved[second]
                if a == b or a.is_relative_to(b) or b.is_relative_to(a):
                    raise RunArgumentError(f"{first} ({folders[first]}) and {second} ({folders[second]}) must be separate folders, neither inside the other")
        manifest = self.manifest.resolve()
        for name in ("IN", "OUT"):
            if manifest.is_relative_to(resolved[name]):
                raise RunArgumentError(f"the manifest {self.manifest} must not be inside {name}: it names source files")


@dataclass
class RunSummary:
    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    distinct_outputs: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def input_files(input_dir: Path) -> list[Path]:
    return sorted(path for path in input_dir.rglob("*") if path.is_file())


def run_folder(
    paths: RunPaths,
    deidentifier: Deidentifier,
    on_file: Callable[[], None] = lambda: None,
    files: list[Path] | None = None,
) -> RunSummary:
    """Process every file under IN; each ends de-identified, quarantined or failed."""
    summary = RunSummary()
    files = input_files(paths.input_dir) if files is None else files
    with ManifestWriter(paths.manifest) as manifest:
        for path in files:
            entry = _process_file(path, paths, deidentifier)
            manifest.write(entry)
            summary.counts[entry.outcome] += 1
            if entry.reason:
                summary.reasons[entry.reason] += 1
            if entry.outcome == DEIDENTIFIED:
                summary.distinct_outputs.add(entry.output)
            on_file()
    return summary


def _process_file(path: Path, paths: RunPaths, deidentifier: Deidentifier) -> ManifestEntry:
    relative = path.relative_to(paths.input_dir).as_posix()
    try:
        data = path.read_bytes()
    except OSError as error:
        return ManifestEntry(relative, FAILED, f"read-error:{type(error).__name__}", "")
    try:
        result = deidentifier.deidentify_bytes(data)
    except DeidentificationError as error:
        record = QuarantineRecord.from_error({"path": relative}, error, deidentifier.profile.edition)
        target = paths.quarantine_dir / quarantine_object_name(relative)
        _write_atomically(target, data)
        _write_atomically(paths.quarantine_dir / quarantine_reason_name(relative), record.to_json())
        return ManifestEntry(relative, QUARANTINED, str(error), str(target))
    except Exception as error:  # a bug must not stop the run or leak a value; nothing is written
        return ManifestEntry(relative, FAILED, f"internal-error:{type(error).__name__}", "")
    target = paths.output_dir / output_name(result)
    _write_atomically(target, result.data)
    return ManifestEntry(relative, DEIDENTIFIED, "", str(target))


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
