"""``mgassist batch``: JSON Lines, CSV and stdin in; one JSON line out per record, in order;
bad records become error lines and cost nobody else; atomic --output; exit codes; and the
assessment of a record equals ``assess --json`` for the same patient."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mgassist import RuleSet
from mgassist._shell.schemas import input_schema, output_schema

Cli = Any

GOOD = {"id": "a", "mg": "0.6 mmol/L", "crcl": "80 mL/min"}


@pytest.fixture(autouse=True)
def _bundled_rules_loaded_once(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    from mgassist._rulebook import loader as _rules_loader
    original = _rules_loader.load_rules
    monkeypatch.setattr(_rules_loader, "load_rules",
                        lambda path=None: rules if path is None else original(path))


def jsonl(path: Path, *lines: Any) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n"
                            for x in lines), encoding="utf-8")
    return path


def out_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_mixed_good_and_bad_records_keep_order_and_count(cli: Cli,
                                                               tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl",
                   GOOD,
                   {"id": "b", "mg": "0.6"},                       # no unit
                   "",                                             # blank: not a record
                   "{not json",
                   [1, 2],
                   {"mg": {"value": 1.5, "unit": "mg/dL"}, "crcl": "45 mL/min",
                    "meds": "furosemide; ppi"},                   # no id: line number
                   {"id": 7, "mg": "1.2 mmol/L", "crcl": "80 mL/min", "magnesium": 1})
    result = cli("batch", str(source))
    assert result.exit_code == 1
    lines = out_lines(result.stdout)
    assert [line["line"] for line in lines] == [1, 2, 4, 5, 6, 7]
    assert [line.get("id") for line in lines] == ["a", "b", None, None, None, "7"]
    assert lines[0]["status"] == "supplement"
    assert lines[1]["error"]["field"] == "mg" and "has no unit" in lines[1]["error"]["message"]
    assert lines[2]["error"]["field"] == "record" and "not valid JSON" in \
        lines[2]["error"]["message"]
    assert lines[3]["error"]["message"] == ("record: is not a JSON object; accepted: one JSON "
                                            "object per line")
    assert lines[4]["status"] == "supplement-with-caution"
    assert lines[4]["inputs"]["meds"] == "furosemide; ppi"
    assert lines[5]["error"]["field"] == "magnesium"
    assert "did you mean 'mg'?" in lines[5]["error"]["message"]


def test_all_good_exits_0(cli: Cli, tmp_path: Path) -> None:
    result = cli("batch", str(jsonl(tmp_path / "in.jsonl", GOOD, {**GOOD, "id": "b"})))
    assert result.exit_code == 0
    assert [x["id"] for x in out_lines(result.stdout)] == ["a", "b"]


def test_csv_with_the_same_column_names(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "ward.csv"
    source.write_text(
        "id,mg,crcl,creatinine,age,sex,weight,meds,current_dose,days_on_dose\n"
        'p1,0.6 mmol/L,80 mL/min,,,,,"furosemide; omeprazole",,\n'
        "p2,1.5 mg/dL,,1.0 mg/dL,50,male,80 kg,ppi,12 mmol/day,10\n"
        "\n"
        "p3,0.6,80 mL/min,,,,,,,\n"
        "p4,0.6 mmol/L,80 mL/min,,,,,,,,\n", encoding="utf-8")
    result = cli("batch", str(source))
    assert result.exit_code == 1
    lines = out_lines(result.stdout)
    assert [(x["id"], x["line"]) for x in lines] == [("p1", 2), ("p2", 3), ("p3", 5),
                                                      ("p4", 6)]  # a long row keeps its id
    assert lines[0]["status"] == "supplement"
    assert lines[0]["inputs"]["meds"] == "furosemide; omeprazole"
    # (140 - 50) * 80 / (72 * 1.0) = 100 mL/min; 1.5 mg/dL = 0.617 mmol/L; 12 mmol/day x 10 d.
    assert lines[1]["derived"]["crcl_ml_min"] == pytest.approx(100, abs=0.1)
    assert {f["id"] for f in lines[1]["findings"]} >= {"step-up-dose"}
    assert lines[2]["error"]["field"] == "mg"
    assert "has 11 cells; the header has 10" in lines[3]["error"]["message"]


def test_csv_with_a_misspelt_column_is_refused_before_any_output(cli: Cli,
                                                                 tmp_path: Path) -> None:
    """(Unknown columns are ignored; one this close to a field's name is refused: see
    tests/test_batch_extracts.py.)"""
    source = tmp_path / "bad.csv"
    source.write_text("id,magnesuim\n1,0.6 mmol/L\n", encoding="utf-8")
    result = cli("batch", str(source))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: header: 'magnesuim' is not a patient field" in result.stderr


def test_stdin_jsonl_and_csv_are_detected(cli_runner_input: Any) -> None:
    data = json.dumps(GOOD) + "\n"
    result = cli_runner_input(["batch", "-"], data)
    assert result.exit_code == 0 and out_lines(result.stdout)[0]["id"] == "a"
    result = cli_runner_input(["batch", "-"], "id,mg,crcl\nz,0.9 mmol/L,80 mL/min\n")
    assert result.exit_code == 0
    assert out_lines(result.stdout)[0]["status"] == "do-not-supplement"
    result = cli_runner_input(["batch", "-", "--input-format", "csv"], data)
    assert result.exit_code == 2  # a JSON line read as a CSV header


@pytest.fixture
def cli_runner_input() -> Any:
    from typer.testing import CliRunner

    from mgassist._shell.cli import app

    def run(args: list[str], text: str) -> Any:
        return CliRunner().invoke(app, args, input=text, catch_exceptions=False)
    return run


def test_invalid_utf8_costs_only_its_record(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"id": "\xff\xfe"}\n'
                       + json.dumps(GOOD).encode() + b"\n")
    result = cli("batch", str(source))
    assert result.exit_code == 1
    lines = out_lines(result.stdout)
    assert len(lines) == 3 and lines[1]["error"]["message"].startswith("record: is not valid")


def test_unusable_arguments_exit_2(cli: Cli, tmp_path: Path) -> None:
    assert cli("batch", str(tmp_path / "missing.jsonl")).exit_code == 2
    source = jsonl(tmp_path / "in.jsonl", GOOD)
    result = cli("batch", str(source), "--output", str(tmp_path / "no" / "out.jsonl"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert cli("batch", str(source), "--format", "xml").exit_code == 2


def test_output_file_is_written_whole(cli: Cli, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", GOOD, {"mg": "x"})
    target = tmp_path / "out.jsonl"
    result = cli("batch", str(source), "--output", str(target))
    assert result.exit_code == 1 and result.stdout == ""
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def default_sigint() -> None:
    """Ctrl-C as at a terminal: a shell starts background jobs (a CI step run with &) with
    SIGINT ignored, and a child would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_run_leaves_no_partial_file(tmp_path: Path) -> None:
    """A real process reading a pipe that never ends is killed with SIGINT mid-way."""
    target = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, "-m", "mgassist", "batch", "-", "--output",
                              str(target)], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=tmp_path, preexec_fn=default_sigint)
    assert child.stdin is not None and child.stderr is not None
    try:
        line = (json.dumps(GOOD) + "\n").encode()
        for _ in range(3000):  # well past the first writes of the output buffer
            child.stdin.write(line)
        child.stdin.flush()
        time.sleep(1.5)
        assert child.poll() is None  # still waiting for more input
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # writing
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)  # stdin stays open: the run cannot end by reaching end of input
        err = child.stderr.read()
    finally:  # never leave the process behind for the next test
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stderr.close()
    assert child.returncode == 130
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary file


