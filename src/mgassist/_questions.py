"""The interview's questions and what to do with the answers, without any I/O.

    questions(rules)                   -> the questions, in clinical order
    check(question, text, rules)       -> Checked (what was typed and what it means) or errors
    pending(questions, answers)        -> the next question to ask, or None
    patient_inputs(questions, answers) -> the raw patient record, as ``assess`` would get it
    summary(questions, answers, rules) -> numbered rows: label, as typed, as used
    assess_command(questions, answers) -> the equivalent one-shot ``mgassist assess`` line

Labels, units, examples and vocabularies come from ``_fields.FIELDS`` and the rules, the
same table ``assess``'s flags and the input parser read; answers are checked by
``parse_patient``, so the interview's error messages are the ones ``assess`` prints.
Which questions are asked depends on earlier answers: creatinine, sex, weight, height and eGFR
only without a reported CrCl; albumin only with a calcium; the current dose only for a patient
already taking magnesium.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from ._errors import InputError, InputErrors
from ._fields import FIELD_BY_NAME, FIELDS, field_label
from ._patient import Measured, Patient, parse_patient, split_items
from ._ruleset import RuleSet

__all__ = [
    "TAKES_MAGNESIUM",
    "UNKNOWN",
    "Checked",
    "Question",
    "SummaryRow",
    "When",
    "assess_command",
    "check",
    "listing",
    "patient_inputs",
    "pending",
    "questions",
    "summary",
    "vocabulary_lines",
]

TAKES_MAGNESIUM = "takes_magnesium"
"""The yes/no question that decides whether the current-dose questions are asked."""
UNKNOWN = "unknown"
"""What a clinician types when a required value is not available yet."""
_YES = frozenset({"y", "yes"})
_NO = frozenset({"n", "no"})


class When(Enum):
    """When a question is asked."""

    ALWAYS = "always"
    WITHOUT_CRCL = "without-crcl"
    WITH_CALCIUM = "with-calcium"
    TAKING_MAGNESIUM = "taking-magnesium"


@dataclass(frozen=True)
class Question:
    """One question: the field it fills, how it is put, and when it is asked."""

    field: str
    label: str
    accepts: str
    when: When = When.ALWAYS
    required: str = ""  # why the answer is needed; empty for an optional question
    note: str = ""
    completions: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The label as a heading: capitalised, except a mixed-case acronym (``eGFR``)."""
        if self.label[1:2].isupper():
            return self.label
        return self.label[:1].upper() + self.label[1:]


@dataclass(frozen=True)
class Checked:
    """An accepted answer: the text as typed ("" when skipped) and what it means."""

    typed: str
    used: str


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary shown before evaluating."""

    number: int
    field: str
    label: str
    typed: str
    used: str


_ORDER: tuple[tuple[str, When], ...] = (
    ("mg", When.ALWAYS),
    ("crcl", When.ALWAYS),
    ("creatinine", When.WITHOUT_CRCL),
    # Age is asked even with a reported CrCl: it decides the adults-only scope and the
    # age risk factor, and a child must never be assessed as an adult for want of a question.
    ("age", When.ALWAYS),
    ("sex", When.WITHOUT_CRCL),
    ("weight", When.WITHOUT_CRCL),
    ("height", When.WITHOUT_CRCL),
    ("egfr", When.WITHOUT_CRCL),
    ("k", When.ALWAYS),
    ("ca", When.ALWAYS),
    ("albumin", When.WITH_CALCIUM),
    ("meds", When.ALWAYS),
    ("conditions", When.ALWAYS),
    ("symptoms", When.ALWAYS),
    ("indication", When.ALWAYS),
    (TAKES_MAGNESIUM, When.ALWAYS),
    ("current_dose", When.TAKING_MAGNESIUM),
    ("days_on_dose", When.TAKING_MAGNESIUM),
)
_NOTES = {
    "crcl": "Press Enter if it is not known: it will then be estimated by Cockcroft-Gault "
            "from creatinine, age, sex and weight.",
    "age": "Also decides whether the patient is in scope (adults only).",
    "height": "Optional: with a height, Cockcroft-Gault uses ideal or adjusted weight "
              "where the BMI calls for it.",
    "egfr": "Optional: used only when creatinine clearance cannot be estimated; a bound "
            "as the lab prints it (>N) is accepted.",
    "albumin": "Optional: with albumin, calcium is adjusted for it (Payne).",
    "current_dose": "As elemental magnesium (mmol/day, or mg/day: read as elemental), or as "
                    "a salt's daily mass with its name, e.g. 400 mg/day magnesium oxide.",
}
_MG_REQUIRED = "every decision depends on it"
_IF_UNKNOWN = (f", or {UNKNOWN!r} if no result is available yet (mgassist will then say "
               "what to measure first)")


def questions(rules: RuleSet) -> tuple[Question, ...]:
    """The interview's questions, in clinical order."""
    return tuple(_question(name, when, rules) for name, when in _ORDER)


