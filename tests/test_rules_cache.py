"""The compiled-rules cache: used when valid, rebuilt when stale, corrupt or not ours, off on
request, and never a source of a different answer."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from msgspec.structs import replace

from mgassist import RuleSet, evaluate, parse_patient
from mgassist._rulebook import loader as _rules_loader
from mgassist._rulebook.cache import _MAGIC, cache_dir, load_cached

PATIENT = {"mg": "0.6 mmol/L", "crcl": "45 mL/min", "meds": ["furosemide"]}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("MGASSIST_CACHE_DIR", str(where))
    monkeypatch.delenv("MGASSIST_NO_CACHE", raising=False)
    return where


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Counts real compilations (calls of the loader)."""
    calls: list[Any] = []
    original = _rules_loader.load_rules

    def counted(path: Any = None) -> RuleSet:
        calls.append(path)
        return original(path)
    monkeypatch.setattr(_rules_loader, "load_rules", counted)
    return calls


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("rules-*.pickle"))


def answer(rules: RuleSet) -> str:
    return evaluate(parse_patient(PATIENT, rules), rules).to_json()


def test_second_load_comes_from_the_cache_and_gives_the_same_answer(
        folder: Path, compiles: list[Any], rules: RuleSet) -> None:
    first = load_cached()
    second = load_cached()
    assert len(compiles) == 1
    assert len(entries(folder)) == 1
    assert second.sha256 == first.sha256 == rules.sha256
    assert answer(second) == answer(first) == answer(rules)


def test_entry_is_private_to_the_user(folder: Path, compiles: list[Any]) -> None:
    load_cached()
    (entry,) = entries(folder)
    if hasattr(os, "getuid"):
        assert entry.stat().st_mode & 0o077 == 0
        assert folder.stat().st_mode & 0o077 == 0


def test_a_changed_rule_file_is_compiled_again(folder: Path, compiles: list[Any],
                                               tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(REPO / "rules", copy, ignore=shutil.ignore_patterns("tests", "__*"))
    before = load_cached(copy)
    thresholds = copy / "thresholds.yaml"
    thresholds.write_text(thresholds.read_text(encoding="utf-8") + "\n# edited\n",
                          encoding="utf-8")
    after = load_cached(copy)
    assert len(compiles) == 2
    assert after.sha256 != before.sha256
    assert len(entries(folder)) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "foreign", "wrong-rules"])
def test_a_damaged_or_foreign_entry_is_rebuilt_never_used(
        folder: Path, compiles: list[Any], damage: str, rules: RuleSet) -> None:
    load_cached()
    (entry,) = entries(folder)
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        entry.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a well-formed entry whose content is not this rule set
        other: Any = {"not": "a rule set"} if damage == "foreign" else \
            replace(rules, sha256="0" * 64)
        payload = pickle.dumps(other)
        entry.write_bytes(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                          + payload)
    again = load_cached()
    assert len(compiles) == 2  # compiled again
    assert answer(again) == answer(rules)
    assert load_cached().sha256 == rules.sha256 and len(compiles) == 2  # rewritten, used


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_can_write_is_not_trusted(folder: Path, compiles: list[Any]) -> None:
    load_cached()
    (entry,) = entries(folder)
    entry.chmod(0o666)
    load_cached()
    assert len(compiles) == 2


def test_no_cache_switch_writes_nothing(folder: Path, compiles: list[Any],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MGASSIST_NO_CACHE", "1")
    assert cache_dir() is None
    load_cached()
    load_cached()
    assert len(compiles) == 2
    assert not folder.exists()


def test_an_unwritable_cache_folder_only_costs_speed(tmp_path: Path, compiles: list[Any],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     rules: RuleSet) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("MGASSIST_CACHE_DIR", str(blocker / "cache"))
    assert answer(load_cached()) == answer(rules)
    assert answer(load_cached()) == answer(rules)
    assert len(compiles) == 2


def test_default_location_is_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.delenv("MGASSIST_CACHE_DIR", raising=False)
    monkeypatch.delenv("MGASSIST_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("sys.platform", "linux")
    assert cache_dir() == tmp_path / "xdg" / "mgassist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_dir() == Path.home() / ".cache" / "mgassist"
