"""Console view: the per-stack summary table printed after a check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

from compliance.model import StackReport
from compliance.reports.summary import summarize


def summary_table(reports: Sequence[StackReport], unplanned: Mapping[str, str] | None = None) -> Table:
    table = Table(title="Offline policy check", title_justify="left")
    table.add_column("stack")
    table.add_column("resources", justify="right")
    table.add_column("pass", justify="right")
    table.add_column("fail (blocking)", justify="right")
    table.add_column("advisory failures", justify="right")
    table.add_column("not applicable", justify="right")
    table.add_column("indeterminate", justify="right")
    table.add_column("result")
    for report in reports:
        s = summarize(report)
        result = "[bold red]FAIL[/]" if s.blocking else "[bold green]PASS[/]"
        table.add_row(
            s.stack,
            str(s.resources),
            str(s.passed),
            str(s.blocking),
            str(s.advisory_failures),
            str(s.not_applicable),
            str(s.indeterminate),
            result,
        )
    for stack in unplanned or {}:
        table.add_row(stack, "-", "-", "-", "-", "-", "-", "[bold yellow]NOT PLANNED[/]")
    return table
