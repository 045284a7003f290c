"""Per-stack counts shared by every view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from compliance.model import PolicyRow, StackReport, Status

RESULT_PASS = "pass"
RESULT_FAIL = "fail"

_STATUS_ORDER = {Status.FAIL: 0, Status.INDETERMINATE: 1, Status.NOT_APPLICABLE: 2, Status.PASS: 3}


@dataclass(frozen=True)
class StackSummary:
    stack: str
    resources: int
    rows: int
    passed: int
    failed: int
    blocking: int  # failed rows of mandatory (or remediate) policies
    advisory_failures: int
    not_applicable: int
    indeterminate: int

    @property
    def result(self) -> str:
        return RESULT_FAIL if self.blocking else RESULT_PASS


def summarize(report: StackReport) -> StackSummary:
    blocking = sum(1 for row in report.rows if row.blocks)
    failed = report.count(Status.FAIL)
    return StackSummary(
        stack=report.identity.stack,
        resources=report.resource_count,
        rows=len(report.rows),
        passed=report.count(Status.PASS),
        failed=failed,
        blocking=blocking,
        advisory_failures=failed - blocking,
        not_applicable=report.count(Status.NOT_APPLICABLE),
        indeterminate=report.count(Status.INDETERMINATE),
    )


def sorted_rows(rows: Iterable[PolicyRow]) -> list[PolicyRow]:
    """A stable order independent of registration order: failures first, blocking before advisory."""
    return sorted(
        rows,
        key=lambda row: (not row.blocks, _STATUS_ORDER[row.status], row.policy, row.urn, row.message),
    )
