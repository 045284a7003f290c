"""A mock resource monitor that records every registration the program makes.

Each RegisterResource / ReadResource call is kept as a `CapturedResource` in wire form (see
`compliance.wire`), so it can be turned back into the exact Struct the engine would send a policy
pack. Components and the root stack are recorded with empty outputs: theirs arrive later, through
RegisterResourceOutputs (`CapturedRun.registered_outputs`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.mocks import MockMonitor

from compliance.mocks import PlanMocks
from compliance.model import CapturedResource
from compliance.wire import provider_urn, struct_to_plain

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class CapturedRun:
    registrations: list[CapturedResource] = field(default_factory=list)
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # urn -> outputs

    @property
    def stack_urn(self) -> str | None:
        for registration in self.registrations:
            if registration.type == STACK_TYPE:
                return registration.urn
        return None

    @property
    def stack_outputs(self) -> dict[str, Any]:
        urn = self.stack_urn
        return self.registered_outputs.get(urn, {}) if urn else {}


class CapturingMonitor(MockMonitor):
    """MockMonitor that also records type, name, parent, provider, dependencies and wire inputs."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.captured = CapturedRun()
        self._lock = threading.Lock()

    def _record(self, registration: CapturedResource) -> None:
        with self._lock:
            self.captured.registrations.append(registration)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = struct_to_plain(request.object)
        if request.type.startswith("pulumi:providers:"):
            self.plan_mocks.remember_provider(urn, inputs)
        response = super().RegisterResource(request)
        is_stack = request.type == STACK_TYPE
        self._record(
            CapturedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                inputs={} if is_stack else inputs,
                outputs=struct_to_plain(response.object) if request.custom else {},
                parent=request.parent or None,
                provider=provider_urn(request.provider),
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(value.urns) for key, value in request.propertyDependencies.items()
                },
                protect=bool(request.protect),
            )
        )
        return response

    def ReadResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().ReadResource(request)
        self._record(
            CapturedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                inputs=struct_to_plain(request.properties),
                outputs=struct_to_plain(response.properties),
                parent=request.parent or None,
                provider=provider_urn(request.provider),
                dependencies=tuple(request.dependencies),
                property_dependencies={},
                protect=False,
            )
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 (gRPC method name)
        outputs = struct_to_plain(request.outputs)
        with self._lock:
            self.captured.registered_outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)
