"""mgassist: decision support for oral magnesium supplementation, driven by cited YAML rules.

    from mgassist import load_rules, parse_patient, evaluate
    rules = load_rules()                                   # the bundled rule set
    patient = parse_patient({"mg": "0.6 mmol/L", "crcl": "80 mL/min"}, rules)
    assessment = evaluate(patient, rules)                  # pure: no I/O
    print(assessment.status, assessment.regimen)

It supports, and does not replace, clinical judgement.
"""

from __future__ import annotations

from ._assessment import SCHEMA_VERSION, Assessment, Finding, Regimen
from ._contract import Severity, Status
from ._engine import DISCLAIMER
from ._engine import evaluate_patient as evaluate
from ._errors import InputError, InputErrors, MgassistError, RulesError, RulesErrors
from ._patient import Patient, parse_patient
from ._rules_loader import load_rules
from ._ruleset import RuleSet

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
