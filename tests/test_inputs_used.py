"""inputs_used: each input as entered beside the value the rules used, carried by the
Assessment so that the full report reads nothing else."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from mgassist import RuleSet, evaluate, parse_patient
from mgassist._core.assessment import InputUsed
from mgassist._shell.render import render_report

RECORD = {"meds": ["furosemide", "Zzyzx"], "sex": "female", "mg": "1.6 mg/dL",
          "creatinine": "1.2 mg/dL", "age": 70, "weight": "60 kg"}


def test_rows_are_worked_out_by_hand(rules: RuleSet) -> None:
    rows = evaluate(parse_patient(RECORD, rules), rules).inputs_used
    # 1.6 mg/dL = 16 mg/L / 24.305 g/mol = 0.6583 mmol/L (one decimal more than labs print).
    # Cockcroft-Gault, female, no height (actual weight):
    # (140 - 70) x 60 / (72 x 1.2) x 0.85 = 4200 / 86.4 x 0.85 = 41.32 -> 41.3 mL/min.
    assert rows == [
        InputUsed(field="mg", label="serum magnesium", entered="1.6 mg/dL",
                  used="0.658 mmol/L", citations=[]),
        InputUsed(field="creatinine", label="serum creatinine", entered="1.2 mg/dL",
                  used="1.200 mg/dL", citations=[]),
        InputUsed(field="age", label="age", entered="70", used="70.0 years", citations=[]),
        InputUsed(field="sex", label="sex", entered="female", used="", citations=[]),
        InputUsed(field="weight", label="body weight", entered="60 kg", used="60.00 kg",
                  citations=[]),
        InputUsed(field="meds", label="medications", entered="furosemide, Zzyzx",
                  used="loop diuretic; not recognised: Zzyzx", citations=[]),
        InputUsed(field="crcl", label="renal function used", entered="-",
                  used="41.3 mL/min (Cockcroft-Gault: actual weight 60 kg)",
                  citations=["cockcroft1976-nephron"]),
    ]


def test_rows_keep_one_order_whatever_order_the_record_has(rules: RuleSet) -> None:
    forward = evaluate(parse_patient(RECORD, rules), rules).inputs_used
    backward = evaluate(parse_patient(dict(reversed(RECORD.items())), rules), rules).inputs_used
    assert [r.field for r in forward] == [r.field for r in backward]
    assert forward == backward


def test_a_reported_value_beside_cockcroft_gault_for_comparison(rules: RuleSet) -> None:
    record = {**RECORD, "crcl": "45 mL/min"}  # within 25 % of 41.3: the reported one is used
    rows = {r.field: r for r in evaluate(parse_patient(record, rules), rules).inputs_used}
    assert rows["crcl"] == InputUsed(field="crcl", label="renal function used",
                                     entered="45 mL/min", used="45 mL/min (reported)",
                                     citations=[])
    assert rows["crcl_cockcroft_gault"].used == \
        "41.3 mL/min, for comparison: actual weight 60 kg"
    assert rows["crcl_cockcroft_gault"].citations == ["cockcroft1976-nephron"]


def test_the_full_report_prints_the_rows_with_their_reference_numbers(rules: RuleSet) -> None:
    assessment = evaluate(parse_patient(RECORD, rules), rules)
    out = io.StringIO()
    render_report(assessment, file=out, width=120, color=False, full=True)
    number = assessment.references["cockcroft1976-nephron"].number
    (row,) = [line for line in out.getvalue().splitlines() if "│ renal function" in line]
    assert f"41.3 mL/min (Cockcroft-Gault: actual weight 60 kg) [{number}]" in row


def test_the_renderers_never_read_the_rule_set() -> None:
    shell = Path(__file__).resolve().parent.parent / "src" / "mgassist" / "_shell"
    for name in ("render.py", "render_brief.py", "render_full.py", "render_parts.py"):
        tree = ast.parse((shell / name).read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module}
        assert not {m for m in imported if "ruleset" in m or "_rulebook" in m}, name
