"""Real medication lists and real doses (issue 14, clinical-spec revision 2 "Medications are an
open list"): names that map to a class are used, whatever their case, strength or brand; a near
miss of a known name is refused with a suggestion; any other name is accepted and listed; the
same policy in ``assess``, ``batch``, the interview and the library API. Then the medication
findings (review-ppi, digoxin-risk, magnesium-containing-medicine, separate-dosing per class),
and the current dose given as a salt, converted by hand from standard atomic weights.

Expected values here come from the spec and from hand calculation, never from a run of the
program: brand -> generic -> class pairs are from the product labels listed in
docs/clinical-basis.md ("Medication names"), and formula masses from IUPAC standard atomic
weights (Mg 24.305, C 12.011, H 1.008, N 14.007, O 15.999, P 30.974, Cl 35.45, S 32.06).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import finding_ids, run_console
from typer.testing import CliRunner

from mgassist import InputErrors, RuleSet, evaluate, parse_patient
from mgassist._shell.cli import app

Cli = Any

# --------------------------------------------------------------------------------------------
# The "done when" command, through the console entry point as typed in a shell

DONE_WHEN = ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--med", "Lasix",
             "--med", "atorvastatin", "--med", "Nexium", "--med", "digoxin"]


def test_done_when_command_uses_the_known_drugs_and_lists_the_rest() -> None:
    code, out, err = run_console([*DONE_WHEN, "--json"])
    assert code == 0, err
    data = json.loads(out)
    ids = finding_ids(data)
    assert {"review-ppi", "digoxin-risk", "medication-not-recognised",
            "risk-factors-present"} <= ids
    risk = next(f for f in data["findings"] if f["id"] == "risk-factors-present")
    assert re.search(r"loop diuretic", risk["message"]) and \
        re.search(r"proton pump inhibitor", risk["message"]), risk["message"]
    assert data["derived"]["meds_not_recognised"] == ["atorvastatin"]
    assert data["derived"]["med_classes"] == ["loop-diuretic", "ppi", "digoxin"]
    unknown = next(f for f in data["findings"] if f["id"] == "medication-not-recognised")
    assert "atorvastatin" in unknown["message"]


def test_done_when_report_names_atorvastatin_as_not_recognised() -> None:
    code, out, err = run_console(DONE_WHEN)  # the brief report: an action in the decision box
    assert code == 0, err
    assert "│  - Check by hand for effects on magnesium: atorvastatin." in out, out
    code, out, err = run_console([*DONE_WHEN, "--full"])
    assert code == 0, err
    text = " ".join(re.sub(r"[│┃]", " ", out).split())  # the finding's text, unwrapped
    assert "Not recognised, so not checked for effects on magnesium: atorvastatin." in text, out


def test_a_misspelt_diuretic_is_refused_with_the_suggestion() -> None:
    code, out, err = run_console(["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min",
                                  "--med", "furosemid"])
    assert code == 2 and out == ""
    assert "meds" in err and "'furosemid'" in err
    assert "did you mean 'furosemide'?" in err


# --------------------------------------------------------------------------------------------
# A realistic 12-drug list, through every way in

TWELVE = ["atorvastatin 20 mg", "Metformin 500mg BD", "amlodipine", "furosemid 40 mg",
          "Nexium 20 mg", "lisinopril 10 mg", "Lanoxin 62.5 micrograms", "sertraline",
          "bisoprolol", "ferrous sulfate 200 mg", "levothyroxine", "Fosamax 70 mg weekly"]
TYPO = "furosemid 40 mg"
FIXED = [m if m != TYPO else "furosemide 40 mg" for m in TWELVE]
# Classes by hand: furosemide -> loop diuretic; Nexium = esomeprazole -> PPI; Lanoxin = digoxin;
# ferrous sulfate -> oral iron; Fosamax = alendronate -> bisphosphonate. The rest are not in any
# class of the spec.
NOT_RECOGNISED = ["atorvastatin 20 mg", "Metformin 500mg BD", "amlodipine", "lisinopril 10 mg",
                  "sertraline", "bisoprolol", "levothyroxine"]
EXPECTED_CLASSES = {"loop-diuretic", "ppi", "digoxin", "iron", "bisphosphonate"}
LOW_MG = {"mg": "0.6 mmol/L", "crcl": "80 mL/min"}


def check_twelve(data: dict[str, Any]) -> None:
    """What the spec makes of the corrected list with Mg 0.6 mmol/L and CrCl 80 mL/min."""
    assert data["status"] == "supplement"
    assert set(data["derived"]["med_classes"]) == EXPECTED_CLASSES
    assert data["derived"]["meds_not_recognised"] == NOT_RECOGNISED
    ids = finding_ids(data)
    assert {"risk-factors-present", "review-ppi", "digoxin-risk", "separate-dosing",
            "medication-not-recognised"} <= ids
    separate = next(f for f in data["findings"] if f["id"] == "separate-dosing")
    lines = " ".join(separate["details"])
    assert re.search(r"iron.*3 to 4 hours", lines, re.I)
    assert re.search(r"bisphosphonate.*3 to 4 hours", lines, re.I)
    assert not re.search(r"tetracycline|eltrombopag|integrase|fluoroquinolone", lines, re.I)


def test_twelve_drugs_through_assess(cli: Cli) -> None:
    args = [a for m in TWELVE for a in ("--med", m)]
    refused = cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", *args)
    assert refused.exit_code == 2
    assert f"'{TYPO}'" in refused.stderr and "did you mean 'furosemide'?" in refused.stderr
    fixed = cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min",
                *[a for m in FIXED for a in ("--med", m)], "--json")
    assert fixed.exit_code == 0, fixed.stderr
    check_twelve(json.loads(fixed.stdout))


def test_twelve_drugs_through_batch_csv_cells_split_on_semicolons_and_commas(
        cli: Cli, tmp_path: Path) -> None:
    def cell(meds: list[str]) -> str:  # half joined with "; ", half with ", "
        return "; ".join(meds[:6]) + ", " + ", ".join(meds[6:])
    source = tmp_path / "ward.csv"
    source.write_text("id,mg,crcl,meds\n"
                      f'typo,0.6 mmol/L,80 mL/min,"{cell(TWELVE)}"\n'
                      f'fixed,0.6 mmol/L,80 mL/min,"{cell(FIXED)}"\n', encoding="utf-8")
    result = cli("batch", str(source))
    assert result.exit_code == 1  # one record refused, the other assessed
    typo, fixed = (json.loads(line) for line in result.stdout.splitlines())
    assert typo["id"] == "typo" and typo["error"]["field"] == "meds"
    assert "did you mean 'furosemide'?" in typo["error"]["message"]
    assert fixed["id"] == "fixed"
    check_twelve(fixed)


def test_twelve_drugs_through_the_interview(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mgassist._shell.interview.stdin_is_terminal", lambda: True)
    # Mg, CrCl, age; K, Ca; meds (refused, then corrected); conditions, symptoms, indication,
    # taking magnesium; Enter at the summary.
    answers = ["0.6 mmol/L", "80 mL/min", "", "", "", ", ".join(TWELVE), ", ".join(FIXED),
               "", "", "", "no", ""]
    result = CliRunner().invoke(app, ["interview", "--json"],
                                input="".join(f"{a}\n" for a in answers),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "did you mean 'furosemide'?" in errors[0], errors
    assert re.search(r"not recognised: atorvastatin 20 mg", result.stderr)
    check_twelve(json.loads(result.stdout))


def test_twelve_drugs_through_the_library(rules: RuleSet) -> None:
    with pytest.raises(InputErrors) as refused:
        parse_patient({**LOW_MG, "meds": TWELVE}, rules)
    assert [e.field for e in refused.value.errors] == ["meds"]
    assert "did you mean 'furosemide'?" in str(refused.value)
    assessment = evaluate(parse_patient({**LOW_MG, "meds": FIXED}, rules), rules)
    check_twelve(json.loads(assessment.to_json()))


# --------------------------------------------------------------------------------------------
# The vocabulary: every name of every class, and brands checked against their labels


def test_every_name_in_the_vocabulary_resolves_to_its_class(rules: RuleSet) -> None:
    lookup = rules.vocabulary.lookup["meds"]
    assert len(lookup) > 150  # classes, generics, brands and spellings
    wrong = {}
    for name, class_id in lookup.items():
        for typed in (name, name.upper(), f"  {name} 10 mg tablets "):
            got = [m.value for m in parse_patient({"meds": [typed]}, rules).meds]
            if got != [class_id]:
                wrong[typed] = (got, class_id)
    assert wrong == {}


def test_every_class_of_the_contract_says_its_role(rules: RuleSet) -> None:
    from mgassist._core.contract import MedClass, MedRole

    assert set(rules.vocabulary.roles) == {m.value for m in MedClass}
    by_role: dict[MedRole, set[str]] = {}
    for class_id, role in rules.vocabulary.roles.items():
        by_role.setdefault(role, set()).add(class_id)
    # clinical-spec revision 2, "New medication classes" and revision 1's interactions
    assert by_role[MedRole("magnesium-source")] == {"magnesium-containing"}
    assert by_role[MedRole("digoxin")] == {"digoxin"}
    assert by_role[MedRole("interaction")] == {
        "tetracycline", "fluoroquinolone", "bisphosphonate", "integrase-inhibitor",
        "eltrombopag", "iron"}


# Brand -> class, each seen on the product's label or SmPC (US and UK brands; the source of each
# is in docs/clinical-basis.md). Written by hand, not read from the vocabulary.
BRANDS = [
    ("Lasix", "loop-diuretic"),            # furosemide
    ("Torem", "loop-diuretic"),            # torasemide (UK)
    ("Natrilix", "thiazide-diuretic"),     # indapamide (UK)
    ("Xaqua", "thiazide-diuretic"),        # metolazone (UK)
    ("Thalitone", "thiazide-diuretic"),    # chlorthalidone (US)
    ("Prilosec", "ppi"),                   # omeprazole magnesium: a PPI, not magnesium
    ("Nexium", "ppi"),                     # esomeprazole
    ("Zoton FasTab", "ppi"),               # lansoprazole (UK)
    ("Protonix", "ppi"),                   # pantoprazole (US)
    ("Cidomycin", "aminoglycoside"),       # gentamicin (UK)
    ("Prograf", "calcineurin-inhibitor"),  # tacrolimus
    ("Deximune", "calcineurin-inhibitor"),  # ciclosporin (UK)
    ("Doryx", "tetracycline"),             # doxycycline (US)
    ("Ciproxin", "fluoroquinolone"),       # ciprofloxacin (UK)
    ("Levaquin", "fluoroquinolone"),       # levofloxacin (US)
    ("Actonel", "bisphosphonate"),         # risedronate
    ("Erbitux", "egfr-antibody"),          # cetuximab
    ("AmBisome", "amphotericin"),          # liposomal amphotericin B
    ("Tivicay", "integrase-inhibitor"),    # dolutegravir
    ("Biktarvy", "integrase-inhibitor"),   # bictegravir combination
    ("Galfer", "iron"),                    # ferrous fumarate (UK)
    ("Neomag", "magnesium-containing"),    # magnesium glycerophosphate (UK)
]


@pytest.mark.parametrize(("brand", "class_id"), BRANDS, ids=[b for b, _ in BRANDS])
def test_brand_names_map_to_their_class(rules: RuleSet, brand: str, class_id: str) -> None:
    patient = parse_patient({"meds": [brand, f"{brand.lower()} 1 tablet daily"]}, rules)
    assert [m.value for m in patient.meds] == [class_id]
    assert patient.meds_not_recognised == ()


@pytest.mark.parametrize(("typed", "classes"), [
    # the longest known name wins: a PPI's magnesium salt is a PPI, not a magnesium medicine
    ("esomeprazole magnesium 20 mg", ["ppi"]),
    ("omeprazole magnesium", ["ppi"]),
    ("Tab. Nexium 20mg", ["ppi"]),
    ("LASIX", ["loop-diuretic"]),
    ("milk of magnesia 10 mL at night", ["magnesium-containing"]),
    ("Phillips' Milk of Magnesia", ["magnesium-containing"]),
])
def test_names_are_read_word_by_word(rules: RuleSet, typed: str, classes: list[str]) -> None:
    patient = parse_patient({"meds": [typed]}, rules)
    assert [m.value for m in patient.meds] == classes
    assert patient.meds_not_recognised == ()


@pytest.mark.parametrize("name", [
    "atorvastatin", "Lipitor", "metformin", "Glucophage", "amlodipine", "Norvasc",
    "bisoprolol", "Flomax", "tamsulosin", "sertraline", "levothyroxine", "paracetamol",
    "oxaliplatin", "Tobrex", "magnesium stearate",
])
def test_names_outside_every_class_are_accepted_and_listed(rules: RuleSet, name: str) -> None:
    """Not refused as typos; "magnesium stearate" is a tablet excipient, not a magnesium
    medicine; oxaliplatin is not in the spec's platinum class (cisplatin, carboplatin)."""
    assessment = evaluate(parse_patient({**LOW_MG, "meds": [name]}, rules), rules)
    assert assessment.derived.med_classes == []
    assert assessment.derived.meds_not_recognised == [name]
    assert "medication-not-recognised" in finding_ids(assessment)


@pytest.mark.parametrize(("typed", "suggestion"), [
    ("furosemid", "furosemide"), ("omeprazol", "omeprazole"), ("Lasixx", "lasix"),
    ("digoxine", "digoxin"), ("tobramicin", "tobramycin"), ("alendronat 70 mg", "alendronate"),
    ("ciprofloxacine 500 mg", "ciprofloxacin"), ("hydrochlorthiazide", "hydrochlorothiazide"),
    ("doxycyline 100 mg", "doxycycline"), ("milk of magnesa", "milk of magnesia"),
    ("20 mg Nexum", "nexium"),  # a strength first does not hide the name
])
def test_near_misses_are_refused_with_a_suggestion(rules: RuleSet, typed: str,
                                                   suggestion: str) -> None:
    with pytest.raises(InputErrors) as refused:
        parse_patient({"meds": ["atorvastatin", typed]}, rules)
    (error,) = refused.value.errors
    assert error.field == "meds" and error.value == typed
    assert f"did you mean {suggestion!r}?" in str(error)


def test_a_misspelt_word_beside_a_known_name_is_refused_too(rules: RuleSet) -> None:
    with pytest.raises(InputErrors) as refused:
        parse_patient({"meds": ["Lasix and Nexum"]}, rules)
    assert "has a word that is not a known medication (did you mean 'nexium'?)" in \
        str(refused.value)


