"""Retrying an AWS detector call in our own loop: the backoff ceiling and a client that does
not retry by itself (two retry loops would multiply the attempts and hide the delays)."""

from __future__ import annotations

from typing import Any


def backoff_ceiling(attempt: int, base_delay: float, max_delay: float) -> float:
    """Capped exponential backoff before retry ``attempt`` (1-based): min(cap, base * 2**(attempt-1)).
    Each caller draws its own jitter under (or around) this ceiling."""
    return min(max_delay, base_delay * 2 ** (attempt - 1))


def client_without_retries(service: str, region: str | None = None, **config: Any) -> Any:
    """A boto3 client for ``service`` making exactly one attempt per call; ``config`` adds
    other botocore Config settings (timeouts)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, region_name=region,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )
