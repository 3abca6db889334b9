"""Which files make a rule set, and their identity (sha256). Light: no YAML, no pydantic."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

__all__ = ["MAX_BYTES", "bundled_rules_path", "rule_files", "rules_digest"]


MAX_BYTES = 1_000_000  # of a rule set, all its files together (yaml_source enforces it)

def bundled_rules_path() -> Path:
    """The folder of the rule set installed with the package.

    Found through the import system's spec (cheap), not importlib.resources, which imports
    zipfile and tempfile: a cost on every one-shot start. The package is never zipped (its rule
    files are read by path), but importlib.resources stays the fallback for an unusual finder.
    """
    spec = importlib.util.find_spec("mgassist.rules")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if len(locations) == 1 and Path(locations[0]).is_dir():
        return Path(locations[0])
    from importlib import resources

    return Path(str(resources.files("mgassist.rules")))


def rule_files(path: Path) -> list[Path]:
    """The rule files of a rule set: a single file, or the *.yaml files of a folder (all but
    folders: the loader refuses a pipe or a device rather than silently leave it out)."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.yaml") if not p.is_dir())
    return [path]


def rules_digest(files: list[Path]) -> str:
    """The rule set's sha256: over each file's name and bytes, in order. Only what the loader
    may read is read: never more than MAX_BYTES and one of a file (a larger one is refused
    anyway; /dev/zero never ends), and nothing of what is not a regular file (a pipe would
    block)."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0")
        if file.is_file():
            with file.open("rb") as stream:
                left = MAX_BYTES + 1
                while left > 0 and (chunk := stream.read(min(left, 1 << 16))):
                    digest.update(chunk)
                    left -= len(chunk)
        digest.update(b"\0")
    return digest.hexdigest()