def common_names() -> tuple[list[str], list[str]]:
    """tests/data/common-medicine-names.txt: medicines, and words typed around a name."""
    sections: dict[str, list[str]] = {}
    current = ""
    text = (Path(__file__).parent / "data" / "common-medicine-names.txt").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif line and not line.startswith("#"):
            sections.setdefault(current, []).extend(line.split())
    return sections["medicines"], sections["words"]


def test_no_common_medicine_is_refused_as_a_misspelling(rules: RuleSet) -> None:
    """Clindamycin was once refused as a misspelling of Cidomycin: ~700 real names, none a
    typo of another (the ones within a typo of a class name are listed as not classed)."""
    medicines, words_around = common_names()
    assert len(medicines) > 600 and "clindamycin" in medicines
    refused = []
    for typed in [*medicines, *(f"Lasix {word}" for word in words_around)]:
        try:
            parse_patient({"meds": [typed]}, rules)
        except InputErrors as error:
            refused.append(str(error))
    assert refused == []


@pytest.mark.parametrize(("typed", "problem"), [
    ("x" * 201, "at most 200"),
    ("furosemide\x1b[31m", "control character"),
    ("", "non-empty"),
    ("furo\udcffsemide", "is not valid UTF-8"),  # a byte the terminal or file did not decode
])
def test_unusable_names_are_refused(rules: RuleSet, typed: str, problem: str) -> None:
    with pytest.raises(InputErrors) as refused:
        parse_patient({"meds": [typed]}, rules)
    assert refused.value.errors[0].field == "meds"
    assert problem in str(refused.value)


