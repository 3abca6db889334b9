"""The trace (``--explain``) as plain text lines for the terminal: one line per rule, then its
condition as an indented tree, each node with its result, the patient's value, the threshold
and the comparison as made. Plain text so it reads the same in a pipe, a log or a terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mgassist._core.trace import ConditionTrace, RuleTrace, plain_number

__all__ = ["trace_lines"]

_HEADINGS = {
    "risk-factor": "Risk factors (evaluated first, on the inputs; findings can test them)",
    "step": "Decision steps, in order (the first true step sets the status; later ones are "
            "not consulted)",
    "finding": "Findings (every finding whose condition is true is reported) and their details",
    "detail": None,
    "regimen": "Regimen",
    "monitoring-reason": "Reasons to monitor more often",
    "monitoring-item": "Monitoring lines shown only for some patients",
}


def trace_lines(entries: Sequence[RuleTrace], *, version: str, sha256: str) -> list[str]:
    """The trace as text lines, with a heading per kind of rule."""
    lines = [f"Explanation: every rule in evaluation order (rules {version}, "
             f"sha256 {sha256[:16]}...)",
             "Results: true, false, or unknown (a value the test needs was not given); "
             "a rule acts only on true."]
    kind = None
    for entry in entries:
        heading = _HEADINGS[entry.kind]
        if entry.kind != kind and heading is not None:
            lines += ["", heading]
        if heading is not None:
            kind = entry.kind
        result = _word(entry.result) if entry.evaluated else "-"
        lines.append(f"{entry.order:>4}. {entry.kind} {entry.id}: {result} -> {entry.effect}")
        if entry.condition is not None:
            lines += _tree(entry.condition, depth=0)
    return lines


def _tree(node: ConditionTrace, depth: int) -> Iterator[str]:
    facts = []
    if node.value is not None:
        value = f"value {node.value}"
        canonical = f"{plain_number(node.canonical)} {node.canonical_unit}" \
            if node.canonical is not None else None
        if canonical is not None and canonical not in node.value:
            value += f" = {canonical}"
        facts.append(value)
    if node.threshold is not None:
        facts.append(f"threshold {node.threshold}")
    if node.compared is not None:
        facts.append(node.compared)
    extra = f"  [{'; '.join(facts)}]" if facts else ""
    yield f"{'  ' * (depth + 4)}{node.test}: {_word(node.result)}{extra}"
    for part in node.parts:
        yield from _tree(part, depth + 1)


def _word(result: bool | None) -> str:
    return "unknown" if result is None else "true" if result else "false"
