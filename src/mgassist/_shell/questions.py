"""The interview's questions and what to do with the answers, without any I/O.

    questions(rules)                   -> the questions, in clinical order
    check(question, text, rules)       -> Checked (what was typed and what it means) or errors
    pending(questions, answers)        -> the next question to ask, or None
    patient_inputs(questions, answers) -> the raw patient record, as ``assess`` would get it
    summary(questions, answers)        -> one row per question, numbered once for the whole
                                          interview: label, as typed, as used, or why not needed
    misplaced(question, text, rules)   -> a list answer without the items that belong to another
                                          list question (a symptom typed as a condition), and those
    assess_command(questions, answers) -> the equivalent one-shot ``mgassist assess`` line

Labels, units, examples and vocabularies come from ``_core.fields.FIELDS`` and the rules, the
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

from mgassist._core.errors import InputError, InputErrors
from mgassist._core.fields import FIELD_BY_NAME, FIELDS, field_label
from mgassist._core.medications import read_medication
from mgassist._core.patient import Measured, Patient, not_utf8, parse_patient, split_items
from mgassist._core.ruleset import RuleSet, normalize_term

__all__ = [
    "ITEM_NOUNS",
    "TAKES_MAGNESIUM",
    "UNKNOWN",
    "Checked",
    "Question",
    "SummaryRow",
    "When",
    "assess_command",
    "check",
    "join_items",
    "listing",
    "misplaced",
    "explain_not_needed",
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
    """One line of the summary shown before evaluating: an answer, or why its question is not
    needed (then ``typed`` and ``used`` are empty)."""

    number: int
    field: str
    label: str
    typed: str
    used: str
    not_needed: str = ""


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
                f"plausible: {rule.plausible_text}")
    if spec is None or spec.vocabulary is None:
        return (f"accepted: {question.accepts}",)
    return vocabulary_lines(rules, spec.vocabulary)


def vocabulary_lines(rules: RuleSet, kind: str) -> tuple[str, ...]:
    """One line per id of a vocabulary: the id, its label and the other names it accepts."""
    lines = []
    for item, label in rules.vocabulary.labels[kind].items():
        others = rules.vocabulary.synonyms(kind, item)
        also = f"  (also: {', '.join(others)})" if others else ""
        role = rules.vocabulary.roles.get(item) if kind == "meds" else None
        words = rules.vocabulary.role_words.get(role.value) if role is not None else None
        what = f" [{words}]" if words else ""
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
    not_text = not_utf8(question.field, typed)  # as assess says it, not "unit '\udcff' ..."
    if not_text is not None:
        return (not_text,)
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


# Why a question does not apply, and the answer that would make it apply (and how).
_NOT_NEEDED: dict[When, tuple[str, str, str]] = {
    When.WITHOUT_CRCL: ("a CrCl is given", "crcl", "clear"),
    When.WITH_CALCIUM: ("no calcium given", "ca", "give"),
    When.TAKING_MAGNESIUM: ("not taking magnesium", TAKES_MAGNESIUM, "answer yes to"),
}


def summary(questions: Sequence[Question], answers: Mapping[str, Checked]) -> list[SummaryRow]:
    """Every question, numbered by its place in the interview, so a number keeps its meaning
    whatever is answered: the answer, or why the question is not needed (an answer given
    before it stopped applying is set aside, not shown). Call it once no question is pending."""
    rows = []
    for n, q in enumerate(questions, start=1):
        if not _asked(q, answers):
            why = _NOT_NEEDED[q.when][0]
            rows.append(SummaryRow(n, q.field, q.label, "", "", f"not needed: {why}"))
            continue
        answer = answers.get(q.field, Checked("", "not given"))
        rows.append(SummaryRow(n, q.field, q.label, answer.typed or "-", answer.used))
    return rows


def explain_not_needed(questions: Sequence[Question], field: str) -> str:
    """Why the question of ``field`` is not needed, and which answer to change to ask it."""
    number = {q.field: n for n, q in enumerate(questions, start=1)}
    question = next(q for q in questions if q.field == field)
    why, decides, how = _NOT_NEEDED[question.when]
    by = next(q for q in questions if q.field == decides)
    return (f"{number[field]} ({question.label}) is not needed: {why}. To answer it, {how} "
            f"{number[decides]} ({by.label}) first.")


ITEM_NOUNS = {"meds": "medication", "conditions": "condition", "symptoms": "symptom"}
"""The list questions, and what one item of each is called."""
# Where a misplaced item is looked for: the closed lists (exact ids and synonyms) before the
# medications (read word by word), so a symptom's name never reads as a drug.
_HOMES = ("symptoms", "conditions", "meds")


def misplaced(question: Question, text: str,
              rules: RuleSet) -> tuple[str, dict[str, tuple[str, ...]]]:
    """A list answer without its items that belong to another list question, and those items
    by the field they belong to: a symptom typed as a condition, a known medication typed as a
    symptom, a condition typed as a medication (which would otherwise be kept as a medication
    not recognised). An item the question accepts is never moved; one that belongs nowhere
    stays, for ``check`` to explain."""
    if question.field not in ITEM_NOUNS:
        return text, {}
    kept: list[str] = []
    moved: dict[str, list[str]] = {}
    for item in split_items(text):
        home = None if _belongs(question.field, item, rules) else next(
            (f for f in _HOMES if f != question.field and _belongs(f, item, rules)), None)
        if home is None:
            kept.append(item)
        else:
            moved.setdefault(home, []).append(item)
    if not moved:
        return text, {}
    return join_items(kept), {field: tuple(items) for field, items in moved.items()}


def _belongs(field: str, item: str, rules: RuleSet) -> bool:
    if field == "meds":  # a known medication, read as ``assess`` reads it (not a near miss)
        found = read_medication(item, rules.vocabulary.medications)
        return bool(found.classes) and found.near_miss is None
    return normalize_term(item) in rules.vocabulary.lookup[field]


def join_items(items: Sequence[str]) -> str:
    """List items as one answer, each once (as matched: case, spaces and underscores aside)."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(normalize_term(item), item)
    return ", ".join(seen.values())


def assess_command(questions: Sequence[Question], answers: Mapping[str, Checked],
                   extra: Sequence[str] = ()) -> str:
    """The one-shot command that assesses the same patient (POSIX shell quoting)."""
    words = ["mgassist", "assess"]
    for name, given in patient_inputs(questions, answers).items():
        for item in given if isinstance(given, list) else [given]:
            words += [FIELD_BY_NAME[name].flag, item]
    return " ".join(shlex.quote(word) for word in [*words, *extra])