def test_what_was_typed_is_never_read_as_report_markup(cli: Cli) -> None:
    args = ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--med", "[red]statin[/red]"]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "magnesium: [red]statin[/red]." in " ".join(result.stdout.split())
    result = cli(*args, "--full")
    assert result.exit_code == 0, result.stderr
    assert "not recognised: [red]statin[/red]" in " ".join(result.stdout.split())


# --------------------------------------------------------------------------------------------
# The medication findings


def findings_of(rules: RuleSet, **raw: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(evaluate(parse_patient(raw, rules), rules).to_json())
    return data


@pytest.mark.parametrize(("meds", "finding"), [
    (["omeprazole"], "review-ppi"), (["Lanoxin"], "digoxin-risk")])
def test_ppi_and_digoxin_findings_only_with_low_magnesium(rules: RuleSet, meds: list[str],
                                                          finding: str) -> None:
    low = findings_of(rules, mg="0.69 mmol/L", crcl="80 mL/min", meds=meds)
    at_lln = findings_of(rules, mg="0.70 mmol/L", crcl="80 mL/min", meds=meds)
    assert finding in finding_ids(low)
    assert finding not in finding_ids(at_lln)


def test_review_ppi_says_what_the_sources_say(rules: RuleSet) -> None:
    f = next(x for x in findings_of(rules, mg="0.6 mmol/L", crcl="80 mL/min",
                                    meds=["pantoprazole"])["findings"] if x["id"] == "review-ppi")
    assert f["severity"] == "warning"
    assert re.search(r"quarter", f["message"]) and re.search(r"H2", f["message"])
    assert set(f["citations"]) == {"fda2011-ppi", "janett2015-grp"}


def test_magnesium_medicine_counts_as_taking_magnesium_for_the_red_flags(
        rules: RuleSet) -> None:
    # red flag 1g: taking magnesium (a magnesium-containing medicine) with hyporeflexia and no
    # magnesium level -> suspected hypermagnesaemia, stop magnesium
    data = findings_of(rules, crcl="50 mL/min", meds=["milk of magnesia"],
                       symptoms=["hyporeflexia"])
    assert data["status"] == "urgent"
    assert {"suspected-hypermagnesemia", "stop-magnesium",
            "magnesium-containing-medicine"} <= finding_ids(data)
    stop = next(f for f in data["findings"] if f["id"] == "stop-magnesium")
    assert "Magnesium-containing medicines in the list: milk of magnesia." in stop["details"]
    suspected = next(f for f in data["findings"] if f["id"] == "suspected-hypermagnesemia")
    assert "signs of toxicity (hyporeflexia)" in suspected["message"]  # the signs, not the med
    # the same patient without the medicine: nothing suggests toxicity
    plain = findings_of(rules, crcl="50 mL/min", symptoms=["hyporeflexia"])
    assert not {"suspected-hypermagnesemia", "stop-magnesium"} & finding_ids(plain)


def test_magnesium_medicine_with_failing_kidneys_is_stopped(rules: RuleSet) -> None:
    data = findings_of(rules, mg="0.85 mmol/L", crcl="15 mL/min", meds=["Epsom salts"])
    assert data["status"] == "contraindicated"
    assert {"stop-magnesium", "magnesium-containing-medicine"} <= finding_ids(data)


@pytest.mark.parametrize(("crcl", "conditions", "expected"), [
    ("59 mL/min", [], True), ("60 mL/min", [], False), (None, [], True),
    ("80 mL/min", ["dialysis"], True)])
def test_magnesium_containing_medicine_below_60_unknown_or_on_dialysis(
        rules: RuleSet, crcl: str | None, conditions: list[str], expected: bool) -> None:
    raw: dict[str, Any] = {"mg": "0.85 mmol/L", "meds": ["magnesium hydroxide"],
                           "conditions": conditions}
    if crcl is not None:
        raw["crcl"] = crcl
    assert ("magnesium-containing-medicine" in finding_ids(findings_of(rules, **raw))) is expected


def test_a_magnesium_medicine_alone_is_not_a_maintenance_dose(rules: RuleSet) -> None:
    # maintain needs a current dose > 0 (revision 2, step 7); the medicine has no dose here
    data = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", meds=["Neomag"])
    assert data["status"] == "do-not-supplement"
    assert "maintenance-continue" not in finding_ids(data)


SEPARATE = [  # class drug, the interval its verified source gives, as the line says it
    ("doxycycline", r"tetracyclines.*2 to 3 hours"),
    ("Cipro", r"fluoroquinolones.*check the product label"),
    ("alendronate", r"bisphosphonates.*3 to 4 hours"),
    ("ferrous fumarate", r"iron.*3 to 4 hours"),
    ("eltrombopag", r"eltrombopag.*2 hours before or 4 hours after"),
    ("dolutegravir", r"dolutegravir or bictegravir.*2 hours before or 6 hours after.*"
                     r"raltegravir"),
]


@pytest.mark.parametrize(("drug", "line"), SEPARATE, ids=[d for d, _ in SEPARATE])
def test_separate_dosing_has_one_line_per_class(rules: RuleSet, drug: str, line: str) -> None:
    data = findings_of(rules, mg="0.6 mmol/L", crcl="80 mL/min", meds=[drug])
    (f,) = [x for x in data["findings"] if x["id"] == "separate-dosing"]
    assert len(f["details"]) == 1 and re.search(line, f["details"][0], re.I), f["details"]
    if drug == "Cipro":  # no fluoroquinolone label interval was verified: no hours printed
        assert not re.search(r"\d+ hours?", f["details"][0])


def test_separate_dosing_only_when_magnesium_is_given_or_taken(rules: RuleSet) -> None:
    nothing = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", meds=["doxycycline"])
    antacid = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min",
                          meds=["doxycycline", "magnesium trisilicate"])
    dose = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", meds=["doxycycline"],
                       current_dose="12 mmol/day", days_on_dose=30)
    assert "separate-dosing" not in finding_ids(nothing)
    assert "separate-dosing" in finding_ids(antacid)
    assert "separate-dosing" in finding_ids(dose)


