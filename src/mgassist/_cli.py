"""The ``mgassist`` command: parse arguments, load, call the core, render, map errors to exits.

Exit codes (a contract, also printed by --help):
  0  an assessment was produced, whatever its status (or: the rules are valid)
  1  ``rules validate``: the rule set has errors
  2  invalid input or unusable arguments (the message names the field, the value and what is
     accepted); with --json also {"error": {"field": ..., "message": ...}} on stdout
  3  internal error (a bug): one line on stderr, never a traceback; MGASSIST_DEBUG=1 shows it
  1  ``interview``: left with Ctrl-D (end of input); 130: left with Ctrl-C
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ._errors import InputError, RulesErrors
from ._fields import FIELDS

__all__ = ["app", "main", "run_app"]

EXIT_HELP = (
    "Exit codes: 0 assessment produced (any status); 2 invalid input or arguments; "
    "3 internal error."
)
app = typer.Typer(
    name="mgassist",
    help="Decision support for oral magnesium supplementation, from cited YAML rules. "
         "It supports, and does not replace, clinical judgement. " + EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
rules_app = typer.Typer(help="Work with rule sets.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(rules_app, name="rules")

_HELP = {f.name: f.help for f in FIELDS}


def _given_path(text: str, accepted: str) -> Path:
    """A path as typed; an empty one (an unset shell variable) is refused, never read as the
    current folder."""
    if not text.strip():
        raise typer.BadParameter(f"an empty path; give {accepted}")
    return Path(text)


def _rule_path(text: str) -> Path:
    return _given_path(text, "a rule file or folder (leave it out to use the bundled rules)")


def _vignette_path(text: str) -> Path:
    return _given_path(text, "a vignette file or folder (leave it out to use the tests/ "
                             "folder of the rule set)")


RulesOption = Annotated[Path | None, typer.Option(
    "--rules", help="rule file or folder to use instead of the bundled rules",
    show_default=False, parser=_rule_path)]


def _opt(name: str) -> Any:
    spec = next(f for f in FIELDS if f.name == name)
    hint = " (see `mgassist units`)" if spec.kind in ("quantity", "number") else ""
    hint = " (see `mgassist vocab`)" if spec.vocabulary else hint
    return typer.Option(spec.flag, help=spec.help + hint, show_default=False)


@app.command(epilog=EXIT_HELP)
def assess(
    mg: Annotated[str | None, _opt("mg")] = None,
    k: Annotated[str | None, _opt("k")] = None,
    ca: Annotated[str | None, _opt("ca")] = None,
    albumin: Annotated[str | None, _opt("albumin")] = None,
    creatinine: Annotated[str | None, _opt("creatinine")] = None,
    crcl: Annotated[str | None, _opt("crcl")] = None,
    egfr: Annotated[str | None, _opt("egfr")] = None,
    age: Annotated[str | None, _opt("age")] = None,
    sex: Annotated[str | None, _opt("sex")] = None,
    weight: Annotated[str | None, _opt("weight")] = None,
    height: Annotated[str | None, _opt("height")] = None,
    med: Annotated[list[str] | None, _opt("meds")] = None,
    condition: Annotated[list[str] | None, _opt("conditions")] = None,
    symptom: Annotated[list[str] | None, _opt("symptoms")] = None,
    indication: Annotated[str | None, _opt("indication")] = None,
    current_dose: Annotated[str | None, _opt("current_dose")] = None,
    days_on_dose: Annotated[str | None, _opt("days_on_dose")] = None,
    crcl_weight: Annotated[str | None, _opt("crcl_weight")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the assessment as JSON")] = False,
    explain: Annotated[bool, typer.Option(
        "--explain", help="after the report, trace every rule in evaluation order: fired or "
        "not and why, with the values, thresholds and comparisons (with --json: an "
        "\"explain\" array)")] = False,
    rules: RulesOption = None,
) -> None:
    """Assess one patient: decision, findings, regimen, monitoring and references.

    Example: mgassist assess --mg "0.6 mmol/L" --crcl "80 mL/min"
    """
    raw = {"mg": mg, "k": k, "ca": ca, "albumin": albumin, "creatinine": creatinine,
           "crcl": crcl, "egfr": egfr, "age": age,
           "sex": sex, "weight": weight, "height": height, "meds": med or [],
           "conditions": condition or [], "symptoms": symptom or [], "indication": indication,
           "current_dose": current_dose, "days_on_dose": days_on_dose,
           "crcl_weight": crcl_weight}
    from ._commands import run_assess

    code = run_assess({k_: v for k_, v in raw.items() if v is not None}, rules_path=rules,
                      as_json=as_json, explain=explain)
    if code:
        raise typer.Exit(code)


@app.command(epilog=EXIT_HELP + " Interview only: 1 end of input (Ctrl-D); 130 Ctrl-C.")
def interview(
    as_json: Annotated[bool, typer.Option("--json", help="print the assessment as JSON")] = False,
    save: Annotated[Path | None, typer.Option(
        "--save", help="also write the JSON assessment to this file", show_default=False,
        metavar="FILE")] = None,
    rules: RulesOption = None,
) -> None:
    """Answer questions about one patient, one at a time, then see the same report as assess.

    Example: mgassist interview --save assessment.json
    """
    from ._commands import show
    from ._engine import evaluate_patient
    from ._files import check_writable, write_atomically
    from ._interview import TerminalPrompter, run_interview, stdin_is_terminal

    if not stdin_is_terminal():
        typer.echo("error: interview asks its questions at a terminal, and stdin is not one. "
                   "From a script, use `mgassist assess` with flags for one patient (see "
                   "`mgassist assess --help`; --json for JSON), or `mgassist batch FILE` "
                   "for many.", err=True)
        raise typer.Exit(2)
    problem = check_writable("save", save) if save is not None else None
    if problem is not None:
        _input_failure([problem], as_json=as_json)
    loaded = _load(rules, as_json=as_json)
    try:
        done = run_interview(loaded, TerminalPrompter())
    except KeyboardInterrupt:
        typer.echo("\ninterview cancelled (Ctrl-C): nothing was assessed or saved.", err=True)
        raise typer.Exit(130) from None
    except EOFError:
        typer.echo("\ninterview ended (end of input): nothing was assessed or saved.",
                   err=True)
        raise typer.Exit(1) from None
    assessment = evaluate_patient(done.patient, loaded)
    typer.echo("", err=True)
    show(assessment, loaded, as_json=as_json)
    if save is not None:
        write_atomically(save, assessment.to_json(indent=True) + "\n")
        typer.echo(f"Saved the JSON assessment to {save}.", err=True)
    extra = (["--json"] if as_json else []) + (["--rules", str(rules)] if rules else [])
    typer.echo(f"The same assessment in one command:\n  {done.command(extra)}", err=True)


@app.command(epilog="Exit codes: 0 every record assessed; 1 some records had errors (each has "
                    "an error line, all lines were written); 2 unusable arguments or input; "
                    "3 internal error.")
def batch(
    source: Annotated[str, typer.Argument(
        metavar="INPUT", help="JSON Lines (.jsonl) or CSV (.csv) file of patients, or - for "
        "standard input", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the JSON Lines here (atomically) instead of stdout",
        show_default=False, metavar="FILE")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="auto (from the suffix, else the first character), jsonl or csv")
    ] = "auto",
    rules: RulesOption = None,
) -> None:
    """Assess many patients: one JSON line out per input record, in input order.

    Keys (JSON) or columns (CSV) are the assess fields in snake_case (mg, crcl, current_dose,
    meds...); several meds in one CSV cell are separated by ';' or ','. A record that cannot be
    assessed gets an error line naming the field, and the others go on.

    Example: mgassist batch ward.csv --output assessments.jsonl
    """
    from ._batch_command import run_batch

    code = run_batch(source, output=output, fmt=fmt, rules_path=rules)
    if code:
        raise typer.Exit(code)


@app.command()
def schema(
    which: Annotated[str, typer.Argument(
        metavar="input|output", help="input: a patient record; output: an assessment")],
) -> None:
    """Print the JSON Schema of a patient record (input) or of an assessment (output).

    Example: mgassist schema output > assessment.schema.json
    """
    from ._schemas import input_schema, output_schema

    schemas = {"input": input_schema, "output": output_schema}
    if which not in schemas:
        _input_failure([InputError("schema", which, "is not a schema", "input or output")],
                       as_json=False)
    typer.echo(json.dumps(schemas[which](), indent=2, ensure_ascii=False))


@app.command()
def vocab(
    kind: Annotated[str | None, typer.Argument(
        help="meds, conditions, symptoms or indications (default: all)")] = None,
    rules: RulesOption = None,
) -> None:
    """List the accepted ids and the names that map to them.

    Example: mgassist vocab meds
    """
    loaded = _load(rules, as_json=False)
    kinds = list(loaded.vocabulary.labels)
    if kind is not None and kind not in kinds:
        _input_failure([InputError("kind", kind, "is not a vocabulary", ", ".join(kinds))],
                       as_json=False)
    from ._questions import vocabulary_lines

    for name in [kind] if kind else kinds:
        typer.echo(f"{name}:")
        for line in vocabulary_lines(loaded, name):
            typer.echo(f"  {line}")


@app.command()
def units(rules: RulesOption = None) -> None:
    """List each quantity with its accepted units, an example and its plausible range.

    Example: mgassist units
    """
    loaded = _load(rules, as_json=False)
    for spec in FIELDS:
        rule = loaded.quantities.get(spec.name)
        if rule is None:
            continue
        accepted = ", ".join(rule.table.units)
        if rule.table.plain_number:
            accepted = f"a plain number ({rule.shown_as or rule.table.canonical})"
        typer.echo(f"{spec.flag:16} {rule.label}: {accepted}; e.g. {rule.example!r}; "
                   f"plausible {rule.minimum_text} to {rule.maximum_text}")


@rules_app.command("validate")
def rules_validate(
    path: Annotated[Path | None, typer.Argument(
        help="rule file or folder (default: the bundled rules)", show_default=False,
        parser=_rule_path)] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="count warnings (rules that can never fire, references never cited) "
        "as problems: exit 1")] = False,
) -> None:
    """Load a rule set and report every problem as file:line (exit 1 if any), then warnings:
    rules that can never fire (where detectable) and references never cited.

    Example: mgassist rules validate rules/
    """
    from ._rules_loader import check_rules

    if path is not None and not path.exists():
        _input_failure([InputError("path", str(path), "does not exist",
                                   "a rule file or a folder of *.yaml rule files")], as_json=False)
    try:
        loaded, warnings = check_rules(path)
    except RulesErrors as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} problem(s); the rule set was not loaded.", err=True)
        raise typer.Exit(1) from None
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"ok: rules {loaded.version} ({loaded.source}), sha256 {loaded.sha256}: "
               f"{len(loaded.steps)} steps, {len(loaded.findings)} findings, "
               f"{len(loaded.thresholds)} thresholds, {len(loaded.references)} references; "
               f"{len(warnings)} warning(s)")
    if strict and warnings:
        raise typer.Exit(1)


@rules_app.command("test", epilog="Exit codes: 0 every case passed (and with --coverage "
                   "everything was exercised); 1 a case failed or, with --coverage, a rule or "
                   "threshold boundary was never exercised (unless --warn-uncovered); 2 the "
                   "rules or the vignette files cannot be used.")
def rules_test(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="vignette files or folders (default: the tests/ folder of the rule set)",
        show_default=False, parser=_vignette_path)] = None,
    rules: RulesOption = None,
    coverage: Annotated[bool, typer.Option(
        "--coverage", help="list every rule with the number of cases in which it fired, and "
        "every threshold with the cases below, at and above it; fail when one is never "
        "exercised")] = False,
    warn_uncovered: Annotated[bool, typer.Option(
        "--warn-uncovered", help="with --coverage: only warn about what was never "
        "exercised")] = False,
) -> None:
    """Run test vignettes (a patient and what the rules must decide) and report each case.

    Example: mgassist rules test --coverage
    """
    from ._rules_commands import run_rules_test

    code = run_rules_test(paths or [], rules_path=rules, show_coverage=coverage,
                          warn_uncovered=warn_uncovered)
    if code:
        raise typer.Exit(code)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str | None, typer.Argument(
        help="a step, finding, risk factor, threshold or predicate id (default: all, as a "
        "table)", show_default=False)] = None,
    rules: RulesOption = None,
) -> None:
    """Show the rule set as a table (id, when, severity, status, citations), or one rule in
    full with its references; both with the rule set's version and sha256.

    Example: mgassist rules show correct-mg-before-k
    """
    from ._rules_commands import run_rules_show

    code = run_rules_show(rule_id, rules_path=rules)
    if code:
        raise typer.Exit(code)


def _load(path: Path | None, *, as_json: bool) -> Any:
    from ._commands import load_or_report

    loaded = load_or_report(path, as_json=as_json)
    if isinstance(loaded, int):
        raise typer.Exit(loaded)
    return loaded


def _input_failure(errors: tuple[InputError, ...] | list[InputError], *, as_json: bool) -> NoReturn:
    from ._commands import report_input_errors

    raise typer.Exit(report_input_errors(errors, as_json=as_json))


def run_app() -> int:
    """Run the typer application on sys.argv; usage errors become exit 2 (JSON with --json)."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # usage errors: unknown option, missing value...
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"error: {exc.format_message()}\n")
        if "--json" in sys.argv[1:]:
            field = getattr(getattr(exc, "param", None), "name", None) or "arguments"
            sys.stdout.write(json.dumps({"error": {"field": field,
                                                   "message": exc.format_message()}}) + "\n")
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("interrupted\n")
        return 130
    return code if isinstance(code, int) else 0


def main() -> None:
    """Console entry point (see ``_entry.main``)."""
    from ._entry import main as entry

    entry()
