"""Throughput of DICOM de-identification: this engine, dicognito, pydicom/deid, and a plain
pydicom read-and-write round trip as the floor. Prints files/s, MB/s and the ratio to the
round trip.

Corpus: the DICOM files shipped inside the pydicom wheel that every measured tool
processes (this engine de-identifies them rather than quarantining them; dicognito and
deid run on them without error), each copied ``--copies`` times with per-copy Study,
Series, SOP Instance and Frame of Reference UIDs and Patient ID (so no tool gains from
caching a repeated value). Everything is held in memory: each tool gets Part 10 bytes and
returns Part 10 bytes (parse, de-identify, serialise), one process, best of ``--rounds``.

The peers are not project dependencies. Install them in a separate virtualenv (see
benchmarks/requirements-peers.txt); this script installs nothing:

    python -m venv /tmp/deid-bench
    /tmp/deid-bench/bin/pip install -r deidentify/requirements-lambda.txt rich==15.0.0 \\
        -r benchmarks/requirements-peers.txt
    /tmp/deid-bench/bin/python benchmarks/deid_throughput.py [--copies 15] [--rounds 3]
        [--pixel-backend none|signatures] [--corpus wheel|ct] [--profile]

Default pixel backend: none, so that every tool does header work only; with signatures,
this engine also decodes and blanks device regions, which the peers never do.

Without the peers installed their rows say "not installed" and the rest still runs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("MESSAGELEVEL", "-1")  # deid's logger: quiet (read at import)

import pydicom
from pydicom.uid import generate_uid
from rich.console import Console
from rich.table import Table

BENCH_KEY = b"benchmark-key-not-a-trial-key-0123456789"
# A typical trial: header options on (dates shifted per patient, characteristics kept,
# descriptors, structured content and graphics cleaned rather than removed).
TRIAL_OPTIONS = frozenset({
    "retain-longitudinal-modified-dates",
    "retain-patient-characteristics",
    "clean-descriptors",
    "clean-structured-content",
    "clean-graphics",
})
TARGET_RATIO = 1.5
ROUND_TRIP = "pydicom round trip (floor)"

Transform = Callable[[bytes], bytes]


@dataclass
class Measurement:
    name: str
    version: str
    seconds: float | None  # best round; None when the tool is unavailable
    note: str = ""


def _quiet() -> None:
    warnings.simplefilter("ignore")
    logging.getLogger("pydicom").setLevel(logging.CRITICAL + 1)


def _write(dataset: pydicom.Dataset) -> bytes:
    """pydicom's default write, as dicognito's and deid's own savers do."""
    buffer = BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


# ---- the tools, each bytes -> bytes ---------------------------------------------------------

def round_trip_factory() -> Transform:
    def run(data: bytes) -> bytes:
        return _write(pydicom.dcmread(BytesIO(data)))
    return run


def engine_factory(options: frozenset[str], pixel_backend: str) -> Callable[[], Transform]:
    def factory() -> Transform:
        from deidentify.keyed import KeyedMapper
        from deidentify.runtime import EngineSettings, build_toolkit

        settings = EngineSettings(pixel_backend=pixel_backend, text_backend="local", options=options)
        deidentifier = build_toolkit(KeyedMapper(BENCH_KEY), settings).deidentifier  # fresh caches per round
        return lambda data: deidentifier.deidentify_bytes(data).data
    return factory


def dicognito_factory() -> Transform:
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="benchmark")

    def run(data: bytes) -> bytes:
        dataset = pydicom.dcmread(BytesIO(data))
        anonymizer.anonymize(dataset)
        return _write(dataset)
    return run


def deid_factory() -> Transform:
    from deid.config import DeidRecipe
    from deid.dicom.parser import DicomParser

    recipe = DeidRecipe()  # deid's default recipe (deid.dicom: header REMOVE/BLANK rules)

    def run(data: bytes) -> bytes:
        parser = DicomParser(pydicom.dcmread(BytesIO(data)), recipe=recipe)
        parser.parse(remove_private=True)
        return _write(parser.dicom)
    return run


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


# ---- corpus --------------------------------------------------------------------------------

def candidate_files() -> list[Path]:
    """The wheel's own test files (never the downloadable ones: this runs offline)."""
    import pydicom.data

    return sorted((Path(pydicom.data.__file__).parent / "test_files").rglob("*.dcm"))


def usable(data: bytes, tools: dict[str, Transform]) -> bool:
    for transform in tools.values():
        try:
            transform(data)
        except Exception:  # noqa: BLE001 - any error leaves the file out of the shared corpus
            return False
    return True


def vary(data: bytes, copy: int) -> bytes:
    """One copy with its own instance UIDs and patient, so caches see new values."""
    dataset = pydicom.dcmread(BytesIO(data))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        if keyword in dataset:
            dataset[keyword].value = generate_uid(entropy_srcs=[str(dataset[keyword].value), str(copy)])
    if "SOPInstanceUID" in dataset:
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.PatientID = f"BENCH-{copy:04d}-{str(dataset.get('PatientID', ''))[:20]}"
    return _write(dataset)


CORPORA = {
    "wheel": "every DICOM file of the pydicom wheel that all tools process (mostly small RT, SR, SEG objects)",
    "ct": "CT_small.dcm only (a GE CT image: 128x128 pixels, 179 private elements)",
}


