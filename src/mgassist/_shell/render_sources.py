"""The sources of an assessment read from a FHIR document: what each value came from and
its date, what was skipped and why, and what the flags replaced (text report)."""

from __future__ import annotations

import textwrap
from typing import Any

from mgassist._core.assessment import Assessment
from mgassist._core.sources import Source, Sources

__all__ = ["sources_block"]

_LABELS = {"age": "age", "sex": "sex", "meds": "medication", "conditions": "condition"}


def sources_block(assessment: Assessment, width: int, *, full: bool) -> list[Any] | None:
    """Lines under a "From FHIR" heading; None when the assessment was not read from FHIR.
    Brief: the values used with their dates, and how many resources were skipped; full: also
    each skipped resource with why."""
    from rich.text import Text

    sources = assessment.sources
    if sources is None:
        return None
    lines: list[Any] = [Text(f"From FHIR (as of {sources.as_of.isoformat()})", style="bold")]
    wrap = max(width - 4, 40)
    labels = {row.field: row.label for row in assessment.inputs_used}
    for line in _used_lines(sources, labels):
        lines += [Text(part) for part in textwrap.wrap(line, wrap, initial_indent="  ",
                                                       subsequent_indent="    ")]
    for over in sources.overridden:
        text = f"  {labels.get(over.field, over.field)} {over.given}: given beside the " \
               f"document, replacing {over.fhir}"
        lines += [Text(part) for part in textwrap.wrap(text, wrap, subsequent_indent="    ")]
    if sources.not_read:
        counts = ", ".join(f"{kind} {n}" for kind, n in sources.not_read.items())
        lines += [Text(part) for part in textwrap.wrap(
            f"  Not inputs, not read: {counts}", wrap, subsequent_indent="    ")]
    if sources.skipped and not full:
        lines.append(Text(f"  {len(sources.skipped)} resource(s) not used; --full lists them "
                          "with why"))
    elif sources.skipped:
        lines.append(Text("  Not used:"))
        for skip in sources.skipped:
            what = f"{skip.resource_type}/{skip.id or '?'}"
            if skip.code:
                what += f" {skip.code}"
            if skip.date:
                what += f" {skip.date}"
            if skip.value:
                what += f" {skip.value!r}"
            lines += [Text(part) for part in textwrap.wrap(f"{what}: {skip.why}", wrap,
                                                           initial_indent="    ",
                                                           subsequent_indent="      ")]
    return lines


def _used_lines(sources: Sources, labels: dict[str, str]) -> list[str]:
    return [_used(source, labels) for source in sources.used]


def _used(source: Source, labels: dict[str, str]) -> str:
    label = _LABELS.get(source.field) or labels.get(source.field, source.field)
    where = f"{source.resource_type}/{source.id or '?'}"
    if source.code and source.resource_type != "Patient":
        where += f" {source.code}"
    dated = f", {source.date}" if source.date else ""
    shown = source.used if source.field in ("age", "meds", "conditions") else source.value
    text = f"{label} {shown}"
    if source.field in ("meds", "conditions") and source.value != source.used:
        text += f" ({source.value})"
    text += f" [{where}{dated}]"
    if source.old:
        text += " OLD"
    if source.reference_range:
        text += f" lab range {source.reference_range}"
    if source.note:
        text += f"; {source.note}"
    return text
