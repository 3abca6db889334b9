"""What the commands do, without the argument parser: load the rules, parse the patient,
evaluate, print, and turn failures into messages and exit codes.

``run_batch`` lives in ``batch_command``.

Both ``assess`` entry points call ``run_assess`` with every patient flag's values as typed:
the typer command, and the quick path of ``entry`` that parses a plain ``assess`` command line
without loading typer (typer builds a pydantic adapter per option, which alone costs more than
the whole assessment). What a command line may not do that a JSON record may (an empty value,
a single-value flag given twice, several medications in one --med) is refused here, in the
words of the command line: an error names the flag as typed (``--mg``), never the JSON key.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from mgassist._core.errors import InputError, InputErrors, RulesErrors
from mgassist._core.fields import FIELDS, FieldSpec
from mgassist._core.ruleset import RuleSet

from .exit_codes import CommandFailed, ExitCode

__all__ = [
    "FLAGS",
    "load_or_fail",
    "patient_values",
    "report_input_errors",
    "run_assess",
    "show",
    "version_text",
]

FLAGS: Mapping[str, str] = {spec.name: spec.flag for spec in FIELDS}  # JSON key -> assess flag
_DOCUMENT_FLAGS = {**FLAGS, "fhir": "--fhir", "as_of": "--as-of"}


def report_input_errors(errors: Sequence[InputError], *, as_json: bool,
                        names: Mapping[str, str] | None = None) -> int:
    """Print each error on stderr (and the JSON error object on stdout); return the exit code.

    ``names``: how the command line calls a field (``{"mg": "--mg"}``) for the stderr lines;
    the JSON object always names the field by its JSON key."""
    names = names or {}
    sys.stderr.write("".join(f"error: {error.message(name=names.get(error.field))}\n"
                             for error in errors))
    if as_json:
        body = {"error": errors[0].as_json(), "errors": [e.as_json() for e in errors]}
        sys.stdout.write(orjson.dumps(body).decode() + "\n")
    return ExitCode.INPUT


def patient_values(given: Mapping[str, Sequence[str]], rules: RuleSet
                   ) -> tuple[dict[str, Any], list[InputError]]:
    """The raw patient record of an ``assess`` command line, and what the command line got
    wrong: ``given`` holds each field's flag values as typed, in order (``{"mg": ["0.6
    mmol/L"], "meds": ["furosemide", "ppi"]}``).

    Refused here (a JSON record may do the second and third: they mean "not given" and "a
    list"): a value that is not UTF-8 text; an empty value, which is an unset shell variable
    far more often than a choice; a single-value flag given more than once, which a parser
    would settle by keeping one silently; and one --med naming several medications with
    commas, unless every part is a medication the vocabulary knows (then each is read alone,
    exactly as if --med had been repeated)."""
    from mgassist._core.patient import not_utf8, with_label

    raw: dict[str, Any] = {}
    errors: list[InputError] = []
    for spec in FIELDS:
        values = list(given.get(spec.name, ()))
        if not values:
            continue
        not_text = next(filter(None, (not_utf8(spec.name, value) for value in values)), None)
        if not_text is not None:  # any flag: clearer than "unit '\udcff' is unknown"
            errors.append(not_text)
        elif any(not value.strip() for value in values):
            errors.append(InputError(spec.name, "", f"an empty value; give {_wanted(spec, rules)}"
                                     ", or leave the flag out"))
        elif spec.kind != "list" and len(values) > 1:
            times = "twice" if len(values) == 2 else f"{len(values)} times"
            shown = ", then ".join(repr(_shorter(value)) for value in values)
            errors.append(InputError(spec.name, "", f"given {times} ({shown}); give it once"))
        elif spec.kind != "list":
            raw[spec.name] = values[0]
        elif spec.name != "meds":
            raw[spec.name] = values
        else:
            items = [_one_medication(value, rules) for value in values]
            errors += [item for item in items if isinstance(item, InputError)]
            raw[spec.name] = [part for item in items if not isinstance(item, InputError)
                              for part in item]
    return raw, [with_label(error, rules) for error in errors]


def _wanted(spec: FieldSpec, rules: RuleSet) -> str:
    """What a flag takes, for the message about its empty value."""
    rule = rules.quantities.get(spec.name)
    if rule is not None:
        what = "a number" if rule.table.plain_number else "a value with its unit"
        return f"{what} (e.g. {rule.example!r})"
    if spec.choices:
        return ", ".join(spec.choices[:-1]) + f" or {spec.choices[-1]}"
    assert spec.vocabulary is not None
    what = "a medication name" if spec.name == "meds" else "an id or name"
    return f"{what} (see `mgassist vocab {spec.vocabulary}`)"


_SHOWN_CHARS = 64


def _shorter(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "..."


def _one_medication(value: str, rules: RuleSet) -> list[str] | InputError:
    """One --med value: itself; its parts, when it lists medications the vocabulary knows with
    commas or semicolons (as a CSV cell does); or an error, when splitting could change what it
    means ("Lasix 40 mg, twice daily" is one medication; "furosemide, aspirin" two)."""
    from mgassist._core.medications import read_medication
    from mgassist._core.patient import split_items

    parts = split_items(value)
    if len(parts) <= 1:
        return [value]
    names = rules.vocabulary.medications
    read = [read_medication(part, names) for part in parts]
    if all(found.classes and found.near_miss is None for found in read):
        return parts
    mark = "comma" if "," in value else "semicolon"
    repeated = " ".join(f"--med {shlex.quote(part)}" for part in parts)
    example = f" ({repeated})" if repeated.isprintable() and len(repeated) <= _SHOWN_CHARS \
        else ""  # the command to type, unless it would echo control characters or run long
    return InputError("meds", _shorter(value), f"has a {mark}: if it names several "
                      f"medications, repeat --med for each{example}; if it is one, write it "
                      f"without the {mark}")


def version_text() -> str:
    """``mgassist 0.1.0, rules 2026.11.3 (bundled, sha256 56eae6bd7ec8...)``."""
    from mgassist import __version__
    from mgassist._rulebook.cache import load_cached

    try:
        rules = load_cached(None)
    except RulesErrors:
        return (f"mgassist {__version__}; the bundled rules cannot be loaded (see `mgassist "
                "rules validate`)")
    return f"mgassist {__version__}, rules {rules.version} ({rules.source}, sha256 " \
           f"{rules.sha256[:12]}...)"


def load_or_fail(path: Path | None, *, as_json: bool) -> RuleSet:
    """The rule set (from the cache when valid); when it cannot be used, say why and raise
    CommandFailed (exit 2)."""
    from mgassist._rulebook.cache import load_cached

    try:
        return load_cached(path)
    except RulesErrors as exc:
        sys.stderr.write("".join(f"error: {error}\n" for error in exc.errors))
        if as_json:  # a path from argv may hold undecodable bytes (surrogates): escape them
            errors = [{"field": "rules", "message": str(e).encode("utf-8", "backslashreplace")
                       .decode("utf-8")} for e in exc.errors]
            sys.stdout.write(orjson.dumps({"error": errors[0], "errors": errors}).decode()
                             + "\n")
        raise CommandFailed(ExitCode.INPUT) from None


def run_assess(given: Mapping[str, Sequence[str]], *, rules_path: Path | None, as_json: bool,
               explain: bool = False, full: bool = False, fhir: str | None = None,
               as_of: str | None = None) -> int:
    """Assess one patient given as command-line values (each field's flag values as typed, see
    ``patient_values``); return the exit code. Errors name the flags, in field order.

    ``explain``: add the trace of every rule (``_core.trace``), after the report or as the JSON
    ``explain`` array; without it the trace is never computed. ``full``: the full text report
    instead of the brief one (the JSON is always complete). ``fhir``: a FHIR document's path
    (``-``: stdin) to read the patient from, the flags laid over it; ``as_of``: the date its
    ages and result ages are judged at (default today)."""
    from mgassist._core.engine import evaluate_patient
    from mgassist._core.patient import parse_patient

    rules = load_or_fail(rules_path, as_json=as_json)
    raw, errors = patient_values(given, rules)
    sources = read = None
    if fhir is not None or as_of is not None:
        read = _from_fhir(fhir, as_of, raw, rules)
        if isinstance(read, InputError):
            return report_input_errors([read], as_json=as_json, names=_DOCUMENT_FLAGS)
        sources = read.sources
    try:
        patient = parse_patient(raw, rules) if read is None else read.patient(rules)
    except InputErrors as exc:
        errors += exc.errors
    if errors:
        order = {spec.name: n for n, spec in enumerate(FIELDS)}
        errors.sort(key=lambda error: order.get(error.field, len(order)))
        return report_input_errors(errors, as_json=as_json, names=FLAGS)
    if not explain:
        show(_with_sources(evaluate_patient(patient, rules), sources), as_json=as_json,
             full=full)
        return ExitCode.OK
    from mgassist._core.trace import assess_and_trace

    assessment, entries = assess_and_trace(patient, rules)  # one walk, observed
    assessment = _with_sources(assessment, sources)
    if as_json:
        data = assessment.to_dict()
        data["explain"] = entries
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return ExitCode.OK
    from .trace_text import trace_lines

    show(assessment, as_json=False, full=full)
    sys.stdout.write("\n".join(trace_lines(entries, version=rules.version,
                                           sha256=rules.sha256)) + "\n")
    return ExitCode.OK


def _from_fhir(path: str | None, as_of: str | None, given: dict[str, Any],
               rules: RuleSet) -> Any:
    """The FHIR document's FhirInput with ``given`` (the flags) laid over it, or the error."""
    from mgassist._fhir import read_fhir

    from .fhir_input import as_of_date, read_document

    try:
        if path is None:
            raise InputError("as_of", as_of or "", "applies to --fhir only (the date a FHIR "
                             "document's ages are judged at)", "--fhir FILE --as-of DATE")
        date = as_of_date(as_of)
        return read_fhir(read_document(path), rules, as_of=date).overridden_by(given)
    except InputError as exc:
        return exc


def _with_sources(assessment: Any, sources: Any) -> Any:
    if sources is None:
        return assessment
    import dataclasses

    return dataclasses.replace(assessment, sources=sources)


FULL_HINT = "Full report: --full."


def show(assessment: Any, *, as_json: bool, full: bool = False,
         more: str | None = FULL_HINT) -> None:
    """Print the assessment: the JSON object, or the text report (brief unless ``full``;
    ``more`` ends the brief one, saying how to see the full one)."""
    if as_json:
        sys.stdout.write(assessment.to_json(indent=True) + "\n")
        sys.stdout.flush()
        return
    from .render import render_report

    render_report(assessment, full=full, more=more)
