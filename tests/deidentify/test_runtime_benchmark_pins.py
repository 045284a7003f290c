"""The benchmark's peer pins stay installable beside the engine's own pins."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator, f"{path.name}: {line!r} is not pinned exactly"
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_peer_pins_are_exact_and_agree_with_the_lambda_pins() -> None:
    peers = _pins(REPO / "benchmarks" / "requirements-peers.txt")
    engine = _pins(REPO / "deidentify" / "requirements-lambda.txt")
    assert {"dicognito", "deid"} <= set(peers)
    shared = set(peers) & set(engine)
    assert "pydicom" in shared
    assert {name: peers[name] for name in shared} == {name: engine[name] for name in shared}


def test_peers_are_not_project_requirements() -> None:
    for requirements in ("requirements.in", "requirements.txt"):
        project = _pins(REPO / requirements) if (REPO / requirements).exists() else {}
        assert not {"dicognito", "deid"} & set(project)
