"""The ``mgassist`` command: parse arguments, load, call the core, render, map errors to exits.

Exit codes (a contract, printed at the end of every command's --help by ``_epilog``):
  0    an assessment was produced, whatever its status (or: the rules are valid)
  1    ``rules validate``/``rules test``: problems found; ``batch``: some records had errors;
       ``interview``: left with Ctrl-D (end of input)
  2    invalid input or unusable arguments (the message names the flag, the value and what is
       accepted); with --json also {"error": {"field": ..., "message": ...}} on stdout
  3    internal error (a bug): one line on stderr, never a traceback; MGASSIST_DEBUG=1 shows it
  130  interrupted (Ctrl-C)

Help is plain click text (no rich), so docs/cli-reference.md is generated from it
(scripts/cli_reference.py) and checked by tests/test_cli_reference.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Annotated, Any, NoReturn

import typer

from mgassist._core.errors import InputError, RulesErrors
from mgassist._core.fields import FIELDS

from .cli_help import BAD_INPUT, BUG, CTRL_C, HelpCommand, epilog, metavar
from .exit_codes import ExitCode

__all__ = ["app", "run_app"]

app = typer.Typer(
    name="mgassist",
    help="Decision support for oral magnesium supplementation, from cited YAML rules. "
         "It supports, and does not replace, clinical judgement.",
    epilog=epilog(
        ['mgassist assess --mg "0.6 mmol/L" --crcl "80 mL/min"',
         "mgassist interview",
         "mgassist assess -h"],
        [(ExitCode.OK, "success (assess: an assessment was produced, whatever its status)"),
         (ExitCode.PROBLEMS, "rules validate/test: problems; batch: some records had errors;"),
         (None, "interview: left with Ctrl-D"),
         *BAD_INPUT, BUG, CTRL_C]),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(
    help="Work with rule sets: validate, test with vignettes, show.",
    epilog=epilog(["mgassist rules validate my-rules/",
                    "mgassist rules test --coverage --rules my-rules/",
                    "mgassist rules show correct-mg-before-k"],
                   [(ExitCode.OK, "success"),
                    (ExitCode.PROBLEMS, "rules validate/test: problems found"),
                    (ExitCode.INPUT, "unusable arguments or rules"), BUG]),
    no_args_is_help=True, rich_markup_mode=None)
app.add_typer(rules_app, name="rules")


def _version(value: bool) -> None:
    if value:
        from .commands import version_text

        typer.echo(version_text())
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", help="print the version of mgassist and of its bundled rules, then exit",
        is_eager=True, callback=_version)] = False,
) -> None:
    pass


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
    show_default=False, parser=_rule_path, metavar="PATH")]
def _opt(name: str) -> Any:
    spec = next(f for f in FIELDS if f.name == name)
    hint = " (see `mgassist units`)" if spec.kind in ("quantity", "number") else ""
    hint = " (see `mgassist vocab`)" if spec.vocabulary else hint
    return typer.Option(spec.flag, help=spec.help + hint, show_default=False,
                        metavar=metavar(spec))


class _NoPatientValue(typer.BadParameter):
    """``assess`` without a patient value: its help, then the error, on stderr (exit 2)."""

    def __init__(self, ctx: typer.Context) -> None:
        super().__init__("no patient value was given: give at least one, such as --mg with its "
                         "unit (the options are listed above)", ctx=ctx)

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[Any] | None = None) -> None:
        assert self.ctx is not None
        typer.echo(self.ctx.get_help() + "\n", err=True)
        typer.echo(f"Error: {self.format_message()}", err=True)


# Every patient flag is declared as a list, so that a single-value flag given twice reaches
# run_assess (which refuses it, naming the flag) instead of click keeping the last one silently.
Values = list[str] | None


@app.command(cls=HelpCommand, epilog=epilog(
    ['mgassist assess --mg "0.6 mmol/L" --crcl "80 mL/min"',
     'mgassist assess --mg "1.6 mg/dL" --creatinine "106 umol/L" --age 78 \\',
     '    --sex female --weight "154 lb" --med furosemide --med omeprazole',
     'mgassist assess --mg "0.6 mmol/L" --egfr ">90 mL/min/1.73m2" --json',
     'mgassist assess --mg "0.6 mmol/L" --crcl "25 mL/min" --explain',
     "mgassist assess --fhir bundle.json --as-of 2026-11-29 --full"],
    [(ExitCode.OK, "an assessment was produced, whatever its status"),
     (ExitCode.INPUT, "invalid input or arguments: each error names the flag, the value"),
     (None, 'and what is accepted (with --json also {"error": ...} on stdout)'), BUG]))
def assess(
    ctx: typer.Context,
    mg: Annotated[Values, _opt("mg")] = None,
    k: Annotated[Values, _opt("k")] = None,
    ca: Annotated[Values, _opt("ca")] = None,
    albumin: Annotated[Values, _opt("albumin")] = None,
    creatinine: Annotated[Values, _opt("creatinine")] = None,
    crcl: Annotated[Values, _opt("crcl")] = None,
    egfr: Annotated[Values, _opt("egfr")] = None,
    age: Annotated[Values, _opt("age")] = None,
    sex: Annotated[Values, _opt("sex")] = None,
    weight: Annotated[Values, _opt("weight")] = None,
    height: Annotated[Values, _opt("height")] = None,
    med: Annotated[Values, _opt("meds")] = None,
    condition: Annotated[Values, _opt("conditions")] = None,
    symptom: Annotated[Values, _opt("symptoms")] = None,
    indication: Annotated[Values, _opt("indication")] = None,
    current_dose: Annotated[Values, _opt("current_dose")] = None,
    days_on_dose: Annotated[Values, _opt("days_on_dose")] = None,
    crcl_weight: Annotated[Values, _opt("crcl_weight")] = None,
    fhir: Annotated[str | None, typer.Option(
        "--fhir", help="read the patient from a FHIR R4 Bundle or resource (JSON file, or - "
        "for stdin); flags given beside it override its values, and the output says so "
        "(docs/fhir.md)", show_default=False, metavar="FILE")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="with --fhir: the date ages and result ages are judged at "
        "(YYYY-MM-DD; default today)", show_default=False, metavar="DATE")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the assessment as JSON")] = False,
    explain: Annotated[bool, typer.Option(
        "--explain", help="after the report, trace every rule in evaluation order: fired or "
        "not and why, with the values, thresholds and comparisons (with --json: an "
        "\"explain\" array)")] = False,
    full: Annotated[bool, typer.Option(
        "--full", help="the full report: every finding with its message and sources, the "
        "regimen in detail, the inputs as entered and as used, the references in full "
        "(default: the brief report)")] = False,
    rules: RulesOption = None,
) -> None:
    """Assess one patient: decision, findings, regimen, monitoring and references.

    Give each laboratory or body value with its unit (see `mgassist units`): units are never
    guessed. Give each flag once; repeat --med, --condition and --symptom for several. A flag
    given an empty value is an error, not "not given": leave the flag out instead.
    """
    given = {"mg": mg, "k": k, "ca": ca, "albumin": albumin, "creatinine": creatinine,
             "crcl": crcl, "egfr": egfr, "age": age, "sex": sex, "weight": weight,
             "height": height, "meds": med, "conditions": condition, "symptoms": symptom,
             "indication": indication, "current_dose": current_dose,
             "days_on_dose": days_on_dose, "crcl_weight": crcl_weight}
    values = {name: list(v) for name, v in given.items() if v}
    if not values and fhir is None:
        raise _NoPatientValue(ctx)
    from .commands import run_assess

    code = run_assess(values, rules_path=rules, as_json=as_json, explain=explain, full=full,
                      fhir=fhir, as_of=as_of)
    if code:
        raise typer.Exit(code)


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist interview", "mgassist interview --save assessment.json",
     "mgassist interview --json --rules my-rules/"],
    [(ExitCode.OK, "an assessment was produced, whatever its status"),
     (ExitCode.PROBLEMS, "left with Ctrl-D (end of input): nothing was assessed or saved"),
     (ExitCode.INPUT, "unusable arguments, or standard input is not a terminal"), BUG,
     (ExitCode.INTERRUPTED, "left with Ctrl-C: nothing was assessed or saved")]))
def interview(
    as_json: Annotated[bool, typer.Option("--json", help="print the assessment as JSON")] = False,
    save: Annotated[Path | None, typer.Option(
        "--save", help="also write the JSON assessment to this file", show_default=False,
        metavar="FILE")] = None,
    rules: RulesOption = None,
) -> None:
    """Answer questions about one patient, one at a time, then see the same report as assess.

    At the end it prints the one-shot `mgassist assess` command for the same patient.
    """
    from mgassist._core.engine import evaluate_patient
    from mgassist._files import check_writable, write_atomically

    from .commands import show
    from .interview import TerminalPrompter, run_interview, stdin_is_terminal, wants_full

    if not stdin_is_terminal():
        typer.echo("error: interview asks its questions at a terminal, and stdin is not one. "
                   "From a script, use `mgassist assess` with flags for one patient (see "
                   "`mgassist assess --help`; --json for JSON), or `mgassist batch FILE` "
                   "for many.", err=True)
        raise typer.Exit(ExitCode.INPUT)
    problem = check_writable("save", save) if save is not None else None
    if problem is not None:
        _input_failure([problem], as_json=as_json)
    loaded = _load(rules, as_json=as_json)
    extra = (["--json"] if as_json else []) + (["--rules", str(rules)] if rules else [])
    prompter = TerminalPrompter()
    try:
        done = run_interview(loaded, prompter, command_extra=extra)
    except KeyboardInterrupt:
        typer.echo("\ninterview cancelled (Ctrl-C): nothing was assessed or saved.", err=True)
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except EOFError:
        typer.echo("\ninterview ended (end of input): nothing was assessed or saved.",
                   err=True)
        raise typer.Exit(ExitCode.PROBLEMS) from None
    assessment = evaluate_patient(done.patient, loaded)
    typer.echo(None, err=True)
    show(assessment, as_json=as_json, more=None)
    if save is not None:
        write_atomically(save, assessment.to_json(indent=True) + "\n")
        typer.echo(f"Saved the JSON assessment to {save}.", err=True)
    if not as_json and wants_full(prompter):
        show(assessment, as_json=False, full=True)
    typer.echo(f"The same assessment in one command:\n  {done.command(extra)}", err=True)


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist batch ward.csv --output assessments.jsonl",
     "mgassist batch patients.jsonl > assessments.jsonl",
     "mgassist batch cohort.csv --format parquet -o summary.parquet --jobs 0",
     "export-labs | mgassist batch - --input-format csv --format csv",
     "mgassist batch --fhir bundles.ndjson --as-of 2026-11-29 -o assessments.jsonl"],
    [(ExitCode.OK, "every record was assessed"),
     (ExitCode.PROBLEMS,
      "some records had errors (each has an error line; all lines were written)"),
     (ExitCode.INPUT, "unusable arguments or input"), BUG,
     (ExitCode.INTERRUPTED, "interrupted (Ctrl-C): no output file is left, and an existing")
     , (None, "one is untouched")]))
def batch(
    source: Annotated[str, typer.Argument(
        metavar="INPUT", help="JSON Lines (.jsonl) or CSV (.csv) file of patients, or - for "
        "standard input (with --fhir: Bundles, see below)", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write here (atomically) instead of stdout",
        show_default=False, metavar="FILE")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="jsonl: the full assessment per record; csv or parquet: one summary "
        "row per record (columns: `mgassist schema summary`; parquet needs "
        "pip install 'mgassist[parquet]')", metavar="[jsonl|csv|parquet]")] = "jsonl",
    input_format: Annotated[str, typer.Option(
        "--input-format", help="auto (from the suffix, else the first character), jsonl or "
        "csv", metavar="[auto|jsonl|csv]")] = "auto",
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", help="worker processes (0: one per CPU); the output is the same "
        "whatever the number", metavar="N")] = 1,
    fhir: Annotated[bool, typer.Option(
        "--fhir", help="INPUT holds FHIR R4 Bundles: NDJSON (one Bundle per line), a folder "
        "of Bundle .json files, or - for standard input; each line out carries its sources "
        "(docs/fhir.md)")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="with --fhir: the date ages and result ages are judged at "
        "(YYYY-MM-DD; default today)", show_default=False, metavar="DATE")] = None,
    rules: RulesOption = None,
) -> None:
    """Assess many patients: one output line (or row) per input record, in input order.

    Keys (JSON) or columns (CSV) are the assess fields in snake_case (mg, crcl, current_dose,
    meds...); several meds in one CSV cell are separated by ';' or ','. A record that cannot be
    assessed gets an error line (or row) naming the field, and the others go on.
    """
    if fhir or as_of is not None:
        from .commands import report_input_errors

        error = _fhir_misuse(fhir=fhir, as_of=as_of, fmt=fmt, input_format=input_format,
                             jobs=jobs)
        if error is not None:
            raise typer.Exit(report_input_errors(
                [error], as_json=False, names={"as_of": "--as-of", "format": "--format",
                                               "input-format": "--input-format",
                                               "jobs": "--jobs"}))
        from .batch_fhir import run_batch_fhir

        code = run_batch_fhir(source, output=output, rules_path=rules, as_of=as_of)
        if code:
            raise typer.Exit(code)
        return
    from .batch_command import run_batch

    code = run_batch(source, output=output, fmt=fmt, rules_path=rules,
                     input_format=input_format, jobs=jobs)
    if code:
        raise typer.Exit(code)


def _fhir_misuse(*, fhir: bool, as_of: str | None, fmt: str, input_format: str, jobs: int
                 ) -> InputError | None:
    """An option that does not go with (or without) ``batch --fhir``, or None."""
    if not fhir:
        return InputError("as_of", as_of or "", "applies to batch --fhir only")
    if input_format != "auto":
        return InputError("input-format", input_format, "does not apply to --fhir (Bundles "
                          "are JSON)")
    if fmt != "jsonl":
        return InputError("format", fmt, "does not apply to --fhir, whose lines carry the "
                          "sources", "jsonl")
    if jobs != 1:
        return InputError("jobs", str(jobs), "does not apply to --fhir", "1")
    return None


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist schema input", "mgassist schema output > assessment.schema.json",
     "mgassist schema summary"],
    [(ExitCode.OK, "the schema was printed"),
     (ExitCode.INPUT, "not input, output or summary"), BUG]))
def schema(
    which: Annotated[str, typer.Argument(
        metavar="input|output|summary", help="input: a patient record; output: an assessment; "
        "summary: a row of batch --format csv|parquet (its columns, in order)")],
) -> None:
    """Print the JSON Schema of a patient record (input), of an assessment (output) or of a
    summary row (summary)."""
    from .schemas import input_schema, output_schema, summary_schema

    schemas = {"input": input_schema, "output": output_schema, "summary": summary_schema}
    if which not in schemas:
        _input_failure([InputError("schema", which, "is not a schema",
                                   "input, output or summary")], as_json=False)
    typer.echo(json.dumps(schemas[which](), indent=2, ensure_ascii=False))


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist vocab", "mgassist vocab meds", "mgassist vocab conditions --rules my-rules/"],
    [(ExitCode.OK, "the vocabulary was listed"),
     (ExitCode.INPUT, "not a vocabulary, or unusable rules"), BUG]))
def vocab(
    kind: Annotated[str | None, typer.Argument(
        help="meds, conditions, symptoms or indications (default: all)", metavar="KIND",
        show_default=False)] = None,
    rules: RulesOption = None,
) -> None:
    """List the accepted ids and the names that map to them."""
    loaded = _load(rules, as_json=False)
    kinds = list(loaded.vocabulary.labels)
    if kind is not None and kind not in kinds:
        _input_failure([InputError("kind", kind, "is not a vocabulary", ", ".join(kinds))],
                       as_json=False)
    from .questions import vocabulary_lines

    for name in [kind] if kind else kinds:
        typer.echo(f"{name}:")
        for line in vocabulary_lines(loaded, name):
            typer.echo(f"  {line}")


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist units", "mgassist units --rules my-rules/"],
    [(ExitCode.OK, "the units were listed"), (ExitCode.INPUT, "unusable rules"), BUG]))
def units(rules: RulesOption = None) -> None:
    """List each quantity with its accepted units, an example and its plausible range."""
    loaded = _load(rules, as_json=False)
    for spec in FIELDS:
        rule = loaded.quantities.get(spec.name)
        if rule is None:
            continue
        accepted = ", ".join(rule.table.units)
        if rule.table.plain_number:
            accepted = f"a plain number ({rule.shown_as or rule.table.canonical})"
        typer.echo(f"{spec.flag:16} {rule.label}: {accepted}; e.g. {rule.example!r}; "
                   f"plausible {rule.plausible_text}")


@app.command(cls=HelpCommand, epilog=epilog(
    ["mgassist serve", "mgassist serve --port 9000 --cors-origin https://ehr.example.org",
     "mgassist serve --trusted-issuer https://ehr.example.org=https://ehr.example.org/jwks"],
    [(ExitCode.OK, "the server was stopped (Ctrl-C)"),
     (ExitCode.INPUT, "unusable options or rules, or the serve extra is not installed"), BUG]))
def serve(
    host: Annotated[str, typer.Option(
        metavar="ADDRESS", help="address to listen on (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="port to listen on", min=1,
                                      max=65535)] = 8080,
    trusted_issuer: Annotated[list[str] | None, typer.Option(
        "--trusted-issuer", metavar="ISS=JWKS_URL", show_default=False,
        help="verify the EHR's bearer JWT: an issuer and the URL of its JWK Set (repeat for "
        "several); without it, no token is checked")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", metavar="ORIGIN", show_default=False,
        help="a browser origin allowed to call the service (repeat for several)")] = None,
    public_url: Annotated[str | None, typer.Option(
        "--public-url", metavar="URL", show_default=False,
        help="the base URL the EHR calls (the JWT audience is built from it; default: "
        "http://HOST:PORT)")] = None,
    docs_url: Annotated[str | None, typer.Option(
        "--docs-url", metavar="URL", show_default=False,
        help="where the cards' source link points (default: this service's /about)")] = None,
    max_request_bytes: Annotated[int, typer.Option(
        "--max-request-bytes", metavar="N", help="larger requests are refused (413)")
    ] = 1_048_576,
    fhir_timeout: Annotated[float, typer.Option(
        "--fhir-timeout", metavar="SECONDS",
        help="timeout of each request to the EHR's FHIR server (no retries)")] = 5.0,
    feedback_log: Annotated[Path | None, typer.Option(
        "--feedback-log", metavar="PATH", show_default=False,
        help="append feedback (no patient data) to this JSON Lines file (default: the log)")
    ] = None,
    rules: RulesOption = None,
) -> None:
    """Serve CDS Hooks 2.0 (patient-view, order-select, order-sign) to an EHR; needs the
    optional extra: pip install 'mgassist[serve]'."""
    from mgassist._serve.run import INSTALL_HINT, ServeOptionError, missing_packages, run_serve

    missing = missing_packages()
    if missing:
        typer.echo(f"error: mgassist serve needs {', '.join(missing)}, of the optional extra "
                   f"'serve': {INSTALL_HINT}", err=True)
        raise typer.Exit(ExitCode.INPUT)
    loaded = _load(rules, as_json=False)
    try:
        run_serve(host=host, port=port, rules=loaded, public_url=public_url,
                  docs_url=docs_url, trusted_issuers=trusted_issuer or [],
                  cors_origins=cors_origin or [], max_request_bytes=max_request_bytes,
                  fhir_timeout=fhir_timeout, feedback_log=feedback_log)
    except ServeOptionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.INPUT) from None


@rules_app.command("validate", cls=HelpCommand, epilog=epilog(
    ["mgassist rules validate", "mgassist rules validate my-rules/ --strict"],
    [(ExitCode.OK, "the rule set is valid (warnings allowed, unless --strict)"),
     (ExitCode.PROBLEMS, "the rule set has problems, or warnings with --strict"),
     (ExitCode.INPUT, "the path does not exist"), BUG]))
def rules_validate(
    path: Annotated[Path | None, typer.Argument(
        help="rule file or folder (default: the bundled rules)", show_default=False,
        parser=_rule_path, metavar="PATH")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="count warnings (rules that can never fire, references never cited) "
        "as problems: exit 1")] = False,
) -> None:
    """Load a rule set and report every problem as file:line (exit 1 if any), then warnings:
    rules that can never fire (where detectable) and references never cited.
    """
    from mgassist._authoring.lint import check_rules

    if path is not None and not path.exists():
        _input_failure([InputError("path", str(path), "does not exist",
                                   "a rule file or a folder of *.yaml rule files")], as_json=False)
    try:
        loaded, warnings = check_rules(path)
    except RulesErrors as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} problem(s); the rule set was not loaded.", err=True)
        raise typer.Exit(ExitCode.PROBLEMS) from None
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"ok: rules {loaded.version} ({loaded.source}), sha256 {loaded.sha256}: "
               f"{len(loaded.steps)} steps, {len(loaded.findings)} findings, "
               f"{len(loaded.thresholds)} thresholds, {len(loaded.references)} references; "
               f"{len(warnings)} warning(s)")
    if strict and warnings:
        raise typer.Exit(ExitCode.PROBLEMS)


@rules_app.command("test", cls=HelpCommand, epilog=epilog(
    ["mgassist rules test", "mgassist rules test --coverage",
     "mgassist rules test my-cases.yaml --rules my-rules/"],
    [(ExitCode.OK, "every case passed (and with --coverage everything was exercised)"),
     (ExitCode.PROBLEMS, "a case failed or, with --coverage, a rule or threshold boundary was"),
     (None, "never exercised (unless --warn-uncovered)"),
     (ExitCode.INPUT, "the rules or the vignette files cannot be used"), BUG]))
def rules_test(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="vignette files or folders (default: the tests/ folder of the rule set)",
        show_default=False, parser=_vignette_path, metavar="PATH")] = None,
    rules: RulesOption = None,
    coverage: Annotated[bool, typer.Option(
        "--coverage", help="list every rule with the number of cases in which it fired, and "
        "every threshold with the cases below, at and above it; fail when one is never "
        "exercised")] = False,
    warn_uncovered: Annotated[bool, typer.Option(
        "--warn-uncovered", help="with --coverage: only warn about what was never "
        "exercised")] = False,
) -> None:
    """Run test vignettes (a patient and what the rules must decide) and report each case."""
    from .rules_commands import run_rules_test

    code = run_rules_test(paths or [], rules_path=rules, show_coverage=coverage,
                          warn_uncovered=warn_uncovered)
    if code:
        raise typer.Exit(code)


@rules_app.command("show", cls=HelpCommand, epilog=epilog(
    ["mgassist rules show", "mgassist rules show correct-mg-before-k"],
    [(ExitCode.OK, "the rules were shown"),
     (ExitCode.INPUT, "not a rule id, or unusable rules"), BUG]))
def rules_show(
    rule_id: Annotated[str | None, typer.Argument(
        help="a step, finding, risk factor, threshold or predicate id (default: all, as a "
        "table)", show_default=False, metavar="ID")] = None,
    rules: RulesOption = None,
) -> None:
    """Show the rule set as a table (id, when, severity, status, citations), or one rule in
    full with its references; both with the rule set's version and sha256.
    """
    from .rules_commands import run_rules_show

    code = run_rules_show(rule_id, rules_path=rules)
    if code:
        raise typer.Exit(code)


def _load(path: Path | None, *, as_json: bool) -> Any:
    from .commands import load_or_fail

    return load_or_fail(path, as_json=as_json)


def _input_failure(errors: tuple[InputError, ...] | list[InputError], *, as_json: bool) -> NoReturn:
    from .commands import report_input_errors

    raise typer.Exit(report_input_errors(errors, as_json=as_json))


def run_app() -> int:
    """Run the typer application on sys.argv; usage errors become exit 2 (JSON with --json)."""
    try:
        code = app(standalone_mode=False, prog_name="mgassist")  # also for python -m mgassist
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
        return ExitCode.INTERRUPTED
    return code if isinstance(code, int) else 0