def build_corpus(copies: int, tools: dict[str, Transform], console: Console, corpus_name: str = "wheel") -> list[bytes]:
    base = []
    excluded = []
    for path in candidate_files():
        if corpus_name == "ct" and path.name != "CT_small.dcm":
            continue
        data = path.read_bytes()
        (base if usable(data, tools) else excluded).append((path.name, data))
    corpus = [vary(data, copy) for copy in range(copies) for _, data in base]
    megabytes = sum(map(len, corpus)) / 1e6
    console.print(
        f"Corpus '{corpus_name}': {len(base)} DICOM files from the pydicom {pydicom.__version__} wheel that every tool processes "
        f"({len(excluded)} excluded: quarantined by this engine or failing in a peer), x{copies} copies with "
        f"per-copy UIDs and Patient ID = {len(corpus)} files, {megabytes:.1f} MB.",
        highlight=False,
    )
    return corpus


# ---- measurement ---------------------------------------------------------------------------

def measure(name: str, version: str, factory: Callable[[], Transform] | None, corpus: list[bytes],
            rounds: int) -> Measurement:
    if factory is None:
        return Measurement(name, version, None, "not installed (benchmarks/requirements-peers.txt)")
    times = []
    for _ in range(rounds):
        transform = factory()
        started = time.perf_counter()
        for data in corpus:
            transform(data)
        times.append(time.perf_counter() - started)
    spread = f"rounds: {', '.join(f'{t:.2f}' for t in times)} s" if rounds > 1 else ""
    return Measurement(name, version, min(times), spread)


def profile_engine(factory: Callable[[], Transform], corpus: list[bytes], console: Console, top: int = 25) -> None:
    transform = factory()
    profiler = cProfile.Profile()
    profiler.enable()
    for data in corpus:
        transform(data)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    console.print(f"[bold]cProfile of this engine, one pass, top {top} by own time[/]")
    console.print(stream.getvalue(), highlight=False, markup=False)


def report(measurements: list[Measurement], corpus: list[bytes], console: Console, title: str) -> bool:
    megabytes = sum(map(len, corpus)) / 1e6
    floor = next(m.seconds for m in measurements if m.name == ROUND_TRIP)
    table = Table(title=title)
    for column, justify in (("tool", "left"), ("version", "left"), ("files/s", "right"), ("MB/s", "right"),
                            ("ms/file", "right"), ("time / round trip", "right"), ("note", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for m in measurements:
        if m.seconds is None:
            table.add_row(m.name, m.version, "-", "-", "-", "-", m.note)
            continue
        table.add_row(
            m.name, m.version, f"{len(corpus) / m.seconds:,.0f}", f"{megabytes / m.seconds:,.1f}",
            f"{1000 * m.seconds / len(corpus):.2f}", f"{m.seconds / floor:.2f}x", m.note,
        )
    console.print(table)

    engine = next(m for m in measurements if m.name.startswith("this engine") and "options on" in m.name)
    peers = [m for m in measurements if m.seconds is not None and not m.name.startswith(("this engine", ROUND_TRIP))]
    faster = all(engine.seconds < peer.seconds for peer in peers) if peers else False  # type: ignore[operator]
    ratio = engine.seconds / floor  # type: ignore[operator]
    console.print(
        f"Target (issue 3), with header options on: faster than every peer -> "
        f"{'MET' if faster else 'NOT MET'}{'' if peers else ' (no peer installed)'}; within {TARGET_RATIO}x of "
        f"the round trip -> {'MET' if ratio <= TARGET_RATIO else 'NOT MET'} ({ratio:.2f}x).",
        highlight=False,
    )
    return faster and ratio <= TARGET_RATIO


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=15, help="copies of each base file (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per tool; the best counts (default 3)")
    parser.add_argument("--pixel-backend", choices=("none", "signatures"), default="none",
                        help="this engine's pixel backend: none (default: header work only, like the peers; objects "
                             "with suspected burned-in text are quarantined and so left out of the corpus) or "
                             "signatures (device regions are decoded and blanked: pixel work the peers do not do)")
    parser.add_argument("--corpus", choices=tuple(CORPORA), default="wheel",
                        help="; ".join(f"{name}: {text}" for name, text in CORPORA.items()))
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of this engine")
    arguments = parser.parse_args(argv)
    _quiet()
    console = Console(width=max(Console().width, 120))

    engine_on = engine_factory(TRIAL_OPTIONS, arguments.pixel_backend)
    engine_basic = engine_factory(frozenset(), arguments.pixel_backend)
    peers: dict[str, tuple[str, Callable[[], Transform] | None]] = {}
    for name, distribution, factory in (("dicognito", "dicognito", dicognito_factory),
                                        ("pydicom/deid", "deid", deid_factory)):
        available = _version(distribution) != "not installed"
        peers[name] = (_version(distribution), factory if available else None)

    selection = {"engine": engine_on(), "engine basic": engine_basic(), "round trip": round_trip_factory()}
    selection.update({name: factory() for name, (_, factory) in peers.items() if factory is not None})
    corpus = build_corpus(arguments.copies, selection, console, arguments.corpus)

    from deidentify import ENGINE_VERSION

    options = ", ".join(sorted(TRIAL_OPTIONS))
    measurements = [
        measure(ROUND_TRIP, pydicom.__version__, round_trip_factory, corpus, arguments.rounds),
        measure(f"this engine, header options on, pixels: {arguments.pixel_backend}", ENGINE_VERSION, engine_on,
                corpus, arguments.rounds),
        measure(f"this engine, Basic profile only, pixels: {arguments.pixel_backend}", ENGINE_VERSION, engine_basic,
                corpus, arguments.rounds),
    ]
    for name, (version, factory) in peers.items():
        measurements.append(measure(name, version, factory, corpus, arguments.rounds))
    met = report(measurements, corpus, console,
                 title=f"De-identification throughput, one process, best of {arguments.rounds} (options on: {options})")
    if arguments.profile:
        profile_engine(engine_on, corpus, console)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
