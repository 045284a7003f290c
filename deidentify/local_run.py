"""De-identifies a local folder tree with the same engine and processing as the Lambda.

IN is read, never changed. De-identified files go to OUT under the same names as in the
de-identified bucket; quarantined files, their reason records and the linkage records go to
a separate folder with the same layout as the quarantine bucket; the manifest accounts for
every input, in input order, whatever the number of workers. Workers only compute; this
process writes, so two inputs producing one output name (the same SOP Instance UID) resolve
the same way in every run: the first owns it, a later one with different bytes is
quarantined ('conflicting-instance'), as in the Lambda.

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

from deidentify.keyed import KeyedMapper
from deidentify.layout import (
    DEIDENTIFIED,
    FAILED,
    QUARANTINED,
    OutputClaim,
    QuarantineRecord,
    linkage_document,
    linkage_record_name,
    quarantine_object_name,
    quarantine_reason_name,
)
from deidentify.manifest import ManifestEntry, ManifestWriter
from deidentify.processing import (
    ConflictingInstanceError,
    Deidentified,
    Quarantined,
    RawObject,
    RecordMetadataError,
    is_text_record,
    process,
)
from deidentify.runtime import (
    DEFAULT_LINKAGE_PREFIX,
    EngineSettings,
    Toolkit,
    build_toolkit,
)

SIDECAR_SUFFIX = ".meta.json"
PATIENT_ID_FIELD = "patient-id"
PATIENT_NAME_FIELD = "patient-name"
SIDECAR_FIELDS = (PATIENT_ID_FIELD, PATIENT_NAME_FIELD)


class RunArgumentError(ValueError):
    """The folders given to a run are unusable (missing, nested in each other...)."""


@dataclass(frozen=True)
class RunPaths:
    input_dir: Path
    output_dir: Path
    quarantine_dir: Path
    manifest: Path

    @classmethod
    def resolve(cls, input_dir: Path, output_dir: Path, quarantine_dir: Path | None, manifest: Path | None) -> RunPaths:
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
        paths._check_unused()
        return paths

    def _check_unused(self) -> None:
        """Outputs of runs with different keys or options must never mix in one tree, and a
        manifest must describe all of its tree: every run starts from empty output folders."""
        for name, folder in (("OUT", self.output_dir), ("the quarantine folder", self.quarantine_dir)):
            if folder.is_dir() and any(path.is_file() for path in folder.rglob("*")):
                raise RunArgumentError(
                    f"{name} ({folder}) already holds files from an earlier run; de-identify into a new, "
                    "empty folder (runs with other keys or options must not mix)"
                )
        if self.manifest.exists():
            raise RunArgumentError(f"the manifest {self.manifest} already exists (from an earlier run); choose another OUT or --manifest")

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

    ``workers`` > 1 runs the engine in that many processes (it is CPU-bound); results are
    written here, in input order, so outputs and manifest are the same as with one worker,
    including which of two inputs claiming one instance wins (the first).
    """
    summary = RunSummary()
    files = input_files(paths.input_dir) if files is None else files
    writer = _Writer(paths, KeyedMapper(key))
    with ManifestWriter(paths.manifest) as manifest:
        for prepared in _prepared(paths.input_dir, key, settings, workers, files):
            entry = writer.commit(prepared)
            manifest.write(entry)
            summary.add(entry)
            on_file(entry)
    return summary


@dataclass(frozen=True)
class Prepared:
    """What a worker found for one input; nothing is written yet."""

    path: Path
    relative: str
    result: Deidentified | Quarantined | None
    failure: str = ""  # the FAILED reason when result is None
    profile_edition: str = ""


