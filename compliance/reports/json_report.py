"""JSON view: one document per stack (`out/<stack>.json`), schema version `model.SCHEMA_VERSION`."""

from __future__ import annotations

import json
from typing import Any

from compliance.model import SCHEMA_VERSION, PolicyRow, StackReport
from compliance.reports.summary import sorted_rows, summarize


def row_to_json(row: PolicyRow) -> dict[str, Any]:
    return {
        "policy": row.policy,
        "policyPack": row.policy_pack,
        "controlIds": list(row.control_ids),
        "severity": row.severity,
        "enforcementLevel": row.enforcement_level,
        "status": row.status.value,
        "blocks": row.blocks,
        "message": row.message,
        "urn": row.urn,
        "resourceType": row.resource_type,
        "frameworks": list(row.frameworks),
        "remediation": row.remediation,
    }


def report_to_json(report: StackReport) -> dict[str, Any]:
    summary = summarize(report)
    identity = report.identity
    return {
        "schemaVersion": SCHEMA_VERSION,
        "identity": {
            "organization": identity.organization,
            "project": identity.project,
            "stack": identity.stack,
            "tags": dict(sorted(identity.tags.items())),
        },
        "source": report.source,
        "versions": dict(report.versions),
        "generatedAt": report.generated_at,
        "result": summary.result,
        "notes": list(report.notes),
        "policyConfig": report.policy_config,
        "summary": {
            "resources": summary.resources,
            "rows": summary.rows,
            "pass": summary.passed,
            "fail": summary.failed,
            "blocking": summary.blocking,
            "advisoryFailures": summary.advisory_failures,
            "notApplicable": summary.not_applicable,
            "indeterminate": summary.indeterminate,
        },
        "rows": [row_to_json(row) for row in sorted_rows(report.rows)],
    }


def render_json(report: StackReport) -> str:
    return json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n"
