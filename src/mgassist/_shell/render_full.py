"""The full report (``--full``): every finding with its details, the regimen as a table,
monitoring with its basis, the inputs as entered and as used, and the references in full."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mgassist._core.assessment import Assessment, Regimen

from .render_parts import (
    SEVERITY_STYLE,
    cites,
    decision_panel,
    footer,
    linked,
    numbering,
    reference_lines,
)

__all__ = ["full_blocks"]


def full_blocks(assessment: Assessment, width: int) -> Iterator[Any]:
    """The blocks of the full report, in reading order (None: a block with nothing to show)."""
    numbers = numbering(assessment)
    yield decision_panel(assessment, assessment.findings, width)
    yield _findings(assessment, numbers)
    yield _regimen(assessment.regimen, numbers)
    yield _monitoring(assessment, numbers)
    yield _inputs(assessment, numbers)
    if assessment.sources is not None:
        from .render_sources import sources_block

        yield sources_block(assessment, width, full=True)
    yield _references(assessment, width)
    yield footer(assessment, None, width)


def _findings(assessment: Assessment, numbers: dict[str, int]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Findings (most severe first)", title_justify="left", show_lines=False,
                  expand=True, title_style="bold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Finding", ratio=1)
    table.add_column("Refs", no_wrap=True)
    for finding in assessment.findings:
        body = Text()
        body.append(finding.title, style="bold")
        body.append(f"  ({finding.id})", style="dim")
        body.append("\n" + finding.message)
        for detail in finding.details:
            body.append("\n  - " + detail)
        table.add_row(Text(finding.severity.value.upper(), style=SEVERITY_STYLE[finding.severity]),
                      body, cites(finding.citations, numbers))
    return table


def _regimen(regimen: Regimen | None, numbers: dict[str, int]) -> Any:
    from rich.table import Table

    if regimen is None:
        return None
    title = f"Regimen ({regimen.dose_basis.value}) {cites(regimen.citations, numbers)}"
    table = Table(title=title, title_justify="left", show_header=False, expand=True,
                  title_style="bold")
    table.add_column("What", no_wrap=True, style="bold")
    table.add_column("Amount", ratio=1)
    table.add_row("Product", regimen.product)
    if regimen.elemental_mmol_per_day is None:
        table.add_row("Dose", regimen.note or "")
        table.add_row("Do not exceed",
                      f"elemental magnesium {regimen.max_elemental_mmol_per_day:g} mmol/day = "
                      f"{regimen.max_elemental_mg_per_day:g} mg/day | {regimen.product} "
                      f"{regimen.max_product_mg_per_day:.0f} mg/day")
    else:
        table.add_row("Elemental magnesium",
                      f"{regimen.elemental_mmol_per_day:g} mmol/day = "
                      f"{regimen.elemental_mg_per_day:g} mg/day")
        product_mg = regimen.product_mg_per_day or 0.0
        table.add_row("As the salt", f"{regimen.product} about {product_mg:.0f} mg/day "
                                     f"({product_mg:g} mg)")
        basis = f" - {regimen.max_basis}" if regimen.max_basis else ""
        table.add_row("Never above", f"{regimen.product} {regimen.max_product_mg_per_day:.0f} "
                      f"mg/day (elemental {regimen.max_elemental_mmol_per_day:g} mmol = "
                      f"{regimen.max_elemental_mg_per_day:g} mg){basis}")
    table.add_row("When", regimen.timing)
    alt = regimen.alternative
    if alt is not None:
        table.add_row("Alternative",
                      f"{alt.product}: elemental magnesium {alt.elemental_mg_per_day_min:g}-"
                      f"{alt.elemental_mg_per_day_max:g} mg/day "
                      f"({alt.elemental_mmol_per_day_min:g}-{alt.elemental_mmol_per_day_max:g} "
                      f"mmol) = salt about {alt.product_mg_per_day_min:.0f}-"
                      f"{alt.product_mg_per_day_max:.0f} mg/day. {alt.note} "
                      f"{cites(alt.citations, numbers)}")
    table.add_row("Side effects", ", ".join(regimen.side_effects) + ". "
                  + regimen.side_effects_advice)
    return table


def _monitoring(assessment: Assessment, numbers: dict[str, int]) -> Any:
    from rich.text import Text

    plan = assessment.monitoring
    if plan is None:
        return None
    text = Text()
    text.append(f"Monitoring {cites(plan.citations, numbers)}\n", style="bold")
    for item in plan.schedule:
        text.append(f"  - {item}\n")
    if plan.more_often_because:
        text.append(f"  {plan.more_often_text}\n")
        for reason in plan.more_often_because:
            text.append(f"    * {reason}\n")
    else:
        text.append("  No reason to monitor more often was identified from the inputs.\n")
    for note in plan.basis_notes:
        text.append(f"  Basis: {note}\n", style="italic")
    text.rstrip()
    return text


def _inputs(assessment: Assessment, numbers: dict[str, int]) -> Any:
    from rich.table import Table
    from rich.text import Text  # what was typed is shown as typed, never read as markup

    table = Table(title="Inputs as used", title_justify="left", expand=True, title_style="bold")
    table.add_column("Field", width=17)
    table.add_column("As entered", ratio=3)
    table.add_column("As used", ratio=5)
    for row in assessment.inputs_used:
        cited = cites(row.citations, numbers)
        table.add_row(row.label, Text(row.entered), Text(row.used + (f" {cited}" if cited
                                                                     else "")))
    for note in assessment.derived.notes:
        table.add_row("note", "", Text(note))
    return table


def _references(assessment: Assessment, width: int) -> list[Any]:
    from rich.text import Text

    lines: list[Any] = [Text("References", style="bold")]
    for ref in assessment.references.values():
        lines += [linked(line) for line in reference_lines(ref, width, brief=False)]
    return lines