@pytest.mark.parametrize("drug", ["cisplatin", "Erbitux", "AmBisome", "Foscavir",
                                  "pentamidine"])
def test_new_risk_factor_classes_are_listed_and_cited(rules: RuleSet, drug: str) -> None:
    data = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", meds=[drug])
    assert {"risk-factors-present", "normal-mg-does-not-exclude-deficiency"} <= \
        finding_ids(data)
    risk = next(f for f in data["findings"] if f["id"] == "risk-factors-present")
    # the sources that name these classes (Workeneh 2021 names all five), printed with it
    assert "workeneh2021-kidney360" in risk["citations"]
    assert "workeneh2021-kidney360" in data["references"]


def test_risk_factors_present_cites_the_contract_and_the_factors_listed(
        rules: RuleSet) -> None:
    contract = ["pham2014-ijnrd", "kora-smpc-mgcitrate", "fda2011-ppi"]  # spec's cite table
    age_only = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", age=70)
    risk = next(f for f in age_only["findings"] if f["id"] == "risk-factors-present")
    assert risk["citations"] == contract  # age adds nothing new (Pham)
    cisplatin = findings_of(rules, mg="0.85 mmol/L", crcl="80 mL/min", meds=["cisplatin"])
    risk = next(f for f in cisplatin["findings"] if f["id"] == "risk-factors-present")
    assert risk["citations"][:3] == contract
    assert {"workeneh2021-kidney360", "nhs-lothian-sact-hypomag", "liamis2021-prp"} <= \
        set(risk["citations"][3:])


