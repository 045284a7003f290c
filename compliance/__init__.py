"""Offline policy checker: plans stacks under Pulumi mocks and runs the policy pack on them."""

__version__ = "0.1.0"
