"""Writing result files: only where the user asked (--save, --output), and never half a file.

A file is written to a temporary name in the same folder and renamed over the target, so a
crash or Ctrl-C leaves either the old file or the complete new one, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._core.errors import InputError

__all__ = ["AtomicWriter", "check_writable", "write_atomically"]


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
    with AtomicWriter(path) as stream:
        stream.write(text.encode("utf-8"))


class AtomicWriter:
    """A binary file written under a temporary name and renamed into place on success only:
    an error or Ctrl-C part-way leaves no file (and an existing one untouched)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._temporary = ""
        self._stream: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        folder = self._path.parent if str(self._path.parent) else Path(".")
        handle, self._temporary = tempfile.mkstemp(prefix=f".{self._path.name}.",
                                                   suffix=".tmp", dir=folder)
        self._stream = os.fdopen(handle, "wb", buffering=1024 * 1024)
        return self._stream

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        assert self._stream is not None
        # Ctrl-C arriving while the file is being finished must not leave the temporary file
        # behind: hold SIGINT until it is renamed or removed (it is delivered right after).
        with _sigint_held():
            renamed = False
            try:
                if kind is None:
                    self._stream.flush()
                    os.fsync(self._stream.fileno())
                self._stream.close()
                if kind is None:
                    os.replace(self._temporary, self._path)
                    renamed = True
            finally:
                if not renamed:
                    with contextlib.suppress(OSError):
                        self._stream.close()
                    with contextlib.suppress(OSError):
                        os.unlink(self._temporary)


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):  # Windows: best effort, the finally still runs
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
