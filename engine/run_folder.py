"""What a run's folder holds and how it is checked, shared by the run store (engine.store)
and the shipped results served behind it (engine.shipped), so neither imports the other
for it: the manifest's file name, the form of a run id, the artifacts' checksums."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

MANIFEST = "manifest.json"
# <algorithm>-<variant>-<12 hex>, optionally .retry: the only ids the store accepts
RUN_ID = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*-[a-z0-9]+(_[a-z0-9]+)*-[0-9a-f]{12,64}(\.retry)?")


def check_run_id(run_id: str) -> str:
    """The id itself if it has the store's own form, else a one-line ValueError (an id goes
    into a folder name: '../x' must never reach rmtree)."""
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a run id: {str(run_id)[:60]!r}")
    return run_id


def artifact_problems(folder: Path, artifacts: dict[str, str]) -> list[str]:
    """One line per artifact (name -> sha256) missing from folder or not matching its sum."""
    problems = []
    for name, digest in artifacts.items():
        path = folder / f"{name}.pt"
        if not path.exists():
            problems.append(f"artifact {name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"artifact {name} is damaged (checksum mismatch)")
    return problems
