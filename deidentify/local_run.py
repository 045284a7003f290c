"""De-identifies a local folder tree with the same engine and processing as the Lambda.

IN is read, never changed. De-identified files go to OUT under the same names as in the
de-identified bucket; quarantined files, their reason records and the linkage records go to
a separate folder with the same layout as the quarantine bucket; the manifest accounts for
every input, in input order, whatever the number of workers.

Text records (``*.txt``) name their patient in a sidecar ``<file>.meta.json``
(``{"patient-id": "..."}``), the local stand-in for S3 metadata; sidecars are not inputs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from deidentify.errors import DeidentificationError
from deidentify.keyed import KeyedMapper
from deidentify.layout import (
    DEIDENTIFIED,
    FAILED,
    QUARANTINED,
    QuarantineRecord,
    linkage_document,
    linkage_record_name,
    quarantine_object_name,
    quarantine_reason_name,
)
from deidentify.manifest import ManifestEntry, ManifestWriter
from deidentify.processing import Deidentified, RawObject, RecordMetadataError, is_text_record, process
from deidentify.runtime import DEFAULT_LINKAGE_PREFIX, EngineSettings, Toolkit, build_toolkit

SIDECAR_SUFFIX = ".meta.json"
PATIENT_ID_FIELD = "patient-id"


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

    def add(self, entry: ManifestEntry) -> None:
        self.counts[entry.outcome] += 1
        if entry.reason:
            self.reasons[entry.reason.split(":")[0]] += 1
        if entry.outcome == DEIDENTIFIED:
            self.distinct_outputs.add(entry.output)


def input_files(input_dir: Path) -> list[Path]:
    """Every file under IN except the sidecars of text records."""
    files = sorted(path for path in input_dir.rglob("*") if path.is_file())
    present = set(files)
    return [path for path in files if not _is_sidecar(path, present)]


def _is_sidecar(path: Path, present: set[Path]) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX) and path.with_name(path.name[: -len(SIDECAR_SUFFIX)]) in present


def run_folder(
    paths: RunPaths,
    key: bytes,
    settings: EngineSettings,
    workers: int = 1,
    on_file: Callable[[ManifestEntry], None] = lambda entry: None,
    files: list[Path] | None = None,
) -> RunSummary:
    """Process every file under IN; each ends de-identified, quarantined or failed.

    ``workers`` > 1 uses that many processes (the engine is CPU-bound); the manifest and
    the outputs are the same as with one.
    """
    summary = RunSummary()
    files = input_files(paths.input_dir) if files is None else files
    with ManifestWriter(paths.manifest) as manifest:
        for entry in _entries(paths, key, settings, workers, files):
            manifest.write(entry)
            summary.add(entry)
            on_file(entry)
    return summary


def _entries(paths: RunPaths, key: bytes, settings: EngineSettings, workers: int, files: list[Path]) -> Iterator[ManifestEntry]:
    if workers <= 1 or len(files) <= 1:
        toolkit = build_toolkit(KeyedMapper(key), settings)
        for path in files:
            yield process_file(path, paths, toolkit)
        return
    chunksize = max(1, min(16, len(files) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(key, settings)) as pool:
        # map() yields in input order, so the manifest order does not depend on scheduling.
        yield from pool.map(_worker_process_file, files, [paths] * len(files), chunksize=chunksize)


_worker_toolkit: Toolkit | None = None


def _start_worker(key: bytes, settings: EngineSettings) -> None:
    global _worker_toolkit
    _worker_toolkit = build_toolkit(KeyedMapper(key), settings)


def _worker_process_file(path: Path, paths: RunPaths) -> ManifestEntry:
    assert _worker_toolkit is not None, "worker started without its toolkit"
    return process_file(path, paths, _worker_toolkit)


def process_file(path: Path, paths: RunPaths, toolkit: Toolkit) -> ManifestEntry:
    relative = path.relative_to(paths.input_dir).as_posix()
    try:
        data = path.read_bytes()
    except OSError as error:
        return ManifestEntry(relative, FAILED, f"read-error:{type(error).__name__}", "")
    try:
        raw = RawObject(name=relative, data=data, patient_id=_sidecar_patient_id(path))
        result = process(raw, toolkit)
    except RecordMetadataError as error:
        return _quarantine(relative, data, error, paths, toolkit)
    except Exception as error:  # a bug must not stop the run or leak a value; nothing is written
        return ManifestEntry(relative, FAILED, f"internal-error:{type(error).__name__}", "")
    if not isinstance(result, Deidentified):
        return _quarantine(relative, data, result.error, paths, toolkit)
    object_ref = toolkit.mapper.reference(relative)
    target = paths.output_dir / result.output_name
    _write_atomically(target, result.data)
    _write_atomically(
        paths.quarantine_dir / linkage_record_name(DEFAULT_LINKAGE_PREFIX, object_ref),
        linkage_document(object_ref, {"path": relative}, result.linkage),
    )
    return ManifestEntry(relative, DEIDENTIFIED, "", str(target))


def _quarantine(relative: str, data: bytes, error: DeidentificationError, paths: RunPaths, toolkit: Toolkit) -> ManifestEntry:
    record = QuarantineRecord.from_error({"path": relative}, error, toolkit.profile_edition)
    target = paths.quarantine_dir / quarantine_object_name(relative)
    _write_atomically(target, data)
    _write_atomically(paths.quarantine_dir / quarantine_reason_name(relative), record.to_json())
    return ManifestEntry(relative, QUARANTINED, str(error), str(target))


def _sidecar_patient_id(path: Path) -> str | None:
    """The text record's patient from '<file>.meta.json'; None without a sidecar."""
    if not is_text_record(path.name, None):
        return None
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        document = json.loads(sidecar.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise RecordMetadataError(f"sidecar {SIDECAR_SUFFIX} is not readable JSON") from None
    value = document.get(PATIENT_ID_FIELD) if isinstance(document, dict) else None
    if value is not None and not isinstance(value, str):
        raise RecordMetadataError(f"sidecar field {PATIENT_ID_FIELD!r} is not a string")
    return value


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
