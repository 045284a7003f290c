"""Framework clause helpers, so every policy cites regulations the same way.

The primary clause goes in `framework`; further clauses go in `tags` as "<framework> <clause>".
"""

from __future__ import annotations

from pulumi_policy import PolicyComplianceFramework

PART_11 = "21 CFR Part 11"
HIPAA = "HIPAA Security Rule 45 CFR 164"
GDPR = "GDPR (EU) 2016/679"
ANNEX_11 = "EU GMP Annex 11"


def part_11(reference: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name=PART_11, reference=reference)


def gdpr(reference: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name=GDPR, reference=reference)


def clause(framework_name: str, reference: str) -> str:
    return f"{framework_name} {reference}"
