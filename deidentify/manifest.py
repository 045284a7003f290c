"""The local run's manifest: one JSON line per input file.

It names source paths, which may hold identifiers, so it belongs on the raw side: by
default beside OUT, never inside it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class ManifestEntry:
    source: str  # path relative to IN
    outcome: str  # de-identified | quarantined | failed
    reason: str
    output: str  # where the result was written ("" when failed)


class ManifestWriter:
    """Writes entries as they happen, so an interrupted run still accounts for its work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> "ManifestWriter":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
        return self

    def write(self, entry: ManifestEntry) -> None:
        assert self._file is not None, "use ManifestWriter as a context manager"
        self._file.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        self._file.flush()

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()


def read_manifest(path: Path) -> list[ManifestEntry]:
    return [ManifestEntry(**json.loads(line)) for line in path.read_text("utf-8").splitlines() if line.strip()]
