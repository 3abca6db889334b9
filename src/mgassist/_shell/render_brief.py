"""The brief report, the default: what a busy clinician reads in ten seconds.

    decision box      status in words, the reason, the first actions (red flags, what to correct
                      first, stop magnesium)
    Regimen           the salt and elemental amounts side by side, timing, the ceiling
    Findings          critical and warning findings, one line each, by their titles
    Monitoring        one line: the schedule and why more often
    References        those of the regimen and the critical findings, one short line each
                      with a DOI or URL link

Information findings, the regimen's table, the inputs as used and the full references are in
the full report (``render_full``). Reference numbers are the assessment's own, so a number
means the same reference in the brief report, the full one and the JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mgassist._core.assessment import Assessment, Finding, Monitoring, Regimen
from mgassist._core.contract import Severity

from .render_parts import (
    SEVERITY_STYLE,
    cites,
    decision_panel,
    footer,
    hanging,
    linked,
    numbering,
    reference_lines,
)

__all__ = ["brief_blocks"]

_SHOWN = (Severity.CRITICAL, Severity.WARNING)
_INDENT = 2


def brief_blocks(assessment: Assessment, width: int, more: str | None) -> Iterator[Any]:
    """The blocks of the brief report, in reading order (None: nothing to show)."""
    numbers = numbering(assessment)
    shown = [f for f in assessment.findings if f.severity in _SHOWN]
    yield decision_panel(assessment, shown, width)
    cited: list[str] = []
    if assessment.regimen is not None:
        cited += assessment.regimen.citations
        if assessment.regimen.alternative is not None:
            cited += assessment.regimen.alternative.citations
        yield _regimen(assessment.regimen, numbers, width)
    if shown:  # the sources of critical findings are shown; those of warnings in --full
        cited += [rid for f in shown if f.severity is Severity.CRITICAL for rid in f.citations]
        yield _findings(shown, numbers, width)
    if assessment.monitoring is not None:
        cited += assessment.monitoring.citations
        yield _monitoring(assessment.monitoring, numbers, width)
    if assessment.sources is not None:
        from .render_sources import sources_block

        yield sources_block(assessment, width, full=False)
    yield _references(assessment, set(cited), width)
    yield footer(assessment, more, width)


def _heading(title: str, refs: str = "") -> Any:
    from rich.text import Text

    text = Text(title, style="bold")
    if refs:
        text.append(f" {refs}")
    return text


def _lines(head: Any, lines: list[str]) -> list[Any]:
    from rich.text import Text

    return [head, *(Text(line) for line in lines)]


def _regimen(regimen: Regimen, numbers: dict[str, int], width: int) -> list[Any]:
    pad = " " * _INDENT
    if regimen.elemental_mmol_per_day is None:
        dose = f"{regimen.product}: {regimen.note or ''}"
    else:
        dose = (f"{regimen.product} about {regimen.product_mg_per_day or 0:.0f} mg/day = "
                f"elemental magnesium {regimen.elemental_mmol_per_day:g} mmol/day "
                f"({regimen.elemental_mg_per_day:g} mg), {regimen.timing}")
    basis = f": {regimen.max_basis}" if regimen.max_basis else ""
    ceiling = (f"Never above {regimen.max_product_mg_per_day:.0f} mg/day of the salt "
               f"(elemental {regimen.max_elemental_mmol_per_day:g} mmol = "
               f"{regimen.max_elemental_mg_per_day:g} mg){basis}.")
    lines = hanging(pad, dose, width, _INDENT + 2) + hanging(pad, ceiling, width, _INDENT + 2)
    alt = regimen.alternative
    if alt is not None:
        amount = (f"{alt.elemental_mg_per_day_min:g} mg/day" if alt.elemental_mg_per_day_min
                  == alt.elemental_mg_per_day_max else f"{alt.elemental_mg_per_day_min:g}-"
                  f"{alt.elemental_mg_per_day_max:g} mg/day")
        lines += hanging(pad, f"Or {alt.product}, elemental magnesium {amount}, if better "
                         f"tolerated {cites(alt.citations, numbers)}", width, _INDENT + 2)
    title = f"Regimen ({regimen.dose_basis.value})"
    return _lines(_heading(title, cites(regimen.citations, numbers)), lines)


def _findings(shown: list[Finding], numbers: dict[str, int], width: int) -> list[Any]:
    """One line per finding: its severity and title, a critical one's sources, and the lines
    particular to this patient (details); the message and a warning's sources are in the full
    report, and what to do first is in the decision box."""
    from rich.text import Text

    out: list[Any] = [_heading("Findings")]
    said: set[str] = set()  # a detail two findings share is printed once
    label_width = max(len(f.severity.value) for f in shown)
    indent = _INDENT + label_width + 1
    for finding in shown:
        refs = cites(finding.citations, numbers) if finding.severity is Severity.CRITICAL \
            else ""
        lines = hanging(" " * indent, f"{finding.title} {refs}", width, indent + 2)
        first = Text(" " * _INDENT)
        first.append(finding.severity.value.upper().ljust(label_width),
                     style=SEVERITY_STYLE[finding.severity])
        first.append(" ")
        first.append(finding.title, style="bold")
        first.append(lines[0][indent + len(finding.title):])
        out.append(first)
        out += [Text(line) for line in lines[1:]]
        for detail in finding.details:  # this patient's specifics (which medicine, how long)
            if detail not in said:
                said.add(detail)
                out += [Text(line) for line in hanging(" " * indent + "- ", detail, width,
                                                       indent + 2)]
    return out


def _monitoring(plan: Monitoring, numbers: dict[str, int], width: int) -> list[Any]:
    text = " ".join(plan.schedule)
    if plan.more_often_because:
        text += f" More often because of: {'; '.join(plan.more_often_because)}."
    from rich.text import Text

    head = f"Monitoring {cites(plan.citations, numbers)}: ".replace(" :", ":")
    lines = hanging(head, text, width, _INDENT)
    first = Text(lines[0])
    first.stylize("bold", 0, len("Monitoring"))
    return [first, *(Text(line) for line in lines[1:])]


def _references(assessment: Assessment, cited: set[str], width: int) -> list[Any] | None:
    shown = [ref for rid, ref in assessment.references.items() if rid in cited]
    if not shown:
        return None
    out: list[Any] = [_heading("References")]
    for ref in shown:
        out += [linked(line) for line in reference_lines(ref, width, brief=True)]
    return out
