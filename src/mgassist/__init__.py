"""mgassist: decision support for oral magnesium supplementation, driven by cited YAML rules.

    from mgassist import load_rules, parse_patient, evaluate
    rules = load_rules()                                   # the bundled rule set
    patient = parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules)
    assessment = evaluate(patient, rules)                  # pure: no I/O
    print(assessment.status, assessment.regimen)

It supports, and does not replace, clinical judgement.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._assessment import SCHEMA_VERSION, Assessment, Finding, Regimen
    from ._contract import Severity, Status
    from ._engine import DISCLAIMER
    from ._engine import evaluate_patient as evaluate
    from ._errors import InputError, InputErrors, MgassistError, RulesError, RulesErrors
    from ._patient import Patient, parse_patient
    from ._rules_loader import load_rules
    from ._ruleset import RuleSet

# Public names are imported on first use, so `mgassist assess` does not load the rule loader
# (pydantic, ruamel) when the compiled rules come from the cache: start-up time is a target.
_HOME = {
    "Assessment": "_assessment", "Finding": "_assessment", "Regimen": "_assessment",
    "SCHEMA_VERSION": "_assessment", "Severity": "_contract", "Status": "_contract",
    "DISCLAIMER": "_engine", "evaluate": "_engine", "InputError": "_errors",
    "InputErrors": "_errors", "MgassistError": "_errors", "RulesError": "_errors",
    "RulesErrors": "_errors", "Patient": "_patient", "parse_patient": "_patient",
    "load_rules": "_rules_loader", "RuleSet": "_ruleset",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'mgassist' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"),
                    "evaluate_patient" if name == "evaluate" else name)
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
    "Severity",
    "Status",
    "evaluate",
    "load_rules",
    "parse_patient",
]
__version__ = "0.1.0"
