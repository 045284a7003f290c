"""The real program, planned once per stack under the offline checker's mocks."""

from pathlib import Path

import pytest

from compliance.model import CapturedResource
from compliance.planner import Planner, StackPlan
from compliance.project import load_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def planner() -> Planner:
    return Planner(load_project(REPO))


class Plan:
    """Lookups over one planned stack's resources."""

    def __init__(self, plan: StackPlan) -> None:
        self.plan = plan
        self.resources = plan.resources
        self.exports = plan.exports

    def of_type(self, token: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str) -> CapturedResource:
        matches = [r for r in self.of_type(token) if r.name == name]
        assert len(matches) == 1, f"expected one {token} named {name}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> CapturedResource:
        return next(r for r in self.resources if r.urn == urn)

    def bucket_config(self, token: str, bucket_name: str) -> CapturedResource:
        matches = [r for r in self.of_type(token) if r.inputs.get("bucket") == bucket_name]
        assert len(matches) == 1, f"expected one {token} for bucket {bucket_name}, found {len(matches)}"
        return matches[0]


@pytest.fixture(scope="session")
def plan_of(planner: Planner):
    cache: dict[str, Plan] = {}

    def get(stack: str) -> Plan:
        if stack not in cache:
            cache[stack] = Plan(planner.plan(stack))
        return cache[stack]

    return get
