"""The public surface and the shape of the code base (house style)."""

from __future__ import annotations

import ast
import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

from conftest import REPO

import mgassist


def test_all_is_sorted_and_importable() -> None:
    assert mgassist.__all__ == sorted(mgassist.__all__)
    for name in mgassist.__all__:
        assert hasattr(mgassist, name), name


def test_rich_is_imported_only_by_the_renderer() -> None:
    package = REPO / "src" / "mgassist"
    importers = {path.relative_to(package).as_posix() for path in package.rglob("*.py")
                 if re.search(r"^\s*(from|import) rich\b", path.read_text(), re.M)}
    assert importers, "the renderer imports rich: this test would not see a stray import"
    assert {name for name in importers if not name.startswith("_shell/render")} == set()


def test_assess_json_does_not_import_rich() -> None:
    # JSON output must not pay for the text renderer.
    code = ("import sys; from mgassist._shell.entry import main\n"
            "sys.argv=['mgassist','assess','--mg','0.6 mmol/L','--crcl','80 mL/min','--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('RICH' if 'rich.console' in sys.modules else 'NORICH', file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.stderr.strip().endswith("NORICH"), result.stderr


# Python 3.12 splits f-strings into FSTRING_MIDDLE tokens; 3.11 keeps them as STRING.
_LITERALS = {tokenize.NUMBER, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)}


def _code_tokens(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every number and string in ``path``, docstrings and comments excluded."""
    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(tok.start[0], tok.string) for tok in tokens
            if tok.type in _LITERALS
            and tok.start[0] not in docstrings]


def test_no_clinical_threshold_in_source() -> None:
    # Thresholds, doses and molar masses live in rules/*.yaml, not in Python code.
    clinical = re.compile(r"(?<![\w.])(0\.70?|0\.50?|1\.05|3\.5|24\.305|40\.30\d?|113\.12|"
                          r"88\.4|0\.85|291\.7|48[34]|1500|12 mmol|24 mmol|20|30|60|18|65|72|"
                          r"140)(?![\w.])")
    for path in (REPO / "src" / "mgassist").glob("*.py"):
        for line, text in _code_tokens(path):
            assert not clinical.search(text), f"{path.name}:{line}: {text}"
