"""AUD-02 aws-cloudtrail-trail-enable-log-file-validation, through the PackAnalyzer."""

from __future__ import annotations

from compliance.model import Status
from tests.policies.pack_fixtures import analyze_stack, compliant_stack, row_for, unknown, with_inputs

POLICY = "aws-cloudtrail-trail-enable-log-file-validation"


def _trail_row(analyzer, stack):
    return row_for(analyze_stack(analyzer, stack), POLICY, stack["trail"].urn)


def test_passes_when_validation_enabled(analyzer):
    row = _trail_row(analyzer, compliant_stack())
    assert row.status is Status.PASS and row.control_ids == ("AUD-02",)
    assert row.frameworks[0] == "21 CFR Part 11 11.10(a)"


def test_fails_when_validation_false(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], enableLogFileValidation=False)
    row = _trail_row(analyzer, stack)
    assert row.status is Status.FAIL and row.blocks
    assert "must enable log file validation" in row.message
    assert not row.message.startswith("CloudTrail trails must")  # description prefix stripped


def test_fails_when_validation_unset(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], enableLogFileValidation=None)
    assert _trail_row(analyzer, stack).status is Status.FAIL


def test_unknown_validation_flag_is_indeterminate(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], enableLogFileValidation=unknown())
    assert _trail_row(analyzer, stack).status is Status.INDETERMINATE
