"""Command line: ``run`` de-identifies a local folder, ``demo`` runs the Lambda under moto.

Exit status: 0 when every input was de-identified or quarantined, 1 when some failed,
2 for bad arguments or a missing key.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from deidentify.errors import KeyConfigurationError, ProfileError
from deidentify.layout import DEIDENTIFIED, FAILED, QUARANTINED
from deidentify.manifest import ManifestEntry
from deidentify.runtime import (
    CLI_PIXEL_BACKENDS,
    CLI_TEXT_BACKENDS,
    ConfigurationError,
    EngineSettings,
    parse_options,
)

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit status is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m deidentify", description="De-identify DICOM files and plain-text records (PS3.15 Annex E Basic profile plus options).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="de-identify a local folder tree")
    run.add_argument("input_dir", metavar="IN", type=Path, help="folder of raw files (read only)")
    run.add_argument("output_dir", metavar="OUT", type=Path, help="folder for de-identified files")
    run.add_argument("--key-file", type=Path, help="file holding the trial's secret key (else $DEID_KEY)")
    run.add_argument("--quarantine", type=Path, help="folder for quarantined files (default: OUT.quarantine beside OUT)")
    run.add_argument("--manifest", type=Path, help="manifest path (default: OUT.manifest.jsonl beside OUT)")
    run.add_argument("--workers", type=_positive_int, default=_usable_cpus(),
                     help="worker processes (default: the number of CPUs this process may use)")
    run.add_argument("--pixel-backend", choices=CLI_PIXEL_BACKENDS, default="ocr",
                     help="burned-in text: local OCR (default), device signatures only, none (quarantine when suspected), "
                          "or Amazon Rekognition (with --rekognition-region)")
    run.add_argument("--text-backend", choices=CLI_TEXT_BACKENDS, default="local",
                     help="PHI detector for text records (*.txt, patient in <file>.meta.json): local rules (default) "
                          "or Amazon Comprehend Medical (with --comprehend-medical-region)")
    run.add_argument("--rekognition-region", metavar="REGION",
                     help="with --pixel-backend rekognition (needs AWS credentials): where DetectText runs")
    run.add_argument("--comprehend-medical-region", metavar="REGION",
                     help="with --text-backend comprehendmedical (needs AWS credentials): where DetectPHI runs")
    run.add_argument("--options", default="",
                     help="comma-separated profile options, e.g. retain-longitudinal-modified-dates,clean-descriptors")
    commands.add_parser("demo", help="run the Lambda handler against an emulated AWS (moto), no network")
    return parser


def _service_region(arguments: argparse.Namespace, service: str, option: str) -> str | None:
    """The region of an AWS detector the run uses; required with that backend, and checked
    against botocore's endpoint data so a typo fails before any file is read."""
    import botocore.session

    uses = service in (arguments.pixel_backend, arguments.text_backend)
    region = getattr(arguments, option.lstrip("-").replace("-", "_"))
    if not uses:
        return None
    if not region:
        raise ConfigurationError(f"{option} is required with the {service} backend (e.g. eu-west-1)")
    if region not in botocore.session.get_session().get_available_regions(service):
        raise ConfigurationError(f"{option} {region!r}: {service} is not offered there")
    return region


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours container and taskset limits
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "demo":
        from deidentify.demo import run_demo

        # Wide enough for object keys when the output is not a terminal (e.g. `make demo | tee`).
        return run_demo(Console(width=None if sys.stdout.isatty() else 120))
    return run_command(arguments, Console(), Console(stderr=True))


def run_command(arguments: argparse.Namespace, console: Console, errors: Console) -> int:
    from deidentify.keyed import KeyedMapper
    from deidentify.keys import key_for_cli
    from deidentify.local_run import RunArgumentError, RunPaths, input_files, run_folder
    from deidentify.runtime import build_toolkit

    try:
        paths = RunPaths.resolve(arguments.input_dir, arguments.output_dir, arguments.quarantine, arguments.manifest)
        key = key_for_cli(arguments.key_file)
        settings = EngineSettings(
            pixel_backend=arguments.pixel_backend, text_backend=arguments.text_backend,
            options=parse_options(arguments.options, "--options"),
            rekognition_region=_service_region(arguments, "rekognition", "--rekognition-region"),
            comprehend_medical_region=_service_region(arguments, "comprehendmedical", "--comprehend-medical-region"),
        )
        # Built once here so a bad option fails before any worker starts.
        profile_edition = build_toolkit(KeyedMapper(key), settings).profile_edition
    except (RunArgumentError, KeyConfigurationError, ProfileError, ConfigurationError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        return EXIT_USAGE

    files = input_files(paths.input_dir)
    workers = min(arguments.workers, max(len(files), 1))
    started = time.perf_counter()
    with Progress(
        TextColumn("de-identifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[counts]}"), console=errors,
    ) as progress:
        task = progress.add_task("files", total=len(files), counts="")
        seen: Counter = Counter()

        def advance(entry: ManifestEntry) -> None:
            seen[entry.outcome] += 1
            shown = " ".join(f"{name} {seen[name]}" for name in (DEIDENTIFIED, QUARANTINED, FAILED) if seen[name])
            progress.update(task, advance=1, counts=shown)

        summary = run_folder(paths, key, settings, workers=workers, files=files, on_file=advance)
    elapsed = time.perf_counter() - started

    table = Table(title=f"De-identification of {paths.input_dir}", show_footer=False)
    table.add_column("outcome")
    table.add_column("files", justify="right")
    table.add_column("where")
    table.add_row(DEIDENTIFIED, str(summary.counts[DEIDENTIFIED]), f"{paths.output_dir} ({len(summary.distinct_outputs)} distinct objects)")
    table.add_row(QUARANTINED, str(summary.counts[QUARANTINED]), str(paths.quarantine_dir))
    table.add_row(FAILED, str(summary.counts[FAILED]), "nothing written")
    console.print(table)
    if summary.reasons:
        reasons = Table(title="Reasons")
        reasons.add_column("reason")
        reasons.add_column("files", justify="right")
        for reason, count in summary.reasons.most_common():
            reasons.add_row(reason, str(count))
        console.print(reasons)
    rate = summary.total / elapsed if elapsed > 0 else 0.0
    options = ", ".join(sorted(settings.options)) or "none"
    console.print(
        f"{summary.total} input files in {elapsed:.1f} s ({rate:.1f} files/s, {workers} worker"
        f"{'s' if workers != 1 else ''}); profile {profile_edition}; options: {options}; "
        f"pixel backend {settings.pixel_backend}; text backend {settings.text_backend}",
        highlight=False,
    )
    console.print(f"manifest: {paths.manifest}; linkage records (raw side): {paths.quarantine_dir / 'linkage'}",
                  highlight=False)
    return EXIT_FAILURES if summary.counts[FAILED] else EXIT_OK