# --------------------------------------------------------------------------------------------
# The current dose as a salt: elemental mmol/day = mg/day x (Mg per formula) / formula mass

SALTS = [
    # MgO: 24.305 + 15.999 = 40.304 g/mol; 400 / 40.304 = 9.925 mmol
    ("400 mg/day magnesium oxide", 400 / 40.304),
    # Mg3(C6H5O7)2: 3 x 24.305 + 12 x 12.011 + 10 x 1.008 + 14 x 15.999 = 451.113 g/mol
    ("1000 mg/day magnesium citrate anhydrous", 3 * 1000 / 451.113),
    # + 9 H2O (18.015): 613.248 g/mol
    ("1000 mg/day magnesium citrate nonahydrate", 3 * 1000 / 613.248),
    # Mg(C2H4NO2)2: 24.305 + 4 x 12.011 + 8 x 1.008 + 2 x 14.007 + 4 x 15.999 = 172.423
    ("1000 mg/day magnesium bisglycinate", 1000 / 172.423),
    ("1000 mg/day magnesium glycinate", 1000 / 172.423),
    # MgCl2.6H2O: 24.305 + 2 x 35.45 + 6 x 18.015 = 203.295
    ("1000 mg/day magnesium chloride hexahydrate", 1000 / 203.295),
    # C3H7MgO6P: 3 x 12.011 + 7 x 1.008 + 24.305 + 6 x 15.999 + 30.974 = 194.362
    ("1000 mg/day magnesium glycerophosphate anhydrous", 1000 / 194.362),
    # a bare mg/day is elemental: 300 / 24.305 = 12.343 mmol
    ("300 mg/day", 300 / 24.305),
    ("300 mg/day elemental", 300 / 24.305),
]


