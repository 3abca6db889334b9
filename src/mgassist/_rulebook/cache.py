"""A cache of compiled rule sets, so a one-shot command does not rebuild pint's registry and
re-parse the YAML each time (that is most of a cold start).

    load_cached(path) -> RuleSet     # the same RuleSet load_rules(path) returns

What is cached: the compiled RuleSet only (thresholds, unit factors, texts), never patient
data. Where: the platform's user cache directory (``~/.cache/mgassist`` on Linux, honouring
``XDG_CACHE_HOME``; ``~/Library/Caches/mgassist`` on macOS; ``%LOCALAPPDATA%\\mgassist\\Cache``
on Windows), or ``MGASSIST_CACHE_DIR``. ``MGASSIST_NO_CACHE=1`` switches it off.

An entry is never trusted blindly. Its name is a hash of everything the compiled result depends
on: the rule files' bytes (their sha256), the rule set's source, mgassist's own code (each
module's path, size and modification time), pint's version and the Python version; so a changed
rule file, an upgrade or a code change simply misses. Its content carries a sha256 of the
payload, checked before unpickling; the file must belong to the current user and not be writable
by others; the unpickled object must be a RuleSet with the expected sha256. Anything else is a
miss: the rules are compiled again and the entry rewritten. Failing to write the cache (read-only
home...) only costs speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
from pathlib import Path

from mgassist._core.ruleset import RuleSet

from .source import bundled_rules_path, rule_files, rules_digest

__all__ = ["cache_dir", "entry_path", "load_cached"]

_MAGIC = b"mgassist-rules-cache 1\n"
_DIGEST_LINE = len(hashlib.sha256().hexdigest()) + 1  # hex digest and newline
_KEEP = 8  # entries kept (a few rule sets in use side by side); older ones are removed


def cache_dir() -> Path | None:
    """Where compiled rule sets are cached, or None when caching is switched off."""
    if os.environ.get("MGASSIST_NO_CACHE"):
        return None
    override = os.environ.get("MGASSIST_CACHE_DIR")
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "mgassist" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "mgassist"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".cache") / "mgassist"


def load_cached(path: Path | str | None = None) -> RuleSet:
    """``load_rules(path)``, from the cache when a valid entry exists (RulesErrors as usual)."""
    folder = cache_dir()
    root = bundled_rules_path() if path is None else Path(path)
    if folder is None or not root.exists():
        return _compile(path)
    files = rule_files(root)
    if not files:
        return _compile(path)
    digest = rules_digest(files)
    source = "bundled" if path is None else str(root)
    entry = entry_path(folder, digest, source)
    cached = _read(entry, digest, source)
    if cached is not None:
        return cached
    rules = _compile(path)
    if rules.sha256 == digest:  # the files did not change while they were being compiled
        _write(folder, entry, rules)
    return rules


def _compile(path: Path | str | None) -> RuleSet:
    # Imported here: the loader brings pydantic, ruamel and pint, which a cache hit never needs.
    from .loader import load_rules

    return load_rules(path)


def entry_path(folder: Path, digest: str, source: str) -> Path:
    """The cache file for a rule set with this sha256 and source, under today's code."""
    key = hashlib.sha256("\0".join(
        [digest, source, _code_fingerprint(), _pint_version(), sys.version]).encode())
    return folder / f"rules-{key.hexdigest()[:40]}.pickle"


def _code_fingerprint() -> str:
    """Every module of the package by path, size and modification time: what Python's own
    bytecode cache checks (reading and hashing every module cost a one-shot command ~3 ms;
    walking with os.scandir, not pathlib's rglob, saves another ~3 ms)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # every layer
    found = []
    for folder, _, names in os.walk(package):
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                info = os.stat(path)
                relative = os.path.relpath(path, package).replace(os.sep, "/")
                found.append(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\0")
    return hashlib.sha256("".join(sorted(found)).encode()).hexdigest()


def _pint_version() -> str:
    # importlib.metadata costs ~60 ms; the dist-info folder's name says the same.
    spec = importlib.util.find_spec("pint")
    if spec is None or spec.origin is None:
        return "pint-missing"
    site = os.path.dirname(os.path.dirname(spec.origin))
    with os.scandir(site) as entries:
        names = sorted(entry.name for entry in entries
                       if entry.name.lower().startswith("pint-")
                       and entry.name.endswith(".dist-info"))
    return ",".join(names) or "pint-unknown"


def _read(entry: Path, digest: str, source: str) -> RuleSet | None:
    try:
        with entry.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                return None  # not ours alone: do not unpickle it
            data = stream.read()
    except OSError:
        return None
    head = len(_MAGIC) + _DIGEST_LINE
    if not data.startswith(_MAGIC) or len(data) <= head:
        return None
    payload = data[head:]
    if data[len(_MAGIC):head] != hashlib.sha256(payload).hexdigest().encode() + b"\n":
        return None
    try:
        rules = pickle.loads(payload)  # noqa: S301 - our own file, checked above
    except Exception:  # a truncated or foreign entry is a miss, whatever it raises
        return None
    if not isinstance(rules, RuleSet) or rules.sha256 != digest or rules.source != source:
        return None
    return rules


def _write(folder: Path, entry: Path, rules: RuleSet) -> None:
    from mgassist._files import AtomicWriter  # only on a miss: a hit never writes

    payload = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with AtomicWriter(entry) as stream:
            stream.write(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        _prune(folder)
    except OSError:
        pass  # no cache, only slower


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("rules-*.pickle"), key=lambda p: p.stat().st_mtime_ns,
                     reverse=True)
    for old in entries[_KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
