"""The ``mgassist`` console entry point: never a traceback, and a quick path for scripts.

A plain one-shot ``mgassist assess --flag value ... [--json]`` is parsed here, from the same
FIELDS table that declares typer's options, and run without importing typer. Anything else
(help, another command, an unknown or malformed option, a value that starts with ``-``, an
``assess`` without a patient value, shell completion) goes to the typer application, which owns
every usage message. Both paths hand ``run_assess`` every value of every flag as typed, so an
empty or repeated flag is refused in one place. tests/test_entry.py checks that both paths give
the same output and exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mgassist._core.fields import FIELDS

from .exit_codes import CommandFailed, ExitCode

__all__ = ["main", "quick_assess_args"]

_FLAGS = {spec.flag: spec for spec in FIELDS if spec.name != "id"}
_COMPLETION = "_MGASSIST_COMPLETE"  # set by the shell completion scripts: typer answers them


def quick_assess_args(argv: Sequence[str]
                      ) -> tuple[dict[str, list[str]], Path | None, bool, bool] | None:
    """``(each field's values as typed, --rules, --json, --full)`` for a plain assess command
    line with at least one patient value, else None."""
    if not argv or argv[0] != "assess" or _COMPLETION in os.environ:
        return None
    given: dict[str, list[str]] = {}
    rules: Path | None = None
    as_json = full = False
    rest = list(argv[1:])
    while rest:
        word = rest.pop(0)
        if word == "--json":
            as_json = True
            continue
        if word == "--full":
            full = True
            continue
        flag, has_value, value = word.partition("=")
        if flag != "--rules" and flag not in _FLAGS:
            return None
        if not has_value:
            if not rest:
                return None
            value = rest.pop(0)
        if value.startswith("-"):
            return None
        if flag == "--rules":
            if not value.strip():
                return None  # refused by the typer command, with its message
            rules = Path(value)
            continue
        given.setdefault(_FLAGS[flag].name, []).append(value)  # repeats: run_assess decides
    if not given:
        return None  # the typer command prints the usage
    ordered = {spec.name: given[spec.name] for spec in FIELDS if spec.name in given}
    return ordered, rules, as_json, full


def main() -> None:
    """Run one command; map every failure to an exit code and at most one line."""
    try:
        quick = quick_assess_args(sys.argv[1:])
        if quick is None:
            from .cli import run_app

            code = run_app()
        else:
            from .commands import run_assess

            given, rules, as_json, full = quick
            code = run_assess(given, rules_path=rules, as_json=as_json, full=full)
    except SystemExit:
        raise
    except CommandFailed as failed:  # the quick path; typer's commands end it themselves
        raise SystemExit(failed.code) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except Exception as exc:  # a bug: say so in one line, without locals or patient data
        if os.environ.get("MGASSIST_DEBUG"):
            raise
        sys.stderr.write(f"mgassist: internal error ({type(exc).__name__}); please report it. "
                         "Set MGASSIST_DEBUG=1 to see details.\n")
        raise SystemExit(ExitCode.INTERNAL) from None
    raise SystemExit(code)