def _prepared(input_dir: Path, key: bytes, settings: EngineSettings, workers: int,
              files: list[Path]) -> Iterator[Prepared]:
    if workers <= 1 or len(files) <= 1:
        toolkit = build_toolkit(KeyedMapper(key), settings)
        for path in files:
            yield prepare_file(path, input_dir, toolkit)
        return
    chunksize = max(1, min(16, len(files) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(key, settings)) as pool:
        # map() yields in input order, whatever order the workers finish in.
        yield from pool.map(_worker_prepare_file, files, [input_dir] * len(files), chunksize=chunksize)


_worker_toolkit: Toolkit | None = None


def _start_worker(key: bytes, settings: EngineSettings) -> None:
    global _worker_toolkit
    _worker_toolkit = build_toolkit(KeyedMapper(key), settings)


def _worker_prepare_file(path: Path, input_dir: Path) -> Prepared:
    assert _worker_toolkit is not None, "worker started without its toolkit"
    return prepare_file(path, input_dir, _worker_toolkit)


def prepare_file(path: Path, input_dir: Path, toolkit: Toolkit) -> Prepared:
    relative = path.relative_to(input_dir).as_posix()
    edition = toolkit.profile_edition
    try:
        data = path.read_bytes()
    except OSError as error:
        return Prepared(path, relative, None, f"read-error:{type(error).__name__}", edition)
    try:
        patient = _sidecar_patient(path)
        result = process(RawObject(name=relative, data=data, patient_id=patient.get(PATIENT_ID_FIELD),
                                   patient_name=patient.get(PATIENT_NAME_FIELD)), toolkit)
    except RecordMetadataError as error:
        result = Quarantined.from_error(error)
    except Exception as error:  # noqa: BLE001 - a bug must not stop the run or leak a value; nothing is written
        return Prepared(path, relative, None, f"internal-error:{type(error).__name__}", edition)
    return Prepared(path, relative, result, "", edition)


class _Writer:
    """Writes prepared results in input order; the first input to produce an output name owns it."""

    def __init__(self, paths: RunPaths, mapper: KeyedMapper) -> None:
        self.paths = paths
        self.mapper = mapper
        self.claims: dict[str, OutputClaim] = {}

    def commit(self, prepared: Prepared) -> ManifestEntry:
        result = prepared.result
        if result is None:
            return ManifestEntry(prepared.relative, FAILED, prepared.failure, "")
        object_ref = self.mapper.reference(prepared.relative)
        if isinstance(result, Deidentified):
            claim = result.claim(object_ref)
            existing = self.claims.setdefault(result.output_name, claim)
            if not existing.admits(claim):
                result = Quarantined.from_error(ConflictingInstanceError("another input holds this instance"))
        try:
            if isinstance(result, Quarantined):
                return self._quarantine(prepared, result)
            target = self.paths.output_dir / result.output_name
            _write_atomically(target, result.data)
            _write_atomically(
                self.paths.quarantine_dir / linkage_record_name(DEFAULT_LINKAGE_PREFIX, object_ref),
                linkage_document(object_ref, {"path": prepared.relative}, result.linkage),
            )
            return ManifestEntry(prepared.relative, DEIDENTIFIED, result.note, str(target))
        except OSError as error:
            return ManifestEntry(prepared.relative, FAILED, f"write-error:{type(error).__name__}", "")

    def _quarantine(self, prepared: Prepared, quarantined: Quarantined) -> ManifestEntry:
        record = QuarantineRecord.from_reason(
            {"path": prepared.relative}, quarantined.reason, quarantined.detail, prepared.profile_edition
        )
        target = self.paths.quarantine_dir / quarantine_object_name(prepared.relative)
        _write_atomically(target, prepared.path.read_bytes())
        _write_atomically(self.paths.quarantine_dir / quarantine_reason_name(prepared.relative), record.to_json())
        return ManifestEntry(prepared.relative, QUARANTINED, quarantined.message, str(target))


def _sidecar_patient(path: Path) -> dict[str, str]:
    """The text record's patient from '<file>.meta.json' ({} without a sidecar). A sidecar that
    is unreadable, names an unknown field or gives an empty value quarantines the record: a typo
    must not silently unlink a record from its patient."""
    if not is_text_record(path.name, None):
        return {}
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        document = json.loads(sidecar.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise RecordMetadataError(f"sidecar {SIDECAR_SUFFIX} is not readable JSON") from None
    if not isinstance(document, dict):
        raise RecordMetadataError(f"sidecar {SIDECAR_SUFFIX} is not a JSON object")
    unknown = sorted(set(document) - set(SIDECAR_FIELDS))
    if unknown:
        raise RecordMetadataError(
            f"sidecar field(s) {', '.join(map(repr, unknown))} unknown; expected {', '.join(map(repr, SIDECAR_FIELDS))}"
        )
    for field_name, value in document.items():
        if not isinstance(value, str) or not value.strip():
            raise RecordMetadataError(f"sidecar field {field_name!r} must be a non-empty string")
    return document


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
