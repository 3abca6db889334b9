"""A fresh clone passes on its own: no test reads anything beside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import conftest
import pytest
from conftest import REPO, beside_repo

TESTS = Path(__file__).resolve().parent


def test_a_sibling_folder_is_beside_the_repository() -> None:
    assert beside_repo(str(REPO.parent / "shared" / "external" / "cases.jsonl"))
    assert beside_repo(str(REPO / ".." / "shared"))


def test_files_in_the_repository_and_elsewhere_are_not() -> None:
    assert not beside_repo(str(TESTS / "data" / "medcalc-bench-crcl.jsonl"))
    assert not beside_repo(str(REPO / "rules" / "findings.yaml"))
    assert not beside_repo(3)  # a file descriptor


def test_opening_a_file_beside_the_repository_is_recorded() -> None:
    target = REPO.parent / "shared-folder-that-is-not-there" / "data.jsonl"
    before = len(conftest.OUTSIDE_REPO_OPENED)
    with pytest.raises(FileNotFoundError):
        target.open(encoding="utf-8")
    recorded = conftest.OUTSIDE_REPO_OPENED[before:]
    del conftest.OUTSIDE_REPO_OPENED[before:]  # this one was on purpose: it must not fail the run
    assert recorded == [str(target)]


@pytest.mark.parametrize("source", sorted(set(TESTS.glob("*.py")) - {Path(__file__).resolve()}),
                         ids=lambda p: p.name)
def test_no_test_names_a_path_beside_the_repository(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    assert not re.search(r"\.\./shared|/work/shared|['\"]shared['\"]", text), source.name
