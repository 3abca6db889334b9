"""The ``when:`` conditions and the texts of the rules, checked against what the rules define.

    Conditions(...).condition(section, where, data)   # -> Condition | None (reported)
    Conditions(...).text(section, where, text)        # every {placeholder} checked
    compile_predicates(predicates, conditions)        # the named conditions, first

A condition may test the input quantities and the numbers the engine derives, ids of the
vocabularies (and of the risk factors), and thresholds by id or as a literal amount. The
``Conditions`` of a rule set is built once its quantities, vocabulary and thresholds compiled
without error, and is shared by every later stage, in order: each predicate is parsed once
(from whichever condition uses it first), and the written-out size of all the conditions is
counted in the order they are compiled (``Expansion``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mgassist._core.conditions import Condition, ConditionParser, Threshold
from mgassist._core.contract import VOCABULARIES, CrclMethod, LabFlag, Status
from mgassist._core.ruleset import PLACEHOLDER, QuantityRule, Vocabulary

from .quantities import CONTRACT_CANONICAL, DERIVED_NUMBER_FACTS, make_threshold
from .report import Report
from .schema import QuantitySpec, RiskFactorSpec
from .yaml_source import MAX_DEPTH, Path_

__all__ = ["MAX_TESTS", "VALUE_PLACEHOLDERS", "Conditions", "Expansion", "compile_predicates",
           "fact_ids"]

VALUE_PLACEHOLDERS = frozenset(
    {*CONTRACT_CANONICAL, *DERIVED_NUMBER_FACTS, "crcl_reported", "crcl_derived",
     "crcl_source", "matched", "risk_factors", "meds_not_recognised", "old_results",
     "lab_range"}
)
# {name} or {name|unit}: a quantity converted to one of its accepted units

MAX_TESTS = 10_000  # tests in all the conditions of a rule set, each `is:` written out


def fact_ids(vocabulary: Vocabulary,
             risk_factors: Sequence[RiskFactorSpec]) -> dict[str, frozenset[str]]:
    """The ids each list or single fact of a condition may name."""
    vocab_ids = {kind: frozenset(labels) for kind, labels in vocabulary.labels.items()}
    risk_ids = frozenset(r.id for r in risk_factors)
    return {"meds": vocab_ids["meds"], "conditions": vocab_ids["conditions"],
            "symptoms": vocab_ids["symptoms"], "risk_factors": risk_ids,
            "indication": vocab_ids["indications"],
            "sex": frozenset({"female", "male"}),
            "status": frozenset(s.value for s in Status),
            "crcl_method": frozenset(m.value for m in CrclMethod),
            "meds_not_recognised": frozenset(),  # names, not ids: empty only
            "lab_flags": frozenset(f.value for f in LabFlag)}


class Conditions:
    """Compiles the conditions and checks the texts of one rule set, reporting into its
    report; keeps the predicates parsed so far and the size of the conditions so far."""

    def __init__(self, *, report: Report, quantities: Mapping[str, QuantityRule],
                 quantity_specs: Mapping[str, QuantitySpec],
                 thresholds: Mapping[str, Threshold], fact_ids: Mapping[str, frozenset[str]],
                 predicates: Mapping[str, Any]) -> None:
        self.report = report
        self.quantities = quantities
        self.quantity_specs = quantity_specs
        self.thresholds = thresholds
        self.fact_ids = fact_ids
        self.predicates = predicates  # raw: parsed on first use
        self.resolved: dict[str, Condition | None] = {}  # shared by every parser
        self.expansion = Expansion(predicates)

    def condition(self, section: str, where: Path_, data: Any, *,
                  allow_status: bool = False) -> Condition | None:
        """The condition ``data`` at ``where`` in ``section``; None once reported."""
        problem = self.expansion.admit(data)
        if problem is not None:
            if problem:  # reported once: later conditions only repeat it
                self.report.fail(section, where, problem)
            return None
        parser = ConditionParser(
            number_facts={name: name for name in [*self.quantities, *DERIVED_NUMBER_FACTS]},
            vocabularies=self.fact_ids,
            resolve_threshold=self.resolve_threshold,
            predicates=self.predicates,
            fail=self.report.failer(section),
            allow_status=allow_status,
            resolved=self.resolved,
        )
        return parser.parse(data, where)

    def resolve_threshold(self, fact: str, operand: str) -> Threshold | str:
        """The threshold a comparison with ``fact`` names (an id, or a literal amount), or
        why it cannot be used."""
        known = self.thresholds.get(operand)
        if known is not None:
            printed_like = DERIVED_NUMBER_FACTS.get(fact, ("", None))[1]
            if known.fact != fact and known.fact != printed_like:
                return (f"compares {fact} with threshold {operand!r}, which is for "
                        f"{known.fact} ({known.text})")
            return known
        if re.fullmatch(r"[a-z][a-z0-9-]*", operand):
            import difflib
            close = difflib.get_close_matches(operand, list(self.thresholds), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown threshold {operand!r}{hint}"
        made = make_threshold(operand, fact, operand, self.quantities, self.quantity_specs)
        return made

    def text(self, section: str, where: Path_, text: str) -> str:
        """``text`` with its whitespace folded, each placeholder in it checked."""
        for name, unit in PLACEHOLDER.findall(text):
            if name not in VALUE_PLACEHOLDERS and name not in self.thresholds:
                self.report.fail(section, where, f"unknown placeholder {{{name}}}; use a "
                                 f"threshold id or one of {', '.join(sorted(VALUE_PLACEHOLDERS))}")
            elif unit and name == "matched":
                if unit not in VOCABULARIES:
                    self.report.fail(section, where, f"placeholder {{matched|{unit}}}: {unit!r} "
                                     f"is not a vocabulary ({', '.join(VOCABULARIES)})")
            elif unit:
                quantity = self.quantities.get(name)
                if quantity is None or unit not in quantity.table.units:
                    accepted = ", ".join(quantity.table.units) if quantity else \
                        "none: only an input quantity can be shown in another unit"
                    self.report.fail(section, where, f"placeholder {{{name}|{unit}}}: {unit!r} "
                                     f"is not an accepted unit of {name} ({accepted})")
        return " ".join(text.split())


def compile_predicates(predicates: Mapping[str, Any],
                       conditions: Conditions) -> dict[str, Condition]:
    """Every predicate that compiled, in file order (before any rule uses one, so that a
    predicate's errors are reported at the predicate)."""
    compiled = {name: conditions.condition("predicates", (name,), {"is": name})
                for name in predicates}
    return {name: condition for name, condition in compiled.items() if condition is not None}


class Expansion:
    """What conditions cost with every ``{is: name}`` written out. Predicates that use
    predicates are the rule language's own aliases, so they get limits like those of YAML:
    MAX_TESTS tests in all the conditions of a rule set, and MAX_DEPTH levels in any one.
    Twenty predicates that each use the one before twice would otherwise cost a million tests
    per assessment, and a long chain of them would exhaust the parser's recursion."""

    def __init__(self, predicates: Mapping[str, Any]) -> None:
        self.known: dict[str, tuple[int, int]] = {}  # predicate: (depth, tests) written out
        self.total = 0  # tests of the conditions admitted so far
        self.refused = False
        for root in predicates:  # measured uses first, without recursion: a chain may be long
            stack, open_ = [(root, False)], set()
            while stack:
                name, ready = stack.pop()
                if name in self.known or (name in open_ and not ready):
                    continue  # measured, or a cycle (the parser reports it)
                if ready:
                    self.known[name] = self.measure(predicates[name])
                    continue
                open_.add(name)
                stack.append((name, True))
                stack += [(used, False) for used in _uses(predicates[name]) if used in predicates]

    def measure(self, data: Any) -> tuple[int, int]:
        """(depth, tests) of a raw condition, its known predicates written out (capped)."""
        if isinstance(data, dict) and len(data) == 1:
            ((key, body),) = data.items()
            if key in ("all", "any") and isinstance(body, list) and body:
                parts = [self.measure(item) for item in body]
                return 1 + max(d for d, _ in parts), min(1 + sum(n for _, n in parts),
                                                         MAX_TESTS + 1)
            if key == "not":
                depth, tests = self.measure(body)
                return depth + 1, min(tests + 1, MAX_TESTS + 1)
            if key == "is" and isinstance(body, str) and body in self.known:
                depth, tests = self.known[body]
                return depth + 1, min(tests + 1, MAX_TESTS + 1)
        return 1, 1

    def admit(self, data: Any) -> str | None:
        """None when the condition fits; else why not ("" once that was said)."""
        if self.refused:
            return ""
        depth, tests = self.measure(data)
        self.total += tests
        if depth > MAX_DEPTH:
            self.refused = True
            return (f"with every is: written out, this condition is nested {depth} levels deep; "
                    f"a condition may be nested at most {MAX_DEPTH} levels")
        if self.total > MAX_TESTS:
            self.refused = True
            return (f"with every is: written out, the conditions of the rule set hold more than "
                    f"{MAX_TESTS:,} tests, passed here (a predicate that uses another one "
                    "several times multiplies it)")
        return None


def _uses(data: Any) -> list[str]:
    """The predicate names a raw condition refers to with ``is:``."""
    if isinstance(data, dict):
        return [name for key, body in data.items()
                for name in ([body] if key == "is" and isinstance(body, str) else _uses(body))]
    if isinstance(data, list):
        return [name for item in data for name in _uses(item)]
    return []
