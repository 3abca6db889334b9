"""What the commands do, without the argument parser: load the rules, parse the patient,
evaluate, print, and turn failures into messages and exit codes.

``run_batch`` lives in ``_batch_command``.

Both ``assess`` entry points call ``run_assess``: the typer command, and the quick path of
``_entry`` that parses a plain ``assess`` command line without loading typer (typer builds a
pydantic adapter per option, which alone costs more than the whole assessment).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ._errors import InputError, InputErrors, RulesErrors
from ._ruleset import RuleSet

__all__ = [
    "EXIT_INPUT",
    "load_or_report",
    "report_input_errors",
    "run_assess",
    "show",
]

EXIT_INPUT = 2


def report_input_errors(errors: Sequence[InputError], *, as_json: bool) -> int:
    """Print each error on stderr (and the JSON error object on stdout); return the exit code."""
    sys.stderr.write("".join(f"error: {error}\n" for error in errors))
    if as_json:
        body = {"error": errors[0].as_json(), "errors": [e.as_json() for e in errors]}
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
    return EXIT_INPUT


def load_or_report(path: Path | None, *, as_json: bool) -> RuleSet | int:
    """The rule set (from the cache when valid), or the exit code after reporting why not."""
    from ._rules_cache import load_cached

    try:
        return load_cached(path)
    except RulesErrors as exc:
        sys.stderr.write("".join(f"error: {error}\n" for error in exc.errors))
        if as_json:  # a path from argv may hold undecodable bytes (surrogates): escape them
            errors = [{"field": "rules", "message": str(e).encode("utf-8", "backslashreplace")
                       .decode("utf-8")} for e in exc.errors]
            sys.stdout.write(orjson.dumps({"error": errors[0], "errors": errors}).decode()
                             + "\n")
        return EXIT_INPUT


def run_assess(raw: Mapping[str, Any], *, rules_path: Path | None, as_json: bool,
               explain: bool = False) -> int:
    """Assess one patient given as raw fields (keys as in the spec); return the exit code.

    ``explain``: add the trace of every rule (``_trace``), after the report or as the JSON
    ``explain`` array; without it the trace is never computed."""
    from ._engine import evaluate_patient
    from ._patient import parse_patient

    rules = load_or_report(rules_path, as_json=as_json)
    if isinstance(rules, int):
        return rules
    try:
        patient = parse_patient(raw, rules)
    except InputErrors as exc:
        return report_input_errors(exc.errors, as_json=as_json)
    assessment = evaluate_patient(patient, rules)
    if not explain:
        show(assessment, rules, as_json=as_json)
        return 0
    from ._trace import trace

    entries = trace(patient, rules)
    if as_json:
        data = assessment.to_dict()
        data["explain"] = entries
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    from ._trace_text import trace_lines

    show(assessment, rules, as_json=False)
    sys.stdout.write("\n".join(trace_lines(entries, version=rules.version,
                                           sha256=rules.sha256)) + "\n")
    return 0


def show(assessment: Any, rules: RuleSet, *, as_json: bool) -> None:
    """Print the assessment: the JSON object, or the text report."""
    if as_json:
        sys.stdout.write(assessment.to_json(indent=True) + "\n")
        sys.stdout.flush()
        return
    from ._render import render_report

    render_report(assessment, rules)
