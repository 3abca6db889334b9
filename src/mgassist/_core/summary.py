"""The summary row: one flat row per record for analysis (``batch --format csv|parquet``,
``assess_arrow``), the single definition of what each column holds.

    COLUMNS                         -> the columns, in order, with their type and meaning
    summary_row(line, assessment)   -> the row of an assessed record
    decided_row(line, patient, rules) -> the same row, from the decision alone (faster)
    error_row(line, id, errors)     -> the row of a record that could not be assessed

A row is a dict keyed by the column names in ``COLUMNS`` order. Types: ``string`` (str),
``int64`` (int), ``float64`` (float); every column may be null (None): an error row has only
``id``, ``line`` and the error columns; an assessed row has no error. A list (finding ids,
medications not recognised) is its items joined with ``;`` in output order, and null when
empty, so that a CSV's empty cell always reads back as null. Numbers are the assessment's own
(already rounded as the JSON prints them), never re-rounded here.

Any faster producer of these rows must give rows equal to these functions' (a differential test
holds it to that: tests/test_summary.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .assessment import Assessment, Regimen
from .contract import CrclMethod, Severity, Status
from .engine import decide_patient
from .errors import InputError
from .patient import Patient
from .ruleset import RuleSet

__all__ = ["COLUMNS", "COLUMN_NAMES", "Column", "LIST_SEPARATOR", "decided_row", "error_row",
           "summary_row"]

ColumnType = Literal["string", "int64", "float64"]
LIST_SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the summary: its name, its type and what it holds."""

    name: str
    type: ColumnType
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("id", "string", "the record's id, as in the JSON output (null when not given)"),
    Column("line", "int64", "the line of the input where the record starts"),
    Column("status", "string", "the decision (null for an error row)"),
    Column("decided_by", "string", "the id of the decision step that set the status"),
    Column("finding_ids", "string", "the ids of the findings, in output order, ';'-joined "
                                    "(null when none)"),
    Column("critical_count", "int64", "findings of severity critical"),
    Column("warning_count", "int64", "findings of severity warning"),
    Column("info_count", "int64", "findings of severity info"),
    Column("regimen_product_id", "string", "the product of the regimen (null without a "
                                           "regimen)"),
    Column("regimen_elemental_mmol_per_day", "float64", "the regimen's elemental magnesium, "
                                                        "mmol/day"),
    Column("regimen_elemental_mg_per_day", "float64", "the regimen's elemental magnesium, "
                                                      "mg/day"),
    Column("regimen_product_mg_per_day", "float64", "the regimen's daily mass of the product "
                                                    "(the salt), mg/day"),
    Column("dose_basis", "string", "why the regimen has its dose (standard-start, step-up, "
                                   "reduced, regimen-maximum)"),
    Column("crcl_ml_min", "float64", "the renal value the bands used, mL/min (an eGFR's "
                                     "value when crcl_method is egfr)"),
    Column("crcl_method", "string", "where that value came from (reported, cockcroft-gault, "
                                    "egfr)"),
    Column("mg_mmol_l", "float64", "serum magnesium in mmol/L"),
    Column("meds_not_recognised", "string", "medication names that map to no class, "
                                            "';'-joined (null when none)"),
    Column("error_field", "string", "an error row: the field of the first error"),
    Column("error_message", "string", "an error row: the first error's message"),
    Column("error_count", "int64", "an error row: how many fields were refused"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)

_CRITICAL, _WARNING, _INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO


def summary_row(line: int, assessment: Assessment) -> dict[str, Any]:
    """The summary row of an assessed record that starts at ``line``."""
    derived = assessment.derived
    return _row(assessment.id, line, assessment.status, assessment.decided_by,
                assessment.findings, assessment.regimen, derived.crcl_ml_min,
                derived.crcl_method, derived.mg_mmol_l, derived.meds_not_recognised)


def decided_row(line: int, patient: Patient, rules: RuleSet) -> dict[str, Any]:
    """``summary_row(line, evaluate_patient(patient, rules))``, from the decision alone: no
    text is filled and no Assessment built, which the summary formats do not show. The same
    row (tests/test_summary.py holds both equal over the population and fuzz sets)."""
    renal, _, outcome = decide_patient(patient, rules)
    step = outcome.step
    return _row(patient.id, line, outcome.status, step.id if step else "none",
                outcome.findings, outcome.regimen,
                None if renal.crcl is None else round(renal.crcl.canonical, 2), renal.method,
                None if patient.mg is None else round(patient.mg.canonical, 4),
                patient.meds_not_recognised)


class _Found(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...


def _row(record_id: str | None, line: int, status: Status, decided_by: str,
         findings: Sequence[_Found], regimen: Regimen | None, crcl_ml_min: float | None,
         crcl_method: CrclMethod | None, mg_mmol_l: float | None,
         not_recognised: Sequence[str]) -> dict[str, Any]:
    critical = warning = info = 0
    for finding in findings:
        severity = finding.severity
        if severity is _CRITICAL:
            critical += 1
        elif severity is _WARNING:
            warning += 1
        elif severity is _INFO:
            info += 1
    return {
        "id": record_id,
        "line": line,
        "status": status.value,
        "decided_by": decided_by,
        "finding_ids": LIST_SEPARATOR.join([f.id for f in findings]) or None,
        "critical_count": critical,
        "warning_count": warning,
        "info_count": info,
        "regimen_product_id": regimen.product_id if regimen is not None else None,
        "regimen_elemental_mmol_per_day":
            regimen.elemental_mmol_per_day if regimen is not None else None,
        "regimen_elemental_mg_per_day":
            regimen.elemental_mg_per_day if regimen is not None else None,
        "regimen_product_mg_per_day":
            regimen.product_mg_per_day if regimen is not None else None,
        "dose_basis": regimen.dose_basis.value if regimen is not None else None,
        "crcl_ml_min": crcl_ml_min,
        "crcl_method": crcl_method.value if crcl_method is not None else None,
        "mg_mmol_l": mg_mmol_l,
        "meds_not_recognised": LIST_SEPARATOR.join(not_recognised) or None,
        "error_field": None,
        "error_message": None,
        "error_count": None,
    }


def error_row(line: int, record_id: str | None, errors: Sequence[InputError]
              ) -> dict[str, Any]:
    """The summary row of a record that could not be assessed (``errors``: at least one, in
    the order of the JSON error line's ``errors``)."""
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    first = errors[0]
    row.update(id=record_id, line=line, error_field=first.field, error_message=first.message(),
               error_count=len(errors))
    return row