@pytest.mark.parametrize(("dose", "mmol"), SALTS, ids=[d for d, _ in SALTS])
def test_current_dose_salts_are_converted_through_their_formula_mass(
        rules: RuleSet, dose: str, mmol: float) -> None:
    assessment = evaluate(parse_patient({**LOW_MG, "current_dose": dose, "days_on_dose": 3},
                                        rules), rules)
    assert assessment.derived.current_dose_mmol_day == pytest.approx(mmol, rel=1e-3)
    notes = " ".join(assessment.derived.notes)
    if "magnesium " in dose:  # the salt named, and how it was converted
        assert re.search(r"formula mass", notes) and "elemental" in notes, notes
    else:  # the report says a bare mass was read as elemental magnesium
        assert re.search(r"read as elemental magnesium", notes), notes


@pytest.mark.parametrize(("dose", "problem"), [
    ("1000 mg/day magnesium citrate", r"anhydrous.*nonahydrate"),
    ("400 mg/day magnesium glycerophosphate", r"hydrat"),
    ("1000 mg/day magnesium chloride", r"hydrate"),
    ("12 mmol/day magnesium oxide", r"mg/day"),
    ("400 mg/day magnesium stearate", r"not a salt"),
])
def test_a_salt_that_cannot_be_converted_is_refused(cli: Cli, dose: str, problem: str) -> None:
    result = cli("assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--current-dose", dose)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --current-dose (elemental magnesium already taken "
                                    f"per day): {dose!r} "), result.stderr
    assert re.search(problem, result.stderr), result.stderr
    assert "400 mg/day magnesium oxide" in result.stderr  # what is accepted


def test_a_salt_dose_drives_the_step_up(rules: RuleSet) -> None:
    # 500 mg MgO = 500 / 40.304 = 12.41 mmol/day >= 12 for 14 days with Mg low: step up;
    # 400 mg = 9.92 mmol/day < 12: the standard start
    def status(dose: str) -> tuple[str, str | None]:
        a = evaluate(parse_patient({**LOW_MG, "current_dose": dose, "days_on_dose": 14},
                                   rules), rules)
        return a.decided_by, a.regimen.dose_basis.value if a.regimen else None
    assert status("500 mg/day magnesium oxide") == ("supplement-step-up", "step-up")
    assert status("400 mg/day magnesium oxide") == ("supplement", "standard-start")


def test_vocab_meds_shows_each_class_role_and_names_as_written(cli: Cli) -> None:
    result = cli("vocab", "meds")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert "[causes magnesium loss]" in lines["loop-diuretic"] and "Lasix" in lines["loop-diuretic"]
    assert "[separate from magnesium]" in lines["iron"]
    assert "[contains magnesium]" in lines["magnesium-containing"]
    assert "milk of magnesia" in lines["magnesium-containing"]
    assert "accepted and listed as not recognised" in result.stdout
