"""The text report, rendered at a fixed width with colour off (house style 10): the brief
report (the default) and the full one (--full)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest

from mgassist import Assessment, RuleSet
from mgassist._shell.render import render_report


def _text(assessment: Assessment, *, color: bool = False, full: bool = True,
          width: int = 100, more: str | None = None) -> str:
    out = io.StringIO()
    render_report(assessment, file=out, width=width, color=color, full=full, more=more)
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
    for full in (False, True):
        text = _text(assess(**raw), full=full)
        first_lines = "\n".join(text.splitlines()[:3])
        assert words in first_lines


def test_no_colour_means_no_escape_codes(assess: Callable[..., Assessment],
                                         rules: RuleSet) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min")
    assert "\x1b[" not in _text(a, color=False)
    assert "\x1b[" in _text(a, color=True)


def test_regimen_prints_elemental_and_salt_side_by_side(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    text = _text(assess(mg="0.6 mmol/L", crcl="80 mL/min"))
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
    for full in (True, False):
        text = _text(a, full=full)
        refs = text[text.index("References"):]
        cited = {int(n) for group in re.findall(r"\[([\d, ]+)\]",
                                                text[:text.index("References")])
                 for n in group.split(",")}
        listed = {int(n) for n in re.findall(r"^\s*\[(\d+)\]", refs, re.M)}
        assert cited and cited <= listed
        if full:
            assert listed == set(range(1, len(a.references) + 1))
        else:  # the regimen's, monitoring's and critical findings' sources only
            assert cited == listed


def test_inputs_show_what_was_typed_and_what_was_used(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="1.6 mg/dL", creatinine="106 umol/L", age=72, sex="female",
               weight="154 lb", height="1.6 m")
    text = _text(a)
    # 1.6 / 2.4305 = 0.658 mmol/L; 106 / 88.4 = 1.199 mg/dL; 154 x 0.45359 = 69.85 kg.
    assert re.search(r"serum magnesium\s*│\s*1\.6 mg/dL\s*│\s*0\.658 mmol/L", text)
    assert re.search(r"serum creatinine\s*│\s*106 umol/L\s*│\s*1\.199 mg/dL", text)
    assert re.search(r"body weight\s*│\s*154 lb\s*│\s*69\.85 kg", text)
    assert "Cockcroft-Gault: adjusted weight" in text


# --------------------------------------------------------------------------------------------
# The brief report (the default)
# --------------------------------------------------------------------------------------------

README_PATIENT = {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}

# Worked out by hand from the rules: 12 mmol/day x 24.305 g/mol = 291.66 mg elemental magnesium;
# x 40.304 g/mol (MgO) = 483.6 mg of the salt; the cap 1500 mg MgO / 40.304 = 37.2 mmol, x 24.305
# = 904.6 mg. Reference numbers are the assessment's: [1] and [2] are the low-magnesium warning's
# (its sources are in the full report), [3]-[7] the regimen's and monitoring's.
README_BRIEF = """\
│ DECISION: SUPPLEMENT - oral magnesium at the dose below                                          │
│ Magnesium 0.6 mmol/L is below 0.70 mmol/L and renal function 80 mL/min (reported) allows oral    │
│ supplementation at the standard dose.                                                            │
Regimen (standard-start) [3, 4, 5, 6, 7]
  magnesium oxide (MgO, anhydrous) about 484 mg/day = elemental magnesium 12 mmol/day (291.7 mg), at
    night, when intestinal transit is slowest
  Never above 1500 mg/day of the salt (elemental 37.2 mmol = 904.6 mg): the source guideline this
    tool implements; no published study or product label we checked states this cap.
Findings
  WARNING Low magnesium
Monitoring [4]: Baseline: serum magnesium, potassium, calcium and renal function. Recheck magnesium
  2-3 weeks after starting. Every 3 months once on a stable dose (the product label says every 3-6
  months).
