"""Command line: ``run`` de-identifies a local folder, ``demo`` runs the Lambda under moto.

Exit status: 0 when every input was de-identified or quarantined, 1 when some failed,
2 for bad arguments or a missing key.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deidentify.errors import KeyConfigurationError, ProfileError
from deidentify.layout import DEIDENTIFIED, FAILED, QUARANTINED

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit status is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m deidentify", description="De-identify DICOM files (PS3.15 Annex E Basic profile).")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="de-identify a local folder tree")
    run.add_argument("input_dir", metavar="IN", type=Path, help="folder of raw files (read only)")
    run.add_argument("output_dir", metavar="OUT", type=Path, help="folder for de-identified files")
    run.add_argument("--key-file", type=Path, help="file holding the trial's secret key (else $DEID_KEY)")
    run.add_argument("--quarantine", type=Path, help="folder for quarantined files (default: OUT.quarantine beside OUT)")
    run.add_argument("--manifest", type=Path, help="manifest path (default: OUT.manifest.jsonl beside OUT)")
    commands.add_parser("demo", help="run the Lambda handler against an emulated AWS (moto), no network")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "demo":
        from deidentify.demo import run_demo

        # Wide enough for object keys when the output is not a terminal (e.g. `make demo | tee`).
        return run_demo(Console(width=None if sys.stdout.isatty() else 120))
    return run_command(arguments, Console(), Console(stderr=True))


def run_command(arguments: argparse.Namespace, console: Console, errors: Console) -> int:
    from deidentify.engine import Deidentifier
    from deidentify.keyed import KeyedMapper
    from deidentify.keys import key_for_cli
    from deidentify.local_run import RunArgumentError, RunPaths, input_files, run_folder

    try:
        paths = RunPaths.resolve(arguments.input_dir, arguments.output_dir, arguments.quarantine, arguments.manifest)
        key = key_for_cli(arguments.key_file)
        deidentifier = Deidentifier(KeyedMapper(key))
    except (RunArgumentError, KeyConfigurationError, ProfileError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        return EXIT_USAGE

    files = input_files(paths.input_dir)
    started = time.perf_counter()
    with Progress(
        TextColumn("de-identifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors,
    ) as progress:
        task = progress.add_task("files", total=len(files))
        summary = run_folder(paths, deidentifier, on_file=lambda: progress.advance(task), files=files)
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
    console.print(
        f"{summary.total} input files in {elapsed:.1f} s; profile {deidentifier.profile.edition}; "
        f"manifest: {paths.manifest}",
        highlight=False,
    )
    return EXIT_FAILURES if summary.counts[FAILED] else EXIT_OK
