"""AUD-05 aws-cloudtrail-trail-configure-s3-data-events (stack policy), through the PackAnalyzer."""

from __future__ import annotations

from compliance.model import Status
from tests.policies.pack_fixtures import (
    STACK_URN, analyze_stack, compliant_stack, data_event_selector, row_for, rows_for, unknown, with_inputs,
)

POLICY = "aws-cloudtrail-trail-configure-s3-data-events"


def _selectors(stack, *selectors):
    stack["trail"] = with_inputs(stack["trail"], advancedEventSelectors=list(selectors))


def _field(name, **operators):
    return {"field": name, **operators}


def _data_selector(*extra_fields, arn=None):
    fields = [_field("eventCategory", equals=["Data"]), _field("resources.type", equals=["AWS::S3::Object"])]
    if arn is not None:
        fields.append(_field("resources.ARN", **arn))
    return {"name": "data", "fieldSelectors": fields + list(extra_fields)}


def _fail_row(analyzer, stack, key):
    rows = analyze_stack(analyzer, stack)
    row = row_for(rows, POLICY, stack[key].urn)
    assert row.status is Status.FAIL and row.control_ids == ("AUD-05",)
    assert not rows_for(rows, POLICY, Status.PASS)
    return row


def test_passes_with_a_selector_per_phi_bucket(analyzer):
    rows = rows_for(analyze_stack(analyzer, compliant_stack()), POLICY)
    assert [(row.status, row.urn) for row in rows] == [(Status.PASS, STACK_URN)]
    assert rows[0].frameworks[0] == "21 CFR Part 11 11.10(e)"


def test_fails_for_the_uncovered_bucket_only(analyzer):
    stack = compliant_stack()
    _selectors(stack, data_event_selector(stack["raw"]))
    rows = analyze_stack(analyzer, stack)
    assert [row.urn for row in rows_for(rows, POLICY, Status.FAIL)] == [stack["deid"].urn]
    row = row_for(rows, POLICY, stack["deid"].urn)
    assert "not recorded: read and write" in row.message
    assert "arn:aws:s3:::ti-deid-synthetic/" in row.message


def test_fails_every_phi_bucket_when_the_stack_has_no_trail(analyzer):
    stack = compliant_stack()
    del stack["trail"]
    rows = rows_for(analyze_stack(analyzer, stack), POLICY)
    assert {(row.status, row.urn) for row in rows} == {(Status.FAIL, stack["raw"].urn), (Status.FAIL, stack["deid"].urn)}
    assert all("the stack has no trail" in row.message for row in rows)


def test_fails_when_selector_is_read_only(analyzer):
    stack = compliant_stack()
    read_only = _data_selector(_field("readOnly", equals=["true"]), arn={"startsWiths": ["arn:aws:s3:::ti-raw-synthetic/"]})
    _selectors(stack, read_only, data_event_selector(stack["deid"]))
    assert "not recorded: write" in _fail_row(analyzer, stack, "raw").message


def test_passes_when_read_and_write_come_from_two_selectors(analyzer):
    stack = compliant_stack()
    prefix = {"startsWiths": ["arn:aws:s3:::ti-raw-synthetic/"]}
    _selectors(stack, _data_selector(_field("readOnly", equals=["true"]), arn=prefix),
               _data_selector(_field("readOnly", equals=["false"]), arn=prefix), data_event_selector(stack["deid"]))
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_passes_when_selector_covers_all_buckets(analyzer):
    stack = compliant_stack()
    _selectors(stack, _data_selector())
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_fails_when_selector_covers_only_a_prefix_of_the_bucket(analyzer):
    stack = compliant_stack()
    _selectors(stack, _data_selector(arn={"startsWiths": ["arn:aws:s3:::ti-raw-synthetic/incoming/"]}),
               data_event_selector(stack["deid"]))
    _fail_row(analyzer, stack, "raw")


def test_fails_when_selector_excludes_part_of_the_bucket(analyzer):
    stack = compliant_stack()
    _selectors(stack, _data_selector(arn={"notStartsWiths": ["arn:aws:s3:::ti-raw-synthetic/tmp/"]}),
               data_event_selector(stack["deid"]))
    _fail_row(analyzer, stack, "raw")


def test_fails_when_selector_narrows_by_event_name(analyzer):
    stack = compliant_stack()
    _selectors(stack, _data_selector(_field("eventName", equals=["GetObject"])), data_event_selector(stack["deid"]))
    _fail_row(analyzer, stack, "raw")


def test_fails_for_management_events_only(analyzer):
    stack = compliant_stack()
    _selectors(stack, {"name": "management", "fieldSelectors": [_field("eventCategory", equals=["Management"])]})
    assert len(rows_for(analyze_stack(analyzer, stack), POLICY, Status.FAIL)) == 2


def test_passes_with_basic_event_selectors(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], advancedEventSelectors=None, eventSelectors=[{
        "readWriteType": "All",
        "includeManagementEvents": True,
        "dataResources": [{"type": "AWS::S3::Object",
                           "values": ["arn:aws:s3:::ti-raw-synthetic/", "arn:aws:s3:::ti-deid-synthetic/"]}],
    }])
    assert [row.status for row in rows_for(analyze_stack(analyzer, stack), POLICY)] == [Status.PASS]


def test_fails_with_basic_selector_write_only(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], advancedEventSelectors=None, eventSelectors=[{
        "readWriteType": "WriteOnly",
        "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
    }])
    rows = rows_for(analyze_stack(analyzer, stack), POLICY, Status.FAIL)
    assert len(rows) == 2 and all("not recorded: read" in row.message for row in rows)


def test_trail_with_logging_disabled_does_not_count(analyzer):
    stack = compliant_stack()
    stack["trail"] = with_inputs(stack["trail"], enableLogging=False)
    assert len(rows_for(analyze_stack(analyzer, stack), POLICY, Status.FAIL)) == 2


def test_unknown_selector_arn_is_indeterminate_not_fail(analyzer):
    stack = compliant_stack()
    _selectors(stack, data_event_selector(stack["raw"]), _data_selector(arn={"startsWiths": [unknown()]}))
    rows = rows_for(analyze_stack(analyzer, stack), POLICY)
    assert [(row.status, row.urn) for row in rows] == [(Status.INDETERMINATE, STACK_URN)]
