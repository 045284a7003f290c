"""Which buckets hold PHI: `aws:s3/bucket:Bucket` tagged `data-classification` in the PHI set.

The set is `phi` and `deid` plus whatever the policy config adds (it can only grow, so a config
file cannot quietly take a bucket out of scope).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyResource

BUCKET_TYPE = "aws:s3/bucket:Bucket"
CLASSIFICATION_TAG = "data-classification"
BASE_PHI_CLASSIFICATIONS = frozenset({"phi", "deid"})

PHI_CONFIG_PROPERTIES: dict[str, dict[str, Any]] = {
    "additionalPhiClassifications": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": "Values of the data-classification tag treated as PHI besides phi and deid.",
    },
}


def phi_classifications(config: Mapping[str, Any]) -> frozenset[str]:
    extra = config.get("additionalPhiClassifications") or ()
    return BASE_PHI_CLASSIFICATIONS | {str(value).lower() for value in extra}


def classification_of(props: Mapping[str, Any]) -> str | None:
    """The bucket's data-classification, from its own tags or else from `tagsAll` (provider default tags)."""
    for tags_key in ("tags", "tagsAll"):
        if tags_key not in list(props):
            continue
        tags = props[tags_key]
        if tags is not None and CLASSIFICATION_TAG in list(tags):
            value = tags[CLASSIFICATION_TAG]
            return str(value).lower() if value is not None else None
    return None


def phi_buckets(resources: Iterable[PolicyResource], config: Mapping[str, Any]) -> list[tuple[PolicyResource, str]]:
    """The PHI buckets among `resources`, each with its classification."""
    classes = phi_classifications(config)
    found = []
    for resource in resources:
        if resource.resource_type != BUCKET_TYPE:
            continue
        classification = classification_of(resource.props)
        if classification in classes:
            found.append((resource, classification))
    return found


def bucket_identifiers(bucket: PolicyResource) -> set[str]:
    """The values other resources use to name this bucket (`bucket` and `id` are both the name in AWS)."""
    names = set()
    for key in ("bucket", "id"):
        if key in list(bucket.props):
            value = bucket.props[key]
            if value:
                names.add(str(value))
    return names
