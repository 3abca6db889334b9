"""The summary row (``batch --format csv|parquet``, ``assess_arrow``) against an oracle written
here from the JSON output alone, over the population of tests/test_population.py and the fuzzed
records of tests/test_fuzz_inputs.py: the differential harness any faster row producer must
pass (add it to ROW_PRODUCERS). Also: the column list as ``mgassist schema summary`` and
docs/scale.md give it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_fuzz_inputs import records as fuzz_records
from test_population import POPULATION, SEED, make_population

from mgassist import Assessment, InputError, RuleSet, assess_records
from mgassist._core.summary import COLUMN_NAMES, COLUMNS, LIST_SEPARATOR, error_row, summary_row
from mgassist._shell.batch_output import Failure, outcome
from mgassist._shell.batch_records import Record

REPO = Path(__file__).resolve().parent.parent


def oracle_row(data: dict[str, Any]) -> dict[str, Any]:
    """The summary row of one parsed JSON Lines line of ``mgassist batch``, by the column
    descriptions of docs/scale.md (written from the JSON, not from mgassist's code)."""
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row["id"], row["line"] = data["id"], data["line"]
    if "error" in data:
        row.update(error_field=data["error"]["field"], error_message=data["error"]["message"],
                   error_count=len(data["errors"]))
        assert data["errors"][0] == data["error"]
        return row
    findings = data["findings"]
    severities = [finding["severity"] for finding in findings]
    row.update(status=data["status"], decided_by=data["decided_by"],
               finding_ids=";".join(finding["id"] for finding in findings) or None,
               critical_count=severities.count("critical"),
               warning_count=severities.count("warning"), info_count=severities.count("info"))
    regimen = data["regimen"]
    if regimen is not None:
        row.update(regimen_product_id=regimen["product_id"],
                   regimen_elemental_mmol_per_day=regimen["elemental_mmol_per_day"],
                   regimen_elemental_mg_per_day=regimen["elemental_mg_per_day"],
                   regimen_product_mg_per_day=regimen["product_mg_per_day"],
                   dose_basis=regimen["dose_basis"])
    derived = data["derived"]
    row.update(crcl_ml_min=derived["crcl_ml_min"], crcl_method=derived["crcl_method"],
               mg_mmol_l=derived["mg_mmol_l"],
               meds_not_recognised=";".join(derived["meds_not_recognised"]) or None)
    return row


def engine_rows(raws: Sequence[Any], rules: RuleSet) -> list[dict[str, Any]]:
    """The rows as batch --format csv|parquet makes them: the per-record engine, then the
    summary row."""
    memo: dict[Any, Any] = {}
    rows = []
    for line, raw in enumerate(raws, start=1):
        record = Record(line, raw) if isinstance(raw, dict) else Record(line, None, NOT_OBJECT)
        result = outcome(record, rules, memo)
        rows.append(error_row(line, result.id, result.errors) if isinstance(result, Failure)
                    else summary_row(line, result))
    return rows


NOT_OBJECT = InputError("record", "", "is not a JSON object", "one JSON object per line")


def arrow_rows(raws: Sequence[Any], rules: RuleSet) -> list[dict[str, Any]]:
    """The rows of mgassist.assess_arrow, given the records as a table of JSON-typed cells
    (only records whose values Arrow can hold in one column: text)."""
    import pyarrow as pa

    from mgassist import assess_arrow

    names = sorted({key for raw in raws for key in raw})
    table = pa.table({name: pa.array([raw.get(name) for raw in raws], type=pa.string())
                      for name in names})
    return [row for batch in assess_arrow([table], rules=rules) for row in batch.to_pylist()]


def decided_rows(raws: Sequence[Any], rules: RuleSet) -> list[dict[str, Any]]:
    """The rows as batch --format csv|parquet and assess_arrow make them: from the decision
    alone (``decided_row``), without the assessment's texts."""
    memo: dict[Any, Any] = {}
    rows = []
    for line, raw in enumerate(raws, start=1):
        record = Record(line, raw) if isinstance(raw, dict) else Record(line, None, NOT_OBJECT)
        result = outcome(record, rules, memo, summary=True)
        assert not isinstance(result, Assessment), "a summary outcome built the assessment"
        rows.append(error_row(line, result.id, result.errors) if isinstance(result, Failure)
                    else result.row)
    return rows


# name -> a function from raw records to summary rows; every one must equal the oracle's rows.
ROW_PRODUCERS: dict[str, Callable[[Sequence[Any], RuleSet], list[dict[str, Any]]]] = {
    "engine": engine_rows,
    "decided": decided_rows,
}


def oracle_rows(raws: Iterable[Any], rules: RuleSet) -> list[dict[str, Any]]:
    return [oracle_row(data) for data in assess_records(raws, rules=rules)]


def first_difference(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> str | None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(COLUMN_NAMES), list(g)
        if g != w:
            columns = [name for name in COLUMN_NAMES if g[name] != w[name]]
            return f"line {w['line']}: " + "; ".join(f"{c}: got {g[c]!r}, want {w[c]!r}"
                                                     for c in columns)
    return None


@pytest.fixture(scope="module")
def population() -> list[dict[str, Any]]:
    return make_population(POPULATION, SEED)


@pytest.mark.parametrize("producer", sorted(ROW_PRODUCERS))
def test_rows_equal_the_oracle_over_the_population(producer: str, rules: RuleSet,
                                                   population: list[dict[str, Any]]) -> None:
    want = oracle_rows(population, rules)
    assert {row["status"] for row in want} >= {"supplement", "urgent", "maintain"}
    assert any(row["error_field"] for row in want)  # errors are in the population too
    assert any(row["meds_not_recognised"] for row in want)
    problem = first_difference(ROW_PRODUCERS[producer](population, rules), want)
    assert problem is None, problem


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(raws=fuzz_records().map(lambda record: [record]))
def test_rows_equal_the_oracle_over_fuzzed_records(raws: list[Any], rules: RuleSet) -> None:
    want = oracle_rows(raws, rules)
    for producer in sorted(ROW_PRODUCERS):
        problem = first_difference(ROW_PRODUCERS[producer](raws, rules), want)
        assert problem is None, f"{producer}: {problem}"


def as_text(value: Any) -> str:
    """A JSON value as a CSV cell would hold it."""
    if isinstance(value, list):
        return "; ".join(as_text(item) for item in value)
    if isinstance(value, dict) and set(value) == {"value", "unit"}:
        return f"{value['value']} {value['unit']}"
    return str(value)


def test_arrow_rows_equal_the_oracle_for_text_records(rules: RuleSet,
                                                      population: list[dict[str, Any]]) -> None:
    """assess_arrow reads columns as batch reads a CSV's (text cells; null or blank is not
    given): the population written as text, through a pyarrow table, against the oracle of the
    same text records as JSON."""
    texts = [{key: as_text(value) for key, value in raw.items()} for raw in population[:3000]]
    texts = [raw for raw in texts if all(value.strip() for value in raw.values())]
    assert len(texts) > 2000
    want = oracle_rows(texts, rules)
    assert sum(row["error_field"] is None for row in want) > 1000
    problem = first_difference(arrow_rows(texts, rules), want)
    assert problem is None, problem


def test_the_oracle_reads_a_hand_checked_line(rules: RuleSet) -> None:
    """The oracle itself, on one record whose row was worked out by hand: Mg 0.6 mmol/L and
    CrCl 80 mL/min, the standard start of magnesium oxide (12 mmol = 291.7 mg elemental, 483.6
    mg of the salt, README), and an unknown medicine listed as not recognised."""
    (row,) = oracle_rows([{"id": "a", "mg": "0.6 mmol/L", "crcl": "80 mL/min",
                           "meds": ["atorvastatin"]}], rules)
    assert row["status"] == "supplement" and row["id"] == "a" and row["line"] == 1
    assert row["regimen_product_id"] == "magnesium-oxide" and row["dose_basis"] == \
        "standard-start"
    assert (row["regimen_elemental_mmol_per_day"], row["regimen_elemental_mg_per_day"],
            row["regimen_product_mg_per_day"]) == (12.0, 291.7, 483.6)
    assert (row["crcl_ml_min"], row["crcl_method"], row["mg_mmol_l"]) == (80.0, "reported", 0.6)
    assert row["meds_not_recognised"] == "atorvastatin"
    assert "hypomagnesemia" in row["finding_ids"].split(LIST_SEPARATOR)
    assert row["error_field"] is None
    (bad,) = oracle_rows([{"id": 3, "mg": "0.6", "k": "x"}], rules)
    assert (bad["id"], bad["status"], bad["error_field"], bad["error_count"]) == \
        ("3", None, "mg", 2)


# --- the column list, where users read it ----------------------------------------------------

def test_schema_summary_lists_the_columns_in_order(cli: Any) -> None:
    result = cli("schema", "summary")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert list(schema["properties"]) == list(COLUMN_NAMES) == schema["required"]
    assert {name: prop["x-arrow-type"] for name, prop in schema["properties"].items()} == \
        {column.name: column.type for column in COLUMNS}


def test_the_docs_table_lists_the_columns_in_order() -> None:
    doc = (REPO / "docs" / "scale.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `([a-z_]+)` \| (string|int64|float64) \| (.+?) \|$", doc, re.M)
    assert [(name, kind) for name, kind, _ in table] == \
        [(column.name, column.type) for column in COLUMNS]
    assert [text for _, _, text in table] == [column.description for column in COLUMNS]
