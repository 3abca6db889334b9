"""The FHIR section (rules/fhir.yaml): LOINC codes by field, coded units, and the RxNorm and
SNOMED CT tables, each checked against the quantities and the vocabulary it points into.

    compile_fhir(spec, quantities, vocabulary, report) -> FhirRules
"""

from __future__ import annotations

from collections.abc import Mapping

from mgassist._core.fhir_codes import FhirRules, LoincCode
from mgassist._core.medications import read_medication
from mgassist._core.ruleset import QuantityRule, Vocabulary

from .report import Report
from .schema import FhirSpec

__all__ = ["compile_fhir"]


def compile_fhir(spec: FhirSpec, quantities: Mapping[str, QuantityRule],
                 vocabulary: Vocabulary, report: Report) -> FhirRules:
    """The compiled tables; every field, unit, medicine name and condition id must exist."""
    loinc: dict[str, LoincCode] = {}
    fresh: dict[str, int] = {}
    for field, entry in spec.observations.items():
        rule = quantities.get(field)
        if rule is None:
            report.fail("fhir", ("observations", field), f"{field!r} is not a quantity of "
                        f"quantities.yaml ({', '.join(quantities)})")
            continue
        if entry.fresh_days is not None:
            fresh[field] = entry.fresh_days
        for code, code_units in entry.codes.items():
            if code in loinc:
                report.fail("fhir", ("observations", field, "codes", code),
                            f"LOINC {code} already fills {loinc[code].field!r}")
            symbols = []
            for i, unit in enumerate(code_units):
                symbol = rule.table.lookup(unit)
                if symbol is None:
                    report.fail("fhir", ("observations", field, "codes", code, i),
                                f"{unit!r} is not an accepted unit of {rule.label} "
                                f"({', '.join(rule.table.units)})")
                else:
                    symbols.append(symbol)
            loinc[code] = LoincCode(code, field, tuple(symbols))
    units: dict[tuple[str, str], str] = {}
    fields_read = {code.field for code in loinc.values()}
    for i, coded in enumerate(spec.coded_units):
        if not any(quantities[f].table.lookup(coded.unit) for f in fields_read):
            report.fail("fhir", ("coded_units", i, "unit"), f"{coded.unit!r} is not an "
                        "accepted unit of any quantity read from FHIR")
        units[(coded.system, coded.code)] = coded.unit
    meds = vocabulary.medications
    for cui, name in spec.rxnorm.items():
        found = read_medication(name, meds)
        if not found.classes:
            report.fail("fhir", ("rxnorm", cui), f"{name!r} is not a medicine name of "
                        "vocabulary.yaml (meds)")
    conditions = vocabulary.labels.get("conditions", {})
    for concept, condition in spec.snomed.items():
        if condition not in conditions:
            report.fail("fhir", ("snomed", concept), f"{condition!r} is not a condition id "
                        f"({', '.join(conditions)})")
    return FhirRules(loinc=loinc, coded_units=units, fresh_days=fresh,
                     rxnorm=dict(spec.rxnorm), snomed=dict(spec.snomed),
                     fresh_basis=" ".join(spec.fresh_basis.split()))
