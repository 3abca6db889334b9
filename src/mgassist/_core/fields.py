"""The patient fields, written once: name, flag, kind, help and example.

``assess``'s flags, the interview's questions and the input parser all read this table.
Labels, accepted units and vocabularies come from the rules (quantities.yaml,
vocabulary.yaml), so a unit or a synonym added there shows up everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from msgspec import Struct

if TYPE_CHECKING:
    from .ruleset import RuleSet

__all__ = ["FIELDS", "FIELD_BY_NAME", "FieldSpec", "field_label"]

Kind = Literal["quantity", "number", "choice", "list", "text"]


class FieldSpec(Struct, frozen=True):
    """One input field of a patient (a quantity's label lives in the rules, not here)."""

    name: str
    kind: Kind
    help: str
    vocabulary: str | None = None
    choices: tuple[str, ...] = ()
    singular: str | None = None
    label: str = ""

    @property
    def flag(self) -> str:
        """The ``assess`` option (``current_dose`` -> ``--current-dose``, ``meds`` -> ``--med``)."""
        return "--" + (self.singular or self.name).replace("_", "-")

    @property
    def keys(self) -> tuple[str, ...]:
        """The JSON/CSV keys accepted for this field (lists also take the singular)."""
        return (self.name,) if self.singular is None else (self.name, self.singular)


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "text", "record id, echoed in the output", label="record id"),
    FieldSpec("mg", "quantity", "serum magnesium with its unit"),
    FieldSpec("k", "quantity", "serum potassium with its unit"),
    FieldSpec("ca", "quantity", "serum total calcium with its unit (optional)"),
    FieldSpec("albumin", "quantity", "serum albumin with its unit, to adjust calcium "
              "(optional)"),
    FieldSpec("creatinine", "quantity", "serum creatinine with its unit"),
    FieldSpec("crcl", "quantity", "creatinine clearance, if known"),
    FieldSpec("egfr", "quantity", "eGFR as the lab reports it, in mL/min/1.73m2 (a bound as "
              "printed, such as '>N', is accepted); used only when no creatinine clearance is "
              "known"),
    FieldSpec("age", "number", "age in years"),
    FieldSpec("sex", "choice", "sex, for Cockcroft-Gault", choices=("female", "male"),
              label="sex"),
    FieldSpec("weight", "quantity", "body weight with its unit"),
    FieldSpec("height", "quantity", "height with its unit"),
    FieldSpec("meds", "list", "medication as written: a class id, a generic or brand name, or "
              "any other (listed as not recognised); repeatable",
              vocabulary="meds", singular="med", label="medications"),
    FieldSpec("conditions", "list", "condition id (repeatable)", vocabulary="conditions",
              singular="condition", label="conditions"),
    FieldSpec("symptoms", "list", "symptom id (repeatable)", vocabulary="symptoms",
              singular="symptom", label="symptoms"),
    FieldSpec("indication", "choice", "why supplementation is being considered",
              vocabulary="indications", label="indication"),
    FieldSpec("current_dose", "quantity", "magnesium already taken per day: elemental "
              "(mmol/day, mg/day) or a salt's mass ('400 mg/day magnesium oxide')"),
    FieldSpec("days_on_dose", "number", "days on that dose"),
    FieldSpec("crcl_weight", "choice", "weight Cockcroft-Gault uses",
              choices=("auto", "actual", "ideal", "adjusted"),
              label="weight basis for Cockcroft-Gault"),
)
FIELD_BY_NAME = {spec.name: spec for spec in FIELDS}


def field_label(name: str, rules: RuleSet) -> str:
    """How reports and questions name a field: the rules' label for a quantity, else ours."""
    rule = rules.quantities.get(name)
    if rule is not None:
        return rule.label
    spec = FIELD_BY_NAME.get(name)
    return spec.label if spec is not None and spec.label else name
