"""Entry point the Pulumi CLI runs: builds the trial-imaging PolicyPack from the registry, nothing else."""

import sys
from pathlib import Path

# The CLI puts the pack directory itself on sys.path; the policies import as the `policies` package.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from pulumi_policy import PolicyPack  # noqa: E402

from policies.registry import (  # noqa: E402
    PACK_DESCRIPTION,
    PACK_DISPLAY_NAME,
    PACK_ENFORCEMENT_LEVEL,
    PACK_NAME,
    POLICIES,
)

PolicyPack(
    name=PACK_NAME,
    policies=list(POLICIES),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
    display_name=PACK_DISPLAY_NAME,
    provider="aws",
)