def _question(name: str, when: When, rules: RuleSet) -> Question:
    if name == TAKES_MAGNESIUM:
        return Question(TAKES_MAGNESIUM, "already taking a magnesium supplement", "yes or no",
                        note="Enter for no.", completions=("yes", "no"))
    spec = FIELD_BY_NAME[name]
    label = field_label(name, rules)
    required = _MG_REQUIRED if name == "mg" else ""
    note = _NOTES.get(name, "")
    rule = rules.quantities.get(name)
    if rule is not None:
        if rule.table.plain_number:
            accepts = f"a number of {rule.shown_as or rule.table.canonical}, e.g. {rule.example}"
        else:
            accepts = f"{_either(rule.table.units)}, e.g. {rule.example}"
        return Question(name, label, accepts, when, required, note, rule.table.units)
    if spec.vocabulary is not None:
        ids = tuple(rules.vocabulary.labels[spec.vocabulary])
        names = tuple(sorted({*ids, *(k for k in rules.vocabulary.lookup[spec.vocabulary]
                                      if " " not in k)}))
        if spec.kind == "list":
            what = "generic or brand names as written" if name == "meds" else "ids"
            accepts = f"{what}, several at once separated by commas; ? lists them"
            note = note or ("Enter for none. Names mgassist does not know are kept and listed "
                            "as not recognised." if name == "meds" else "Enter for none.")
        else:
            accepts = "one id; ? lists them"
        return Question(name, label, accepts, when, required, note, names)
    return Question(name, label, _either(spec.choices), when, required, note, spec.choices)


