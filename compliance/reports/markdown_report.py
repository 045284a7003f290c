"""Markdown view: the pull-request summary (`out/report.md`) over all checked stacks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from compliance.model import PolicyRow, StackReport, Status
from compliance.reports.summary import StackSummary, sorted_rows, summarize


def _cell(text: str) -> str:
    """Table-safe text: pipes escaped, line breaks kept as <br>."""
    return " <br>".join(part.strip() for part in text.replace("|", "\\|").splitlines() if part.strip()) or " "


def _result_line(summary: StackSummary) -> str:
    if summary.blocking:
        verdict = f"**FAIL**: {summary.blocking} mandatory violation(s)"
    else:
        verdict = "**PASS**: no mandatory violation"
    extras = []
    if summary.advisory_failures:
        extras.append(f"{summary.advisory_failures} advisory failure(s)")
    if summary.indeterminate:
        extras.append(f"{summary.indeterminate} indeterminate")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"- `{summary.stack}`: {verdict}{suffix}"


def _row_table(entries: Sequence[tuple[str, PolicyRow]], with_level: bool = True) -> list[str]:
    header = "| stack | policy | controls | severity | level | resource | message |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for stack, row in entries:
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{stack}`",
                    f"`{row.policy}`",
                    ", ".join(row.control_ids) or " ",
                    row.severity,
                    row.enforcement_level if with_level else " ",
                    _cell(f"{row.resource_type} `{row.urn}`" if row.urn else row.resource_type),
                    _cell(row.message),
                ]
            )
            + " |"
        )
    return lines


def _policy_config_lines(reports: Sequence[StackReport]) -> list[str]:
    config = next((report.policy_config for report in reports if report.policy_config), None)
    if not config:
        return []
    levels = Counter(config.get("levels", {}).values())
    counted = ", ".join(f"{count} {level}" for level, count in sorted(levels.items()))
    source = config.get("source", "pack defaults")
    digest = f" (sha256 `{config['sha256'][:12]}`)" if "sha256" in config else ""
    lines = [f"Policy config: `{_cell(source)}`{digest}; enforcement levels: {counted}.", ""]
    relaxed = sum(count for level, count in levels.items() if level not in ("mandatory", "remediate"))
    if relaxed:
        lines += [
            f"> **Note:** {relaxed} polic{'y is' if relaxed == 1 else 'ies are'} not mandatory under this "
            "config: their failures are reported but do not fail the check.",
            "",
        ]
    return lines


def render_markdown(reports: Sequence[StackReport], unplanned: Mapping[str, str] | None = None) -> str:
    """The PR summary. `unplanned` maps stacks that could not be planned to the reason."""
    unplanned = dict(unplanned or {})
    summaries = [summarize(report) for report in reports]
    failing = [s for s in summaries if s.blocking]

    lines = ["# Offline policy check", ""]
    if unplanned:
        overall = f"**ERROR**: {len(unplanned)} stack(s) could not be planned"
    elif failing:
        overall = f"**FAIL**: {len(failing)} of {len(summaries)} stack(s) violate a mandatory policy"
    else:
        overall = f"**PASS**: no mandatory policy violated in {len(summaries)} stack(s)"
    lines += [overall, ""]
    lines += _policy_config_lines(reports)
    lines += [_result_line(summary) for summary in summaries]
    lines += [f"- `{stack}`: **NOT PLANNED**: {_cell(reason)}" for stack, reason in unplanned.items()]
    lines.append("")

    if summaries:
        lines += [
            "| stack | result | resources | pass | fail (blocking) | advisory failures | not applicable | indeterminate |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in summaries:
            lines.append(
                f"| `{s.stack}` | {s.result.upper()} | {s.resources} | {s.passed} | {s.blocking} | "
                f"{s.advisory_failures} | {s.not_applicable} | {s.indeterminate} |"
            )
        lines.append("")

    all_rows = [(report.identity.stack, row) for report in reports for row in sorted_rows(report.rows)]
    blocking = [(stack, row) for stack, row in all_rows if row.blocks]
    advisory = [(stack, row) for stack, row in all_rows if row.status is Status.FAIL and not row.blocks]
    indeterminate = [(stack, row) for stack, row in all_rows if row.status is Status.INDETERMINATE]

    if blocking or advisory:
        lines += ["## Failures", ""]
        if blocking:
            lines += ["### Blocking (mandatory)", "", *_row_table(blocking), ""]
        if advisory:
            lines += ["### Advisory", "", *_row_table(advisory), ""]
    if indeterminate:
        lines += [
            "## Indeterminate",
            "",
            "Values unknown until deployment: neither a pass nor a failure; re-checked by a real preview or update.",
            "",
            *_row_table(indeterminate),
            "",
        ]

    notes = [(report.identity.stack, note) for report in reports for note in report.notes]
    if notes:
        lines += ["## Notes", ""]
        lines += [f"- `{stack}`: {note}" for stack, note in notes]
        lines.append("")

    if unplanned:
        lines += ["## Stacks not planned", "", "No report is written for these stacks.", ""]
        lines += [f"- `{stack}`: {_cell(reason)}" for stack, reason in unplanned.items()]
        lines.append("")

    if reports:
        versions = reports[0].versions
        generated = max(report.generated_at for report in reports)
        version_text = ", ".join(f"{name} {value}" for name, value in versions.items())
        lines += [
            "---",
            "",
            f"Source: offline plan under Pulumi mocks. Generated {generated}. Versions: {version_text}.",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"
