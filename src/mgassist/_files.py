"""Writing result files: only where the user asked (--save, --output), and never half a file.

A file is written to a temporary name in the same folder and renamed over the target, so a
crash or Ctrl-C leaves either the old file or the complete new one, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ._errors import InputError

__all__ = ["check_writable", "write_atomically"]


def check_writable(field: str, path: Path) -> InputError | None:
    """Why ``path`` cannot receive a result file (checked before any work is done), or None."""
    accepted = "a file path in an existing, writable folder"
    if path.is_dir():
        return InputError(field, str(path), "is a folder", accepted)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return InputError(field, str(path), f"is in a folder that does not exist ({folder})",
                          accepted)
    if not os.access(folder, os.W_OK):
        return InputError(field, str(path), f"is in a folder you cannot write to ({folder})",
                          accepted)
    return None


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8) through a temporary file and a rename."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
