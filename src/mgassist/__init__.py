"""mgassist: decision support for oral magnesium supplementation, driven by cited YAML rules.

    from mgassist import load_rules, parse_patient, evaluate
    rules = load_rules()                                   # the bundled rule set
    patient = parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules)
    assessment = evaluate(patient, rules)                  # pure: no I/O
    print(assessment.status, assessment.regimen)

    from mgassist import assess_records, assess_arrow      # many records (docs/scale.md)
    for result in assess_records([{"id": "a", "mg": "0.6 mmol/L", "crcl": "80 mL/min"}]):
        print(result["line"], result.get("status") or result["error"])

It supports, and does not replace, clinical judgement.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core.assessment import SCHEMA_VERSION, Assessment, Finding, Regimen
    from ._core.contract import Severity, Status
    from ._core.engine import DISCLAIMER
    from ._core.engine import evaluate_patient as evaluate
    from ._core.errors import InputError, InputErrors, MgassistError, RulesError, RulesErrors
    from ._core.patient import Patient, parse_patient
    from ._core.ruleset import RuleSet
    from ._core.summary import COLUMNS as SUMMARY_COLUMNS
    from ._rulebook.loader import load_rules
    from ._shell.batch_api import assess_arrow, assess_records

# Public names are imported on first use, so `mgassist assess` does not load the rule loader
# (pydantic, ruamel) when the compiled rules come from the cache: start-up time is a target.
_HOME = {
    "Assessment": "_core.assessment", "Finding": "_core.assessment",
    "Regimen": "_core.assessment", "SCHEMA_VERSION": "_core.assessment",
    "Severity": "_core.contract", "Status": "_core.contract", "DISCLAIMER": "_core.engine",
    "evaluate": "_core.engine", "InputError": "_core.errors", "InputErrors": "_core.errors",
    "MgassistError": "_core.errors", "RulesError": "_core.errors", "RulesErrors": "_core.errors",
    "Patient": "_core.patient", "parse_patient": "_core.patient",
    "load_rules": "_rulebook.loader", "RuleSet": "_core.ruleset",
    "assess_records": "_shell.batch_api", "assess_arrow": "_shell.batch_api",
    "SUMMARY_COLUMNS": "_core.summary",
}
_RENAMED = {"evaluate": "evaluate_patient", "SUMMARY_COLUMNS": "COLUMNS"}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'mgassist' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), _RENAMED.get(name, name))
    globals()[name] = value
    return value


__all__ = [
    "Assessment",
    "DISCLAIMER",
    "Finding",
    "InputError",
    "InputErrors",
    "MgassistError",
    "Patient",
    "Regimen",
    "RuleSet",
    "RulesError",
    "RulesErrors",
    "SCHEMA_VERSION",
    "SUMMARY_COLUMNS",
    "Severity",
    "Status",
    "assess_arrow",
    "assess_records",
    "evaluate",
    "load_rules",
    "parse_patient",
]
__version__ = "0.1.0"
