"""Warnings on a rule set that loads: what ``rules validate`` reports beyond the errors.

References never cited, findings without a title, references without a short form, and rules
whose conditions can never be true (``reach``), each at its file:line.
"""

from __future__ import annotations

from pathlib import Path

from mgassist._core.errors import RulesError
from mgassist._core.ruleset import RuleSet
from mgassist._rulebook.loader import compiler_for

from .reach import never_fire

__all__ = ["check_rules"]


def check_rules(path: Path | str | None = None) -> tuple[RuleSet, list[RulesError]]:
    """As load_rules, plus warnings that do not stop the rules from loading: references never
    cited, and rules that can never fire (``reach``), each at its file:line."""
    compiled = compiler_for(path).compile()
    rules, report = compiled.rules, compiled.report
    warnings = [report.owner["references"].error(
        ("references", rid), f"reference {rid!r} is never cited by any rule")
        for rid in rules.references if rid not in report.cited]
    warnings += [report.owner["findings"].error(
        ("findings", fid), f"finding {fid} has no title: reports name it by its id; add "
        "title: (a few words a clinician reads at a glance)")
        for fid, finding in rules.findings.items() if not finding.title]
    warnings += [report.owner["references"].error(
        ("references", rid), f"reference {rid!r} has no short: brief reports print its full "
        "citation; add short: (one line, at most 64 characters)")
        for rid, ref in rules.references.items() if ref.short is None]
    reach = never_fire(rules)
    warnings += [report.owner[u.rule.section].error((u.rule.section, *u.rule.where),
                                                    u.message) for u in reach.unreachable]
    if reach.skipped:  # once: a huge rule set would otherwise print a line per rule
        first = reach.skipped[0]
        others = len(reach.skipped) - 1
        warnings.append(report.owner[first.section].error(
            (first.section, *first.where),
            f"{first.kind} {first.id}{f' and {others} other rule(s)' if others else ''} could "
            "not be searched for conditions that can never be true (too many combinations); "
            "they may still be unreachable"))
    return rules, warnings
