"""The text report, rendered at a fixed width with colour off (house style 10)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest

from mgassist import Assessment, RuleSet
from mgassist._render import render_report


def _text(assessment: Assessment, rules: RuleSet, *, color: bool = False) -> str:
    out = io.StringIO()
    render_report(assessment, rules, file=out, width=100, color=color)
    return out.getvalue()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, "DECISION: SUPPLEMENT - "),
        ({"mg": "0.6 mmol/L", "crcl": "45 mL/min"}, "DECISION: SUPPLEMENT WITH CAUTION"),
        ({"mg": "0.6 mmol/L", "crcl": "15 mL/min"}, "DECISION: CONTRAINDICATED"),
        ({"mg": "0.4 mmol/L", "crcl": "80 mL/min"}, "DECISION: URGENT"),
        ({"mg": "0.8 mmol/L", "crcl": "80 mL/min"}, "DECISION: DO NOT SUPPLEMENT"),
        ({"mg": "0.6 mmol/L"}, "DECISION: INSUFFICIENT DATA"),
        ({"mg": "0.6 mmol/L", "age": 15}, "DECISION: OUT OF SCOPE"),
    ],
)
def test_decision_comes_first_in_words(
    assess: Callable[..., Assessment], rules: RuleSet, raw: dict[str, object], words: str
) -> None:
    text = _text(assess(**raw), rules)
    first_lines = "\n".join(text.splitlines()[:3])
    assert words in first_lines


def test_no_colour_means_no_escape_codes(assess: Callable[..., Assessment],
                                         rules: RuleSet) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min")
    assert "\x1b[" not in _text(a, rules, color=False)
    assert "\x1b[" in _text(a, rules, color=True)


def test_regimen_prints_elemental_and_salt_side_by_side(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    text = _text(assess(mg="0.6 mmol/L", crcl="80 mL/min"), rules)
    # 12 mmol x 24.305 g/mol = 291.66 mg elemental; 12 mmol x 40.304 g/mol = 483.6 mg MgO.
    assert re.search(r"Elemental magnesium\s*│\s*12 mmol/day = 291\.7 mg/day", text)
    assert re.search(r"As the salt\s*│\s*magnesium oxide \(MgO, anhydrous\) about 484 mg/day",
                     text)
    assert "at night" in text
    # Cap: 1500 mg MgO / 40.304 = 37.2 mmol; x 24.305 = 904.6 mg elemental.
    assert re.search(r"Never above\s*│.*1500 mg/day \(elemental 37\.2 mmol = 904\.6", text)


def test_every_cited_number_has_a_reference_line(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="1.6 mg/dL", k="3.1 mmol/L", crcl="40 mL/min", meds=["furosemide"],
               indication="neck-spasm")
    text = _text(a, rules)
    refs = text[text.index("References"):]
    cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]", text[:text.index("References")])
             for n in group.split(",")}
    listed = {int(n) for n in re.findall(r"^\s*\[(\d+)\]", refs, re.M)}
    assert cited and cited <= listed
    assert listed == set(range(1, len(a.references) + 1))


def test_inputs_show_what_was_typed_and_what_was_used(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="1.6 mg/dL", creatinine="106 umol/L", age=72, sex="female",
               weight="154 lb", height="1.6 m")
    text = _text(a, rules)
    # 1.6 / 2.4305 = 0.658 mmol/L; 106 / 88.4 = 1.199 mg/dL; 154 x 0.45359 = 69.85 kg.
    assert re.search(r"serum magnesium\s*│\s*1\.6 mg/dL\s*│\s*0\.658 mmol/L", text)
    assert re.search(r"serum creatinine\s*│\s*106 umol/L\s*│\s*1\.199 mg/dL", text)
    assert re.search(r"body weight\s*│\s*154 lb\s*│\s*69\.85 kg", text)
    assert "Cockcroft-Gault: adjusted weight" in text
