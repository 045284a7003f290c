"""Command line: `python -m compliance check [STACK ...]`.

Exit status: 0 no mandatory policy violated, 1 a mandatory policy violated in some stack,
2 bad input (project, stack file, stack name, policy config) or a program that cannot be planned.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:
    from compliance.analyzer import PackAnalyzer  # imported lazily at run time (it loads the SDK)

import compliance
from compliance.check import CheckOutcome, StackFailure, check_stacks, select_stacks
from compliance.errors import CheckInputError
from compliance.model import StackReport
from compliance.project import load_project, read_input_text
from compliance.reports.console_report import summary_table
from compliance.reports.files import write_atomic
from compliance.reports.json_report import render_json
from compliance.reports.markdown_report import render_markdown
from compliance.reports.summary import summarize

EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2

REPO_ROOT = Path(compliance.__file__).resolve().parent.parent
MARKDOWN_REPORT = "report.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compliance",
        description="Offline policy checks of Pulumi stacks: plan under mocks, evaluate with the policy pack.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="plan stacks offline and check them against the policy pack")
    check.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to check (default: all, sorted)")
    check.add_argument("--project", type=Path, default=REPO_ROOT, help="Pulumi project directory (default: %(default)s)")
    check.add_argument(
        "--policy-pack", type=Path, default=REPO_ROOT / "policies", help="policy pack directory (default: %(default)s)"
    )
    check.add_argument("--policy-config", type=Path, help="policy pack config JSON, as for --policy-pack-config")
    check.add_argument("--out", type=Path, default=Path("out"), help="report directory (default: ./out)")
    check.add_argument("--verbose", action="store_true", help="show tracebacks of programs that raise")
    return parser


def _load_policy_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    text = read_input_text(path, "policy config")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckInputError(
            f"policy config {path} is not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise CheckInputError(f"policy config {path} must be a JSON object of policy names")
    return data


def _load_analyzer(pack_dir: Path, policy_config: dict[str, Any] | None):  # -> PackAnalyzer
    if not (pack_dir / "PulumiPolicy.yaml").is_file():
        raise CheckInputError(f"{pack_dir} is not a policy pack directory (no PulumiPolicy.yaml)")
    from compliance.analyzer import PackAnalyzer, PolicyConfigError, PolicyPackLoadError

    try:
        return PackAnalyzer(pack_dir.resolve(), policy_config)
    except PolicyConfigError as error:
        raise CheckInputError(f"policy config: {error}") from None
    except PolicyPackLoadError as error:
        # A broken pack is bad input (exit 2), never to be confused with a violation (exit 1).
        raise CheckInputError(f"policy pack: {error}") from None


def _write_reports(out_dir: Path, outcome: CheckOutcome) -> None:
    for report in outcome.reports:
        write_atomic(out_dir / f"{report.identity.stack}.json", render_json(report))
    for failure in outcome.failures:
        # An older report of a stack that no longer plans would be misleading.
        (out_dir / f"{failure.stack}.json").unlink(missing_ok=True)
    unplanned = {failure.stack: failure.message for failure in outcome.failures}
    write_atomic(out_dir / MARKDOWN_REPORT, render_markdown(outcome.reports, unplanned))


def _policy_config_record(path: Path | None, analyzer: PackAnalyzer) -> dict[str, Any]:
    """What the reports say about the policy config in effect."""
    record: dict[str, Any] = {"source": str(path) if path is not None else "pack defaults"}
    if path is not None:
        record["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    record["levels"] = {policy.name: analyzer.enforcement_level(policy.name) for policy in analyzer.policies}
    return record


def _print_error(console: Console, message: str) -> None:
    # Text, not markup: messages quote YAML and paths, which may contain [brackets].
    console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def run_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        project = load_project(args.project)
        stacks = select_stacks(project, args.stacks)
        analyzer = _load_analyzer(args.policy_pack, _load_policy_config(args.policy_config))
        policy_config = _policy_config_record(args.policy_config, analyzer)
    except CheckInputError as error:
        _print_error(err, str(error))
        return EXIT_BAD_INPUT

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("planning", total=len(stacks))

        def started(stack: str) -> None:
            progress.update(task, description=f"planning and checking stack {escape(stack)}")

        def done(stack: str, result: StackReport | StackFailure) -> None:
            progress.advance(task)
            if isinstance(result, StackFailure):
                progress.console.print(Text.assemble(("not planned ", "red"), stack))
            else:
                summary = summarize(result)
                progress.console.print(
                    Text.assemble(
                        ("checked ", "green"), f"{stack}: {summary.resources} resources, {summary.rows} policy results"
                    )
                )

        outcome = check_stacks(
            project,
            stacks,
            analyzer,
            protected_dirs=(args.policy_pack.resolve(),),
            policy_config=policy_config,
            on_stack_start=started,
            on_stack_done=done,
        )

    _write_reports(args.out, outcome)
    unplanned = {failure.stack: failure.message for failure in outcome.failures}
    out.print(summary_table(outcome.reports, unplanned))
    for failure in outcome.failures:
        _print_error(err, failure.message)
        if args.verbose and failure.detail:
            err.print(failure.detail, markup=False, highlight=False, soft_wrap=True)
    out.print(Text(f"reports: {args.out / MARKDOWN_REPORT} and {args.out}/<stack>.json"), soft_wrap=True)

    if outcome.failures:
        return EXIT_BAD_INPUT
    if any(not report.passed for report in outcome.reports):
        return EXIT_VIOLATION
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Off a terminal (CI logs, pipes) rich would squeeze the table into 80 columns.
    out = Console() if sys.stdout.isatty() else Console(width=160)
    err = Console(stderr=True)
    if args.command == "check":
        return run_check(args, out, err)
    return EXIT_BAD_INPUT
