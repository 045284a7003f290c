"""Region capability matrix: which jurisdiction a region belongs to and which services it offers.

Service availability comes from botocore's own endpoint data (the same data the AWS SDKs use),
so it moves with the pinned botocore rather than with a hand-kept table.
"""

from __future__ import annotations

from functools import lru_cache

import botocore.session

# AWS regions inside each data jurisdiction. EU = regions in EU member states; London and Zurich
# are outside the EU and would need their own adequacy decision, so they are not listed.
JURISDICTION_REGIONS: dict[str, tuple[str, ...]] = {
    "eu": ("eu-west-1", "eu-west-3", "eu-central-1", "eu-south-1", "eu-south-2", "eu-north-1"),
    "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2"),
}

# Services the de-identification path calls, by botocore service name, with display names.
DEID_SERVICES: dict[str, str] = {
    "comprehendmedical": "Amazon Comprehend Medical",
    "rekognition": "Amazon Rekognition",
}


def jurisdiction_of(region: str) -> str | None:
    for jurisdiction, regions in JURISDICTION_REGIONS.items():
        if region in regions:
            return jurisdiction
    return None


@lru_cache(maxsize=None)
def service_regions(service: str) -> frozenset[str]:
    """Regions of the commercial partition where botocore knows an endpoint for `service`."""
    return frozenset(botocore.session.get_session().get_available_regions(service))


def offers(region: str, service: str) -> bool:
    return region in service_regions(service)
