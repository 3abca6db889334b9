"""Which files make a rule set, and their identity (sha256). Light: no YAML, no pydantic."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

__all__ = ["bundled_rules_path", "rule_files", "rules_digest"]


def bundled_rules_path() -> Path:
    """The folder of the rule set installed with the package."""
    return Path(str(resources.files("mgassist.rules")))


def rule_files(path: Path) -> list[Path]:
    """The rule files of a rule set: a single file, or the *.yaml files of a folder."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.yaml") if p.is_file())
    return [path]


def rules_digest(files: list[Path]) -> str:
    """The rule set's sha256: over each file's name and bytes, in order."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()
