"""Every policy of the pack, and the pack's own settings. `__main__.py` builds the PolicyPack from these.

Each policy object carries its metadata (control IDs, resource types, severity, framework clauses,
remediation, URL); add a policy by importing its module here.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from policies.any.configure_home_region import aws_any_provider_configure_home_region
from policies.any.disallow_region_override import aws_any_resource_disallow_region_override
from policies.cloudtrail.configure_s3_data_events import aws_cloudtrail_trail_configure_s3_data_events
from policies.cloudtrail.enable_log_file_validation import aws_cloudtrail_trail_enable_log_file_validation
from policies.kms.enable_key_rotation import aws_kms_key_enable_key_rotation
from policies.s3.configure_server_side_encryption_cmk import aws_s3_bucket_configure_server_side_encryption_cmk

PACK_NAME = "trial-imaging-compliance"
PACK_DISPLAY_NAME = "trial-imaging compliance"
PACK_DESCRIPTION = (
    "Encryption, data residency and 21 CFR Part 11 audit-trail policies for the trial-imaging stacks."
)
# Encryption, residency and Part 11 controls block a deployment; hygiene policies may override to ADVISORY.
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

POLICIES: tuple[Policy, ...] = (
    aws_any_provider_configure_home_region,
    aws_any_resource_disallow_region_override,
    aws_s3_bucket_configure_server_side_encryption_cmk,
    aws_kms_key_enable_key_rotation,
    aws_cloudtrail_trail_enable_log_file_validation,
    aws_cloudtrail_trail_configure_s3_data_events,
)
