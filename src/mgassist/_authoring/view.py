"""A rule set for people (``mgassist rules show``): a table of every rule, or one rule in full
with its references. Pure: text lines from a loaded RuleSet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mgassist._core.conditions import All, Any_, Compare, Condition, Is, Not, nodes, test_text
from mgassist._core.ruleset import RuleSet

__all__ = ["condition_text", "rule_details", "rule_ids", "rules_table"]

def condition_text(cond: Condition) -> str:
    """A condition on one line: ``all(is low-mg, k below k-lln)``; predicates by name."""
    match cond:
        case All(parts) | Any_(parts):
            word = "all" if isinstance(cond, All) else "any"
            return f"{word}({', '.join(condition_text(p) for p in parts)})"
        case Not(part):
            return f"not({condition_text(part)})"
    return test_text(cond)


def _identity(rules: RuleSet) -> list[str]:
    return [f"Rules {rules.version} ({rules.source})", f"sha256 {rules.sha256}"]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [list(header), *map(list, rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return ["  " + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)),
                              row[-1]]).rstrip() for row in rows]


def rules_table(rules: RuleSet) -> list[str]:
    """Every step, finding, risk factor and threshold, one line each."""
    lines = _identity(rules)
    lines += ["", "Decision steps, in order (the first true step sets the status)"]
    lines += _table(["#", "id", "status", "finding", "when"],
                    [[str(i), s.id, s.status.value, s.finding, condition_text(s.when)]
                     for i, s in enumerate(rules.steps, start=1)])
    lines += ["", "Findings (every one whose condition is true is reported)"]
    lines += _table(["id", "severity", "citations", "when"],
                    [[f.id, f.severity.value, ", ".join(f.cite), condition_text(f.when)]
                     for f in rules.findings.values()])
    lines += ["", "Risk factors (listed by the finding risk-factors-present)"]
    lines += _table(["id", "citations", "when"],
                    [[r.id, ", ".join(r.cite), condition_text(r.when)]
                     for r in rules.risk_factors])
    lines += ["", "Thresholds"]
    lines += _table(["id", "value", "for", "citations"],
                    [[t.id, t.text, t.fact, ", ".join(t.cite) or "-"]
                     for t in rules.thresholds.values()])
    lines += ["", f"{len(rules.references)} references; `mgassist rules show ID` shows one rule "
                  "in full with its references."]
    return lines


def rule_ids(rules: RuleSet) -> list[str]:
    """Every id ``rule_details`` accepts, sorted."""
    return sorted({*(s.id for s in rules.steps), *rules.findings,
                   *(r.id for r in rules.risk_factors), *rules.thresholds, *rules.predicates})


def rule_details(rules: RuleSet, rule_id: str) -> list[str] | None:
    """Everything named ``rule_id`` (a step, finding, risk factor, threshold or predicate: one
    id may name several, e.g. a step and its finding), in full, with its references."""
    lines = _identity(rules)
    cited: list[str] = []
    found = False
    for number, step in enumerate(rules.steps, start=1):
        if step.id == rule_id:
            found = True
            lines += ["", f"Decision step {step.id} (number {number} of {len(rules.steps)})",
                      f"  when:     {condition_text(step.when)}",
                      f"  status:   {step.status.value}",
                      f"  finding:  {step.finding}"
                      + (f" (raised to {step.severity.value})" if step.severity else ""),
                      f"  reason:   {step.reason}"]
    finding = rules.findings.get(rule_id)
    if finding is not None:
        found = True
        lines += ["", f"Finding {finding.id}", f"  title:    {finding.title or '(none)'}",
                  f"  severity: {finding.severity.value}",
                  f"  when:     {condition_text(finding.when)}",
                  f"  message:  {finding.message}"]
        if finding.action:
            lines.append(f"  action:   {finding.action}")
        for detail in finding.details:
            when = f" (when {condition_text(detail.when)})" if detail.when else ""
            cites = f" [{', '.join(detail.cite)}]" if detail.cite else ""
            lines.append(f"  detail:   {detail.text}{when}{cites}")
            cited += detail.cite
        lines.append(f"  cites:    {', '.join(finding.cite)}")
        cited += finding.cite
    for factor in rules.risk_factors:
        if factor.id == rule_id:
            found = True
            lines += ["", f"Risk factor {factor.id}", f"  label:    {factor.label}",
                      f"  when:     {condition_text(factor.when)}",
                      f"  cites:    {', '.join(factor.cite)}"]
            cited += factor.cite
    threshold = rules.thresholds.get(rule_id)
    if threshold is not None:
        found = True
        lines += ["", f"Threshold {threshold.id}", f"  value:    {threshold.text}",
                  f"  for:      {threshold.fact}", f"  meaning:  {threshold.meaning}",
                  f"  cites:    {', '.join(threshold.cite) or '-'}",
                  f"  used by:  {', '.join(_users(rules, threshold_id=rule_id)) or 'nothing'}"]
        cited += threshold.cite
    predicate = rules.predicates.get(rule_id)
    if isinstance(predicate, Is) and predicate.name == rule_id:
        predicate = predicate.part  # stored as a reference to itself; show what it means
    if predicate is not None:
        found = True
        lines += ["", f"Predicate {rule_id}", f"  means:    {condition_text(predicate)}",
                  f"  used by:  {', '.join(_users(rules, predicate=rule_id)) or 'nothing'}"]
    if not found:
        return None
    if cited:
        lines += ["", "References"]
        for rid in dict.fromkeys(cited):
            ref = rules.references[rid]
            ids = [f"doi:{ref.doi}" if ref.doi else "", f"PMID {ref.pmid}" if ref.pmid else "",
                   ref.url or ""]
            lines.append(f"  [{rid}] {' '.join(ref.citation.split())} "
                         f"{' '.join(i for i in ids if i)}".rstrip())
            if ref.caveat:
                lines.append(f"      caveat: {ref.caveat}")
    return lines


def _users(rules: RuleSet, *, threshold_id: str | None = None,
           predicate: str | None = None) -> list[str]:
    """The rules whose condition uses a threshold or a predicate (directly or through one)."""
    out = []
    for owner, cond in rules.owned_conditions():
        for node in nodes(cond):
            if (isinstance(node, Compare) and node.threshold.id == threshold_id) or \
                    (isinstance(node, Is) and node.name == predicate):
                out.append(owner)
                break
    return [o for o in dict.fromkeys(out) if o != f"predicate {predicate}"]