References
  [3] Magnesium oxide 400 mg US OTC label, DailyMed 2025
      https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid=f98cac25-63f2-478e-b785-20cba1c56565
  [4] Magnesium citrate 4 mmol, Summary of Product Characteristics
      https://www.medicines.org.uk/emc/product/12118/smpc
  [5] Nightingale & Woodward, Gut 2006 https://doi.org/10.1136/gut.2006.091108
  [6] NICE evidence summary ESUOM4, 2013 https://www.nice.org.uk/advice/esuom4
  [7] Institute of Medicine, Dietary Reference Intakes 1997 https://doi.org/10.17226/5776
Full report: --full. mgassist supports, and does not replace, clinical judgement. Check every
recommendation against the patient and the product label before acting on it.
"""


def test_the_readme_patient_brief_report_line_by_line(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    lines = _text(assess(**README_PATIENT), full=False,
                  more="Full report: --full.").splitlines()
    assert lines[0].startswith("╭─ mgassist ─") and lines[0].endswith("╮")
    assert re.fullmatch(r"╰─+ rules \S+ \(bundled\), sha256 [0-9a-f]{16} ─╯", lines[4])
    assert "\n".join(lines[1:4] + lines[5:]) + "\n" == README_BRIEF
    assert len(lines) <= 30


# Ten patients a ward sees, from the plain to the stacked (the last has eleven findings).
REPRESENTATIVE = {
    "readme": README_PATIENT,
    "renal-potassium-diarrhoea": {"mg": "0.6 mmol/L", "crcl": "25 mL/min", "k": "3.0 mmol/L",
                                  "conditions": ["diarrhoea"]},
    "cockcroft-gault-meds": {"mg": "1.6 mg/dL", "k": "3.2 mmol/L", "creatinine": "106 umol/L",
                             "age": 72, "sex": "female", "weight": "154 lb", "height": "1.6 m",
                             "meds": ["furosemide", "omeprazole"]},
    "contraindicated": {"mg": "0.6 mmol/L", "crcl": "15 mL/min"},
    "normal": {"mg": "0.8 mmol/L", "crcl": "80 mL/min"},
    "insufficient": {"mg": "0.6 mmol/L"},
    "maintain": {"mg": "0.78 mmol/L", "current_dose": "24 mmol/day", "days_on_dose": 90,
                 "crcl": "80 mL/min"},
    "egfr-calcium-salt-dose": {"mg": "0.6 mmol/L", "egfr": "45 mL/min/1.73m2",
                               "ca": "2.0 mmol/L", "albumin": "30 g/L",
                               "meds": ["Lasix 40 mg", "atorvastatin"],
                               "current_dose": "400 mg/day magnesium oxide",
                               "days_on_dose": 10},
    "step-up-volume-interactions": {"mg": "0.6 mmol/L", "crcl": "80 mL/min",
                                    "current_dose": "12 mmol/day", "days_on_dose": 14,
                                    "conditions": ["volume-depletion", "short-bowel"],
                                    "meds": ["omeprazole", "ciprofloxacin"]},
    "urgent-everything": {"mg": "0.3 mmol/L", "crcl": "15 mL/min", "k": "2.4 mmol/L",
                          "symptoms": ["tetany"], "conditions": ["dialysis"],
                          "ca": "1.6 mmol/L", "albumin": "30 g/L",
                          "meds": ["furosemide", "omeprazole", "digoxin", "Milk of magnesia"]},
}


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_the_brief_report_fits_a_screen(
    assess: Callable[..., Assessment], rules: RuleSet, name: str
) -> None:
    a = assess(**REPRESENTATIVE[name])
    brief = _text(a, full=False, more="Full report: --full.").splitlines()
    full = _text(a, full=True).splitlines()
    assert len(brief) <= (30 if name == "readme" else 45), (name, len(brief))
    assert len(brief) < len(full)


def test_first_actions_are_in_the_decision_box(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min", k="3.0 mmol/L",
               conditions=["volume-depletion"])
    lines = _text(a, full=False).splitlines()
    box = lines[:next(i for i, line in enumerate(lines) if line.startswith("╰"))]
    assert "│ First:" in "\n".join(box)
    # most severe first, as the findings: both are warnings, in the rules' order
    items: list[str] = []  # each action, its wrapped lines joined
    for line in box:
        if line.startswith("│  - "):
            items.append(line.strip("│ ").rstrip())
        elif items and line.startswith("│    "):
            items[-1] += " " + line.strip("│ ").rstrip()
    assert items == [
        "- Correct magnesium with or before potassium, as the decision allows: potassium alone "
        "will not correct.",
        "- Correct volume depletion first.",
    ]


def test_findings_are_named_by_title_and_info_only_in_full(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="0.6 mmol/L", crcl="25 mL/min", conditions=["diarrhoea"])
    brief = _text(a, full=False)
    assert "  WARNING Severe renal impairment: half dose\n" in brief
    assert "renal-caution-severe" not in brief
    # info: the risk factors and the better-tolerated salt; and the inputs table
    assert "Risk factors for magnesium deficiency" not in brief
    assert "Inputs as used" not in brief
    full = _text(a, full=True)
    assert "Risk factors for magnesium deficiency  (risk-factors-present)" in full
    assert "Inputs as used" in full


def test_a_critical_finding_keeps_its_sources_and_details(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    lines = _text(assess(mg="0.6 mmol/L", crcl="15 mL/min"), full=False).splitlines()
    at = lines.index("  CRITICAL Renal function too low for oral magnesium [1, 2, 3]")
    assert lines[at + 1] == ("           - Magnesium is low: do not start or increase magnesium; "
                             "review with the renal team.")
    assert lines[at + 2] == "  WARNING  Low magnesium"


def _urls(assessment: Assessment) -> list[str]:
    return [ref.url if not ref.doi else f"https://doi.org/{ref.doi}"
            for ref in assessment.references.values() if ref.url or ref.doi]


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("width", [80, 100])
def test_references_hang_and_never_split_a_url(
    assess: Callable[..., Assessment], rules: RuleSet, full: bool, width: int
) -> None:
    a = assess(**REPRESENTATIVE["urgent-everything"])
    text = _text(a, full=full, width=width)
    refs = text[text.index("\nReferences\n") + 12:].splitlines()
    refs = refs[:next(i for i, line in enumerate(refs) if not line.startswith("  "))]
    shown = [url for url in _urls(a) if url in text]
    assert len(shown) >= 6
    for url in shown:  # each whole, on one line
        assert any(url in line for line in refs), url
    number = 0
    for line in refs:
        head = re.match(r"  \[(\d+)\] ", line)
        if head:
            number = int(head[1])
        else:  # a continuation: indented under the text, past "  [n] "
            assert line.startswith(" " * len(f"  [{number}] ")), line
            if not re.search(r"https?://", line):
                assert len(line) <= width, line


def test_no_internal_words_reach_a_clinician(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    for raw in REPRESENTATIVE.values():
        a = assess(**raw)
        for text in (_text(a, full=False), _text(a, full=True), a.to_json()):
            for word in ("seed 003", "seed", "verified publication"):
                assert word not in text.lower(), (word, raw)


def test_every_bundled_finding_has_a_title(rules: RuleSet) -> None:
    for fid, finding in rules.findings.items():
        assert finding.title and finding.title != fid, fid
        assert "{" not in finding.title, fid


def test_a_long_first_action_wraps_under_its_own_text(
    assess: Callable[..., Assessment], rules: RuleSet
) -> None:
    a = assess(mg="0.6 mmol/L", crcl="80 mL/min", symptoms=["tetany"])
    lines = _text(a, full=False, width=80).splitlines()
    at = lines.index("│ First:".ljust(79) + "│")
    assert lines[at + 1:at + 3] == [
        "│  - Assess now: severe or symptomatic low magnesium needs intravenous, not    │",
        "│    oral, magnesium.                                                          │"]