def _either(items: Sequence[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def listing(question: Question, rules: RuleSet) -> tuple[str, ...]:
    """What ``?`` shows: the accepted ids with their names, or units and plausible range."""
    spec = FIELD_BY_NAME.get(question.field)
    rule = rules.quantities.get(question.field)
    if rule is not None:
        return (f"accepted: {question.accepts}",
                f"plausible: {rule.minimum_text} to {rule.maximum_text}")
    if spec is None or spec.vocabulary is None:
        return (f"accepted: {question.accepts}",)
    return vocabulary_lines(rules, spec.vocabulary)


_ROLE_SHOWN = {"risk-factor": "causes magnesium loss", "interaction": "separate from magnesium",
               "magnesium-source": "contains magnesium",
               "digoxin": "toxicity worse with low magnesium"}


def vocabulary_lines(rules: RuleSet, kind: str) -> tuple[str, ...]:
    """One line per id of a vocabulary: the id, its label and the other names it accepts."""
    lines = []
    for item, label in rules.vocabulary.labels[kind].items():
        others = rules.vocabulary.synonyms(kind, item)
        also = f"  (also: {', '.join(others)})" if others else ""
        role = rules.vocabulary.roles.get(item) if kind == "meds" else None
        what = f" [{_ROLE_SHOWN[role.value]}]" if role is not None else ""
        lines.append(f"{item:28} {label}{what}{also}")
    if kind == "meds":
        lines.append("Any other medication is accepted and listed as not recognised; a name "
                     "close to one above is refused as a likely misspelling.")
    return tuple(lines)


def check(question: Question, text: str, rules: RuleSet) -> Checked | tuple[InputError, ...]:
    """Check one answer the way ``assess`` checks the same flag."""
    typed = text.strip()
    if question.field == TAKES_MAGNESIUM:
        word = typed.lower()
        if word in _YES or word in _NO or word == "":
            return Checked(typed, "yes" if word in _YES else "no")
        return (InputError(TAKES_MAGNESIUM, typed, "is not an answer", "yes or no"),)
    if typed == "":
        if question.required:
            return (InputError(question.field, "", f"is required: {question.required}",
                               question.accepts + _IF_UNKNOWN),)
        return Checked("", "not given")
    if question.required and typed.lower() == UNKNOWN:
        return Checked(UNKNOWN, "not known")
    try:
        patient = parse_patient({question.field: typed}, rules)
    except InputErrors as exc:
        return exc.errors
    return Checked(typed, _used(question.field, patient, rules))


def _used(field: str, patient: Patient, rules: RuleSet) -> str:
    value = getattr(patient, field)
    rule = rules.quantities.get(field)
    if isinstance(value, Measured) and rule is not None:
        # Only a conversion is worth showing; the same unit again would just be noise.
        bound = value.bound or ""  # an eGFR of ">60" is used as ">60", never as 60
        if value.unit == value.canonical_unit:
            return f"{bound}{value.number} {rule.shown_as or value.unit}"
        return bound + rule.as_used(value.canonical)
    if field == "meds":  # the classes used, and the names mgassist does not know
        used = [item.value for item in patient.meds]
        if patient.meds_not_recognised:
            used.append("not recognised: " + ", ".join(patient.meds_not_recognised))
        return "; ".join(used) if used else "none"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return str(value if not isinstance(value, Enum) else value.value)


def _asked(question: Question, answers: Mapping[str, Checked]) -> bool:
    if question.when is When.WITHOUT_CRCL:
        crcl = answers.get("crcl")
        return crcl is not None and crcl.typed == ""
    if question.when is When.WITH_CALCIUM:
        ca = answers.get("ca")
        return ca is not None and ca.typed != ""
    if question.when is When.TAKING_MAGNESIUM:
        taking = answers.get(TAKES_MAGNESIUM)
        return taking is not None and taking.used == "yes"
    return True


def pending(questions: Sequence[Question], answers: Mapping[str, Checked]) -> Question | None:
    """The first question that applies and has no answer yet."""
    return next((q for q in questions if q.field not in answers and _asked(q, answers)), None)


def _shown(questions: Sequence[Question], answers: Mapping[str, Checked]) -> list[Question]:
    return [q for q in questions if q.field in answers and _asked(q, answers)]


def patient_inputs(questions: Sequence[Question],
                   answers: Mapping[str, Checked]) -> dict[str, str | list[str]]:
    """The answers that apply, as the raw record ``assess`` builds from its flags (same keys,
    same order, lists as lists), so both give the same ``inputs`` in their output."""
    given = {q.field: answers[q.field].typed for q in _shown(questions, answers)
             if q.field != TAKES_MAGNESIUM and answers[q.field].typed not in ("", UNKNOWN)}
    return {spec.name: split_items(given[spec.name]) if spec.kind == "list"
            else given[spec.name] for spec in FIELDS if spec.name in given}


def summary(questions: Sequence[Question], answers: Mapping[str, Checked]) -> list[SummaryRow]:
    """The answers that apply, numbered for correction."""
    return [SummaryRow(n, q.field, q.label, answers[q.field].typed or "-",
                       answers[q.field].used)
            for n, q in enumerate(_shown(questions, answers), start=1)]


def assess_command(questions: Sequence[Question], answers: Mapping[str, Checked],
                   extra: Sequence[str] = ()) -> str:
    """The one-shot command that assesses the same patient (POSIX shell quoting)."""
    words = ["mgassist", "assess"]
    for name, given in patient_inputs(questions, answers).items():
        for item in given if isinstance(given, list) else [given]:
            words += [FIELD_BY_NAME[name].flag, item]
    return " ".join(shlex.quote(word) for word in [*words, *extra])