def test_an_existing_output_survives_a_failed_run(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("nope\n1\n", encoding="utf-8")
    assert cli("batch", str(bad), "--output", str(target)).exit_code == 2
    assert target.read_text(encoding="utf-8") == "previous\n"


# --- batch == assess --json ------------------------------------------------------------------

FLAG = {"mg": "--mg", "k": "--k", "crcl": "--crcl", "creatinine": "--creatinine",
        "age": "--age", "sex": "--sex", "weight": "--weight", "height": "--height",
        "meds": "--med", "symptoms": "--symptom", "indication": "--indication",
        "current_dose": "--current-dose", "days_on_dose": "--days-on-dose"}

patients = st.fixed_dictionaries({}, optional={
    "mg": st.sampled_from(["0.45 mmol/L", "0.69 mmol/L", "0.70 mmol/L", "1.6 mg/dL",
                           "1.4 mEq/L", "1.2 mmol/L", "0.9 mmol/L", "0.6", "2 mmol"]),
    "k": st.sampled_from(["3.1 mmol/L", "3.5 mEq/L", "4.0 mmol/L"]),
    "crcl": st.sampled_from(["15 mL/min", "25 mL/min", "45 mL/min", "90 mL/min"]),
    "creatinine": st.sampled_from(["1.1 mg/dL", "150 umol/L", "3 mg/dL"]),
    "age": st.sampled_from(["16", "45", "80", "abc"]),
    "sex": st.sampled_from(["female", "male", "f"]),
    "weight": st.sampled_from(["70 kg", "200 lb", "45 kg"]),
    "height": st.sampled_from(["170 cm", "60 in", "1.5 m"]),
    "meds": st.lists(st.sampled_from(["furosemide", "ppi", "doxycycline", "aspirin"]),
                     max_size=3),
    "symptoms": st.lists(st.sampled_from(["seizure", "cramps", "hyporeflexia"]),
                         max_size=2),
    "indication": st.sampled_from(["muscle-cramps", "migraine"]),
    "current_dose": st.sampled_from(["12 mmol/day", "600 mg/day", "0 mmol/day"]),
    "days_on_dose": st.sampled_from(["5", "20"]),
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patient=patients)
def test_batch_line_equals_assess_json(patient: dict[str, Any], cli: Cli,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("eq")
    record = {k: v for k, v in patient.items() if v != []}
    assume(record)  # an empty record is assessed; `assess` without a value is a usage error
    result = cli("batch", str(jsonl(folder / "in.jsonl", record)))
    (line,) = out_lines(result.stdout)
    args = [word for key, value in record.items()
            for item in (value if isinstance(value, list) else [value])
            for word in (FLAG[key], item)]
    single = cli("assess", *args, "--json")
    assert line.pop("line") == 1
    if "error" in line:
        assert result.exit_code == 1 and single.exit_code == 2
        assert line["errors"] == json.loads(single.stdout)["errors"]
    else:
        assert result.exit_code == 0 and single.exit_code == 0
        expected = json.loads(single.stdout)
        expected["inputs"] = record  # batch echoes the record; assess, its flags as a record
        assert line == expected


# --- schemas ---------------------------------------------------------------------------------

def test_printed_schemas_are_the_generated_ones(cli: Cli) -> None:
    assert json.loads(cli("schema", "output").stdout) == output_schema()
    assert json.loads(cli("schema", "input").stdout) == input_schema()
    assert cli("schema", "other").exit_code == 2


def test_output_schema_validates_real_outputs_and_rejects_a_malformed_one(
        cli: Cli, tmp_path: Path) -> None:
    schema = output_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    source = jsonl(tmp_path / "in.jsonl", GOOD,
                   {"mg": "0.6 mmol/L", "crcl": "25 mL/min", "meds": ["ppi"],
                    "conditions": ["chronic-diarrhea"]},
                   {"mg": "0.4 mmol/L"}, {"mg": "0.9 mmol/L", "crcl": "80 mL/min"},
                   {"mg": "0.6 mmol/L", "age": "12", "crcl": "80 mL/min"})
    lines = out_lines(cli("batch", str(source)).stdout)
    for line in lines:
        line.pop("line")
        validator.validate(line)
    broken = dict(lines[0], status="maybe")
    assert not validator.is_valid(broken)
    missing = dict(lines[0])
    del missing["references"]
    assert not validator.is_valid(missing)
    extra = dict(lines[0], surprise=1)
    assert not validator.is_valid(extra)


def test_input_schema_accepts_the_spec_forms_and_rejects_a_bare_number() -> None:
    validator = jsonschema.Draft202012Validator(input_schema())
    validator.validate({"id": 1, "mg": "0.6 mmol/L", "k": {"value": 3.1, "unit": "mmol/L"},
                        "meds": ["furosemide"], "med": "ppi; doxycycline", "age": 70,
                        "crcl_weight": "ideal"})
    assert not validator.is_valid({"mg": 0.6})
    assert not validator.is_valid({"magnesium": "0.6 mmol/L"})
    assert not validator.is_valid({"k": {"value": 3.1}})


# --- batch's memos never change an answer -----------------------------------------------------

_SHARED: dict[str, Any] = {}


@settings(max_examples=300, deadline=None)
@given(patient=patients)
def test_the_parse_memo_and_the_walks_memos_never_change_an_answer(
        patient: dict[str, Any], rules: RuleSet) -> None:
    """The parse memo (per batch) and the core's own (number facts, input rows, references by
    number, the compiled program) stay warm across examples, as across a batch's records;
    the answer must be what a cold evaluation gives."""
    from mgassist import InputErrors, evaluate, parse_patient
    from mgassist._core import engine, inputs_used, walk

    memo = _SHARED.setdefault("memo", {})
    try:
        plain = parse_patient(patient, rules)
    except InputErrors as exc:
        with pytest.raises(InputErrors) as again:
            parse_patient(patient, rules, memo=memo)
        assert [str(e) for e in again.value.errors] == [str(e) for e in exc.errors]
        return
    remembered = parse_patient(patient, rules, memo=memo)
    assert remembered == plain
    warm = evaluate(remembered, rules).to_json()
    memos = (engine._FACTS, inputs_used._ROWS, walk._PROGRAMS)
    kept = [dict(m) for m in memos]
    for m in memos:
        m.clear()
    try:
        cold = evaluate(plain, rules).to_json()
    finally:
        for m, saved in zip(memos, kept, strict=True):
            m.clear()
            m.update(saved)
    assert warm == cold


def test_the_parse_memo_tells_apart_inputs_that_look_alike(rules: RuleSet) -> None:
    from mgassist import InputErrors, parse_patient

    def parsed(record: dict[str, Any], memo: dict[Any, Any] | None) -> str:
        try:
            return repr(parse_patient(record, rules, memo=memo))
        except InputErrors as exc:
            return "; ".join(str(e) for e in exc.errors)

    memo: dict[Any, Any] = {}
    records = [{"mg": {"value": 0.6, "unit": "mmol/L"}, "age": 70},
               {"mg": {"value": 0.6, "unit": "mg/dL"}, "age": 70.0},
               {"mg": {"value": "0.6", "unit": "mmol/L"}, "age": True},
               {"mg": {"value": 0.6, "unit": "mmol/L"}, "age": 70},
               {"mg": {"value": [0.6], "unit": "mmol/L"}, "age": "70"}]
    answers = [parsed(record, memo) for record in records]
    assert answers == [parsed(record, None) for record in records]  # as without a memo
    assert len(set(answers)) == 4 and answers[0] == answers[3]
    assert ("mg", "value-unit", float, 0.6, "mmol/L") in memo  # remembered
    assert ("age", int, 70) in memo and ("age", float, 70.0) in memo
